package bbolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/storetest"
	bolt "go.etcd.io/bbolt"
)

// TestMain fails the run if goroutines outlive the tests: a bbolt consistency check or a
// writer left running would hold the file open.
func TestMain(m *testing.M) {
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > base; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "%d goroutines leaked:\n", runtime.NumGoroutine()-base)
				_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
				code = 1
				break
			}
		}
	}
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		return opener(filepath.Join(t.TempDir(), "chuting.db"))
	})
}

// opener returns a storetest.Opener for the store file at path.
func opener(path string) storetest.Opener {
	return func(s chuting.Schema) (chuting.Store, error) { return Open(path, Options{Schema: s}) }
}

// MustOpen opens the store at path with the current schema and closes it when the test ends.
func MustOpen(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestOpen(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// The file and a missing parent directory are created, the file private.
		path := filepath.Join(t.TempDir(), "new", "dir", "chuting.db")
		s := MustOpen(t, path)
		if s.Path() != path {
			t.Fatalf("Path() = %q, want %q", s.Path(), path)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Fatalf("store file mode = %v, want 0600", mode)
		}
		if err := s.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrInUse", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "chuting.db")
		MustOpen(t, path)
		// flock locks belong to an open file, so a second open in this process is refused
		// exactly like one in a second server process would be.
		start := time.Now()
		s, err := Open(path, Options{Timeout: 200 * time.Millisecond})
		if err == nil {
			_ = s.Close()
			t.Fatal("opened a store that another Store holds")
		}
		if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "in use by another process") {
			t.Fatalf("error = %v, want ErrInUse", err)
		}
		if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
			t.Fatalf("gave up after %v, want about the 200ms timeout", d)
		}
	})
	t.Run("ReplacedWhileWaiting", func(t *testing.T) {
		// An Open waiting for the lock while the file is replaced (as Restore does) must
		// end up with the new file, not the unlinked old one.
		ctx := context.Background()
		dir := t.TempDir()
		path, other := filepath.Join(dir, "chuting.db"), filepath.Join(dir, "other.db")
		o := MustOpen(t, other)
		must(t, chuting.Create(ctx, o, &chuting.Court{Meta: chuting.Meta{ID: "new"}, Code: "n"}))
		must(t, o.Close())
		old := MustOpen(t, path)
		type result struct {
			s   *Store
			err error
		}
		done := make(chan result)
		go func() {
			s, err := Open(path, Options{Timeout: 10 * time.Second})
			done <- result{s, err}
		}()
		time.Sleep(300 * time.Millisecond) // the waiting Open has the old file open by now
		must(t, os.Rename(other, path))
		must(t, old.Close())
		r := <-done
		must(t, r.err)
		defer r.s.Close()
		if _, err := r.s.Get(ctx, chuting.KindCourt, "new"); err != nil {
			t.Fatalf("the waiting Open got the replaced file: %v", err)
		}
	})
	t.Run("ErrNotStore", func(t *testing.T) {
		// A bbolt file of someone else's is left alone, not given our buckets.
		path := filepath.Join(t.TempDir(), "other.db")
		mustForeignBolt(t, path)
		s, err := Open(path, Options{})
		if err == nil {
			_ = s.Close()
			t.Fatal("opened a bbolt file without the chuting layout")
		}
		if !errors.Is(err, ErrNotStore) {
			t.Fatalf("error = %v, want ErrNotStore", err)
		}
	})
	t.Run("ErrNewerLayout", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "chuting.db")
		must(t, MustOpen(t, path).Close())
		db, err := bolt.Open(path, 0o600, nil)
		must(t, err)
		must(t, db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keyFormat, []byte("99"))
		}))
		must(t, db.Close())
		s, err := Open(path, Options{})
		if err == nil {
			_ = s.Close()
			t.Fatal("opened a file of a newer layout")
		}
		if !strings.Contains(err.Error(), "newer") {
			t.Fatalf("error = %v, want it to say the layout is newer", err)
		}
	})
	t.Run("ErrNotBolt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "junk.db")
		must(t, os.WriteFile(path, []byte(strings.Repeat("not a database ", 1000)), 0o600))
		if s, err := Open(path, Options{}); err == nil {
			_ = s.Close()
			t.Fatal("opened a file that is not bbolt")
		}
	})
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "chuting.db"), Options{})
	must(t, err)
	must(t, s.Close())
	must(t, s.Close()) // a second Close is harmless
	for name, err := range map[string]error{
		"Ping": s.Ping(ctx),
		"Put":  s.Put(ctx, chuting.Record{Kind: chuting.KindCourt, ID: "x", Version: 1, Schema: 1}, 0),
	} {
		if code := chuting.ErrorCode(err); code != chuting.EUNAVAILABLE {
			t.Errorf("%s after Close: %v (code %q), want %q", name, err, code, chuting.EUNAVAILABLE)
		}
	}
}

// mustForeignBolt writes a bbolt file at path that is not a chuting store.
func mustForeignBolt(tb testing.TB, path string) {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	must(tb, err)
	must(tb, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("widgets"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}))
	must(tb, db.Close())
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
