package solver

import (
	"fmt"
	"sort"
	"time"
)

// Score is the lexicographic objective of SCHEDULING.md §4: N summons scheduled, their
// total delay Delta in working slots from each summons' earliest window, and the largest
// number L of hearings one appraiser attends.
type Score struct {
	N, Delta, L int
}

// Better reports whether s ranks above o: more summons, then less delay, then a smaller
// maximum load.
func (s Score) Better(o Score) bool {
	if s.N != o.N {
		return s.N > o.N
	}
	if s.Delta != o.Delta {
		return s.Delta < o.Delta
	}
	return s.L < o.L
}

// String returns "N=… Δ=… L=…".
func (s Score) String() string {
	return fmt.Sprintf("N=%d Δ=%d L=%d", s.N, s.Delta, s.L)
}

// Violation is a hard constraint a schedule breaks. Constraint is "H1" … "H9" (§3), "ref"
// for an id the problem does not know, or "instance" for a schedule of another problem.
type Violation struct {
	Constraint string
	Summons    string
	Message    string
}

// String returns "H6: appraiser a3 busy …".
func (v Violation) String() string {
	return v.Constraint + ": " + v.Message
}

// Check re-verifies every hard constraint of §3 for s against p and computes its Score
// (over the known summons, each counted once). It is written from the text of the spec,
// with time.Time arithmetic and pairwise comparisons, sharing no tables with the solvers,
// so that it can catch their bugs. A nil or empty violation list means s is valid.
func Check(p *Problem, s *Schedule) (Score, []Violation) {
	c := checker{p: p}
	if !c.horizon() {
		return Score{}, []Violation{{Constraint: "H2", Message: "the calendar of the problem is invalid"}}
	}
	if s.Instance != p.Name {
		c.add("instance", "", "schedule is for instance %q, the problem is %q", s.Instance, p.Name)
	}
	sums := map[string]*Summons{}
	for i := range p.Summons {
		sums[p.Summons[i].ID] = &p.Summons[i]
	}
	aps := map[string]*Appraiser{}
	for i := range p.Appraisers {
		aps[p.Appraisers[i].ID] = &p.Appraisers[i]
	}
	rooms := map[string]*Room{}
	for i := range p.Rooms {
		rooms[p.Rooms[i].ID] = &p.Rooms[i]
	}

	type hearing struct {
		idx        int
		id         string
		start, end time.Time // [S, S+D)
		occS, occE time.Time // H6 occupation
		day        string
	}
	var hs []hearing
	byAp := map[string][]int{}   // indices into hs
	byRoom := map[string][]int{} // indices into hs
	first := map[string]int{}
	var score Score
	load := map[string]int{}

	for i, a := range s.Assignments {
		sm, ok := sums[a.Summons]
		if !ok {
			c.add("ref", a.Summons, "assignments[%d]: unknown summons %q", i, a.Summons)
			continue
		}
		counted := false
		if j, dup := first[a.Summons]; dup {
			c.add("H1", a.Summons, "summons %s scheduled more than once (assignments[%d] and [%d])", a.Summons, j, i)
		} else {
			first[a.Summons] = i
			counted = true
			score.N++
		}
		start, err := checkTime(a.Start)
		if err != nil {
			c.add("H2", a.Summons, "summons %s: start %q is not YYYY-MM-DDTHH:MM", a.Summons, a.Start)
			continue
		}
		dur := time.Duration(sm.DurationMinutes) * time.Minute
		h := hearing{idx: i, id: a.Summons, start: start, end: start.Add(dur), occS: start, occE: start.Add(dur),
			day: start.Format(dateLayout)}
		if sm.Mode == InPerson {
			h.occS, h.occE = start.Add(-time.Hour), h.end.Add(time.Hour)
		}

		// H2: a working slot of a horizon day, inside one session.
		t, validStart := c.slot(start, h.end)
		if !validStart {
			c.add("H2", a.Summons, "summons %s: %s–%s is not a valid start on a horizon day inside one session",
				a.Summons, a.Start, h.end.Format("15:04"))
		}
		// H3: inside one window.
		inWindow := false
		var earliest time.Time
		for j, w := range sm.Windows {
			ws, e1 := checkTime(w.Start)
			we, e2 := checkTime(w.End)
			if e1 != nil || e2 != nil {
				continue
			}
			if j == 0 || ws.Before(earliest) {
				earliest = ws
			}
			if !start.Before(ws) && !h.end.After(we) {
				inWindow = true
			}
		}
		if !inWindow {
			c.add("H3", a.Summons, "summons %s: %s–%s is not inside any of its windows", a.Summons, a.Start, h.end.Format("15:04"))
		}
		if counted && validStart {
			if t0 := c.firstSlotFrom(earliest); t0 >= 0 {
				score.Delta += t - t0
			}
		}

		c.attendees(sm, a, aps)
		c.room(sm, a, aps, rooms)

		hi := len(hs)
		hs = append(hs, h)
		seen := map[string]bool{}
		for _, id := range a.Appraisers {
			ap, ok := aps[id]
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			byAp[id] = append(byAp[id], hi)
			if counted {
				load[id]++
				score.L = max(score.L, load[id])
			}
			// H6: the occupation meets no busy interval.
			for _, b := range ap.Busy {
				bs, e1 := checkTime(b.Start)
				be, e2 := checkTime(b.End)
				if e1 == nil && e2 == nil && h.occS.Before(be) && bs.Before(h.occE) {
					c.add("H6", a.Summons, "appraiser %s busy %s–%s during the occupation %s–%s of summons %s",
						id, b.Start, b.End, h.occS.Format(timeLayout), h.occE.Format(timeLayout), a.Summons)
				}
			}
		}
		if a.Room != "" {
			byRoom[a.Room] = append(byRoom[a.Room], hi)
		}
	}

	// H7: hearings sharing an attendee have disjoint occupations. H8: the daily cap.
	for _, id := range sortedIDs(byAp) {
		list := byAp[id]
		for x := 0; x < len(list); x++ {
			for y := x + 1; y < len(list); y++ {
				a, b := hs[list[x]], hs[list[y]]
				if a.occS.Before(b.occE) && b.occS.Before(a.occE) {
					c.add("H7", b.id, "appraiser %s attends summons %s (%s–%s) and %s (%s–%s) with overlapping occupations",
						id, a.id, a.occS.Format(timeLayout), a.occE.Format("15:04"), b.id, b.occS.Format(timeLayout), b.occE.Format("15:04"))
				}
			}
		}
		max := aps[id].MaxPerDay
		if max == 0 {
			max = DefaultMaxPerDay
		}
		perDay := map[string]int{}
		for _, x := range list {
			if _, work := c.dayIdx[hs[x].day]; work {
				perDay[hs[x].day]++
			}
		}
		for _, day := range sortedIDs(perDay) {
			if perDay[day] > max {
				c.add("H8", "", "appraiser %s attends %d hearings starting on %s, more than %d", id, perDay[day], day, max)
			}
		}
	}
	// H9: reservations [S, S+D+15) of one room are disjoint.
	for _, id := range sortedIDs(byRoom) {
		list := byRoom[id]
		for x := 0; x < len(list); x++ {
			for y := x + 1; y < len(list); y++ {
				a, b := hs[list[x]], hs[list[y]]
				ae, be := a.end.Add(15*time.Minute), b.end.Add(15*time.Minute)
				if a.start.Before(be) && b.start.Before(ae) {
					c.add("H9", b.id, "room %s reserved by summons %s (%s–%s) and %s (%s–%s), which overlap with the 15-min changeover",
						id, a.id, a.start.Format(timeLayout), ae.Format("15:04"), b.id, b.start.Format(timeLayout), be.Format("15:04"))
				}
			}
		}
	}
	return score, c.out
}

// checker holds the horizon computed from the calendar text and the violations found.
type checker struct {
	p      *Problem
	days   []time.Time    // midnight of each horizon day
	dayIdx map[string]int // YYYY-MM-DD -> horizon index
	out    []Violation
}

func (c *checker) add(constraint, summons, format string, args ...any) {
	c.out = append(c.out, Violation{Constraint: constraint, Summons: summons, Message: fmt.Sprintf(format, args...)})
}

// horizon lists the first num_days dates >= start_date that are Monday–Friday and not
// holidays, or that are listed as workdays (§1).
func (c *checker) horizon() bool {
	cal := c.p.Calendar
	start, err := time.Parse(dateLayout, cal.StartDate)
	if err != nil || cal.NumDays < 1 || cal.NumDays > maxNumDays {
		return false
	}
	hol, work := map[string]bool{}, map[string]bool{}
	for _, h := range cal.Holidays {
		hol[h] = true
	}
	for _, w := range cal.Workdays {
		work[w] = true
	}
	c.dayIdx = map[string]int{}
	for d := start; len(c.days) < cal.NumDays; d = d.AddDate(0, 0, 1) {
		key := d.Format(dateLayout)
		wd := d.Weekday()
		if work[key] || (wd != time.Saturday && wd != time.Sunday && !hol[key]) {
			c.dayIdx[key] = len(c.days)
			c.days = append(c.days, d)
		}
	}
	return true
}

// slotStartTime returns when working slot k (0..27) of horizon day i starts: 14 slots of
// 15 minutes from 08:30, then 14 from 14:00.
func (c *checker) slotStartTime(i, k int) time.Time {
	if k < 14 {
		return c.days[i].Add(8*time.Hour + 30*time.Minute + time.Duration(k)*15*time.Minute)
	}
	return c.days[i].Add(14*time.Hour + time.Duration(k-14)*15*time.Minute)
}

// slot returns the working slot index t = 28*d + k of start if [start, end) is a valid
// hearing: start is a working slot start and end is within the same session.
func (c *checker) slot(start, end time.Time) (int, bool) {
	i, ok := c.dayIdx[start.Format(dateLayout)]
	if !ok {
		return 0, false
	}
	for k := 0; k < 28; k++ {
		if !c.slotStartTime(i, k).Equal(start) {
			continue
		}
		sessionEnd := c.days[i].Add(12 * time.Hour)
		if k >= 14 {
			sessionEnd = c.days[i].Add(17*time.Hour + 30*time.Minute)
		}
		return 28*i + k, !end.After(sessionEnd)
	}
	return 0, false
}

// firstSlotFrom returns the index of the first working slot whose start is >= w, or -1.
func (c *checker) firstSlotFrom(w time.Time) int {
	for i := range c.days {
		if c.slotStartTime(i, 27).Before(w) {
			continue
		}
		for k := 0; k < 28; k++ {
			if !c.slotStartTime(i, k).Before(w) {
				return 28*i + k
			}
		}
	}
	return -1
}

// attendees checks H4.
func (c *checker) attendees(sm *Summons, a Assignment, aps map[string]*Appraiser) {
	seen := map[string]bool{}
	for _, id := range a.Appraisers {
		if seen[id] {
			c.add("H4", sm.ID, "summons %s lists appraiser %s twice", sm.ID, id)
		}
		seen[id] = true
		if _, ok := aps[id]; !ok {
			c.add("H4", sm.ID, "summons %s: unknown appraiser %q", sm.ID, id)
		}
	}
	if sm.Pool == nil {
		want := map[string]bool{}
		for _, id := range sm.Named {
			want[id] = true
		}
		for _, id := range sm.Named {
			if !seen[id] {
				c.add("H4", sm.ID, "summons %s: named appraiser %s does not attend", sm.ID, id)
			}
		}
		for _, id := range a.Appraisers {
			if !want[id] {
				c.add("H4", sm.ID, "summons %s: appraiser %s attends but is not named", sm.ID, id)
			}
		}
		return
	}
	if len(a.Appraisers) != sm.Pool.K || len(seen) != sm.Pool.K {
		c.add("H4", sm.ID, "summons %s needs %d distinct appraisers, has %d", sm.ID, sm.Pool.K, len(seen))
	}
	for _, id := range a.Appraisers {
		ap, ok := aps[id]
		if !ok {
			continue
		}
		if ap.Institution != sm.Pool.Institution {
			c.add("H4", sm.ID, "summons %s: appraiser %s is of institution %s, not %s", sm.ID, id, ap.Institution, sm.Pool.Institution)
		}
		has := false
		for _, cat := range ap.Categories {
			has = has || cat == sm.Pool.Category
		}
		if !has {
			c.add("H4", sm.ID, "summons %s: appraiser %s does not practise %s", sm.ID, id, sm.Pool.Category)
		}
	}
}

// room checks H5.
func (c *checker) room(sm *Summons, a Assignment, aps map[string]*Appraiser, rooms map[string]*Room) {
	if sm.Mode != Remote {
		if a.Room != "" {
			c.add("H5", sm.ID, "in-person summons %s has room %s", sm.ID, a.Room)
		}
		return
	}
	r, ok := rooms[a.Room]
	if !ok {
		c.add("H5", sm.ID, "remote summons %s has no known room (%q)", sm.ID, a.Room)
		return
	}
	var inst string
	if sm.Pool != nil {
		inst = sm.Pool.Institution
	} else if len(sm.Named) > 0 {
		if ap, ok := aps[sm.Named[0]]; ok {
			inst = ap.Institution
		}
	}
	if r.Institution != inst {
		c.add("H5", sm.ID, "summons %s: room %s is at institution %s, its appraisers at %s", sm.ID, r.ID, r.Institution, inst)
	}
}

// checkTime parses a `YYYY-MM-DDTHH:MM` time strictly.
func checkTime(s string) (time.Time, error) {
	if !shaped(s, "dddd-dd-ddTdd:dd") {
		return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DDTHH:MM", s)
	}
	return time.Parse(timeLayout, s)
}

func sortedIDs[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
