package bbolt

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

func TestCodec(t *testing.T) {
	t.Run("Record", func(t *testing.T) {
		for _, rec := range []chuting.Record{
			{Kind: chuting.KindUser, ID: "u1", Version: 7, Schema: 2, Data: []byte(`{"username":"clerk"}`),
				Index: []chuting.IndexEntry{{Name: "username", Value: "clerk", Unique: true}, {Name: "court", Value: ""}}},
			{Kind: chuting.KindCourt, ID: "c1", Version: 1, Schema: 1, Data: []byte{}},
		} {
			got, err := decodeRecord(rec.Kind, rec.ID, encodeRecord(rec))
			must(t, err)
			if !reflect.DeepEqual(got, rec) {
				t.Fatalf("round trip = %+v, want %+v", got, rec)
			}
		}
	})
	t.Run("Event", func(t *testing.T) {
		// A zone offset in seconds, which MarshalBinary rejects outside UTC.
		e := chuting.Event{Seq: 3, Time: time.Date(1901, 1, 1, 0, 0, 0, 5, time.FixedZone("LMT", 29143)),
			Type: "joined", Data: []byte(`{}`)}
		b, err := encodeEvent(e)
		must(t, err)
		got, err := decodeEvent(3, b)
		must(t, err)
		if !got.Time.Equal(e.Time) || got.Seq != 3 || got.Type != e.Type || string(got.Data) != string(e.Data) {
			t.Fatalf("round trip = %+v, want %+v", got, e)
		}
	})
	t.Run("ErrCorrupt", func(t *testing.T) {
		full := encodeRecord(chuting.Record{Version: 1, Schema: 1, Index: []chuting.IndexEntry{{Name: "n", Value: "v"}}})
		ev, err := encodeEvent(chuting.Event{Type: "t"})
		must(t, err)
		tests := []struct {
			name string
			err  error
		}{
			{"Empty", decodeErr(nil)},
			{"Format", decodeErr([]byte{9, 2, 2, 0})},
			{"Truncated", decodeErr(full[:6])},
			{"HugeCount", decodeErr([]byte{envelopeFormat, 2, 2, 0xff, 0xff, 0xff, 0x7f})},
			{"EventTruncated", func() error { _, err := decodeEvent(1, ev[:4]); return err }()},
			{"EventFormat", func() error { _, err := decodeEvent(1, []byte{7}); return err }()},
		}
		for _, tt := range tests {
			if !errors.Is(tt.err, errCorrupt) {
				t.Errorf("%s: error = %v, want errCorrupt", tt.name, tt.err)
			}
		}
	})
}

func decodeErr(b []byte) error {
	_, err := decodeRecord(chuting.KindCourt, "c", b)
	return err
}
