//go:build unix

package recordings

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f without waiting: one process records or
// recovers a hearing's folder at a time. The kernel drops the lock when the process dies, so
// a crashed recorder never leaves it held. errLocked if another holds it.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
