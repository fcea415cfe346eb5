package redis_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/redis/redistest"
)

// TestListBounds checks the mapping of query bounds to ZRANGEBYLEX on values that are
// prefixes of each other, the cases where a member "value NUL id" sorts differently from its
// value alone.
func TestListBounds(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, redistest.Start(t), "bounds:")
	values := []string{"", "a", "a\x01", "aa", "ab", "b"} // in byte order
	byValue := map[string]string{}
	for _, v := range values {
		id := chuting.NewID()
		byValue[v] = id
		rec := chuting.Record{Kind: chuting.KindCourt, ID: id, Version: 1, Schema: 1, Data: []byte(`{}`),
			Index: []chuting.IndexEntry{{Name: "k", Value: v}}}
		if err := s.Put(ctx, rec, 0); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		from, to string
		want     []string // values
	}{
		{"All", "", "", values},
		{"EqualA", "a", "a\x00", []string{"a"}},
		{"EqualEmpty", "", "\x00", []string{""}},
		{"FromTo", "a", "ab", []string{"a", "a\x01", "aa"}},
		{"From", "aa", "", []string{"aa", "ab", "b"}},
		{"To", "", "a", []string{""}},
		{"AfterValue", "a\x00", "b", []string{"a\x01", "aa", "ab"}},
		{"Empty", "b", "a", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, v := range tt.want {
				want = append(want, byValue[v])
			}
			// Limit 1 pages through every cursor position as well.
			for _, limit := range []int{0, 1} {
				q := chuting.Query{Kind: chuting.KindCourt, Index: "k", From: tt.from, To: tt.to, Limit: limit}
				var got []string
				for pages := 0; ; pages++ {
					page, err := s.List(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range page.Records {
						got = append(got, r.ID)
					}
					if page.Next == "" {
						break
					} else if pages > len(values) {
						t.Fatal("paging does not end")
					}
					q.After = page.Next
				}
				if !slices.Equal(got, want) {
					t.Fatalf("limit %d: listed %q, want %q", limit, got, want)
				}
			}
		})
	}
}

func TestPutErrors(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, redistest.Start(t), "put:")
	taken := chuting.Record{Kind: chuting.KindUser, ID: chuting.NewID(), Version: 1, Schema: 1, Data: []byte(`{}`),
		Index: []chuting.IndexEntry{{Name: "username", Value: "书记员/clerk", Unique: true}}}
	if err := s.Put(ctx, taken, 0); err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		// Get returns the index entries as written, bytes and all.
		got, err := s.Get(ctx, taken.Kind, taken.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Index, taken.Index) || string(got.Data) != "{}" || got.Version != 1 {
			t.Fatalf("Get = %+v, want %+v", got, taken)
		}
	})

	rec := func(edit func(*chuting.Record)) chuting.Record {
		r := chuting.Record{Kind: chuting.KindUser, ID: chuting.NewID(), Version: 1, Schema: 1, Data: []byte(`{}`)}
		edit(&r)
		return r
	}
	tests := []struct {
		name   string
		rec    chuting.Record
		expect int64
		code   string
		field  string
		msg    string // part of the message
	}{
		{"ErrInvalid/KindColon", rec(func(r *chuting.Record) { r.Kind = "user:x" }), 0, chuting.EINVALID, "kind", ""},
		{"ErrInvalid/IDNUL", rec(func(r *chuting.Record) { r.ID = "a\x00b" }), 0, chuting.EINVALID, "id", ""},
		{"ErrInvalid/IndexName", rec(func(r *chuting.Record) { r.Index = []chuting.IndexEntry{{Value: "v"}} }), 0,
			chuting.EINVALID, "index[0].name", ""},
		{"ErrInvalid/Expect", rec(func(r *chuting.Record) { r.Version = 0 }), -1, chuting.EINVALID, "version", ""},
		{"ErrConflict/Unique", rec(func(r *chuting.Record) { r.Index = taken.Index }), 0, chuting.ECONFLICT,
			"username", "username 已被使用 / already taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Put(ctx, tt.rec, tt.expect)
			if code := chuting.ErrorCode(err); code != tt.code || chuting.ErrorField(err) != tt.field {
				t.Fatalf("Put: %v (code %q, field %q), want code %q, field %q",
					err, code, chuting.ErrorField(err), tt.code, tt.field)
			}
			if !strings.Contains(chuting.ErrorMessage(err), tt.msg) {
				t.Fatalf("message %q does not contain %q", chuting.ErrorMessage(err), tt.msg)
			}
			if _, err := s.Get(ctx, tt.rec.Kind, tt.rec.ID); chuting.ErrorCode(err) == "" {
				t.Fatal("a refused Put wrote the record")
			}
		})
	}
}
