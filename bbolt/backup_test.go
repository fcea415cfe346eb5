package bbolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/storetest"
)

// TestBackup takes a backup while writers keep creating records and appending events, restores
// it, and checks that everything acknowledged before Backup began is there and that the
// restored store passes the conformance suite.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := MustOpen(t, filepath.Join(dir, "live.db"))

	type ack struct {
		id  string // a room ID, or "" for an event
		seq uint64 // an event's sequence number
		at  time.Time
	}
	var (
		mu   sync.Mutex
		acks []ack
		wg   sync.WaitGroup
	)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var a ack
				if w == 0 { // one writer appends to the audit log, the others create records
					seq, err := s.Append(ctx, "audit", chuting.Event{Time: time.Now(), Type: "t"})
					if err != nil {
						errs <- err
						return
					}
					a.seq = seq
				} else {
					// Rooms, not courts: the suite's migration tests cannot migrate courts
					// that they did not write themselves.
					r := &chuting.TestimonyRoom{Name: "远程视频出庭作证室", InstitutionID: fmt.Sprintf("inst-%d", w)}
					if err := chuting.Create(ctx, s, r); err != nil {
						errs <- err
						return
					}
					a.id = r.ID
				}
				a.at = time.Now() // after the write returned: it is acknowledged from here on
				mu.Lock()
				acks = append(acks, a)
				mu.Unlock()
			}
		})
	}
	waitFor := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); count() < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("writers stalled at %d writes", count())
			}
		}
	}

	waitFor(200)
	snapshot := filepath.Join(dir, "backup.db")
	f, err := os.Create(snapshot)
	must(t, err)
	began := time.Now()
	n, err := s.Backup(ctx, f)
	must(t, err)
	must(t, f.Sync())
	must(t, f.Close())
	atEnd := count()
	waitFor(atEnd + 50) // writes went on after the backup too: it was taken mid-stream
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if fi, err := os.Stat(snapshot); err != nil || fi.Size() != n {
		t.Fatalf("Backup reported %d bytes, file: %v %v", n, fi, err)
	}

	restored := filepath.Join(dir, "restored", "chuting.db")
	must(t, Restore(snapshot, restored))
	r, err := Open(restored, Options{})
	must(t, err)
	before, lastSeq := 0, uint64(0)
	for _, a := range acks {
		if !a.at.Before(began) {
			continue
		}
		before++
		if a.id == "" {
			lastSeq = max(lastSeq, a.seq)
		} else if _, err := r.Get(ctx, chuting.KindRoom, a.id); err != nil {
			t.Errorf("room %s, acknowledged before the backup began, is missing: %v", a.id, err)
		}
	}
	evs, err := r.Events(ctx, "audit", 0, chuting.MaxLimit)
	must(t, err)
	if uint64(len(evs)) < lastSeq {
		t.Errorf("restored log holds %d events, but %d were acknowledged before the backup", len(evs), lastSeq)
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("restored log has seq %d at %d", e.Seq, i)
		}
	}
	must(t, r.Close())
	t.Logf("%d writes before the backup, %d in all; snapshot of %d bytes", before, len(acks), n)
	if before < 200 {
		t.Fatalf("only %d writes counted before the backup", before)
	}

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) storetest.Opener {
			path := filepath.Join(t.TempDir(), "chuting.db")
			mustCopy(t, restored, path)
			return opener(path)
		})
	})
}

func TestBackupCancel(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "chuting.db"))
	ctx, cancel := context.WithCancel(context.Background())
	w := writerFunc(func(p []byte) (int, error) {
		cancel() // cancelled during the copy
		return len(p), nil
	})
	n, err := s.Backup(ctx, w)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Backup = %d, %v; want context.Canceled", n, err)
	}
	if size, _ := s.Backup(context.Background(), io.Discard); n >= size {
		t.Fatalf("a cancelled Backup wrote %d of %d bytes", n, size)
	}
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// The snapshot holds court "from-backup"; targets hold court "original".
	snapshot := filepath.Join(dir, "backup.db")
	src := MustOpen(t, filepath.Join(dir, "src.db"))
	must(t, chuting.Create(ctx, src, &chuting.Court{Meta: chuting.Meta{ID: "from-backup"}, Code: "b"}))
	mustBackup(t, src, snapshot)

	newTarget := func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "chuting.db")
		s := MustOpen(t, path)
		must(t, chuting.Create(ctx, s, &chuting.Court{Meta: chuting.Meta{ID: "original"}, Code: "o"}))
		must(t, s.Close())
		return path
	}
	holds := func(t *testing.T, path, id string) {
		t.Helper()
		s := MustOpen(t, path)
		if _, err := s.Get(ctx, chuting.KindCourt, id); err != nil {
			t.Fatalf("%s does not hold court %s: %v", path, id, err)
		}
		must(t, s.Close())
	}

	t.Run("OK", func(t *testing.T) {
		path := newTarget(t)
		must(t, Restore(snapshot, path))
		holds(t, path, "from-backup")
		s := MustOpen(t, path)
		if _, err := s.Get(ctx, chuting.KindCourt, "original"); chuting.ErrorCode(err) != chuting.ENOTFOUND {
			t.Fatalf("the replaced store's record survived: %v", err)
		}
		must(t, s.Close())
		mustOnlyFile(t, path)
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("restored file: %v %v, want mode 0600", fi, err)
		}
	})
	t.Run("ErrInUse", func(t *testing.T) {
		path := newTarget(t)
		s := MustOpen(t, path) // a running server
		err := Restore(snapshot, path)
		if !errors.Is(err, ErrInUse) {
			t.Fatalf("Restore over an open store = %v, want ErrInUse", err)
		}
		if _, err := s.Get(ctx, chuting.KindCourt, "original"); err != nil {
			t.Fatalf("the open store lost its record: %v", err)
		}
		must(t, s.Close())
		holds(t, path, "original")
		mustOnlyFile(t, path)
	})
	t.Run("ErrSnapshotInUse", func(t *testing.T) {
		// A live store file is not a snapshot: it may change under the copy.
		path := newTarget(t)
		err := Restore(src.Path(), path)
		if !errors.Is(err, ErrInUse) {
			t.Fatalf("Restore from an open store = %v, want ErrInUse", err)
		}
		holds(t, path, "original")
	})
	t.Run("ErrSameFile", func(t *testing.T) {
		path := newTarget(t)
		if err := Restore(path, path); err == nil {
			t.Fatal("restored a store over itself")
		}
		holds(t, path, "original")
	})

	// Snapshots that must be refused, leaving the target as it was.
	good, err := os.ReadFile(snapshot)
	must(t, err)
	foreign := filepath.Join(dir, "foreign.db")
	mustForeignBolt(t, foreign)
	foreignBytes, err := os.ReadFile(foreign)
	must(t, err)
	damaged := bytes.Clone(good)
	for i := 2 * os.Getpagesize(); i < len(damaged); i++ { // every page after the two metas
		damaged[i] = 0xA5
	}
	tests := []struct {
		name    string
		content []byte // nil: no snapshot file at all
		notOurs bool   // must be ErrNotStore
	}{
		{"ErrMissing", nil, false},
		{"ErrEmpty", []byte{}, true},
		{"ErrNotBolt", bytes.Repeat([]byte("不是数据库 / not a database "), 500), true},
		{"ErrForeignBolt", foreignBytes, true},
		{"ErrTruncated", good[:len(good)-os.Getpagesize()], false},
		{"ErrDamaged", damaged, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := newTarget(t)
			before, err := os.ReadFile(path)
			must(t, err)
			snap := filepath.Join(t.TempDir(), "snapshot.db")
			if tt.content != nil {
				must(t, os.WriteFile(snap, tt.content, 0o600))
			}
			err = Restore(snap, path)
			if err == nil {
				t.Fatal("Restore accepted the snapshot")
			}
			if tt.notOurs && !errors.Is(err, ErrNotStore) {
				t.Fatalf("Restore = %v, want ErrNotStore", err)
			}
			after, err2 := os.ReadFile(path)
			must(t, err2)
			if !bytes.Equal(before, after) {
				t.Fatal("a failed restore changed the store file")
			}
			mustOnlyFile(t, path)
			holds(t, path, "original")
			t.Logf("refused: %v", err)
		})
	}
}

// mustBackup writes a backup of s to path.
func mustBackup(tb testing.TB, s *Store, path string) {
	tb.Helper()
	f, err := os.Create(path)
	must(tb, err)
	_, err = s.Backup(context.Background(), f)
	must(tb, err)
	must(tb, f.Close())
}

// mustCopy copies the file src to dst.
func mustCopy(tb testing.TB, src, dst string) {
	tb.Helper()
	b, err := os.ReadFile(src)
	must(tb, err)
	must(tb, os.WriteFile(dst, b, 0o600))
}

// mustOnlyFile fails unless path is the only file in its directory: no temporary file of a
// restore was left behind.
func mustOnlyFile(tb testing.TB, path string) {
	tb.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	must(tb, err)
	if len(entries) != 1 || entries[0].Name() != filepath.Base(path) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		tb.Fatalf("directory holds %v, want only %s", names, filepath.Base(path))
	}
}
