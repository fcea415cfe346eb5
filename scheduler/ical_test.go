package scheduler

import (
	"bytes"
	"strings"
	"testing"

	ics "github.com/arran4/golang-ical"
	"github.com/chuting/chuting"
)

func TestCalendars(t *testing.T) {
	w := newWorld(t)
	sm := w.scheduled(t) // Monday 14 December 08:30 CST, 90 minutes, first room
	h, err := chuting.Load[chuting.Hearing](w.ctx, w.store, sm.HearingID)
	if err != nil {
		t.Fatal(err)
	}
	parse := func(t *testing.T, data []byte) *ics.Calendar {
		t.Helper()
		cal, err := ics.ParseCalendar(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("the feed does not parse as iCalendar: %v\n%s", err, data)
		}
		return cal
	}
	checkEvent := func(t *testing.T, e *ics.VEvent) {
		t.Helper()
		start, err1 := e.GetStartAt()
		end, err2 := e.GetEndAt()
		if err1 != nil || err2 != nil || !start.Equal(sm.Slot.Start) || !end.Equal(sm.Slot.End) {
			t.Fatalf("event %s–%s (%v %v), want the slot %s–%s", start, end, err1, err2, sm.Slot.Start, sm.Slot.End)
		}
		if e.Id() != h.ID+"@chuting" || !strings.Contains(e.GetProperty(ics.ComponentPropertySummary).Value, sm.CaseNo) {
			t.Fatalf("event %s: %s", e.Id(), e.GetProperty(ics.ComponentPropertySummary).Value)
		}
		if loc := e.GetProperty(ics.ComponentPropertyLocation); loc == nil || !strings.Contains(loc.Value, "3F") {
			t.Fatalf("location %v, want the testimony room", loc)
		}
	}
	for _, subject := range []string{FeedSubject(chuting.KindAppraiser, w.a[0].ID), FeedSubject(chuting.KindRoom, sm.Slot.RoomID)} {
		t.Run(subject[:strings.Index(subject, ":")], func(t *testing.T) {
			var buf bytes.Buffer
			if err := w.svc.WriteFeed(w.ctx, &buf, subject); err != nil {
				t.Fatal(err)
			}
			cal := parse(t, buf.Bytes())
			if len(cal.Events()) != 1 {
				t.Fatalf("%d events, want 1", len(cal.Events()))
			}
			checkEvent(t, cal.Events()[0])
		})
	}
	t.Run("Invitation", func(t *testing.T) {
		var buf bytes.Buffer
		if err := w.svc.WriteInvitation(w.ctx, &buf, h); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "METHOD:REQUEST") {
			t.Fatalf("not an invitation:\n%s", buf.String())
		}
		checkEvent(t, parse(t, buf.Bytes()).Events()[0])
	})
	t.Run("Cancelled", func(t *testing.T) {
		if _, err := w.svc.Act(w.ctx, sm.ID, Step{Action: Cancel, By: w.clerk, Reason: "撤诉"}, nil); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := w.svc.WriteFeed(w.ctx, &buf, FeedSubject(chuting.KindAppraiser, w.a[0].ID)); err != nil {
			t.Fatal(err)
		}
		if n := len(parse(t, buf.Bytes()).Events()); n != 0 {
			t.Fatalf("a cancelled hearing is still in the feed (%d events)", n)
		}
	})
	t.Run("ErrSubject", func(t *testing.T) {
		err := w.svc.WriteFeed(w.ctx, &bytes.Buffer{}, "court:x")
		if chuting.ErrorCode(err) != chuting.EINVALID {
			t.Fatalf("unknown subject kind: %v", err)
		}
	})
}
