package bbolt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/chuting/chuting"
	bolt "go.etcd.io/bbolt"
)

// layoutFormat is the version of the bucket layout described in doc.go. It goes up when the
// layout changes in a way an older build cannot read; such a build then refuses the file.
const layoutFormat = 1

// Top-level bucket names and meta keys. They are part of the file format: never rename them.
var (
	bucketMeta    = []byte("meta")
	bucketRecords = []byte("records")
	bucketIndex   = []byte("index")
	bucketLogs    = []byte("logs")
	bucketSchema  = []byte("schema") // inside meta
	keyFormat     = []byte("format") // inside meta
)

// defaultTimeout is how long Open waits for the file lock when Options.Timeout is zero: long
// enough to ride out a restarting server releasing it, short enough that a second server
// started by mistake fails at once with a clear error instead of hanging.
const defaultTimeout = time.Second

// Errors.
var (
	// ErrInUse is returned by Open and Restore when another process (usually a running
	// chuting server) holds the store file. bbolt allows one process per file.
	ErrInUse = errors.New("the store is in use by another process (is a chuting server running?)")

	// ErrNotStore is returned by Open and Restore for a bbolt file that does not have the
	// chuting layout, so that a wrong path never has buckets added to someone else's file.
	ErrNotStore = errors.New("not a chuting store")

	// errCorrupt reports a stored value that does not decode: a bug or a damaged file.
	errCorrupt = errors.New("stored value is corrupt")
)

// Options configure Open.
type Options struct {
	// Schema is the schema to migrate to on open; the zero value means chuting.CurrentSchema().
	Schema chuting.Schema
	// Timeout is how long to wait for the file lock; 0 means 1s. When it runs out, Open
	// returns ErrInUse.
	Timeout time.Duration
}

// Store is the embedded chuting.Store on one bbolt file. It is safe for concurrent use.
type Store struct {
	db     *bolt.DB
	path   string
	schema chuting.Schema
}

var (
	_ chuting.Store    = (*Store)(nil)
	_ chuting.Backuper = (*Store)(nil)
)

// Open opens the store at path, creating the file (mode 0600, as it holds personal data) and
// its directory when missing, and migrates its records to opts.Schema. It fails with ErrInUse
// when another process has the file open, and with an error that says "newer" when the file
// holds records written by a newer build.
func Open(path string, opts Options) (*Store, error) {
	schema := opts.Schema
	if schema.Versions == nil && schema.Migrations == nil {
		schema = chuting.CurrentSchema()
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db, err := openLocked(path, timeout)
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: %w", path, ErrInUse)
	} else if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path, schema: schema}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.migrate(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// openLocked opens the bbolt file at path and makes sure that the file it locked is still the
// one at path. An Open that waits for the lock while Restore renames a new file over path
// would otherwise get the lock of the old, unlinked file once Restore lets go of it, and
// write to a file nobody will ever read again.
func openLocked(path string, timeout time.Duration) (*bolt.DB, error) {
	deadline := time.Now().Add(timeout)
	for {
		var f *os.File
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout,
			OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
				file, err := os.OpenFile(name, flag, perm)
				if f == nil {
					f = file // the first file bbolt opens is the one it locks
				}
				return file, err
			}})
		if err != nil {
			return nil, err
		}
		locked, err := f.Stat()
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		now, err := os.Stat(path)
		if err == nil && os.SameFile(locked, now) {
			return db, nil
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			_ = db.Close()
			return nil, err
		}
		if err := db.Close(); err != nil {
			return nil, err
		}
		if timeout = time.Until(deadline); timeout <= 0 {
			return nil, bolt.ErrTimeout
		}
	}
}

// init creates the layout in a new file and checks it in an existing one.
func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			// Only an empty file becomes a store; anything else is someone else's data.
			if err := tx.ForEach(func([]byte, *bolt.Bucket) error { return ErrNotStore }); err != nil {
				return err
			}
			var err error
			if meta, err = tx.CreateBucket(bucketMeta); err != nil {
				return err
			}
			if err := meta.Put(keyFormat, []byte(strconv.Itoa(layoutFormat))); err != nil {
				return err
			}
		}
		if err := checkFormat(meta); err != nil {
			return err
		}
		if _, err := meta.CreateBucketIfNotExists(bucketSchema); err != nil {
			return err
		}
		for _, name := range [][]byte{bucketRecords, bucketIndex, bucketLogs} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkFormat fails unless meta records a layout this build reads.
func checkFormat(meta *bolt.Bucket) error {
	v, err := strconv.Atoi(string(meta.Get(keyFormat)))
	switch {
	case err != nil || v < 1:
		return fmt.Errorf("%w: bad layout format %q", ErrNotStore, meta.Get(keyFormat))
	case v > layoutFormat:
		return fmt.Errorf("store layout format %d is newer than this build's %d: run a newer chuting", v, layoutFormat)
	}
	return nil
}

// Path returns the path of the store file.
func (s *Store) Path() string { return s.path }

// Ping reports whether the store file is open and readable, with a read transaction.
// EUNAVAILABLE after Close.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return storeErr("ping", err)
	}
	return storeErr("ping", s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return ErrNotStore
		}
		return nil
	}))
}

// Close closes the file. bbolt's Close takes the writer lock and waits for open read
// transactions, so it returns only after the operations under way have finished. Operations
// after Close fail with EUNAVAILABLE; a second Close does nothing.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// update runs fn in a write transaction and maps its error.
func (s *Store) update(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return storeErr(op, err)
	}
	return storeErr(op, s.db.Update(fn))
}

// view runs fn in a read transaction and maps its error.
func (s *Store) view(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return storeErr(op, err)
	}
	return storeErr(op, s.db.View(fn))
}

// storeErr turns err into a *chuting.Error: errors that already are one pass through, and
// bbolt's are given the code that says what the caller can do about them.
func storeErr(op string, err error) error {
	var ce *chuting.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case errors.Is(err, bolt.ErrDatabaseNotOpen):
		return &chuting.Error{Code: chuting.EUNAVAILABLE, Message: "存储已关闭 / the store is closed",
			Err: fmt.Errorf("bbolt %s: %w", op, err)}
	case errors.Is(err, bolt.ErrKeyTooLarge), errors.Is(err, bolt.ErrValueTooLarge):
		return &chuting.Error{Code: chuting.EINVALID, Message: "数据过大 / too large to store",
			Err: fmt.Errorf("bbolt %s: %w", op, err)}
	}
	return &chuting.Error{Code: chuting.EINTERNAL, Message: "存储错误 / storage error",
		Err: fmt.Errorf("bbolt %s: %w", op, err)}
}

// bucket returns the bucket at the path of names under tx, or nil if any of them is missing.
func bucket(tx *bolt.Tx, names ...[]byte) *bolt.Bucket {
	b := tx.Bucket(names[0])
	for _, name := range names[1:] {
		if b == nil {
			return nil
		}
		b = b.Bucket(name)
	}
	return b
}

// createBucket returns the bucket at the path of names under tx, creating what is missing.
func createBucket(tx *bolt.Tx, names ...[]byte) (*bolt.Bucket, error) {
	b, err := tx.CreateBucketIfNotExists(names[0])
	for _, name := range names[1:] {
		if err != nil {
			return nil, err
		}
		b, err = b.CreateBucketIfNotExists(name)
	}
	return b, err
}
