package redis

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/chuting/chuting"
	goredis "github.com/redis/go-redis/v9"
)

// appendScript adds an event to a stream under the entry ID "{seq}-0", seq being one more than
// that of the stream's last entry, and returns seq. The sequence is read from the stream itself
// rather than from a counter key, so the two can never disagree; and since Redis runs the
// script as one step, concurrent appends from any number of nodes get 1, 2, 3 … without gaps.
// KEYS: log. ARGV: time, type, data.
var appendScript = goredis.NewScript(`
local seq = 1
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then
  seq = tonumber(string.match(last[1][1], '^(%d+)-')) + 1
end
redis.call('XADD', KEYS[1], string.format('%d-0', seq), 't', ARGV[1], 'y', ARGV[2], 'd', ARGV[3])
return seq
`)

// Append adds e to the end of stream and returns its sequence number. It implements
// chuting.Logs.
func (s *Store) Append(ctx context.Context, stream string, e chuting.Event) (uint64, error) {
	if stream == "" {
		return 0, chuting.FieldError("stream", "日志名为空 / empty stream name")
	}
	t, err := e.Time.MarshalText() // RFC 3339 with nanoseconds and the zone offset
	if err != nil {
		return 0, chuting.FieldError("time", "事件时间无效 / invalid event time: %v", err)
	}
	if err := s.begin(); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	seq, err := appendScript.Run(ctx, s.rdb, []string{s.logKey(stream)}, t, e.Type, e.Data).Int64()
	if err != nil {
		return 0, s.fail("append", err)
	}
	return uint64(seq), nil
}

// Events returns up to limit events of stream with Seq > after, in Seq order, with XRANGE
// from entry ID after+1. It implements chuting.Logs.
func (s *Store) Events(ctx context.Context, stream string, after uint64, limit int) ([]chuting.Event, error) {
	if limit <= 0 {
		limit = chuting.DefaultLimit
	} else if limit > chuting.MaxLimit {
		limit = chuting.MaxLimit
	}
	if after == math.MaxUint64 {
		return nil, nil // no entry ID is larger
	}
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	msgs, err := s.rdb.XRangeN(ctx, s.logKey(stream), strconv.FormatUint(after+1, 10), "+", int64(limit)).Result()
	if err != nil {
		return nil, s.fail("events", err)
	}
	evs := make([]chuting.Event, 0, len(msgs))
	for _, m := range msgs {
		e, err := parseEvent(m)
		if err != nil {
			return nil, &chuting.Error{Code: chuting.EINTERNAL, Message: "stored event is unreadable",
				Err: fmt.Errorf("decode event %s of %s: %w", m.ID, stream, err)}
		}
		evs = append(evs, e)
	}
	return evs, nil
}

func parseEvent(m goredis.XMessage) (chuting.Event, error) {
	ms, _, _ := strings.Cut(m.ID, "-")
	seq, err := strconv.ParseUint(ms, 10, 64)
	if err != nil {
		return chuting.Event{}, err
	}
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	e := chuting.Event{Seq: seq, Type: str("y")}
	if d := str("d"); d != "" {
		e.Data = []byte(d)
	}
	if err := e.Time.UnmarshalText([]byte(str("t"))); err != nil {
		return chuting.Event{}, err
	}
	return e, nil
}
