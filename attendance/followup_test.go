package attendance_test

import (
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/attendance"
	"github.com/chuting/chuting/notify"
	"github.com/chuting/chuting/scheduler"
)

// notices counts the notices of a topic in each user's inbox.
func (w *world) notices(topic string) map[string]int {
	w.t.Helper()
	all, err := chuting.FindAll[chuting.Notice](w.ctx, w.store, chuting.Query{Kind: chuting.KindNotice})
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]int{}
	for _, n := range all {
		if n.Topic == topic {
			out[n.UserID]++
		}
	}
	return out
}

// TestFollowUp runs a summons through the workflow to an absence without cause, and checks
// what the law attaches to it (#36, #38, #39): the opinion is barred, the court has a fee-
// refund task due in 3 days, the institution, the bureau and the court are told once, and
// the appraiser's record shows it; running the follow-ups again changes nothing; a
// correction lifts the bar and keeps the history; the court closes the task.
func TestFollowUp(t *testing.T) {
	w := newWorld(t)
	w.now = time.Date(2026, 12, 7, 9, 0, 0, 0, cst)
	clock := func() time.Time { return w.now }
	notifier := notify.New(notify.Config{Store: w.store, Now: clock})
	svc := attendance.New(attendance.Config{Store: w.store, Now: clock, Notify: notifier.Handle})
	sched := scheduler.New(scheduler.Config{Store: w.store, Now: clock, Notify: notifier.Handle, Attendance: svc})
	room := &chuting.TestimonyRoom{InstitutionID: w.insts[0].ID, Name: "作证室", Location: "3F"}
	w.create(room)
	clerk := &chuting.Principal{UserID: w.clerks[0].ID, Role: chuting.RoleClerk, CourtID: w.courts[0].ID}

	// Both signatories of the clinical opinion are summoned for Monday 14 December.
	day := func(h, m int) string { return time.Date(2026, 12, 14, h, m, 0, 0, cst).Format(time.RFC3339) }
	sm, _, err := sched.Serve(w.ctx, clerk, &scheduler.Request{CaseNo: "(2026)赣070民初7号", OpinionID: w.ops[0].ID,
		AppraiserIDs: []string{w.a[0].ID, w.a[1].ID}, Mode: "remote", RemoteGround: "distance", DurationMinutes: 60,
		Windows: []scheduler.WindowRequest{{Start: day(8, 30), End: day(12, 0)}},
		Parties: []chuting.Party{{Name: "张三", Role: "原告"}}, Reason: "原告对鉴定意见有异议",
		Contact: chuting.Contact{Name: "周书记员", Phone: "0797-8999001"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		p := &chuting.Principal{UserID: w.users[i].ID, Role: chuting.RoleAppraiser, AppraiserID: w.a[i].ID, InstitutionID: w.insts[0].ID}
		if sm, err = sched.Act(w.ctx, sm.ID, scheduler.Step{Action: scheduler.Confirm, By: p}, nil); err != nil {
			t.Fatal(err)
		}
	}
	w.now = sm.Slot.Start.Add(-10 * time.Minute)
	if sm, err = sched.Act(w.ctx, sm.ID, scheduler.Step{Action: scheduler.Start, By: clerk}, nil); err != nil {
		t.Fatal(err)
	}
	if n := w.notices("attendance.absent_without_cause"); len(n) != 0 {
		t.Fatalf("told of an absence before there was one: %v", n)
	}
	w.now = sm.Slot.Start.Add(30 * time.Minute)
	absentAt := w.now
	if sm, err = sched.Act(w.ctx, sm.ID, scheduler.Step{Action: scheduler.Absent, By: clerk, Cause: scheduler.CauseWithoutCause}, nil); err != nil {
		t.Fatal(err)
	}

	verify := func(t *testing.T) {
		t.Helper()
		op, err := chuting.Load[chuting.Opinion](w.ctx, w.store, w.ops[0].ID)
		if err != nil || len(op.NotForFacts) != 1 || !op.Barred() {
			t.Fatalf("opinion %+v (%v), want one standing exclusion", op, err)
		}
		x := op.NotForFacts[0]
		if x.SummonsID != sm.ID || len(x.AppraiserIDs) != 2 || !x.At.Equal(absentAt) || x.Basis == "" {
			t.Errorf("exclusion %+v", x)
		}
		ref, err := chuting.Load[chuting.FeeRefund](w.ctx, w.store, chuting.RefundID(sm.ID))
		if err != nil {
			t.Fatal(err)
		}
		if ref.State != chuting.RefundOpen || ref.CourtID != w.courts[0].ID || !ref.Due.Equal(absentAt.AddDate(0, 0, 3)) ||
			len(ref.AppraiserIDs) != 2 || ref.Notified.IsZero() {
			t.Errorf("fee refund %+v", ref)
		}
		refunds, err := chuting.FindAll[chuting.FeeRefund](w.ctx, w.store, chuting.Equal(chuting.KindRefund, chuting.IndexCourt, w.courts[0].ID))
		if err != nil || len(refunds) != 1 {
			t.Errorf("the court lists %d fee refunds (%v), want 1", len(refunds), err)
		}
		told := w.notices("attendance.absent_without_cause")
		for _, u := range []*chuting.User{w.admins[0], w.bureau, w.clerks[0]} {
			if told[u.ID] != 1 {
				t.Errorf("%s (%s) has %d notices of the absence, want 1", u.Username, u.Role, told[u.ID])
			}
		}
		if len(told) != 3 {
			t.Errorf("told %v, want the institution's admin, the bureau and the court only", told)
		}
		rec, err := svc.Record(w.ctx, w.a[0], nil)
		if err != nil || len(rec.Entries) != 1 {
			t.Fatalf("record %+v (%v)", rec, err)
		}
		if e := rec.Entries[0]; e.Attendance.Status != attendance.AbsentWithoutCause || !e.OpinionBarred || e.FeeRefund == nil ||
			rec.Summary.AbsentWithoutCause != 1 || rec.Summary.Served != 1 {
			t.Errorf("record entry %+v, summary %+v", e, rec.Summary)
		}
	}
	t.Run("Opened", verify)

	t.Run("Idempotent", func(t *testing.T) {
		if did, err := svc.FollowUp(w.ctx, sm.ID); err != nil || did {
			t.Fatalf("a second follow-up did something (%v, %v)", did, err)
		}
		if n, err := svc.SweepFollowUps(w.ctx); err != nil || n != 0 {
			t.Fatalf("the sweep did %d (%v)", n, err)
		}
		verify(t)
	})

	t.Run("InterruptedBeforeTelling", func(t *testing.T) {
		// As if the process died after opening the task and sending some notices: the next
		// run tells, and nobody twice.
		ref, err := chuting.Load[chuting.FeeRefund](w.ctx, w.store, chuting.RefundID(sm.ID))
		if err != nil {
			t.Fatal(err)
		}
		ref.Notified = time.Time{}
		if err := chuting.Save(w.ctx, w.store, ref); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.SweepFollowUps(w.ctx); err != nil || n != 1 {
			t.Fatalf("the sweep did %d (%v), want the telling finished", n, err)
		}
		verify(t)
	})

	t.Run("CorrectionLiftsTheBar", func(t *testing.T) {
		h, err := chuting.Load[chuting.Hearing](w.ctx, w.store, sm.HearingID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range w.a[:2] {
			if _, err := svc.Correct(w.ctx, clerk, h, a.ID, attendance.TechnicalFailure, "法院网络故障，鉴定人无法接入"); err != nil {
				t.Fatal(err)
			}
		}
		op, err := chuting.Load[chuting.Opinion](w.ctx, w.store, w.ops[0].ID)
		if err != nil || op.Barred() || len(op.NotForFacts) != 1 || op.NotForFacts[0].Lifted.IsZero() {
			t.Fatalf("opinion %+v (%v), want the exclusion kept and lifted", op.NotForFacts, err)
		}
		got, err := svc.OfHearing(w.ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got.Results {
			if r.Status != attendance.TechnicalFailure || r.Derived != attendance.AbsentWithoutCause || len(r.Corrections) != 1 {
				t.Errorf("after the correction: %+v", r)
			}
		}
		// Corrected back: a new exclusion, the lifted one kept.
		if _, err := svc.Correct(w.ctx, clerk, h, w.a[0].ID, attendance.AbsentWithoutCause, "复核后确认无正当理由"); err != nil {
			t.Fatal(err)
		}
		if op, _ = chuting.Load[chuting.Opinion](w.ctx, w.store, w.ops[0].ID); !op.Barred() || len(op.NotForFacts) != 2 {
			t.Fatalf("opinion %+v, want a new exclusion beside the lifted one", op.NotForFacts)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		h, _ := chuting.Load[chuting.Hearing](w.ctx, w.store, sm.HearingID)
		before, _ := svc.Events(w.ctx, h.ID)
		tests := []struct {
			name, appraiser string
			status          attendance.Code
			reason, field   string
		}{
			{"ErrStatus", w.a[0].ID, "gone", "x", "status"},
			{"ErrPending", w.a[0].ID, attendance.Pending, "x", "status"},
			{"ErrReason", w.a[0].ID, attendance.Excused, " ", "reason"},
			{"ErrAppraiser", w.a[2].ID, attendance.Excused, "x", "appraiser_id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := svc.Correct(w.ctx, clerk, h, tt.appraiser, tt.status, tt.reason)
				if chuting.ErrorCode(err) != chuting.EINVALID || chuting.ErrorField(err) != tt.field {
					t.Fatalf("err %v, want invalid naming %s", err, tt.field)
				}
			})
		}
		if after, _ := svc.Events(w.ctx, h.ID); len(after) != len(before) {
			t.Fatalf("refused corrections appended %d events", len(after)-len(before))
		}
	})

	t.Run("CloseRefund", func(t *testing.T) {
		id := chuting.RefundID(sm.ID)
		if _, err := svc.CloseRefund(w.ctx, clerk, id, " "); chuting.ErrorField(err) != "note" {
			t.Fatalf("closing without a note: %v", err)
		}
		ref, err := svc.CloseRefund(w.ctx, clerk, id, "已裁定退还鉴定费 3000 元")
		if err != nil || ref.State != chuting.RefundDone || ref.ClosedBy != clerk.UserID || ref.Closed.IsZero() {
			t.Fatalf("closed %+v (%v)", ref, err)
		}
		if _, err := svc.CloseRefund(w.ctx, clerk, id, "again"); chuting.ErrorCode(err) != chuting.ECONFLICT {
			t.Fatalf("closing twice: %v, want a conflict", err)
		}
	})
}
