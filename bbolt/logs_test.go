package bbolt

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/chuting/chuting"
	bolt "go.etcd.io/bbolt"
)

func TestEvents(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, filepath.Join(t.TempDir(), "chuting.db"))
	const stream = "audit"
	shanghai := time.FixedZone("CST", 8*3600)
	t0 := time.Date(2026, 12, 7, 9, 30, 0, 1, shanghai)
	seq, err := s.Append(ctx, stream, chuting.Event{Time: t0, Type: "login", Data: []byte(`{"user":"u1"}`)})
	must(t, err)
	if seq != 1 {
		t.Fatalf("first seq = %d", seq)
	}
	seq, err = s.Append(ctx, stream, chuting.Event{Type: "no-time"}) // zero time, no data
	must(t, err)
	if seq != 2 {
		t.Fatalf("second seq = %d", seq)
	}

	t.Run("OK", func(t *testing.T) {
		evs, err := s.Events(ctx, stream, 0, 0)
		must(t, err)
		if len(evs) != 2 {
			t.Fatalf("read %d events, want 2", len(evs))
		}
		if e := evs[0]; e.Seq != 1 || !e.Time.Equal(t0) || e.Type != "login" || string(e.Data) != `{"user":"u1"}` {
			t.Fatalf("event 1 = %+v", e)
		}
		if e := evs[1]; e.Seq != 2 || !e.Time.IsZero() || e.Type != "no-time" || len(e.Data) != 0 {
			t.Fatalf("event 2 = %+v", e)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			stream string
			after  uint64
		}{
			{"MaxAfter", stream, math.MaxUint64}, // after+1 must not wrap to the first event
			{"NoStream", "never-written", 0},
			{"EmptyName", "", 0},
		} {
			evs, err := s.Events(ctx, tt.stream, tt.after, 0)
			must(t, err)
			if len(evs) != 0 {
				t.Fatalf("%s: read %d events, want none", tt.name, len(evs))
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, name := range []string{"", string(make([]byte, bolt.MaxKeySize+1))} {
			if _, err := s.Append(ctx, name, chuting.Event{Type: "x"}); chuting.ErrorCode(err) != chuting.EINVALID {
				t.Fatalf("Append to a stream named %.10q: %v, want code %q", name, err, chuting.EINVALID)
			}
		}
	})
}

func TestEventsLimit(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, filepath.Join(t.TempDir(), "chuting.db"))
	const stream, n = "hearing:h1", chuting.MaxLimit + 5
	v, err := encodeEvent(chuting.Event{Type: "t"})
	must(t, err)
	// One transaction instead of n fsyncs, numbered the way Append numbers.
	must(t, s.db.Update(func(tx *bolt.Tx) error {
		b, err := createBucket(tx, bucketLogs, []byte(stream))
		if err != nil {
			return err
		}
		for range n {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			if err := b.Put(seqKey(seq), v); err != nil {
				return err
			}
		}
		return nil
	}))
	tests := []struct {
		name         string
		after        uint64
		limit        int
		want         int
		first, final uint64
	}{
		{"Default", 0, 0, chuting.DefaultLimit, 1, chuting.DefaultLimit},
		{"Max", 0, 5000, chuting.MaxLimit, 1, chuting.MaxLimit},
		{"Tail", n - 2, 10, 2, n - 1, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := s.Events(ctx, stream, tt.after, tt.limit)
			must(t, err)
			if len(evs) != tt.want || evs[0].Seq != tt.first || evs[len(evs)-1].Seq != tt.final {
				t.Fatalf("Events(%d, %d) = %d events; want %d from %d to %d", tt.after, tt.limit, len(evs), tt.want, tt.first, tt.final)
			}
		})
	}
	seq, err := s.Append(ctx, stream, chuting.Event{Type: "t"})
	must(t, err)
	if seq != n+1 {
		t.Fatalf("Append after %d events got seq %d", n, seq)
	}
}
