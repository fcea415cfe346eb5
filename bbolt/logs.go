package bbolt

import (
	"context"
	"encoding/binary"
	"math"

	"github.com/chuting/chuting"
	bolt "go.etcd.io/bbolt"
)

// Append adds e to the end of stream and returns its sequence number, ignoring e.Seq. The
// number comes from the stream bucket's own sequence, which bbolt increments inside the write
// transaction, so concurrent appends (serialized by bbolt's single writer) get 1, 2, 3 …
// without gaps and a rolled-back append does not use one up. EINVALID for an empty or
// over-long stream name.
func (s *Store) Append(ctx context.Context, stream string, e chuting.Event) (uint64, error) {
	if stream == "" {
		return 0, chuting.FieldError("stream", "日志名为空 / the stream name is empty")
	} else if len(stream) > bolt.MaxKeySize {
		return 0, chuting.FieldError("stream", "日志名过长 / the stream name is too long")
	}
	v, err := encodeEvent(e)
	if err != nil {
		return 0, chuting.FieldError("time", "无效的事件时间 / invalid event time: %v", err)
	}
	var seq uint64
	err = s.update(ctx, "append", func(tx *bolt.Tx) error {
		b, err := createBucket(tx, bucketLogs, []byte(stream))
		if err != nil {
			return err
		}
		if seq, err = b.NextSequence(); err != nil {
			return err
		}
		return b.Put(seqKey(seq), v)
	})
	if err != nil {
		return 0, err
	}
	return seq, nil
}

// Events returns up to limit events of stream with Seq > after, in Seq order. A stream never
// written reads as empty. limit 0 means chuting.DefaultLimit; more than chuting.MaxLimit,
// chuting.MaxLimit.
func (s *Store) Events(ctx context.Context, stream string, after uint64, limit int) ([]chuting.Event, error) {
	if limit <= 0 {
		limit = chuting.DefaultLimit
	} else if limit > chuting.MaxLimit {
		limit = chuting.MaxLimit
	}
	if stream == "" || after == math.MaxUint64 {
		return nil, nil // no event can be there, and after+1 would wrap to the start
	}
	var evs []chuting.Event
	err := s.view(ctx, "events", func(tx *bolt.Tx) error {
		b := bucket(tx, bucketLogs, []byte(stream))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(evs) < limit; k, v = c.Next() {
			if len(k) != 8 {
				return errCorrupt
			}
			e, err := decodeEvent(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			evs = append(evs, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return evs, nil
}

// seqKey returns the key of sequence number seq: 8 bytes big-endian, so key order is
// sequence order.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}
