package scheduler

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/scheduler/solver"
)

// StoreMatcher proposes slots with the solver over what the store holds: the summons's
// institution (its appraisers, their busy times, its testimony rooms), every slot already
// booked there (never moved), and the holiday calendar. Times are given to the solver as
// naive wall-clock times in Asia/Shanghai, as SCHEDULING.md prescribes.
type StoreMatcher struct {
	store chuting.Records
	now   func() time.Time
	rules Rules
	// Budget bounds one proposal's search.
	Budget time.Duration
}

// NewMatcher returns the StoreMatcher over s.
func NewMatcher(s chuting.Records, now func() time.Time) *StoreMatcher {
	return &StoreMatcher{store: s, now: now, rules: DefaultRules(), Budget: 2 * time.Second}
}

// maxHorizonDays bounds the working days a plan looks ahead.
const maxHorizonDays = 250

// occupying are the states whose slot holds its appraisers and room.
func occupying(st chuting.SummonsState) bool {
	switch st {
	case chuting.SummonsProposed, chuting.SummonsConfirmed, chuting.SummonsScheduled, chuting.SummonsDeclined,
		chuting.SummonsInProgress:
		return true
	}
	return false
}

// newID is the problem ID of a summons not yet stored.
const newID = "new"

func problemID(sm *chuting.Summons) string {
	if sm.ID == "" {
		return newID
	}
	return sm.ID
}

// Propose implements Matcher.
func (m *StoreMatcher) Propose(ctx context.Context, sm *chuting.Summons) (*chuting.Slot, error) {
	pl, err := m.plan(ctx, sm.InstitutionID, []*chuting.Summons{sm})
	if err != nil {
		return nil, err
	}
	sched, rep := solver.Solve(ctx, pl.problem, solver.Options{Fixed: pl.fixed, TimeLimit: m.Budget})
	if rep.Err != nil {
		return nil, fmt.Errorf("build the scheduling problem: %w", rep.Err)
	}
	if slot, ok := pl.slot(sched, sm); ok {
		return slot, nil
	}
	why := "没有可行时间 / no feasible slot"
	for _, u := range rep.Unscheduled {
		if u.Summons == problemID(sm) {
			why = u.Reason
		}
	}
	return nil, chuting.FieldError("windows", "在可开庭时间段内无法安排：%s / no slot in the windows: %s", why, why)
}

// plan is a solver problem for some summons of one institution (free: to be placed), among
// the institution's other bookings (fixed where they are).
type plan struct {
	problem *solver.Problem
	fixed   []solver.Assignment
}

// slot returns the slot the schedule gives sm, if any.
func (pl *plan) slot(sched *solver.Schedule, sm *chuting.Summons) (*chuting.Slot, bool) {
	for _, a := range sched.Assignments {
		if a.Summons == problemID(sm) {
			start, err := time.ParseInLocation("2006-01-02T15:04", a.Start, shanghai())
			if err != nil {
				return nil, false
			}
			ids := slices.Clone(a.Appraisers)
			slices.Sort(ids)
			return &chuting.Slot{Start: start.UTC(), End: start.Add(time.Duration(sm.DurationMinutes) * time.Minute).UTC(),
				RoomID: a.Room, AppraiserIDs: ids}, true
		}
	}
	return nil, false
}

// plan builds the problem of placing free at institution instID.
func (m *StoreMatcher) plan(ctx context.Context, instID string, free []*chuting.Summons) (*plan, error) {
	loc := shanghai()
	first, last := free[0].Windows[0].Start, free[0].Windows[0].End
	for _, sm := range free {
		for _, w := range sm.Windows {
			first, last = minTime(first, w.Start), maxTime(last, w.End)
		}
	}
	start := midnight(first.In(loc))
	cal, err := m.calendar(ctx, start, last.In(loc))
	if err != nil {
		return nil, err
	}
	inst, err := chuting.Load[chuting.Institution](ctx, m.store, instID)
	if err != nil {
		return nil, fmt.Errorf("institution of the summons: %w", err)
	}
	p := &solver.Problem{Format: solver.Format, Name: "institution " + inst.ID, Calendar: cal,
		Institutions: []solver.Institution{{ID: inst.ID, Name: inst.Name}}}
	pl := &plan{problem: p}
	courts := map[string]bool{}
	addCourt := func(id string) {
		if !courts[id] {
			courts[id] = true
			p.Courts = append(p.Courts, solver.Court{ID: id, Name: id})
		}
	}
	// Each pool category is a solver category that only the appraisers eligible for it have.
	categories := map[string][]string{} // category → parties of the summons asking for it
	for _, sm := range free {
		if sm.Pool != nil {
			categories[sm.Pool.Category] = append(categories[sm.Pool.Category], partyNames(sm)...)
		}
	}
	for c := range categories {
		p.Categories = append(p.Categories, solver.Category{ID: c, Name: c})
	}
	appraisers, err := chuting.FindAll[chuting.Appraiser](ctx, m.store, chuting.Equal(chuting.KindAppraiser, chuting.IndexInstitution, inst.ID))
	if err != nil {
		return nil, err
	}
	on := chuting.DateOf(first.In(loc))
	known := map[string]bool{}
	for _, a := range appraisers {
		known[a.ID] = true
		pa := solver.Appraiser{ID: a.ID, Name: a.Name, Institution: inst.ID, Categories: []string{}}
		for c, parties := range categories {
			if len(Eligibility(a, inst, Case{Category: c, On: on, Parties: parties}, m.rules)) == 0 {
				pa.Categories = append(pa.Categories, c) // only the eligible may be picked (#9–#11)
			}
		}
		for _, b := range a.Busy {
			pa.Busy = append(pa.Busy, solver.Interval{Start: naive(b.Start), End: naive(b.End)})
		}
		p.Appraisers = append(p.Appraisers, pa)
	}
	rooms, err := chuting.FindAll[chuting.TestimonyRoom](ctx, m.store, chuting.Equal(chuting.KindRoom, chuting.IndexInstitution, inst.ID))
	if err != nil {
		return nil, err
	}
	for _, r := range rooms {
		known[r.ID] = true
		p.Rooms = append(p.Rooms, solver.Room{ID: r.ID, Name: r.Name, Institution: inst.ID})
	}
	placing := map[string]bool{}
	for _, sm := range free {
		placing[sm.ID] = true
		addCourt(sm.CourtID)
		ps := solver.Summons{ID: problemID(sm), Court: sm.CourtID, DurationMinutes: sm.DurationMinutes, Mode: mode(sm.Mode)}
		for _, w := range sm.Windows {
			ps.Windows = append(ps.Windows, solver.Interval{Start: naive(w.Start), End: naive(w.End)})
		}
		if sm.Pool != nil {
			ps.Pool = &solver.Pool{Institution: inst.ID, Category: sm.Pool.Category, K: sm.Pool.K}
		} else {
			ps.Named = sm.AppraiserIDs
		}
		p.Summons = append(p.Summons, ps)
	}
	return pl, m.bookings(ctx, pl, inst.ID, start, known, placing, addCourt)
}

// bookings adds the institution's other booked slots from the horizon's start on, as
// summons fixed where they are. A booking of someone no longer at the institution (who moved
// since) holds nothing here.
func (m *StoreMatcher) bookings(ctx context.Context, pl *plan, instID string, from time.Time, known, placing map[string]bool, addCourt func(string)) error {
	others, err := chuting.FindAll[chuting.Summons](ctx, m.store, chuting.Equal(chuting.KindSummons, chuting.IndexInstitution, instID))
	if err != nil {
		return err
	}
	for _, o := range others {
		if placing[o.ID] || o.Slot == nil || !occupying(o.State) || o.Slot.End.Before(from) ||
			o.Slot.RoomID != "" && !known[o.Slot.RoomID] || !allKnown(o.Slot.AppraiserIDs, known) {
			continue
		}
		addCourt(o.CourtID)
		iv := solver.Interval{Start: naive(o.Slot.Start), End: naive(o.Slot.End)}
		pl.problem.Summons = append(pl.problem.Summons, solver.Summons{ID: o.ID, Court: o.CourtID,
			DurationMinutes: int(o.Slot.End.Sub(o.Slot.Start) / time.Minute), Mode: mode(o.Mode),
			Windows: []solver.Interval{iv}, Named: o.Slot.AppraiserIDs})
		pl.fixed = append(pl.fixed, solver.Assignment{Summons: o.ID, Start: iv.Start, Room: o.Slot.RoomID,
			Appraisers: o.Slot.AppraiserIDs})
	}
	return nil
}

func allKnown(ids []string, known map[string]bool) bool {
	for _, id := range ids {
		if !known[id] {
			return false
		}
	}
	return true
}

// calendar returns the solver's calendar from start to the working day of end: the years'
// holidays and 调休 working days, and the number of working days in between.
func (m *StoreMatcher) calendar(ctx context.Context, start, end time.Time) (solver.Calendar, error) {
	cal := solver.Calendar{StartDate: start.Format(time.DateOnly), Holidays: []string{}}
	off, work := map[string]bool{}, map[string]bool{}
	for y := start.Year(); y <= end.Year(); y++ {
		h, err := Holidays(ctx, m.store, y)
		if err != nil {
			return cal, err
		}
		for _, d := range h.Holidays {
			off[d.String()] = true
			cal.Holidays = append(cal.Holidays, d.String())
		}
		for _, d := range h.Workdays {
			work[d.String()] = true
			cal.Workdays = append(cal.Workdays, d.String())
		}
	}
	for d := start; !d.After(end) && cal.NumDays < maxHorizonDays; d = d.AddDate(0, 0, 1) {
		key := d.Format(time.DateOnly)
		weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
		if work[key] || !weekend && !off[key] {
			cal.NumDays++
		}
	}
	cal.NumDays = max(cal.NumDays, 1)
	return cal, nil
}

func naive(t time.Time) string { return t.In(shanghai()).Format("2006-01-02T15:04") }

func mode(m chuting.Mode) solver.Mode {
	if m == chuting.ModeRemote {
		return solver.Remote
	}
	return solver.InPerson
}

func midnight(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, t.Location())
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
