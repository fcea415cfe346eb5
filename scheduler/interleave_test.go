package scheduler

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// interleaved is the real store with one change of the test's slipped in, once, right after a
// job has listed the scheduled summons: the moment a copy it read goes stale.
type interleaved struct {
	chuting.Store
	once   sync.Once
	change func()
}

func (s *interleaved) List(ctx context.Context, q chuting.Query) (chuting.Page, error) {
	p, err := s.Store.List(ctx, q)
	if q.Kind == chuting.KindSummons && q.Index == chuting.IndexState && q.From == chuting.SummonsScheduled.String() {
		s.once.Do(s.change)
	}
	return p, err
}

// moveAndConfirm reschedules summons id (of scheduled) to the window, and its appraiser
// confirms.
func (w *world) moveAndConfirm(t *testing.T, id string, win chuting.Interval) *chuting.Summons {
	t.Helper()
	if _, err := w.svc.Act(w.ctx, id, Step{Action: Reschedule, By: w.clerk, Reason: "改期"}, []chuting.Interval{win}); err != nil {
		t.Fatal(err)
	}
	sm, err := w.svc.Act(w.ctx, id, Step{Action: Confirm, By: w.appraiser(0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sm
}

// TestReconcileUsesTheLatest: the hearings job, working from a copy read before the summons
// was moved and confirmed again, keeps the new slot's hearing and removes the old one (it
// brought the old one back and removed the new).
func TestReconcileUsesTheLatest(t *testing.T) {
	w := newWorld(t)
	old := w.scheduled(t)
	var cur *chuting.Summons
	st := &interleaved{Store: w.store, change: func() {
		cur = w.moveAndConfirm(t, old.ID, chuting.Interval{Start: time.Date(2026, 12, 15, 8, 30, 0, 0, cst), End: time.Date(2026, 12, 15, 12, 0, 0, 0, cst)})
	}}
	job := New(Config{Store: st, Now: func() time.Time { return w.now }})
	if _, err := job.ReconcileHearings(w.ctx); err != nil {
		t.Fatal(err)
	}
	_, errNew := chuting.Load[chuting.Hearing](w.ctx, w.store, cur.HearingID)
	_, errOld := chuting.Load[chuting.Hearing](w.ctx, w.store, old.HearingID)
	if errNew != nil || errOld == nil {
		t.Fatalf("the moved summons's hearing: %v; the old slot's: %v (want it gone)", errNew, errOld)
	}
}

// TestReminderNotForAMovedHearing: reminders worked out from the slot a job read are not
// marked on a hearing moved since (its 1 h reminder marked all three, and the week-later
// hearing got none).
func TestReminderNotForAMovedHearing(t *testing.T) {
	w := newWorld(t)
	sm := w.scheduled(t)
	w.now = time.Date(2026, 12, 14, 7, 45, 0, 0, cst) // the 1 h reminder is due
	st := &interleaved{Store: w.store, change: func() {
		w.moveAndConfirm(t, sm.ID, chuting.Interval{Start: time.Date(2026, 12, 21, 8, 30, 0, 0, cst), End: time.Date(2026, 12, 21, 12, 0, 0, 0, cst)})
	}}
	job := New(Config{Store: st, Now: func() time.Time { return w.now }})
	if _, err := job.SendReminders(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.now = time.Date(2026, 12, 18, 9, 0, 0, 0, cst) // 71.5 h before the new slot
	if n, err := w.svc.SendReminders(w.ctx); err != nil || n != 1 {
		got, _ := chuting.Load[chuting.Summons](w.ctx, w.store, sm.ID)
		t.Fatalf("72 h before the new slot: %d reminders sent (%v), want 1; marked %v", n, err, got.Reminders)
	}
}

// TestPoolEligibleOverAllWindows: a pool's appraisers are checked for eligibility over every
// window, in whatever order the court listed them: one whose licence lapses on the 17th is
// not given the 21st (only the first window's start and the last-listed window's end were).
func TestPoolEligibleOverAllWindows(t *testing.T) {
	w := newWorld(t)
	w.a[1].LicenceExpires = chuting.Date{Year: 2026, Month: 12, Day: 17}
	w.a[1].Busy = []chuting.Interval{{Start: time.Date(2026, 12, 14, 0, 0, 0, 0, cst), End: time.Date(2026, 12, 16, 0, 0, 0, 0, cst)}}
	w.a[0].Busy = []chuting.Interval{{Start: time.Date(2026, 12, 14, 0, 0, 0, 0, cst), End: time.Date(2026, 12, 31, 0, 0, 0, 0, cst)}}
	for _, a := range w.a[:2] {
		if err := chuting.Save(w.ctx, w.store, a); err != nil {
			t.Fatal(err)
		}
	}
	req := w.request()
	req.OpinionID, req.AppraiserIDs = "", nil
	req.Pool = &chuting.Pool{InstitutionID: w.inst.ID, Category: "法医临床", K: 1}
	req.Windows = []WindowRequest{{Start: at(14, 8, 30), End: at(14, 17, 30)}, {Start: at(21, 8, 30), End: at(21, 17, 30)},
		{Start: at(15, 8, 30), End: at(15, 17, 30)}}
	// a[0] is busy all month and a[1] on the 14th and 15th: the 21st is left, when a[1]'s
	// licence has lapsed, so no one may take it.
	sm, _, err := w.svc.Serve(w.ctx, w.clerk, req)
	if err == nil {
		t.Fatalf("picked %v for %s; a[1]'s licence lapsed on 2026-12-17 (#9)", sm.Slot.AppraiserIDs, sm.Slot.Start.In(cst))
	}
	if chuting.ErrorField(err) != "windows" || !strings.Contains(err.Error(), "pool") {
		t.Fatalf("serve: %v (field %q), want no slot for want of a free eligible appraiser of the pool", err, chuting.ErrorField(err))
	}
}
