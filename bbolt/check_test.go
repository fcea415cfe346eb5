package bbolt_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/bbolt"
	bolt "go.etcd.io/bbolt"
)

// MustClosedStore writes a chuting store with a few records at path and closes it.
func MustClosedStore(tb testing.TB, path string) {
	tb.Helper()
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	for range 50 {
		r := &chuting.TestimonyRoom{Name: "远程视频出庭作证室", InstitutionID: chuting.NewID()}
		if err := chuting.Create(ctx, s, r); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := s.Append(ctx, chuting.AuditStream, chuting.Event{Type: "t", Data: []byte(`{}`)}); err != nil {
		tb.Fatal(err)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
}

// MustWrite writes data to path.
func MustWrite(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	valid := filepath.Join(dir, "valid.db")
	MustClosedStore(t, valid)
	data, err := os.ReadFile(valid)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		setup func(t *testing.T, path string) // writes the file at path; nil for none
		is    error                           // the error wraps it, when not nil
		ok    bool
	}{
		{"OK", func(t *testing.T, path string) { MustClosedStore(t, path) }, nil, true},
		{"OKCopy", func(t *testing.T, path string) { MustWrite(t, path, data) }, nil, true},
		{"ErrMissing", nil, fs.ErrNotExist, false},
		{"ErrEmpty", func(t *testing.T, path string) { MustWrite(t, path, nil) }, nil, false},
		{"ErrNotBolt", func(t *testing.T, path string) {
			MustWrite(t, path, bytes.Repeat([]byte("not a bbolt file\n"), 1000))
		}, nil, false},
		{"ErrTruncated", func(t *testing.T, path string) { MustWrite(t, path, data[:len(data)/2]) }, nil, false},
		{"ErrMetaOnly", func(t *testing.T, path string) { MustWrite(t, path, data[:8192]) }, nil, false},
		{"ErrForeignBolt", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("widgets"))
				return err
			})
			if err := errors.Join(err, db.Close()); err != nil {
				t.Fatal(err)
			}
		}, bbolt.ErrNotStore, false},
		{"ErrDirectory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "chuting.db")
			if tt.setup != nil {
				tt.setup(t, path)
			}
			before, _ := os.ReadFile(path)
			infoBefore, _ := os.Stat(path)

			err := bbolt.Check(path)
			t.Logf("Check: %v", err)
			if tt.ok && err != nil {
				t.Errorf("Check: %v", err)
			} else if !tt.ok && err == nil {
				t.Error("Check = nil, want an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Check = %v, want an error that is %v", err, tt.is)
			}

			// Check never writes: the file (or its absence) is as it was.
			after, _ := os.ReadFile(path)
			infoAfter, statErr := os.Stat(path)
			if !bytes.Equal(before, after) {
				t.Errorf("Check changed the file: %d bytes before, %d after", len(before), len(after))
			}
			if (infoBefore == nil) != (statErr != nil) {
				t.Errorf("Check created or removed %s", path)
			}
			if infoBefore != nil && infoAfter != nil && !infoBefore.IsDir() &&
				(infoBefore.Size() != infoAfter.Size() || !infoBefore.ModTime().Equal(infoAfter.ModTime())) {
				t.Errorf("Check touched the file: size %d→%d, modified %v→%v",
					infoBefore.Size(), infoAfter.Size(), infoBefore.ModTime(), infoAfter.ModTime())
			}
		})
	}
	t.Run("OKOpensAfter", func(t *testing.T) {
		// Check lets go of the file: the store opens at once afterwards.
		if err := bbolt.Check(valid); err != nil {
			t.Fatal(err)
		}
		s, err := bbolt.Open(valid, bbolt.Options{Timeout: 1})
		if err != nil {
			t.Fatalf("Open after Check: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
