package notify_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/notify"
	"github.com/chuting/chuting/scheduler"
)

// TestFollowUpNotice records an absence without cause: the institution's admin, the bureau
// and the court are told once each (#38), with what follows in the text, and the court's
// system gets one delivery carrying the fee-refund task; telling it again tells nobody twice.
func TestFollowUpNotice(t *testing.T) {
	w := newWorld(t, notify.Config{})
	r := newReceiver(t, w, always(http.StatusOK))
	hook := w.hook(r)
	sm := w.serve()
	w.act(sm.ID, "a0", scheduler.Step{Action: scheduler.Confirm})
	w.act(sm.ID, "a1", scheduler.Step{Action: scheduler.Confirm})
	sm, err := chuting.Load[chuting.Summons](w.ctx, w.store, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Add(sm.Slot.Start.Sub(w.clock.Now()))
	w.act(sm.ID, "judge", scheduler.Step{Action: scheduler.Start})
	w.newNotices()
	w.act(sm.ID, "judge", scheduler.Step{Action: scheduler.Absent, Cause: scheduler.CauseWithoutCause})

	ns := w.newNotices()
	got := w.recipients(ns)
	want := map[string][]string{"summons.absent": {"a0", "a1", "admin"},
		"attendance.absent_without_cause": {"admin", "bureau", "clerk", "judge"}}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("told %v, want %v", got, want)
	}
	for _, n := range ns {
		if n.Topic != "attendance.absent_without_cause" {
			continue
		}
		for _, s := range []string{"无故拒不出庭", "absent without cause", "不得作为认定事实的根据", "李明", "王芳", "退费处理期限", sm.CaseNo} {
			if !strings.Contains(n.Title+n.Body, s) {
				t.Errorf("the notice lacks %q:\n%s\n%s", s, n.Title, n.Body)
			}
		}
	}
	var follow []*chuting.Delivery
	for _, d := range w.deliveries(hook) {
		if d.Event == "attendance.absent_without_cause" {
			follow = append(follow, d)
		}
	}
	if len(follow) != 1 {
		t.Fatalf("%d deliveries of the follow-up, want 1", len(follow))
	}
	var p notify.Payload
	if err := json.Unmarshal(follow[0].Payload, &p); err != nil || p.FeeRefund == nil || p.FeeRefund.ID != chuting.RefundID(sm.ID) ||
		p.FeeRefund.State != chuting.RefundOpen {
		t.Fatalf("payload %s (%v)", follow[0].Payload, err)
	}

	t.Run("Again", func(t *testing.T) {
		ref, err := chuting.Load[chuting.FeeRefund](w.ctx, w.store, chuting.RefundID(sm.ID))
		if err != nil {
			t.Fatal(err)
		}
		before := len(w.deliveries(hook))
		w.svc.Handle(w.ctx, chuting.SummonsEvent{Summons: sm, FollowUp: ref})
		if ns := w.newNotices(); len(ns) != 0 {
			t.Errorf("told again: %v", w.recipients(ns))
		}
		if after := len(w.deliveries(hook)); after != before {
			t.Errorf("%d more deliveries", after-before)
		}
	})
}
