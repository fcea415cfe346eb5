// Package storetest is the conformance suite of chuting.Store. Both adapters (bbolt/ and
// redis/) call Run from their tests, so both are held to the same behaviour and the same error
// codes. The tests tolerate a store that already holds data (they use fresh IDs and index
// values), so the suite can also be run against a store restored from a backup.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// Opener opens the store under test with a schema. Each call opens the same underlying data
// (the same file, the same Redis key prefix), so a test can close a store and open it again.
type Opener func(schema chuting.Schema) (chuting.Store, error)

// Run runs every conformance test. newOpener returns an Opener bound to a fresh backing store
// for each test (or, for a restored backup, to a copy of it).
func Run(t *testing.T, newOpener func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"CRUD", testCRUD},
		{"PutRules", testPutRules},
		{"Unique", testUnique},
		{"Lookups", testLookups},
		{"Paging", testPaging},
		{"ListByID", testListByID},
		{"Events", testEvents},
		{"ConcurrentEvents", testConcurrentEvents},
		{"ConcurrentWriters", testConcurrentWriters},
		{"RaceOneVersion", testRaceOneVersion},
		{"Reopen", testReopen},
		{"Migrate", testMigrate},
		{"MigrateRefusesNewer", testMigrateRefusesNewer},
		{"Ping", testPing},
		{"Lease", testLeaser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newOpener(t)) })
	}
}

// MustOpen opens a store with the current schema and closes it when the test ends.
func MustOpen(tb testing.TB, open Opener) chuting.Store {
	tb.Helper()
	return mustOpenSchema(tb, open, chuting.CurrentSchema())
}

func mustOpenSchema(tb testing.TB, open Opener, schema chuting.Schema) chuting.Store {
	tb.Helper()
	s, err := open(schema)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// wantCode fails the test unless err carries code (and, when field is not empty, names field).
func wantCode(tb testing.TB, err error, code, field string) {
	tb.Helper()
	if got := chuting.ErrorCode(err); got != code {
		tb.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
	if field != "" && chuting.ErrorField(err) != field {
		tb.Fatalf("error %v names field %q, want %q", err, chuting.ErrorField(err), field)
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// unique returns a value no other test run uses, for index values that must not collide.
func unique(prefix string) string { return prefix + "-" + chuting.NewID() }

func newCourt() *chuting.Court {
	return &chuting.Court{Name: "赣州市中级人民法院", Code: unique("赣07"), TimeZone: "Asia/Shanghai", NoticeDays: 3}
}

func testCRUD(t *testing.T, open Opener) {
	ctx := context.Background()
	s := MustOpen(t, open)

	c := newCourt()
	must(t, chuting.Create(ctx, s, c))
	if c.ID == "" || c.Version != 1 || c.Schema != 1 || c.Created.IsZero() {
		t.Fatalf("Create did not fill the meta: %+v", c.Meta)
	}

	t.Run("OK", func(t *testing.T) {
		got, err := chuting.Load[chuting.Court](ctx, s, c.ID)
		must(t, err)
		if got.Name != c.Name || got.Code != c.Code || got.Version != 1 || !got.Created.Equal(c.Created) {
			t.Fatalf("Load = %+v, want %+v", got, c)
		}
		got.Name = "赣州市中级人民法院(新址)"
		must(t, chuting.Save(ctx, s, got))
		if got.Version != 2 {
			t.Fatalf("version after save = %d, want 2", got.Version)
		}
		again, err := chuting.Load[chuting.Court](ctx, s, c.ID)
		must(t, err)
		if again.Name != got.Name || again.Version != 2 {
			t.Fatalf("after save: %+v", again)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.Get(ctx, chuting.KindCourt, chuting.NewID())
		wantCode(t, err, chuting.ENOTFOUND, "")
		ghost := newCourt()
		ghost.ID, ghost.Version = chuting.NewID(), 3
		wantCode(t, chuting.Save(ctx, s, ghost), chuting.ENOTFOUND, "")
		wantCode(t, s.Delete(ctx, chuting.KindCourt, chuting.NewID(), 1), chuting.ENOTFOUND, "")
	})
	t.Run("ErrConflict", func(t *testing.T) {
		dup := newCourt()
		dup.ID = c.ID
		wantCode(t, chuting.Create(ctx, s, dup), chuting.ECONFLICT, "")
		if dup.Version != 0 {
			t.Fatalf("failed Create changed the meta: %+v", dup.Meta)
		}
		stale, err := chuting.Load[chuting.Court](ctx, s, c.ID)
		must(t, err)
		stale.Version = 1 // the record is at 2 now
		stale.Name = "stale"
		err = chuting.Save(ctx, s, stale)
		wantCode(t, err, chuting.ECONFLICT, "")
		if !chuting.IsStale(err) {
			t.Errorf("IsStale(%v) = false for a Save over a changed record", err)
		}
		if stale.Version != 1 {
			t.Fatalf("failed Save changed the version to %d", stale.Version)
		}
		got, err := chuting.Load[chuting.Court](ctx, s, c.ID)
		must(t, err)
		if got.Name == "stale" || got.Version != 2 {
			t.Fatalf("a stale write landed: %+v", got)
		}
		wantCode(t, s.Delete(ctx, chuting.KindCourt, c.ID, 1), chuting.ECONFLICT, "")
	})
	t.Run("Update", func(t *testing.T) {
		// Another writer saves between Update's load and its save: Update loads again and
		// applies the change to the other's version, losing neither write.
		calls := 0
		got, err := chuting.Update(ctx, s, c.ID, func(x *chuting.Court) bool {
			calls++
			if calls == 1 {
				other, err := chuting.Load[chuting.Court](ctx, s, c.ID)
				must(t, err)
				other.Address = "meanwhile"
				must(t, chuting.Save(ctx, s, other))
			}
			x.NoticeDays = 7
			return true
		})
		must(t, err)
		if calls != 2 || got == nil || got.NoticeDays != 7 || got.Address != "meanwhile" {
			t.Fatalf("Update after a concurrent write: %d calls, %+v", calls, got)
		}
		stored, err := chuting.Load[chuting.Court](ctx, s, c.ID)
		must(t, err)
		if stored.NoticeDays != 7 || stored.Address != "meanwhile" || stored.Version != got.Version {
			t.Fatalf("stored after Update: %+v", stored)
		}
		if unchanged, err := chuting.Update(ctx, s, c.ID, func(*chuting.Court) bool { return false }); err != nil || unchanged != nil {
			t.Fatalf("Update that changes nothing: %v, %v", unchanged, err)
		}
		_, err = chuting.Update(ctx, s, chuting.NewID(), func(*chuting.Court) bool { return true })
		wantCode(t, err, chuting.ENOTFOUND, "")
		_, err = chuting.Update(ctx, s, c.ID, func(x *chuting.Court) bool { // always beaten
			other, err := chuting.Load[chuting.Court](ctx, s, c.ID)
			must(t, err)
			must(t, chuting.Save(ctx, s, other))
			return true
		})
		wantCode(t, err, chuting.ECONFLICT, "")
	})
	t.Run("Delete", func(t *testing.T) {
		got, err := chuting.Load[chuting.Court](ctx, s, c.ID)
		must(t, err)
		must(t, chuting.Remove(ctx, s, got))
		_, err = s.Get(ctx, chuting.KindCourt, c.ID)
		wantCode(t, err, chuting.ENOTFOUND, "")
		_, err = chuting.FindOne[chuting.Court](ctx, s, chuting.IndexCode, c.Code)
		wantCode(t, err, chuting.ENOTFOUND, "")
		// The freed unique value can be taken again.
		must(t, chuting.Create(ctx, s, &chuting.Court{Name: "x", Code: c.Code}))
	})
}

func testPutRules(t *testing.T, open Opener) {
	ctx := context.Background()
	s := MustOpen(t, open)
	id := chuting.NewID()
	base := chuting.Record{Kind: chuting.KindCourt, ID: id, Version: 1, Schema: 1, Data: []byte(`{"name":"x"}`)}

	t.Run("ErrInvalid", func(t *testing.T) {
		bad := base
		bad.Version = 2
		wantCode(t, s.Put(ctx, bad, 0), chuting.EINVALID, "")
		bad = base
		bad.ID = ""
		wantCode(t, s.Put(ctx, bad, 0), chuting.EINVALID, "")
		bad = base
		bad.Index = []chuting.IndexEntry{{Name: "code", Value: "a\x00b"}}
		wantCode(t, s.Put(ctx, bad, 0), chuting.EINVALID, "")
		_, err := s.Get(ctx, chuting.KindCourt, id)
		wantCode(t, err, chuting.ENOTFOUND, "")
	})
	t.Run("OK", func(t *testing.T) {
		rec := base
		rec.Index = []chuting.IndexEntry{{Name: "court", Value: "v1"}}
		must(t, s.Put(ctx, rec, 0))
		got, err := s.Get(ctx, chuting.KindCourt, id)
		must(t, err)
		if got.ID != id || got.Kind != chuting.KindCourt || got.Version != 1 || got.Schema != 1 ||
			string(got.Data) != string(rec.Data) {
			t.Fatalf("Get = %+v, want %+v", got, rec)
		}
		// The same ID under another kind is another record.
		_, err = s.Get(ctx, chuting.KindInstitution, id)
		wantCode(t, err, chuting.ENOTFOUND, "")
	})
}

func testUnique(t *testing.T, open Opener) {
	ctx := context.Background()
	s := MustOpen(t, open)
	name := unique("Clerk")
	a := &chuting.User{Username: name, Name: "甲", Role: chuting.RoleClerk}
	must(t, chuting.Create(ctx, s, a))

	t.Run("ErrConflict", func(t *testing.T) {
		b := &chuting.User{Username: strings.ToUpper(name), Name: "乙", Role: chuting.RoleClerk}
		wantCode(t, chuting.Create(ctx, s, b), chuting.ECONFLICT, chuting.IndexUsername)
		if b.ID != "" {
			t.Fatalf("failed Create kept ID %q", b.ID)
		}
		// Nothing of b was written: not the record, not its other index entries.
		other := unique("other")
		c := &chuting.User{Username: other, Name: "丙", Role: chuting.RoleClerk, CourtID: unique("court")}
		must(t, chuting.Create(ctx, s, c))
		c.Username = name
		err := chuting.Save(ctx, s, c)
		wantCode(t, err, chuting.ECONFLICT, chuting.IndexUsername)
		if chuting.IsStale(err) {
			t.Errorf("IsStale(%v) = true for a taken unique value, which no retry mends", err)
		}
		got, err := chuting.FindOne[chuting.User](ctx, s, chuting.IndexUsername, chuting.FoldUsername(other))
		must(t, err)
		if got.ID != c.ID || got.Version != 1 {
			t.Fatalf("failed Save changed the record: %+v", got)
		}
	})
	t.Run("OK", func(t *testing.T) {
		// Saving a record with its own unique value is fine.
		a.Name = "甲乙"
		must(t, chuting.Save(ctx, s, a))
		// Renaming frees the old value for someone else.
		a.Username = unique("renamed")
		must(t, chuting.Save(ctx, s, a))
		d := &chuting.User{Username: name, Name: "丁", Role: chuting.RoleJudge}
		must(t, chuting.Create(ctx, s, d))
		got, err := chuting.FindOne[chuting.User](ctx, s, chuting.IndexUsername, chuting.FoldUsername(name))
		must(t, err)
		if got.ID != d.ID {
			t.Fatalf("username %q belongs to %s, want %s", name, got.ID, d.ID)
		}
	})
}

func testLookups(t *testing.T, open Opener) {
	ctx := context.Background()
	s := MustOpen(t, open)
	court, other := unique("court"), unique("court")
	var mine []string
	for i := range 5 {
		sm := &chuting.Summons{CourtID: court, CaseNo: fmt.Sprintf("(2026)赣07民初%d号", i), State: chuting.SummonsProposed}
		if i == 3 {
			sm.CourtID = other
		}
		must(t, chuting.Create(ctx, s, sm))
		if i != 3 {
			mine = append(mine, sm.ID)
		}
	}

	t.Run("RecordingGrants", func(t *testing.T) {
		hearing, user := unique("hearing"), unique("user")
		g1 := &chuting.RecordingGrant{HearingID: hearing, CourtID: court, UserID: user, Until: time.Now().Add(time.Hour)}
		g2 := &chuting.RecordingGrant{HearingID: hearing, CourtID: court, UserID: unique("user"), Until: time.Now().Add(time.Hour)}
		must(t, chuting.Create(ctx, s, g1))
		must(t, chuting.Create(ctx, s, g2))
		got, err := chuting.FindAll[chuting.RecordingGrant](ctx, s, chuting.Equal(chuting.KindGrant, chuting.IndexHearing, hearing))
		must(t, err)
		if ids := idsOf(got); !slices.Equal(ids, sorted([]string{g1.ID, g2.ID})) {
			t.Fatalf("grants of hearing = %v, want %v", ids, []string{g1.ID, g2.ID})
		}
		got, err = chuting.FindAll[chuting.RecordingGrant](ctx, s, chuting.Equal(chuting.KindGrant, chuting.IndexUser, user))
		must(t, err)
		if len(got) != 1 || got[0].ID != g1.ID || !got[0].Until.Equal(g1.Until) {
			t.Fatalf("grants of user = %+v, want %s", got, g1.ID)
		}
	})

	t.Run("RecordingDisposalUnique", func(t *testing.T) {
		hearing := unique("hearing")
		must(t, chuting.Create(ctx, s, &chuting.RecordingDisposal{HearingID: hearing, CourtID: court, State: chuting.DisposalDue}))
		wantCode(t, chuting.Create(ctx, s, &chuting.RecordingDisposal{HearingID: hearing, CourtID: court}), chuting.ECONFLICT, chuting.IndexHearing)
		d, err := chuting.FindOne[chuting.RecordingDisposal](ctx, s, chuting.IndexHearing, hearing)
		must(t, err)
		if d.State != chuting.DisposalDue || d.CourtID != court {
			t.Fatalf("disposal = %+v", d)
		}
	})

	t.Run("SummonsByCourt", func(t *testing.T) {
		got, err := chuting.FindAll[chuting.Summons](ctx, s, chuting.Equal(chuting.KindSummons, chuting.IndexCourt, court))
		must(t, err)
		if ids := idsOf(got); !slices.Equal(ids, sorted(mine)) {
			t.Fatalf("summons of court = %v, want %v", ids, mine)
		}
	})

	appraiser, colleague := unique("appr"), unique("appr")
	// A day no other data uses (the suite also runs on restored stores, which hold hearings).
	day := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(time.Now().UnixNano()%36500))
	var hearings []*chuting.Hearing
	for i := range 6 {
		h := &chuting.Hearing{CourtID: court, AppraiserIDs: []string{appraiser},
			Start: day.Add(time.Duration(i) * 24 * time.Hour).Add(90 * time.Minute)}
		h.End = h.Start.Add(time.Hour)
		if i%2 == 1 {
			h.AppraiserIDs = append(h.AppraiserIDs, colleague)
		}
		must(t, chuting.Create(ctx, s, h))
		hearings = append(hearings, h)
	}
	t.Run("HearingsByAppraiser", func(t *testing.T) {
		got, err := chuting.FindAll[chuting.Hearing](ctx, s, chuting.Equal(chuting.KindHearing, chuting.IndexAppraiser, colleague))
		must(t, err)
		want := []string{hearings[1].ID, hearings[3].ID, hearings[5].ID}
		if ids := idsOf(got); !slices.Equal(ids, sorted(want)) {
			t.Fatalf("hearings of colleague = %v, want %v", ids, want)
		}
	})
	t.Run("HearingsByTimeRange", func(t *testing.T) {
		// Days 2, 3 and 4: from the start of day 2 up to (not including) hearing 5's start.
		q := chuting.Query{Kind: chuting.KindHearing, Index: chuting.IndexStart,
			From: chuting.TimeKey(day.Add(48 * time.Hour)), To: chuting.TimeKey(hearings[5].Start)}
		got, err := chuting.FindAll[chuting.Hearing](ctx, s, q)
		must(t, err)
		want := []string{hearings[2].ID, hearings[3].ID, hearings[4].ID}
		if ids := idsOf(got); !slices.Equal(ids, want) {
			t.Fatalf("hearings in range = %v, want %v", ids, want)
		}
	})
	t.Run("IndexMovesOnUpdate", func(t *testing.T) {
		h := hearings[1]
		h.AppraiserIDs = []string{appraiser}
		h.Start = day.Add(-24 * time.Hour)
		must(t, chuting.Save(ctx, s, h))
		got, err := chuting.FindAll[chuting.Hearing](ctx, s, chuting.Equal(chuting.KindHearing, chuting.IndexAppraiser, colleague))
		must(t, err)
		if ids := idsOf(got); !slices.Equal(ids, sorted([]string{hearings[3].ID, hearings[5].ID})) {
			t.Fatalf("after update, hearings of colleague = %v", ids)
		}
		q := chuting.Query{Kind: chuting.KindHearing, Index: chuting.IndexStart,
			From: chuting.TimeKey(day.Add(-24 * time.Hour)), To: chuting.TimeKey(day)}
		got, err = chuting.FindAll[chuting.Hearing](ctx, s, q)
		must(t, err)
		if ids := idsOf(got); !slices.Equal(ids, []string{h.ID}) {
			t.Fatalf("after update, hearings of the day before = %v, want [%s]", ids, h.ID)
		}
	})
	t.Run("NoMatch", func(t *testing.T) {
		got, err := chuting.FindAll[chuting.Summons](ctx, s, chuting.Equal(chuting.KindSummons, chuting.IndexCourt, unique("none")))
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("lookup of an unused value found %d records", len(got))
		}
	})
}

func testPaging(t *testing.T, open Opener) {
	ctx := context.Background()
	s := MustOpen(t, open)
	inst := unique("inst")
	var want []string
	for range 23 {
		r := &chuting.TestimonyRoom{InstitutionID: inst, Name: "远程视频出庭作证室"}
		must(t, chuting.Create(ctx, s, r))
		want = append(want, r.ID)
	}
	slices.Sort(want)
	q := chuting.Equal(chuting.KindRoom, chuting.IndexInstitution, inst)
	q.Limit = 5
	var got []string
	pages := 0
	for {
		page, next, err := chuting.Find[chuting.TestimonyRoom](ctx, s, q)
		must(t, err)
		pages++
		if len(page) > 5 {
			t.Fatalf("page of %d records, limit 5", len(page))
		}
		got = append(got, idsOf(page)...)
		if next == "" {
			break
		}
		q.After = next
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if !slices.Equal(got, want) || pages != 5 {
		t.Fatalf("paged %d pages of %v, want 5 pages of %v", pages, got, want)
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		q := chuting.Equal(chuting.KindRoom, chuting.IndexInstitution, inst)
		q.After = "no-separator"
		_, err := s.List(ctx, q)
		wantCode(t, err, chuting.EINVALID, "")
	})
}

func testListByID(t *testing.T, open Opener) {
	ctx := context.Background()
	s := MustOpen(t, open)
	prefix := chuting.NewID()[:20] // IDs sharing a prefix that no other record has
	var want []string
	for i := range 7 {
		o := &chuting.Opinion{Meta: chuting.Meta{ID: fmt.Sprintf("%s%06d", prefix, i)}, DocumentNo: unique("doc")}
		must(t, chuting.Create(ctx, s, o))
		want = append(want, o.ID)
	}
	q := chuting.Query{Kind: chuting.KindOpinion, From: prefix, To: prefix + "~", Limit: 3}
	var got []string
	for {
		page, err := s.List(ctx, q)
		must(t, err)
		for _, r := range page.Records {
			got = append(got, r.ID)
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
}

func idsOf[P chuting.Entity](es []P) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.RecordMeta().ID
	}
	return out
}

func testEvents(t *testing.T, open Opener) {
	ctx := context.Background()
	s := MustOpen(t, open)
	stream := chuting.HearingStream(chuting.NewID())
	other := chuting.HearingStream(chuting.NewID())

	t.Run("Empty", func(t *testing.T) {
		evs, err := s.Events(ctx, stream, 0, 0)
		must(t, err)
		if len(evs) != 0 {
			t.Fatalf("new stream holds %d events", len(evs))
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := s.Append(ctx, "", chuting.Event{Type: "x"})
		wantCode(t, err, chuting.EINVALID, "")
	})
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 123456789, time.UTC)
	for i := range 12 {
		seq, err := s.Append(ctx, stream, chuting.Event{Seq: 99, Time: t0.Add(time.Duration(i) * time.Second),
			Type: "joined", Data: fmt.Appendf(nil, `{"n":%d}`, i)})
		must(t, err)
		if seq != uint64(i+1) {
			t.Fatalf("append %d got seq %d, want %d", i, seq, i+1)
		}
	}
	seq, err := s.Append(ctx, other, chuting.Event{Time: t0, Type: "left"})
	must(t, err)
	if seq != 1 {
		t.Fatalf("first event of a second stream has seq %d, want 1", seq)
	}
	t.Run("OK", func(t *testing.T) {
		evs, err := s.Events(ctx, stream, 0, 0)
		must(t, err)
		if len(evs) != 12 {
			t.Fatalf("read %d events, want 12", len(evs))
		}
		for i, e := range evs {
			if e.Seq != uint64(i+1) || e.Type != "joined" || string(e.Data) != fmt.Sprintf(`{"n":%d}`, i) ||
				!e.Time.Equal(t0.Add(time.Duration(i)*time.Second)) {
				t.Fatalf("event %d = %+v", i, e)
			}
		}
		evs, err = s.Events(ctx, stream, 5, 4)
		must(t, err)
		if len(evs) != 4 || evs[0].Seq != 6 || evs[3].Seq != 9 {
			t.Fatalf("Events(after 5, limit 4) = %v", seqsOf(evs))
		}
		evs, err = s.Events(ctx, stream, 12, 0)
		must(t, err)
		if len(evs) != 0 {
			t.Fatalf("Events after the last = %v", seqsOf(evs))
		}
	})
}

func seqsOf(evs []chuting.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

func testConcurrentEvents(t *testing.T, open Opener) {
	ctx := context.Background()
	s := MustOpen(t, open)
	stream := chuting.HearingStream(chuting.NewID())
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Append(ctx, stream, chuting.Event{Time: time.Now(), Type: "t",
					Data: fmt.Appendf(nil, `{"w":%d,"i":%d}`, w, i)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var all []chuting.Event
	for after := uint64(0); ; {
		evs, err := s.Events(ctx, stream, after, 30)
		must(t, err)
		if len(evs) == 0 {
			break
		}
		all = append(all, evs...)
		after = evs[len(evs)-1].Seq
	}
	if len(all) != writers*each {
		t.Fatalf("read %d events, want %d", len(all), writers*each)
	}
	seen := map[string]bool{}
	for i, e := range all {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: sequence has a gap or a repeat", i, e.Seq)
		}
		seen[string(e.Data)] = true
	}
	if len(seen) != writers*each {
		t.Fatalf("%d distinct events, want %d", len(seen), writers*each)
	}
}

// testConcurrentWriters has N goroutines add to one record with read-modify-write loops. Every
// Save either lands or fails with a conflict; in the end the record holds exactly the updates
// that landed: none lost, none doubled.
func testConcurrentWriters(t *testing.T, open Opener) {
	ctx := context.Background()
	s := MustOpen(t, open)
	a := &chuting.Appraiser{Name: "王鉴定", LicenceNo: unique("lic"), CEHours: map[int]float64{}}
	must(t, chuting.Create(ctx, s, a))
	const writers, each = 8, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	landed, conflicts := 0, 0
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := 0; i < each; {
				cur, err := chuting.Load[chuting.Appraiser](ctx, s, a.ID)
				if err != nil {
					errs <- err
					return
				}
				cur.Conflicts = append(cur.Conflicts, chuting.Conflict{Party: fmt.Sprintf("%d-%d", w, i)})
				err = chuting.Save(ctx, s, cur)
				mu.Lock()
				switch chuting.ErrorCode(err) {
				case "":
					landed++
					i++
				case chuting.ECONFLICT:
					conflicts++
				default:
					mu.Unlock()
					errs <- err
					return
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := chuting.Load[chuting.Appraiser](ctx, s, a.ID)
	must(t, err)
	if landed != writers*each || len(got.Conflicts) != landed || got.Version != int64(landed+1) {
		t.Fatalf("%d saves landed, record holds %d updates at version %d", landed, len(got.Conflicts), got.Version)
	}
	seen := map[string]bool{}
	for _, c := range got.Conflicts {
		if seen[c.Party] {
			t.Fatalf("update %s applied twice", c.Party)
		}
		seen[c.Party] = true
	}
	t.Logf("%d updates landed, %d conflicts retried", landed, conflicts)
}

// testRaceOneVersion has N goroutines write over the same version at once: exactly one wins.
func testRaceOneVersion(t *testing.T, open Opener) {
	ctx := context.Background()
	s := MustOpen(t, open)
	c := newCourt()
	must(t, chuting.Create(ctx, s, c))
	const writers = 10
	codes := make([]string, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			mine := *c
			mine.Name = fmt.Sprintf("writer %d", w)
			codes[w] = chuting.ErrorCode(chuting.Save(ctx, s, &mine))
		})
	}
	wg.Wait()
	winner := -1
	for w, code := range codes {
		switch code {
		case "":
			if winner >= 0 {
				t.Fatalf("writers %d and %d both won over version 1", winner, w)
			}
			winner = w
		case chuting.ECONFLICT:
		default:
			t.Fatalf("writer %d: unexpected code %q", w, code)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	got, err := chuting.Load[chuting.Court](ctx, s, c.ID)
	must(t, err)
	if got.Name != fmt.Sprintf("writer %d", winner) || got.Version != 2 {
		t.Fatalf("record = %q at version %d, want the winner's at 2", got.Name, got.Version)
	}
}

func testReopen(t *testing.T, open Opener) {
	ctx := context.Background()
	s, err := open(chuting.CurrentSchema())
	must(t, err)
	c := newCourt()
	must(t, chuting.Create(ctx, s, c))
	stream := chuting.HearingStream(chuting.NewID())
	_, err = s.Append(ctx, stream, chuting.Event{Time: time.Now(), Type: "joined"})
	must(t, err)
	must(t, s.Close())

	s = MustOpen(t, open)
	got, err := chuting.FindOne[chuting.Court](ctx, s, chuting.IndexCode, c.Code)
	must(t, err)
	if got.ID != c.ID || got.Version != 1 {
		t.Fatalf("after reopen: %+v", got)
	}
	seq, err := s.Append(ctx, stream, chuting.Event{Time: time.Now(), Type: "left"})
	must(t, err)
	if seq != 2 {
		t.Fatalf("after reopen the stream continues at %d, want 2", seq)
	}
}

// v2Schema is a test schema in which courts moved from schema 1, where the court code was
// stored as "court_code", to schema 2, where it is "code".
func v2Schema() chuting.Schema {
	return chuting.Schema{
		Versions: map[chuting.Kind]int{chuting.KindCourt: 2},
		Migrations: map[chuting.Kind][]chuting.Migration{chuting.KindCourt: {
			func(doc map[string]any) error {
				v, ok := doc["court_code"]
				if !ok {
					return nil // written by the current build, which has no court_code
				}
				if _, ok := v.(string); !ok {
					return errors.New("court_code is not a string")
				}
				doc["code"] = v
				delete(doc, "court_code")
				return nil
			},
		}},
	}
}

func testMigrate(t *testing.T, open Opener) {
	ctx := context.Background()
	s, err := open(chuting.CurrentSchema())
	must(t, err)
	id, code := chuting.NewID(), unique("赣07")
	// A court as an older build wrote it: schema 1, code under its old name, no index.
	must(t, s.Put(ctx, chuting.Record{Kind: chuting.KindCourt, ID: id, Version: 1, Schema: 1,
		Data: fmt.Appendf(nil, `{"id":%q,"version":1,"schema":1,"name":"旧法院","court_code":%q}`, id, code)}, 0))
	must(t, s.Close())

	s = mustOpenSchema(t, open, v2Schema())
	rec, err := s.Get(ctx, chuting.KindCourt, id)
	must(t, err)
	if rec.Schema != 2 || rec.Version != 2 || strings.Contains(string(rec.Data), "court_code") {
		t.Fatalf("record not migrated on open: schema %d version %d %s", rec.Schema, rec.Version, rec.Data)
	}
	got, err := chuting.FindOne[chuting.Court](ctx, s, chuting.IndexCode, code)
	must(t, err)
	if got.ID != id || got.Code != code || got.Name != "旧法院" || got.Schema != 2 {
		t.Fatalf("migrated court = %+v", got)
	}
}

func testMigrateRefusesNewer(t *testing.T, open Opener) {
	ctx := context.Background()
	s, err := open(v2Schema())
	must(t, err)
	id := chuting.NewID()
	must(t, s.Put(ctx, chuting.Record{Kind: chuting.KindCourt, ID: id, Version: 1, Schema: 2,
		Data: fmt.Appendf(nil, `{"id":%q,"name":"新法院","code":%q}`, id, unique("c"))}, 0))
	must(t, s.Close())

	s, err = open(chuting.CurrentSchema())
	if err == nil {
		_ = s.Close()
		t.Fatal("a build at schema 1 opened a store holding schema 2 records")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("error does not say the data is newer: %v", err)
	}
}

func testPing(t *testing.T, open Opener) {
	s := MustOpen(t, open)
	must(t, s.Ping(context.Background()))
}

// sorted returns a sorted copy: lookups list in ID order, and IDs made in the same
// millisecond are in random order.
func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func testLeaser(t *testing.T, open Opener) {
	s := MustOpen(t, open)
	l, ok := s.(chuting.Leaser)
	if !ok {
		t.Fatalf("%T does not implement chuting.Leaser", s)
	}
	testLease(t, l)
}

func testLease(t *testing.T, l chuting.Leaser) {
	ctx := context.Background()
	name := unique("job")
	tok1, ok, err := l.Acquire(ctx, name, "node-a", time.Minute)
	must(t, err)
	if !ok || tok1 == 0 {
		t.Fatalf("a free lease was refused (token %d)", tok1)
	}
	t.Run("ErrHeld", func(t *testing.T) {
		if _, ok, err := l.Acquire(ctx, name, "node-b", time.Minute); err != nil || ok {
			t.Fatalf("a held lease went to another holder: %v %v", ok, err)
		}
	})
	t.Run("Renew", func(t *testing.T) {
		tok, ok, err := l.Acquire(ctx, name, "node-a", time.Minute)
		if err != nil || !ok || tok != tok1 {
			t.Fatalf("renewal: token %d ok %v err %v, want the same token %d", tok, ok, err, tok1)
		}
	})
	t.Run("Release", func(t *testing.T) {
		must(t, l.Release(ctx, name, "node-b")) // not the holder: nothing happens
		if _, ok, _ := l.Acquire(ctx, name, "node-b", time.Minute); ok {
			t.Fatal("a release by a non-holder freed the lease")
		}
		must(t, l.Release(ctx, name, "node-a"))
		// Another lease taken meanwhile (the embedded store sweeps old leases then) does not
		// make the released one forget its token.
		if _, ok, err := l.Acquire(ctx, unique("other"), "node-c", time.Minute); err != nil || !ok {
			t.Fatalf("another lease: %v %v", ok, err)
		}
		tok, ok, err := l.Acquire(ctx, name, "node-b", time.Minute)
		if err != nil || !ok || tok <= tok1 {
			t.Fatalf("after release: token %d ok %v err %v, want a larger token than %d", tok, ok, err, tok1)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		short := unique("short")
		tok, ok, err := l.Acquire(ctx, short, "node-a", 100*time.Millisecond)
		if err != nil || !ok {
			t.Fatalf("acquire: %v %v", ok, err)
		}
		time.Sleep(300 * time.Millisecond)
		tok2, ok, err := l.Acquire(ctx, short, "node-b", time.Minute)
		if err != nil || !ok || tok2 <= tok {
			t.Fatalf("after expiry: token %d ok %v err %v, want the lease with a token above %d", tok2, ok, err, tok)
		}
	})
	t.Run("OneWinner", func(t *testing.T) {
		race := unique("race")
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for i := range 10 {
			wg.Go(func() {
				_, ok, err := l.Acquire(ctx, race, fmt.Sprintf("node-%d", i), time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("%d holders got the lease at once, want 1", winners)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, c := range []struct {
			name, holder string
			ttl          time.Duration
		}{{"", "a", time.Second}, {"n", "", time.Second}, {"n", "a", 0}} {
			_, _, err := l.Acquire(ctx, c.name, c.holder, c.ttl)
			wantCode(t, err, chuting.EINVALID, "")
		}
	})
}
