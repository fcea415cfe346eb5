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

// NewMatcher returns the StoreMatcher over s, judging eligibility by rules.
func NewMatcher(s chuting.Records, now func() time.Time, rules Rules) *StoreMatcher {
	return &StoreMatcher{store: s, now: now, rules: rules, Budget: 2 * time.Second}
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
	pl, err := m.plan(ctx, sm.InstitutionID, []*chuting.Summons{sm}, nil)
	if err != nil {
		return nil, err
	}
	if why, out := pl.excluded[problemID(sm)]; out {
		return nil, chuting.FieldError("windows", "%s", why)
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
	// excluded are the free summons left out, with why: none of their windows is still open
	// once the notice period from now is applied.
	excluded map[string]string
}

// slot returns the slot the schedule gives sm, if any.
func (pl *plan) slot(sched *solver.Schedule, sm *chuting.Summons) (*chuting.Slot, bool) {
	for _, a := range sched.Assignments {
		if a.Summons == problemID(sm) {
			start, err := time.ParseInLocation("2006-01-02T15:04", a.Start, chuting.ChinaZone())
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

// plan builds the problem of placing free at institution instID. Each free summons's windows
// are cut to what the notice period allows from now (#2): a reschedule or a re-plan never
// puts a hearing in the past, nor sooner than the notice a court must give. courts holds
// the courts loaded already (nil for none); plan adds those it loads.
func (m *StoreMatcher) plan(ctx context.Context, instID string, free []*chuting.Summons, courts map[string]*chuting.Court) (*plan, error) {
	if courts == nil {
		courts = map[string]*chuting.Court{}
	}
	now := m.now()
	pl := &plan{problem: &solver.Problem{Format: solver.Format}, excluded: map[string]string{}}
	p := pl.problem
	windows := map[string][]chuting.Interval{}
	var first, last time.Time
	var placing []*chuting.Summons
	for _, sm := range free {
		court, err := cachedCourt(ctx, m.store, courts, sm.CourtID)
		if err != nil {
			return nil, fmt.Errorf("court of the summons: %w", err)
		}
		earliest := EarliestStart(court, sm.Mode, now)
		ws := usableWindows(sm, earliest)
		if len(ws) == 0 {
			day := earliest.Format("2006-01-02")
			pl.excluded[problemID(sm)] = fmt.Sprintf("时间段均早于通知期允许的最早日期%s / every window ends before %s, the earliest the notice period allows", day, day)
			continue
		}
		windows[problemID(sm)] = ws
		placing = append(placing, sm)
		for _, w := range ws {
			if first.IsZero() || w.Start.Before(first) {
				first = w.Start
			}
			last = maxTime(last, w.End)
		}
	}
	if len(placing) == 0 {
		first, last = now, now
	}
	loc := chuting.ChinaZone()
	start := midnight(first.In(loc))
	cal, err := m.calendar(ctx, start, last.In(loc))
	if err != nil {
		return nil, err
	}
	inst, err := chuting.Load[chuting.Institution](ctx, m.store, instID)
	if err != nil {
		return nil, fmt.Errorf("institution of the summons: %w", err)
	}
	p.Name, p.Calendar = "institution "+inst.ID, cal
	p.Institutions = []solver.Institution{{ID: inst.ID, Name: inst.Name}}
	added := map[string]bool{}
	addCourt := func(id string) {
		if !added[id] {
			added[id] = true
			p.Courts = append(p.Courts, solver.Court{ID: id, Name: id})
		}
	}
	appraisers, err := chuting.FindAll[chuting.Appraiser](ctx, m.store, chuting.Equal(chuting.KindAppraiser, chuting.IndexInstitution, inst.ID))
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	appraiserAt := map[string]int{} // index in p.Appraisers
	for _, a := range appraisers {
		known[a.ID] = true
		pa := solver.Appraiser{ID: a.ID, Name: a.Name, Institution: inst.ID, Categories: []string{}}
		for _, b := range a.Busy {
			pa.Busy = append(pa.Busy, solver.Interval{Start: naive(b.Start), End: naive(b.End)})
		}
		appraiserAt[a.ID] = len(p.Appraisers)
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
	inPlan := map[string]bool{}
	for _, sm := range free {
		inPlan[sm.ID] = true // excluded ones too: they keep no booking of their own here
	}
	for i, sm := range placing {
		addCourt(sm.CourtID)
		ps := solver.Summons{ID: problemID(sm), Court: sm.CourtID, DurationMinutes: sm.DurationMinutes, Mode: mode(sm.Mode)}
		ws := windows[problemID(sm)]
		for _, w := range ws {
			ps.Windows = append(ps.Windows, solver.Interval{Start: naive(w.Start), End: naive(w.End)})
		}
		if sm.Pool == nil {
			ps.Named = sm.AppraiserIDs
		} else {
			// Each pool is a solver category of its own, held by the appraisers it may pick.
			category := fmt.Sprintf("pool-%d", i)
			p.Categories = append(p.Categories, solver.Category{ID: category, Name: sm.Pool.Category})
			ps.Pool = &solver.Pool{Institution: inst.ID, Category: category, K: sm.Pool.K}
			picks, err := m.pickable(ctx, sm, inst, appraisers, ws)
			if err != nil {
				return nil, err
			}
			for _, a := range picks {
				pa := &p.Appraisers[appraiserAt[a.ID]]
				pa.Categories = append(pa.Categories, category)
			}
		}
		p.Summons = append(p.Summons, ps)
	}
	// An appraiser who moved here keeps the hearings the old institution booked: those hold
	// their time as busy (the summons index them by appraiser).
	for _, a := range appraisers {
		theirs, err := chuting.FindAll[chuting.Summons](ctx, m.store, chuting.Equal(chuting.KindSummons, chuting.IndexAppraiser, a.ID))
		if err != nil {
			return nil, err
		}
		for _, o := range theirs {
			if o.InstitutionID == inst.ID || inPlan[o.ID] || o.Slot == nil || !occupying(o.State) ||
				o.Slot.End.Before(start) || !slices.Contains(o.Slot.AppraiserIDs, a.ID) {
				continue
			}
			pa := &p.Appraisers[appraiserAt[a.ID]]
			pa.Busy = append(pa.Busy, solver.Interval{Start: naive(o.Slot.Start), End: naive(o.Slot.End)})
		}
	}
	return pl, m.bookings(ctx, pl, inst.ID, start, known, inPlan, addCourt)
}

// usableWindows returns sm's windows cut to start no sooner than earliest, dropping those too
// short for the hearing.
func usableWindows(sm *chuting.Summons, earliest time.Time) []chuting.Interval {
	var out []chuting.Interval
	need := time.Duration(sm.DurationMinutes) * time.Minute
	for _, w := range sm.Windows {
		w.Start = maxTime(w.Start, earliest)
		if w.End.Sub(w.Start) >= need {
			out = append(out, w)
		}
	}
	return out
}

// pickable returns the appraisers a pool summons may pick: eligible for its category over
// the whole span of its windows (a licence that lapses before the last window counts, #9–#11)
// and, on an opinion, its signatories who did not review it (#6).
func (m *StoreMatcher) pickable(ctx context.Context, sm *chuting.Summons, inst *chuting.Institution,
	all []*chuting.Appraiser, windows []chuting.Interval) ([]*chuting.Appraiser, error) {
	var opinion *chuting.Opinion
	if sm.OpinionID != "" {
		var err error
		if opinion, err = chuting.Load[chuting.Opinion](ctx, m.store, sm.OpinionID); err != nil {
			return nil, err
		}
	}
	loc := chuting.ChinaZone()
	// The first and last day any window covers: windows need not come in date order.
	first, last := windows[0].Start, windows[0].End
	for _, w := range windows[1:] {
		first, last = minTime(first, w.Start), maxTime(last, w.End)
	}
	days := []chuting.Date{chuting.DateOf(first.In(loc)), chuting.DateOf(last.In(loc))}
	var out []*chuting.Appraiser
	for _, a := range all {
		if opinion != nil && len(Signatory(a, opinion)) > 0 {
			continue
		}
		ok := true
		for _, d := range days {
			if len(Eligibility(a, inst, Case{Category: sm.Pool.Category, On: d, Parties: partyNames(sm)}, m.rules)) > 0 {
				ok = false
			}
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// fits reports whether slot is still free for sm given what the store holds now: the check a
// planned move must pass before it is written, since others may have booked meanwhile.
// courts are the courts loaded already, as for plan.
func (m *StoreMatcher) fits(ctx context.Context, sm *chuting.Summons, slot *chuting.Slot, courts map[string]*chuting.Court) (bool, error) {
	pl, err := m.plan(ctx, sm.InstitutionID, []*chuting.Summons{sm}, courts)
	if err != nil || len(pl.excluded) > 0 {
		return false, err
	}
	base := &solver.Schedule{Instance: pl.problem.Name, Assignments: pl.fixed}
	_, before := solver.Check(pl.problem, base)
	with := &solver.Schedule{Instance: pl.problem.Name, Assignments: append(slices.Clone(pl.fixed),
		solver.Assignment{Summons: problemID(sm), Start: naive(slot.Start), Room: slot.RoomID, Appraisers: slot.AppraiserIDs})}
	_, after := solver.Check(pl.problem, with)
	return len(after) == len(before), nil // no violation the move would add
}

// bookings adds the institution's other booked slots from the horizon's start on, as
// summons fixed where they are. A booking with someone no longer at the institution (who
// moved since) still holds its room and those of its appraisers who are.
func (m *StoreMatcher) bookings(ctx context.Context, pl *plan, instID string, from time.Time, known, inPlan map[string]bool, addCourt func(string)) error {
	others, err := chuting.FindAll[chuting.Summons](ctx, m.store, chuting.Equal(chuting.KindSummons, chuting.IndexInstitution, instID))
	if err != nil {
		return err
	}
	for _, o := range others {
		if inPlan[o.ID] || o.Slot == nil || !occupying(o.State) || o.Slot.End.Before(from) {
			continue
		}
		room := o.Slot.RoomID
		if !known[room] {
			room = ""
		}
		var here []string
		for _, id := range o.Slot.AppraiserIDs {
			if known[id] {
				here = append(here, id)
			}
		}
		if len(here) == 0 && room == "" {
			continue // nothing of it is here any more
		}
		addCourt(o.CourtID)
		iv := solver.Interval{Start: naive(o.Slot.Start), End: naive(o.Slot.End)}
		m := mode(o.Mode)
		if room == "" && m == solver.Remote {
			m = solver.InPerson // its room is not here to give: it holds appraisers only
		}
		pl.problem.Summons = append(pl.problem.Summons, solver.Summons{ID: o.ID, Court: o.CourtID,
			DurationMinutes: int(o.Slot.End.Sub(o.Slot.Start) / time.Minute), Mode: m,
			Windows: []solver.Interval{iv}, Named: here})
		pl.fixed = append(pl.fixed, solver.Assignment{Summons: o.ID, Start: iv.Start, Room: room,
			Appraisers: here})
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

func naive(t time.Time) string { return t.In(chuting.ChinaZone()).Format("2006-01-02T15:04") }

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

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// cachedCourt returns the court with id from courts, loading it into courts the first time.
func cachedCourt(ctx context.Context, store chuting.Records, courts map[string]*chuting.Court, id string) (*chuting.Court, error) {
	if c, ok := courts[id]; ok {
		return c, nil
	}
	c, err := chuting.Load[chuting.Court](ctx, store, id)
	if err != nil {
		return nil, err
	}
	courts[id] = c
	return c, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
