package solver

import "fmt"

// reason says why the unscheduled summons s could not be placed in the current schedule.
// Static reasons (nothing to do with other summons) come from compile; otherwise the
// summons could be placed alone and the other hearings are in the way, and the reason
// names what is taken: a named appraiser at every start, too few pool appraisers, or the
// rooms.
func (st *state) reason(s int32) string {
	m := st.m
	sm := &m.sums[s]
	if len(sm.starts) == 0 {
		return sm.reason
	}
	const prefix = "conflicts with other summons (could be placed alone): "
	apOK := false
	for _, t := range sm.starts {
		if st.appraisersFree(sm, t) {
			apOK = true
			break
		}
	}
	if apOK && sm.remote {
		return prefix + fmt.Sprintf("no free room at institution %s when its appraisers are free", m.instID[sm.inst])
	}
	if sm.named == nil {
		pool := m.p.Summons[s].Pool
		return prefix + fmt.Sprintf("fewer than %d appraisers of %s at %s free at every feasible start", sm.k, pool.Category, pool.Institution)
	}
	for _, a := range sm.named {
		taken := true
		for _, t := range sm.starts {
			d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
			if st.free(a, d, occMask(k, sm.dur, sm.remote)) {
				taken = false
				break
			}
		}
		if taken {
			return prefix + fmt.Sprintf("appraiser %s is in other hearings (or at the daily cap) at every feasible start", m.apID[a])
		}
	}
	return prefix + "its named appraisers are never free together"
}

// appraisersFree reports whether enough attendees of sm are free at t now.
func (st *state) appraisersFree(sm *sum, t int32) bool {
	d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
	om := occMask(k, sm.dur, sm.remote)
	if sm.named != nil {
		for _, a := range sm.named {
			if !st.free(a, d, om) {
				return false
			}
		}
		return true
	}
	n := 0
	for _, a := range sm.pool {
		if st.free(a, d, om) {
			n++
		}
	}
	return n >= sm.k
}

// Explain returns, in problem order, each summons of p that s leaves unscheduled with the
// reason it could not be placed given the hearings of s (as Report.Unscheduled does for
// Solve): for a schedule from Greedy, or one a clerk edited. Assignments naming unknown
// summons, appraisers or rooms, or starting off the working slots, still count as placing
// their summons but occupy nothing. An invalid problem gets nil.
func Explain(p *Problem, s *Schedule) []Unplaced {
	if p.Validate() != nil {
		return nil
	}
	m := compile(p, nil)
	st := newState(m)
	sumIdx := map[string]int32{}
	for i := range m.sums {
		sumIdx[m.sums[i].id] = int32(i)
	}
	apIdx := map[string]int32{}
	for i, id := range m.apID {
		apIdx[id] = int32(i)
	}
	roomIdx := map[string]int32{}
	for i, id := range m.roomID {
		roomIdx[id] = int32(i)
	}
	scheduled := make([]bool, len(m.sums))
	for _, a := range s.Assignments {
		si, ok := sumIdx[a.Summons]
		if !ok || scheduled[si] {
			continue
		}
		scheduled[si] = true
		if t := m.slotOf(a.Start); t >= 0 && len(a.Appraisers) == m.sums[si].k {
			var aps []int32
			for _, id := range a.Appraisers {
				if ai, ok := apIdx[id]; ok {
					aps = append(aps, ai)
				}
			}
			r, ok := roomIdx[a.Room]
			if !ok {
				r = -1
			}
			if len(aps) == m.sums[si].k && int(t)%slotsPerDay+m.sums[si].dur <= slotsPerDay {
				st.place(si, t, r, aps)
			}
		}
	}
	var out []Unplaced
	for _, si := range m.movable {
		if !scheduled[si] {
			out = append(out, Unplaced{Summons: m.sums[si].id, Reason: st.reason(si)})
		}
	}
	return out
}

// slotOf returns the working slot starting at a `YYYY-MM-DDTHH:MM` time, or -1.
func (m *model) slotOf(s string) int32 {
	min, ok := parseTime(s)
	if !ok {
		return -1
	}
	d := m.cal.dayIndex(int(floorDiv(int64(min), minutesPerDay)))
	if d < 0 {
		return -1
	}
	for k := 0; k < slotsPerDay; k++ {
		if m.cal.days[d]*minutesPerDay+slotOffset(k) == min {
			return int32(d*slotsPerDay + k)
		}
	}
	return -1
}
