package bbolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent snapshot of the store to w while it stays in use, and returns
// the number of bytes written. The snapshot is the file as of one read transaction (bbolt's
// Tx.WriteTo), so it holds every write acknowledged before Backup began and no half of any
// write. Writers are not blocked, except one that must grow the file while the copy is under
// way: bbolt remaps the file only when no read transaction is open. A cancelled ctx stops the
// copy at the next write to w.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := s.view(ctx, "backup", func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(writerFunc(func(p []byte) (int, error) {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			return w.Write(p)
		}))
		if ctxErr := ctx.Err(); err != nil && ctxErr != nil {
			return ctxErr // bbolt formats some write errors with %s, which loses the cause
		}
		return err
	})
	return n, err
}

// writerFunc adapts a function to io.Writer; it lets Backup check ctx on every write without
// keeping the context in a struct.
type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Restore replaces the store file at path with the snapshot written by Backup. It runs
// offline: it fails with ErrInUse while another process (a running server) has path open,
// and holds the lock itself until it is done, so no server can open the file in between.
//
// The snapshot is checked first: it must open as a bbolt file, be complete, pass bbolt's
// consistency check and have the chuting layout (ErrNotStore when it is not a chuting
// store). It is then copied to a temporary file beside path, which is synced and renamed
// over path, and the directory is synced, so a crash or a failure at any point leaves either
// the old store or the new one, never a mix. Records are migrated by the next Open, as ever.
func Restore(snapshot, path string) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("restore %s from %s: %w", path, snapshot, err)
		}
	}()
	si, err := os.Stat(snapshot)
	if err != nil {
		return err
	}
	if !si.Mode().IsRegular() || si.Size() == 0 {
		return fmt.Errorf("%w: the snapshot is empty or not a file", ErrNotStore)
	}
	if pi, err := os.Stat(path); err == nil && os.SameFile(si, pi) {
		return errors.New("the snapshot is the store file itself")
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	unlock, err := lockFile(path)
	if err != nil {
		return err
	}
	defer unlock()

	// A snapshot locked by a writer is a live store, which will not be let go of soon.
	src, err := bolt.Open(snapshot, 0o600, &bolt.Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	if errors.Is(err, bolt.ErrTimeout) {
		return fmt.Errorf("snapshot: %w; copy a live store with Backup instead", ErrInUse)
	} else if err != nil {
		return fmt.Errorf("%w: %w", ErrNotStore, err)
	}
	defer src.Close()

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".restore-*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	err = src.View(func(tx *bolt.Tx) (err error) {
		// bbolt trusts its file and may panic on a damaged one; a restore reports that.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("the snapshot is damaged: %v", r)
			}
		}()
		if err := checkSnapshot(tx, si.Size()); err != nil {
			return err
		}
		_, err = tx.WriteTo(tmp)
		return err
	})
	if err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// The rename is durable only once the directory entry is on disk.
	return syncDir(dir)
}

// checkSnapshot fails unless tx, of a file of size bytes, is consistent and has the chuting
// layout.
func checkSnapshot(tx *bolt.Tx, size int64) error {
	// A cut-off copy (a backup that did not finish) is caught first, from the meta page
	// alone: reading a page past the end of the mapped file would crash the process, not
	// return an error.
	if tx.Size() > size {
		return fmt.Errorf("the snapshot is truncated: %d bytes, its meta page needs %d", size, tx.Size())
	}
	// Check reports every problem on its channel from a goroutine that reads the
	// transaction's pages, so the channel is drained to the end before the transaction closes.
	var first error
	for err := range tx.Check() {
		if first == nil {
			first = fmt.Errorf("the snapshot is damaged: %w", err)
		}
	}
	if first != nil {
		return first
	}
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return fmt.Errorf("%w: no %s bucket", ErrNotStore, bucketMeta)
	}
	if err := checkFormat(meta); err != nil {
		return err
	}
	for _, name := range [][]byte{bucketRecords, bucketIndex, bucketLogs} {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("%w: no %s bucket", ErrNotStore, name)
		}
	}
	return nil
}

// syncDir fsyncs the directory dir.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Check reports whether the file at path is a complete, consistent chuting store: what a
// snapshot must be before it is trusted (chuting backup checks what it wrote). It opens the
// file read-only and changes nothing.
func Check(path string) (err error) {
	si, err := os.Stat(path)
	if err != nil {
		return err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotStore, err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("the file is damaged: %v", r)
			}
		}()
		return checkSnapshot(tx, si.Size())
	})
}
