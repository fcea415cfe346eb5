package scheduler

import (
	"context"
	"fmt"
	"io"
	"strings"

	ics "github.com/arran4/golang-ical"
	"github.com/chuting/chuting"
)

// Calendars (RFC 5545, written with arran4/golang-ical): each appraiser and each testimony
// room has a feed of its hearings at a secret, revocable address (CalendarFeed), and each
// hearing an invitation. Times are written in UTC, which every calendar application shows in
// its own zone (Asia/Shanghai for the users here).

// productID names chuting in the calendars it writes.
const productID = "-//chuting//出庭 hearings//ZH"

// FeedSubject returns the subject of a feed: "appraiser:ID" or "room:ID".
func FeedSubject(kind chuting.Kind, id string) string { return string(kind) + ":" + id }

// WriteFeed writes the iCalendar feed of a subject ("appraiser:ID" or "room:ID"): its
// hearings from 90 days ago on (a feed of everything ever would grow without end).
func (s *Service) WriteFeed(ctx context.Context, w io.Writer, subject string) error {
	kind, id, _ := strings.Cut(subject, ":")
	var index, name string
	switch chuting.Kind(kind) {
	case chuting.KindAppraiser:
		a, err := chuting.Load[chuting.Appraiser](ctx, s.store, id)
		if err != nil {
			return err
		}
		index, name = chuting.IndexAppraiser, a.Name+" 出庭安排 / hearings"
	case chuting.KindRoom:
		r, err := chuting.Load[chuting.TestimonyRoom](ctx, s.store, id)
		if err != nil {
			return err
		}
		index, name = chuting.IndexRoom, r.Name+" 使用安排 / bookings"
	default:
		return chuting.Errorf(chuting.EINVALID, "unknown feed subject %q", subject)
	}
	hs, err := chuting.FindAll[chuting.Hearing](ctx, s.store, chuting.Equal(chuting.KindHearing, index, id))
	if err != nil {
		return err
	}
	cal := newCalendar(ics.MethodPublish)
	cal.SetXWRCalName(name)
	cal.SetRefreshInterval("PT15M")
	from := s.now().AddDate(0, 0, -90)
	for _, h := range hs {
		if h.End.Before(from) {
			continue
		}
		if err := s.addHearing(ctx, cal, h); err != nil {
			return err
		}
	}
	return cal.SerializeTo(w)
}

// WriteInvitation writes the invitation (METHOD:REQUEST) of one hearing.
func (s *Service) WriteInvitation(ctx context.Context, w io.Writer, h *chuting.Hearing) error {
	cal := newCalendar(ics.MethodRequest)
	if err := s.addHearing(ctx, cal, h); err != nil {
		return err
	}
	return cal.SerializeTo(w)
}

func newCalendar(method ics.Method) *ics.Calendar {
	cal := ics.NewCalendar()
	cal.SetMethod(method)
	cal.SetProductId(productID)
	cal.SetCalscale("GREGORIAN")
	// Times are written in UTC; the courts' wall clocks keep China Standard Time, which a
	// calendar that honours this hint shows.
	cal.SetXWRTimezone("Asia/Shanghai")
	return cal
}

// addHearing adds h as an event: the case, where (the testimony room, or the court for an
// appearance in person), who, and the court's contact. Its sequence is the summons's
// version, so a calendar replaces the event when the hearing changes.
func (s *Service) addHearing(ctx context.Context, cal *ics.Calendar, h *chuting.Hearing) error {
	sm, err := chuting.Load[chuting.Summons](ctx, s.store, h.SummonsID)
	if err != nil {
		return fmt.Errorf("summons of hearing %s: %w", h.ID, err)
	}
	court, err := chuting.Load[chuting.Court](ctx, s.store, h.CourtID)
	if err != nil {
		return err
	}
	e := cal.AddEvent(h.ID + "@chuting")
	e.SetDtStampTime(h.Updated)
	e.SetModifiedAt(h.Updated)
	e.SetSequence(int(sm.Version))
	e.SetStartAt(h.Start.UTC())
	e.SetEndAt(h.End.UTC())
	e.SetSummary(fmt.Sprintf("出庭作证 %s / testimony, case %s", sm.CaseNo, sm.CaseNo))
	where := court.Name + " " + court.Address
	mode := "现场出庭 / in person"
	if h.Mode == chuting.ModeRemote {
		mode = "远程视频出庭 / remote"
		if r, err := chuting.Load[chuting.TestimonyRoom](ctx, s.store, h.RoomID); err == nil {
			where = r.Name + "，" + r.Location
		}
	}
	e.SetLocation(where)
	var names []string
	for _, id := range h.AppraiserIDs {
		if a, err := chuting.Load[chuting.Appraiser](ctx, s.store, id); err == nil {
			names = append(names, a.Name)
		}
	}
	e.SetDescription(fmt.Sprintf("%s\n法院 / court: %s\n方式 / mode: %s\n鉴定人 / appraisers: %s\n联系人 / contact: %s %s",
		sm.CaseNo, court.Name, mode, strings.Join(names, "、"), sm.Contact.Name, sm.Contact.Phone))
	status := ics.ObjectStatusConfirmed
	if sm.State == chuting.SummonsCancelled || sm.State == chuting.SummonsExcused {
		status = ics.ObjectStatusCancelled
	}
	e.SetStatus(status)
	alarm := e.AddAlarm()
	alarm.SetAction(ics.ActionDisplay)
	alarm.SetTrigger("-PT1H")
	alarm.SetProperty(ics.ComponentPropertyDescription, "1 小时后出庭 / hearing in 1 hour")
	return nil
}
