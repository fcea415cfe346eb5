package bbolt

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/chuting/chuting"
)

// The value encodings. Both start with a format byte so that a later build can change them
// and still read what this one wrote. Lengths and numbers are varints; the entity's JSON (or
// the event's data) comes last and unframed, so the header costs a few bytes and the data
// needs no escaping (unlike a JSON wrapper, which would also require the data to be JSON).
//
//	envelope: 1, varint version, varint schema, uvarint n, n × (name, value, unique byte), data
//	event:    1, time (time.MarshalBinary, in UTC), type, data
//
// Strings are a uvarint length and then the bytes.
const (
	envelopeFormat = 1
	eventFormat    = 1
)

// encodeRecord returns the envelope of rec; the kind and ID are in the key path, not here.
func encodeRecord(rec chuting.Record) []byte {
	n := 1 + 3*binary.MaxVarintLen64 + len(rec.Data)
	for _, e := range rec.Index {
		n += 2*binary.MaxVarintLen64 + len(e.Name) + len(e.Value) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, envelopeFormat)
	b = binary.AppendVarint(b, rec.Version)
	b = binary.AppendVarint(b, int64(rec.Schema))
	b = binary.AppendUvarint(b, uint64(len(rec.Index)))
	for _, e := range rec.Index {
		b = appendString(b, e.Name)
		b = appendString(b, e.Value)
		b = append(b, boolByte(e.Unique))
	}
	return append(b, rec.Data...)
}

// decodeRecord decodes an envelope. It copies everything out of b, which points into bbolt's
// memory map and is valid only during the transaction.
func decodeRecord(kind chuting.Kind, id string, b []byte) (chuting.Record, error) {
	r := reader{b: b}
	if r.byte() != envelopeFormat {
		return chuting.Record{}, fmt.Errorf("%s %s: %w: unknown envelope format", kind, id, errCorrupt)
	}
	rec := chuting.Record{Kind: kind, ID: id, Version: r.varint(), Schema: int(r.varint())}
	n := r.uvarint()
	if n > uint64(len(b)) { // each entry takes at least a byte; this guards the allocation
		r.err = errCorrupt
	}
	if r.err == nil && n > 0 {
		rec.Index = make([]chuting.IndexEntry, n)
		for i := range rec.Index {
			rec.Index[i] = chuting.IndexEntry{Name: r.string(), Value: r.string(), Unique: r.byte() == 1}
		}
	}
	rec.Data = bytes.Clone(r.rest())
	if r.err != nil {
		return chuting.Record{}, fmt.Errorf("%s %s: %w", kind, id, r.err)
	}
	return rec, nil
}

// encodeEvent returns the stored form of e; its Seq is the key, not part of the value.
// The time is kept in UTC because MarshalBinary rejects zones whose offset is not whole
// minutes, and an attendance log must never refuse an event over its time zone.
func encodeEvent(e chuting.Event) ([]byte, error) {
	t, err := e.Time.UTC().MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(t)+len(e.Type)+len(e.Data))
	b = append(b, eventFormat)
	b = appendString(b, string(t))
	b = appendString(b, e.Type)
	return append(b, e.Data...), nil
}

// decodeEvent decodes an event stored under seq, copying it out of b.
func decodeEvent(seq uint64, b []byte) (chuting.Event, error) {
	r := reader{b: b}
	if r.byte() != eventFormat {
		return chuting.Event{}, fmt.Errorf("event %d: %w: unknown event format", seq, errCorrupt)
	}
	e := chuting.Event{Seq: seq}
	t := r.string()
	e.Type = r.string()
	e.Data = bytes.Clone(r.rest())
	if r.err == nil {
		if err := e.Time.UnmarshalBinary([]byte(t)); err != nil {
			r.err = fmt.Errorf("%w: %v", errCorrupt, err)
		}
	}
	if r.err != nil {
		return chuting.Event{}, fmt.Errorf("event %d: %w", seq, r.err)
	}
	return e, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// reader reads the encodings above. The first failure sticks in err and every later read
// returns a zero value, so decoders check once at the end.
type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errCorrupt
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = errCorrupt
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) rest() []byte {
	if r.err != nil {
		return nil
	}
	return r.b
}
