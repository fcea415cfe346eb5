package scheduler

import (
	"strings"
	"testing"

	"github.com/chuting/chuting"
)

// An appraiser who moves institution keeps the hearings the old institution booked.

// TestMovedAppraiserKeepsBookings: a summons at the new institution is not proposed on top of
// the moved appraiser's scheduled hearing (it was: the new institution read only its own
// summons): here the windows leave no other time, so it is refused, naming them.
func TestMovedAppraiserKeepsBookings(t *testing.T) {
	w := newWorld(t)
	req := w.request()
	req.OpinionID, req.AppraiserIDs = "", []string{w.a[0].ID}
	req.Mode, req.RemoteGround = "in_person", ""
	first := w.serve(req) // at w.inst, 14 December
	if _, err := w.svc.Act(w.ctx, first.ID, Step{Action: Confirm, By: w.appraiser(0)}, nil); err != nil {
		t.Fatal(err)
	}
	w.a[0].InstitutionID = w.other.ID // moves (PUT /api/v1/appraisers/{id})
	if err := chuting.Save(w.ctx, w.store, w.a[0]); err != nil {
		t.Fatal(err)
	}
	req2 := w.request()
	req2.CaseNo = "(2026)赣07民初555号"
	req2.OpinionID, req2.AppraiserIDs = "", []string{w.a[0].ID}
	req2.Mode, req2.RemoteGround = "in_person", ""
	second, _, err := w.svc.Serve(w.ctx, w.clerk, req2)
	booked, _ := chuting.Load[chuting.Summons](w.ctx, w.store, first.ID)
	switch {
	case err != nil && chuting.ErrorField(err) == "windows" && strings.Contains(err.Error(), "busy"):
	case err != nil:
		t.Fatalf("serve: %v (field %q), want none, or no slot because the appraiser is busy", err, chuting.ErrorField(err))
	case second.Slot.Start.Before(booked.Slot.End) && booked.Slot.Start.Before(second.Slot.End):
		t.Fatalf("%s double-booked: the scheduled hearing at %s and a new proposal at %s", w.a[0].Name,
			booked.Slot.Start.In(cst), second.Slot.Start.In(cst))
	}
}

// TestBookingKeepsRoomAndColleague: when one of a booking's two appraisers moves away, the
// booking still holds its room and the appraiser who stayed (the whole booking was dropped,
// and both were offered again at the same time).
func TestBookingKeepsRoomAndColleague(t *testing.T) {
	w := newWorld(t)
	first := w.serve(w.request()) // a[0] and a[1], 14 December 08:30
	for _, i := range []int{0, 1} {
		if _, err := w.svc.Act(w.ctx, first.ID, Step{Action: Confirm, By: w.appraiser(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	w.a[0].InstitutionID = w.other.ID
	if err := chuting.Save(w.ctx, w.store, w.a[0]); err != nil {
		t.Fatal(err)
	}
	req := w.request()
	req.CaseNo, req.OpinionID, req.AppraiserIDs = "(2026)赣07民初556号", "", []string{w.a[1].ID}
	second := w.serve(req)
	if second.Slot.Start.Before(first.Slot.End) && first.Slot.Start.Before(second.Slot.End) {
		t.Fatalf("%s double-booked at %s (room %s; the scheduled hearing has room %s)", w.a[1].Name,
			second.Slot.Start.In(cst), second.Slot.RoomID, first.Slot.RoomID)
	}
}
