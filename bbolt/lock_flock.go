//go:build !windows && !plan9 && !solaris && !aix && !android

package bbolt

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// lockFile takes the lock that bbolt takes on these systems (an exclusive flock) on the file
// at path, without waiting, and returns the function that releases it. ErrInUse if another
// open file holds it, read-only or not; nothing to lock if there is no file yet. Unlike a
// bbolt open, it works on a damaged file, which is what Restore is most often for.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	} else if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrInUse
		}
		return nil, err
	}
	return func() { _ = f.Close() }, nil // closing the file releases the lock
}
