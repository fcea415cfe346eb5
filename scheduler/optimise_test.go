package scheduler

import (
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// TestOptimise: served one after the other, each summons takes its earliest slot, which can
// leave a later one far from its own earliest window. The nightly optimisation finds the
// plan with less total delay, moves only open proposals, and leaves answered ones alone.
func TestOptimise(t *testing.T) {
	w := newWorld(t)
	one := func(caseNo string, windows ...WindowRequest) *chuting.Summons {
		req := w.request()
		req.CaseNo, req.DurationMinutes, req.Windows = caseNo, 60, windows
		req.AppraiserIDs = []string{w.a[0].ID}
		return w.serve(req)
	}
	mon := func(h, m int) string { return at(14, h, m) }
	// First: any time Monday or Tuesday → Monday 08:30.
	s1 := one("(2026)赣07民初1号", WindowRequest{Start: mon(8, 30), End: at(15, 17, 30)})
	// Second: only Monday 08:30–09:30, or else Wednesday → Wednesday, two days late.
	s2 := one("(2026)赣07民初2号", WindowRequest{Start: mon(8, 30), End: mon(9, 30)},
		WindowRequest{Start: at(16, 8, 30), End: at(16, 17, 30)})
	if got := s2.Slot.Start.In(cst); got.Day() != 16 {
		t.Fatalf("setup: the second summons is on %s, want Wednesday the 16th", got)
	}
	// Third, confirmed by its appraiser: the optimiser must not touch it.
	s3 := one("(2026)赣07民初3号", WindowRequest{Start: at(17, 8, 30), End: at(17, 17, 30)})
	if _, err := w.svc.Act(w.ctx, s3.ID, Step{Action: Confirm, By: w.appraiser(0)}, nil); err != nil {
		t.Fatal(err)
	}

	reports, err := w.svc.Optimise(w.ctx, w.inst.ID, time.Second)
	if err != nil || len(reports) != 1 {
		t.Fatalf("optimise: %v %v", reports, err)
	}
	rep := reports[0]
	if rep.Open != 2 || len(rep.Moved) != 2 || !rep.After.Better(rep.Before) {
		t.Fatalf("report %+v: want both open proposals moved to a better plan", rep)
	}
	load := func(id string) *chuting.Summons {
		sm, err := chuting.Load[chuting.Summons](w.ctx, w.store, id)
		if err != nil {
			t.Fatal(err)
		}
		return sm
	}
	if got, want := load(s2.ID).Slot.Start, time.Date(2026, 12, 14, 8, 30, 0, 0, cst); !got.Equal(want) {
		t.Fatalf("second summons at %s, want %s", got.In(cst), want)
	}
	if got, want := load(s1.ID).Slot.Start, time.Date(2026, 12, 14, 9, 30, 0, 0, cst); !got.Equal(want) {
		t.Fatalf("first summons at %s, want %s", got.In(cst), want)
	}
	moved := load(s1.ID)
	last := moved.History[len(moved.History)-1]
	if last.Action != string(Propose) || last.By != "" || last.Reason == "" || moved.State != chuting.SummonsProposed {
		t.Fatalf("the move is not recorded as the scheduler's proposal: %+v", last)
	}
	if got := load(s3.ID); got.Version != s3.Version+1 || !got.Slot.Start.Equal(s3.Slot.Start) {
		t.Fatalf("the confirmed summons moved or changed: %+v", got.Slot)
	}

	t.Run("NothingBetter", func(t *testing.T) {
		again, err := w.svc.Optimise(w.ctx, "", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range again {
			if len(r.Moved) != 0 {
				t.Fatalf("a second pass moved %v", r.Moved)
			}
		}
	})
}
