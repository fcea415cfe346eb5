//go:build windows || plan9 || solaris || aix || android

package bbolt

import (
	"errors"
	"io/fs"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// lockFile checks that no process has the store at path open for writing, by opening it
// read-only the way bbolt does on this system: ErrInUse if one has. It does not keep the file
// open, because on Windows a file that is open (and mapped) cannot be renamed over, so a
// server started during the Restore itself is not kept out here. A file that does not open as
// bbolt (a damaged store) cannot be checked this way; no server can have it open either.
func lockFile(path string) (unlock func(), err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, ErrInUse
	} else if err == nil {
		_ = db.Close()
	}
	return func() {}, nil
}
