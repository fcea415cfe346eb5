package redis

import (
	"context"
	"strings"

	"github.com/chuting/chuting"
	goredis "github.com/redis/go-redis/v9"
)

// List returns one page of the records q selects. It reads limit+1 members of the id or index
// sorted set with ZRANGEBYLEX, so it knows whether another page follows, then the records in
// one pipeline. It implements chuting.Records.
//
// The two reads are not one snapshot: a record deleted between them is left out (the page is
// then shorter than the limit, but Next is still set), and a record updated between them is
// returned in its new version, which the contract allows. The cursor is the last member read,
// so records added or removed elsewhere in the range never shift a later page.
func (s *Store) List(ctx context.Context, q chuting.Query) (chuting.Page, error) {
	if err := validKind(q.Kind); err != nil {
		return chuting.Page{}, err
	}
	if strings.IndexByte(q.Index, 0) >= 0 {
		return chuting.Page{}, chuting.FieldError("index", "索引名无效 / invalid index name %q", q.Index)
	}
	lo, hi, err := lexRange(q)
	if err != nil {
		return chuting.Page{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = chuting.DefaultLimit
	} else if limit > chuting.MaxLimit {
		limit = chuting.MaxLimit
	}
	key := s.idsKey(q.Kind)
	if q.Index != "" {
		key = s.ixKey(q.Kind, q.Index)
	}

	if err := s.begin(); err != nil {
		return chuting.Page{}, err
	}
	defer s.mu.RUnlock()
	members, err := s.rdb.ZRangeByLex(ctx, key, &goredis.ZRangeBy{Min: lo, Max: hi, Count: int64(limit) + 1}).Result()
	if err != nil {
		return chuting.Page{}, s.fail("list", err)
	}
	var page chuting.Page
	if len(members) > limit {
		members = members[:limit]
		page.Next = members[limit-1]
	}
	if len(members) == 0 {
		return page, nil
	}
	ids := members
	if q.Index != "" {
		ids = make([]string, len(members))
		for i, m := range members {
			ids[i] = m[strings.IndexByte(m, 0)+1:] // the script wrote value NUL id
		}
	}
	cmds := make([]*goredis.SliceCmd, len(ids))
	if _, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.recKey(q.Kind, id), recFields...)
		}
		return nil
	}); err != nil {
		return chuting.Page{}, s.fail("list", err)
	}
	page.Records = make([]chuting.Record, 0, len(ids))
	for i, id := range ids {
		rec, found, err := parseRecord(q.Kind, id, cmds[i].Val())
		if err != nil {
			return chuting.Page{}, err
		} else if found { // else deleted since the range was read
			page.Records = append(page.Records, rec)
		}
	}
	return page, nil
}

// lexRange returns the ZRANGEBYLEX bounds that select q's records, continuing after q.After.
//
// Listing by ID, the bounds are the IDs themselves. In an index, a member is value NUL id, and
// values hold no NUL, so for a value v:
//   - v >= From is member >= From, when From holds no NUL;
//   - v < To is member < To NUL, when To holds no NUL (a member of v = To sorts after it);
//   - a bound with a NUL, such as To = value NUL from chuting.Equal, cuts between the values
//     up to its part before the NUL, p, and those after: v <= p is member < p "\x01".
func lexRange(q chuting.Query) (lo, hi string, err error) {
	lower, upper := q.From, q.To // inclusive lower, exclusive upper, in member space
	if q.Index != "" {
		if i := strings.IndexByte(lower, 0); i >= 0 {
			lower = lower[:i] + "\x01"
		}
		if i := strings.IndexByte(upper, 0); i >= 0 {
			upper = upper[:i] + "\x01"
		} else if upper != "" {
			upper += "\x00"
		}
	}
	lo, hi = "-", "+"
	if lower != "" {
		lo = "[" + lower
	}
	if upper != "" {
		hi = "(" + upper
	}
	if q.After == "" {
		return lo, hi, nil
	}
	// A cursor is an ID when listing by ID, and a member (value NUL id) in an index.
	sep := strings.IndexByte(q.After, 0)
	if q.Index == "" && sep >= 0 || q.Index != "" && (sep < 0 || sep == len(q.After)-1) {
		return "", "", chuting.FieldError("after", "分页游标无效 / invalid page cursor")
	}
	if q.After >= lower {
		lo = "(" + q.After
	}
	return lo, hi, nil
}
