package scheduler

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// recorder collects the events the service announces.
type recorder struct {
	mu     sync.Mutex
	events []chuting.SummonsEvent
}

func (r *recorder) notify(_ context.Context, e chuting.SummonsEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) count(pred func(chuting.SummonsEvent) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if pred(e) {
			n++
		}
	}
	return n
}

// scheduled serves and confirms a summons for Monday 14 December 08:30 and returns it.
func (w *world) scheduled(t *testing.T) *chuting.Summons {
	t.Helper()
	req := w.request()
	req.AppraiserIDs = []string{w.a[0].ID}
	sm := w.serve(req)
	sm, err := w.svc.Act(w.ctx, sm.ID, Step{Action: Confirm, By: w.appraiser(0)}, nil)
	if err != nil || sm.State != chuting.SummonsScheduled {
		t.Fatalf("confirm: %v %v", sm, err)
	}
	return sm
}

func TestReminders(t *testing.T) {
	w := newWorld(t)
	rec := &recorder{}
	w.svc.notify = rec.notify
	w.scheduled(t) // Monday 14 December 08:30
	reminders := func(name string) int {
		return rec.count(func(e chuting.SummonsEvent) bool { return e.Reminder == name })
	}
	steps := []struct {
		now  time.Time
		sent int
		name string
	}{
		{time.Date(2026, 12, 10, 9, 0, 0, 0, cst), 0, ""},     // 4 days before: nothing
		{time.Date(2026, 12, 11, 8, 31, 0, 0, cst), 1, "72h"}, // within 72 h
		{time.Date(2026, 12, 11, 9, 0, 0, 0, cst), 0, ""},     // already sent
		{time.Date(2026, 12, 13, 9, 0, 0, 0, cst), 1, "24h"},
		{time.Date(2026, 12, 14, 7, 45, 0, 0, cst), 1, "1h"},
		{time.Date(2026, 12, 14, 8, 0, 0, 0, cst), 0, ""},
		{time.Date(2026, 12, 14, 9, 0, 0, 0, cst), 0, ""}, // started: no reminders
	}
	for _, st := range steps {
		w.now = st.now
		n, err := w.svc.SendReminders(w.ctx)
		if err != nil || n != st.sent {
			t.Fatalf("at %s: sent %d (%v), want %d", st.now, n, err, st.sent)
		}
		if st.name != "" && reminders(st.name) != 1 {
			t.Fatalf("at %s: %d %s reminders", st.now, reminders(st.name), st.name)
		}
	}
	t.Run("LateStart", func(t *testing.T) {
		// A server down until 20 hours before the hearing sends the 24 h one only.
		w := newWorld(t)
		rec := &recorder{}
		w.svc.notify = rec.notify
		w.scheduled(t)
		w.now = time.Date(2026, 12, 13, 12, 30, 0, 0, cst)
		if n, _ := w.svc.SendReminders(w.ctx); n != 1 || rec.count(func(e chuting.SummonsEvent) bool { return e.Reminder == "24h" }) != 1 {
			t.Fatalf("sent %d; want the 24 h reminder alone", n)
		}
		w.now = w.now.Add(time.Minute)
		if n, _ := w.svc.SendReminders(w.ctx); n != 0 {
			t.Fatalf("the 72 h reminder went out after the 24 h one")
		}
	})
}

func TestNoShows(t *testing.T) {
	w := newWorld(t)
	rec := &recorder{}
	w.svc.notify = rec.notify
	sm := w.scheduled(t)
	w.now = time.Date(2026, 12, 14, 8, 50, 0, 0, cst)
	if n, _ := w.svc.DetectNoShows(w.ctx, 15*time.Minute); n != 0 {
		t.Fatal("flagged a hearing whose room was never opened")
	}
	openRoom := func(w *world, sm *chuting.Summons) {
		h, err := chuting.Load[chuting.Hearing](w.ctx, w.store, sm.HearingID)
		if err != nil {
			t.Fatal(err)
		}
		h.Node = "node-1"
		if err := chuting.Save(w.ctx, w.store, h); err != nil {
			t.Fatal(err)
		}
	}
	openRoom(w, sm)
	admit := func(w *world, sm *chuting.Summons, appraiserID string) {
		ev := chuting.AttendanceEvent{Time: w.now, HearingID: sm.HearingID, Type: chuting.AttendanceAdmitted, SubjectID: appraiserID}
		data, _ := json.Marshal(ev)
		if _, err := w.store.Append(w.ctx, chuting.HearingStream(sm.HearingID), chuting.Event{Time: w.now, Type: ev.Type, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	w.now = time.Date(2026, 12, 14, 8, 40, 0, 0, cst) // 10 minutes in: within the grace
	if n, _ := w.svc.DetectNoShows(w.ctx, 15*time.Minute); n != 0 {
		t.Fatalf("flagged within the grace period")
	}
	admit(w, sm, "someone-else")
	w.now = time.Date(2026, 12, 14, 8, 50, 0, 0, cst)
	n, err := w.svc.DetectNoShows(w.ctx, 15*time.Minute)
	if err != nil || n != 1 || rec.count(func(e chuting.SummonsEvent) bool { return e.NoShow }) != 1 {
		t.Fatalf("flagged %d (%v), want the missing appraiser flagged once", n, err)
	}
	if n, _ := w.svc.DetectNoShows(w.ctx, 15*time.Minute); n != 0 {
		t.Fatal("flagged twice")
	}
	t.Run("Admitted", func(t *testing.T) {
		w := newWorld(t)
		sm := w.scheduled(t)
		openRoom(w, sm)
		w.now = time.Date(2026, 12, 14, 8, 35, 0, 0, cst)
		admit(w, sm, w.a[0].ID)
		w.now = time.Date(2026, 12, 14, 9, 0, 0, 0, cst)
		if n, _ := w.svc.DetectNoShows(w.ctx, 15*time.Minute); n != 0 {
			t.Fatal("an admitted appraiser was flagged")
		}
	})
	t.Run("AdmittedByTheirAccount", func(t *testing.T) {
		// The rooms log the account (the join token's subject), not the appraiser record.
		w := newWorld(t)
		u := &chuting.User{Username: "liming", Role: chuting.RoleAppraiser, AppraiserID: w.a[0].ID, InstitutionID: w.inst.ID}
		w.create(u)
		sm := w.scheduled(t)
		openRoom(w, sm)
		w.now = time.Date(2026, 12, 14, 8, 35, 0, 0, cst)
		admit(w, sm, u.ID)
		w.now = time.Date(2026, 12, 14, 9, 0, 0, 0, cst)
		if n, _ := w.svc.DetectNoShows(w.ctx, 15*time.Minute); n != 0 {
			t.Fatal("an appraiser admitted by their account was flagged")
		}
	})
}

func TestSweepEligibility(t *testing.T) {
	w := newWorld(t)
	admin := &chuting.User{Username: "admin", Role: chuting.RoleInstitutionAdmin, InstitutionID: w.inst.ID}
	w.create(admin)
	a := w.a[1]
	a.LicenceExpires = chuting.Date{Year: 2026, Month: 12, Day: 20} // within 30 days of 7 December
	if err := chuting.Save(w.ctx, w.store, a); err != nil {
		t.Fatal(err)
	}
	w.inst.AccreditationExpires = chuting.Date{Year: 2027, Month: 3, Day: 1} // not within 30 days
	if err := chuting.Save(w.ctx, w.store, w.inst); err != nil {
		t.Fatal(err)
	}
	n, err := w.svc.SweepEligibility(w.ctx, 30*24*time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("wrote %d notices (%v), want 1 (the licence)", n, err)
	}
	notes, err := chuting.FindAll[chuting.Notice](w.ctx, w.store, chuting.Equal(chuting.KindNotice, chuting.IndexUser, admin.ID))
	if err != nil || len(notes) != 1 || notes[0].Topic != "eligibility.licence_expiring" {
		t.Fatalf("notices %+v (%v)", notes, err)
	}
	if n, _ := w.svc.SweepEligibility(w.ctx, 30*24*time.Hour); n != 0 {
		t.Fatalf("the next day's sweep wrote %d more", n)
	}
}

func TestReconcileHearings(t *testing.T) {
	w := newWorld(t)
	sm := w.scheduled(t)
	h, err := chuting.Load[chuting.Hearing](w.ctx, w.store, sm.HearingID)
	if err != nil {
		t.Fatal(err)
	}
	// A step whose hearing write failed: the scheduled summons has no hearing record.
	if err := chuting.Remove(w.ctx, w.store, h); err != nil {
		t.Fatal(err)
	}
	// And a hearing left behind by a cancelled summons.
	req := w.request()
	req.CaseNo, req.AppraiserIDs = "(2026)赣07民初55号", []string{w.a[1].ID}
	req.Windows = []WindowRequest{{Start: at(15, 8, 30), End: at(15, 17, 30)}}
	other := w.serve(req)
	if other, err = w.svc.Act(w.ctx, other.ID, Step{Action: Cancel, By: w.clerk, Reason: "撤诉"}, nil); err != nil {
		t.Fatal(err)
	}
	stray := &chuting.Hearing{SummonsID: other.ID, CourtID: w.court.ID, Start: other.Slot.Start, End: other.Slot.End}
	w.create(stray)

	if _, err := w.svc.ReconcileHearings(w.ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := chuting.Load[chuting.Hearing](w.ctx, w.store, sm.HearingID); err != nil || !got.Start.Equal(sm.Slot.Start) {
		t.Fatalf("the scheduled summons's hearing was not restored: %v %v", got, err)
	}
	if _, err := chuting.Load[chuting.Hearing](w.ctx, w.store, stray.ID); chuting.ErrorCode(err) != chuting.ENOTFOUND {
		t.Fatalf("the cancelled summons's hearing is still there: %v", err)
	}
}
