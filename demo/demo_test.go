package demo_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/bbolt"
	"github.com/chuting/chuting/demo"
)

func mustStore(t *testing.T) *bbolt.Store {
	t.Helper()
	s, err := bbolt.Open(filepath.Join(t.TempDir(), "demo.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// contents returns every record of the store, by kind and ID, with its version and data.
func contents(t *testing.T, s chuting.Records) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range chuting.Kinds() {
		page, err := s.List(context.Background(), chuting.Query{Kind: k, Limit: chuting.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			out[string(k)+"/"+r.ID] = fmt.Sprintf("%d %s", r.Version, r.Data)
		}
	}
	return out
}

var now = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

func TestSeed(t *testing.T) {
	ctx := context.Background()
	s := mustStore(t)
	accounts, err := demo.Seed(ctx, s, "hash-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 12 {
		t.Fatalf("%d accounts, want 12 (one per person of the README's table)", len(accounts))
	}
	roles := map[chuting.Role]int{}
	for _, a := range accounts {
		roles[a.Role]++
	}
	if len(roles) != 5 {
		t.Fatalf("accounts cover roles %v, want all five", roles)
	}
	before := contents(t, s)

	t.Run("Again", func(t *testing.T) {
		again, err := demo.Seed(ctx, s, "hash-2", now.Add(24*time.Hour))
		if err != nil || len(again) != 0 {
			t.Fatalf("second seed: %d accounts, %v; want none", len(again), err)
		}
		if !maps.Equal(before, contents(t, s)) {
			t.Fatal("a second seed changed the store")
		}
	})
	t.Run("Dates", func(t *testing.T) {
		liu, err := chuting.FindOne[chuting.Appraiser](ctx, s, chuting.IndexLicence, "360101002001")
		if err != nil || !liu.LicenceExpires.Before(chuting.DateOf(now)) {
			t.Fatalf("刘洋's licence should have expired before now: %v %v", liu, err)
		}
		sm, _, err := chuting.Find[chuting.Summons](ctx, s, chuting.Query{})
		if err != nil || len(sm) != 4 {
			t.Fatalf("%d summons (%v), want 4", len(sm), err)
		}
		for _, x := range sm {
			if len(x.Windows) == 0 || !x.Windows[0].Start.After(now) {
				t.Fatalf("summons %s has no window after now", x.CaseNo)
			}
		}
	})
}

// failAfter lets n writes through, then fails every write, like a process killed mid-seed.
type failAfter struct {
	chuting.Records
	n int
}

func (f *failAfter) Put(ctx context.Context, rec chuting.Record, expect int64) error {
	if f.n <= 0 {
		return errors.New("killed")
	}
	f.n--
	return f.Records.Put(ctx, rec, expect)
}

func TestSeedResumes(t *testing.T) {
	ctx := context.Background()
	full := mustStore(t)
	if _, err := demo.Seed(ctx, full, "hash", now); err != nil {
		t.Fatal(err)
	}
	want := contents(t, full)

	s := mustStore(t)
	if _, err := demo.Seed(ctx, &failAfter{Records: s, n: 9}, "hash", now); err == nil {
		t.Fatal("the interrupted seed reported success")
	}
	accounts, err := demo.Seed(ctx, s, "hash", now)
	if err != nil {
		t.Fatalf("seeding again after an interrupted seed: %v", err)
	}
	if len(accounts) != 12 {
		t.Fatalf("the resumed seed made %d accounts, want the 12 missing", len(accounts))
	}
	got := contents(t, s)
	if len(got) != len(want) {
		t.Fatalf("after resuming: %d records, want %d", len(got), len(want))
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Fatalf("after resuming, %s is missing", k)
		}
	}
}

func TestSeedClash(t *testing.T) {
	ctx := context.Background()
	s := mustStore(t)
	if err := chuting.Create(ctx, s, &chuting.Court{Name: "别的法院", Code: "赣07"}); err != nil {
		t.Fatal(err)
	}
	_, err := demo.Seed(ctx, s, "hash", now)
	if err == nil || !strings.Contains(err.Error(), "empty data folder") {
		t.Fatalf("seeding over a clashing court: %v, want an error that says to use an empty data folder", err)
	}
}

// TestSeedConsistent: the demo's scheduled summons has its hearing, and the IDs the summons
// name (the users who approved and served it) are the demo accounts.
func TestSeedConsistent(t *testing.T) {
	ctx := context.Background()
	s := mustStore(t)
	if _, err := demo.Seed(ctx, s, "hash", now); err != nil {
		t.Fatal(err)
	}
	all, err := chuting.FindAll[chuting.Summons](ctx, s, chuting.Query{})
	if err != nil {
		t.Fatal(err)
	}
	scheduled := 0
	for _, sm := range all {
		if sm.Slot == nil || !sm.Slot.Start.After(now) {
			t.Errorf("summons %s has no slot in the future: %+v", sm.CaseNo, sm.Slot)
		}
		if _, err := chuting.Load[chuting.User](ctx, s, sm.ServedBy); err != nil {
			t.Errorf("summons %s was served by %q, not a demo account: %v", sm.CaseNo, sm.ServedBy, err)
		}
		if sm.State == chuting.SummonsScheduled {
			scheduled++
			h, err := chuting.Load[chuting.Hearing](ctx, s, sm.HearingID)
			if err != nil || h.SummonsID != sm.ID || !h.Start.Equal(sm.Slot.Start) {
				t.Errorf("scheduled summons %s: hearing %+v (%v)", sm.CaseNo, h, err)
			}
		}
	}
	if scheduled != 2 {
		t.Errorf("%d scheduled summons, want 2 (one of them the practice hearing)", scheduled)
	}
}

// TestPractice checks that the practice hearing's room is open after every start: Practice
// moves a past or distant practice hearing to ten minutes from now, and leaves one that is
// due or running alone.
func TestPractice(t *testing.T) {
	ctx := context.Background()
	s := mustStore(t)
	if id, err := demo.Practice(ctx, s, now); id != "" || err != nil {
		t.Fatalf("practice without the demo data: %q, %v", id, err)
	}
	if _, err := demo.Seed(ctx, s, "hash", now); err != nil {
		t.Fatal(err)
	}
	check := func(at time.Time, wantStart time.Time) {
		t.Helper()
		id, err := demo.Practice(ctx, s, at)
		if err != nil {
			t.Fatal(err)
		}
		h, err := chuting.Load[chuting.Hearing](ctx, s, id)
		if err != nil {
			t.Fatal(err)
		}
		sm, err := chuting.Load[chuting.Summons](ctx, s, h.SummonsID)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Start.Equal(wantStart) || !h.End.Equal(wantStart.Add(time.Hour)) || !sm.Slot.Start.Equal(wantStart) ||
			sm.State != chuting.SummonsScheduled || sm.CaseNo != demo.PracticeCaseNo {
			t.Fatalf("at %s: hearing %s–%s, summons slot %s (%s), want the start %s", at, h.Start, h.End,
				sm.Slot.Start, sm.State, wantStart)
		}
	}
	first := now.Add(10 * time.Minute).Truncate(time.Minute)
	check(now.Add(20*time.Minute), first)  // running: left alone
	check(now.Add(-15*time.Minute), first) // due within the room's opening time
	later := now.Add(3 * time.Hour)        // over: moved
	check(later, later.Add(10*time.Minute).Truncate(time.Minute))
	earlier := later.Add(-2 * time.Hour) // the hearing is two hours off: moved to now
	check(earlier, earlier.Add(10*time.Minute).Truncate(time.Minute))
}
