package bbolt

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chuting/chuting"
	bolt "go.etcd.io/bbolt"
)

func TestPut(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, filepath.Join(t.TempDir(), "chuting.db"))
	ok := chuting.Record{Kind: chuting.KindCourt, ID: "c1", Version: 1, Schema: 1, Data: []byte(`{}`)}

	t.Run("ErrInvalid", func(t *testing.T) {
		tests := []struct {
			name   string
			edit   func(r *chuting.Record)
			expect int64
		}{
			{"EmptyKind", func(r *chuting.Record) { r.Kind = "" }, 0},
			{"NULInID", func(r *chuting.Record) { r.ID = "a\x00b" }, 0},
			{"NegativeExpect", func(r *chuting.Record) { r.Version = 0 }, -1},
			{"VersionSkips", func(r *chuting.Record) { r.Version = 3 }, 1},
			{"SchemaZero", func(r *chuting.Record) { r.Schema = 0 }, 0},
			{"EmptyIndexName", func(r *chuting.Record) { r.Index = []chuting.IndexEntry{{Value: "v"}} }, 0},
			{"NULInIndexName", func(r *chuting.Record) { r.Index = []chuting.IndexEntry{{Name: "a\x00", Value: "v"}} }, 0},
			{"NULInUniqueValue", func(r *chuting.Record) {
				r.Index = []chuting.IndexEntry{{Name: "code", Value: "\x00", Unique: true}}
			}, 0},
			{"KeyTooLarge", func(r *chuting.Record) { r.ID = strings.Repeat("k", bolt.MaxKeySize+1) }, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rec := ok
				tt.edit(&rec)
				err := s.Put(ctx, rec, tt.expect)
				if code := chuting.ErrorCode(err); code != chuting.EINVALID {
					t.Fatalf("Put = %v (code %q), want %q", err, code, chuting.EINVALID)
				}
			})
		}
		if _, err := s.Get(ctx, chuting.KindCourt, ok.ID); chuting.ErrorCode(err) != chuting.ENOTFOUND {
			t.Fatalf("a rejected Put left a record: %v", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		// A record may list the same unique value twice (a signatory named twice) without
		// conflicting with itself, and Get returns its index entries.
		rec := ok
		rec.Index = []chuting.IndexEntry{{Name: "code", Value: "x", Unique: true}, {Name: "code", Value: "x", Unique: true}}
		must(t, s.Put(ctx, rec, 0))
		got, err := s.Get(ctx, rec.Kind, rec.ID)
		must(t, err)
		if !slices.Equal(got.Index, rec.Index) {
			t.Fatalf("Get index = %v, want %v", got.Index, rec.Index)
		}
		// Deleting frees the value.
		must(t, s.Delete(ctx, rec.Kind, rec.ID, 1))
		other := rec
		other.ID = "c2"
		must(t, s.Put(ctx, other, 0))
	})
	t.Run("ErrConflict", func(t *testing.T) {
		// "x" is c2's now; a value that only shares a prefix with it is free.
		rec := ok
		rec.ID = "c3"
		rec.Index = []chuting.IndexEntry{{Name: "code", Value: "xy", Unique: true}}
		must(t, s.Put(ctx, rec, 0))
		rec.Version, rec.Index = 2, []chuting.IndexEntry{{Name: "code", Value: "x", Unique: true}}
		err := s.Put(ctx, rec, 1)
		if chuting.ErrorCode(err) != chuting.ECONFLICT || chuting.ErrorField(err) != "code" {
			t.Fatalf("Put over a taken unique value = %v, want a conflict on field code", err)
		}
		// The failed update kept c3's old entry.
		page, err := s.List(ctx, chuting.Equal(chuting.KindCourt, "code", "xy"))
		must(t, err)
		if len(page.Records) != 1 || page.Records[0].ID != "c3" || page.Records[0].Version != 1 {
			t.Fatalf("after a failed update, code xy lists %+v", page.Records)
		}
	})
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, filepath.Join(t.TempDir(), "chuting.db"))
	// Values chosen so that byte order of value+NUL+id keys is easy to get wrong: "a" is a
	// prefix of "a b" and "ab", and " " sorts below "b".
	values := map[string]string{"r1": "a", "r2": "a b", "r3": "ab", "r4": "b", "r5": "a", "r6": ""}
	for id, v := range values {
		must(t, s.Put(ctx, chuting.Record{Kind: chuting.KindSummons, ID: id, Version: 1, Schema: 1,
			Index: []chuting.IndexEntry{{Name: "state", Value: v}}}, 0))
	}
	tests := []struct {
		name string
		q    chuting.Query
		want []string
	}{
		{"Equal", chuting.Equal(chuting.KindSummons, "state", "a"), []string{"r1", "r5"}},
		{"EqualEmpty", chuting.Equal(chuting.KindSummons, "state", ""), []string{"r6"}},
		{"EqualNone", chuting.Equal(chuting.KindSummons, "state", "a "), nil},
		{"Range", chuting.Query{Kind: chuting.KindSummons, Index: "state", From: "a", To: "b"}, []string{"r1", "r5", "r2", "r3"}},
		{"RangeExcludesPrefix", chuting.Query{Kind: chuting.KindSummons, Index: "state", From: "a ", To: "ab"}, []string{"r2"}},
		{"FromOnly", chuting.Query{Kind: chuting.KindSummons, Index: "state", From: "ab"}, []string{"r3", "r4"}},
		{"ToOnly", chuting.Query{Kind: chuting.KindSummons, Index: "state", To: "a b"}, []string{"r6", "r1", "r5"}},
		{"FromWithNUL", chuting.Query{Kind: chuting.KindSummons, Index: "state", From: "a\x00"}, []string{"r2", "r3", "r4"}},
		{"All", chuting.Query{Kind: chuting.KindSummons, Index: "state"}, []string{"r6", "r1", "r5", "r2", "r3", "r4"}},
		{"ByID", chuting.Query{Kind: chuting.KindSummons, From: "r2", To: "r5"}, []string{"r2", "r3", "r4"}},
		{"ByIDAfter", chuting.Query{Kind: chuting.KindSummons, After: "r4"}, []string{"r5", "r6"}},
		{"AfterBelowFrom", chuting.Query{Kind: chuting.KindSummons, Index: "state", From: "ab", After: "a\x00r1"}, []string{"r3", "r4"}},
		{"UnknownIndex", chuting.Query{Kind: chuting.KindSummons, Index: "nope"}, nil},
		{"UnknownKind", chuting.Query{Kind: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.List(ctx, tt.q)
			must(t, err)
			if got := recordIDs(page.Records); !slices.Equal(got, tt.want) {
				t.Fatalf("List = %v, want %v", got, tt.want)
			}
			if page.Next != "" {
				t.Fatalf("a short last page has Next %q", page.Next)
			}
		})
	}
	t.Run("ExactlyFullLastPage", func(t *testing.T) {
		q := chuting.Equal(chuting.KindSummons, "state", "a")
		q.Limit = 2
		page, err := s.List(ctx, q)
		must(t, err)
		if len(page.Records) != 2 || page.Next != "" {
			t.Fatalf("exactly full last page: %d records, Next %q; want 2 and no Next", len(page.Records), page.Next)
		}
		q.Limit = 1
		page, err = s.List(ctx, q)
		must(t, err)
		if page.Next != "a\x00r1" {
			t.Fatalf("Next = %q, want the last key", page.Next)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, q := range []chuting.Query{{}, {Kind: chuting.KindSummons, Index: "state", After: "r1"}} {
			if _, err := s.List(ctx, q); chuting.ErrorCode(err) != chuting.EINVALID {
				t.Fatalf("List(%+v) = %v, want code %q", q, err, chuting.EINVALID)
			}
		}
	})
	t.Run("ErrCorrupt", func(t *testing.T) {
		// An index entry whose record is gone is reported, not silently skipped.
		must(t, s.db.Update(func(tx *bolt.Tx) error {
			return bucket(tx, bucketRecords, []byte(chuting.KindSummons)).Delete([]byte("r4"))
		}))
		_, err := s.List(ctx, chuting.Equal(chuting.KindSummons, "state", "b"))
		if chuting.ErrorCode(err) != chuting.EINTERNAL {
			t.Fatalf("List over a dangling index entry = %v, want code %q", err, chuting.EINTERNAL)
		}
	})
}

func TestListLimit(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, filepath.Join(t.TempDir(), "chuting.db"))
	const n = chuting.MaxLimit + 5
	// One transaction instead of n fsyncs.
	must(t, s.db.Update(func(tx *bolt.Tx) error {
		for i := range n {
			rec := chuting.Record{Kind: chuting.KindRoom, ID: fmt.Sprintf("r%05d", i), Version: 1, Schema: 1,
				Index: []chuting.IndexEntry{{Name: "institution", Value: "i"}}}
			if err := s.putTx(tx, rec, 0); err != nil {
				return err
			}
		}
		return nil
	}))
	tests := []struct {
		name  string
		q     chuting.Query
		want  int
		after string // the Next the page must return
	}{
		{"Default", chuting.Query{Kind: chuting.KindRoom}, chuting.DefaultLimit, "r00099"},
		{"Max", chuting.Query{Kind: chuting.KindRoom, Limit: 5000}, chuting.MaxLimit, "r00999"},
		{"MaxByIndex", chuting.Query{Kind: chuting.KindRoom, Index: "institution", Limit: 5000}, chuting.MaxLimit, "i\x00r00999"},
		{"Rest", chuting.Query{Kind: chuting.KindRoom, After: "r00999", Limit: 5000}, 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.List(ctx, tt.q)
			must(t, err)
			if len(page.Records) != tt.want || page.Next != tt.after {
				t.Fatalf("List = %d records, Next %q; want %d, %q", len(page.Records), page.Next, tt.want, tt.after)
			}
		})
	}
}

func recordIDs(recs []chuting.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}
