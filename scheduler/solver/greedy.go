package solver

import (
	"slices"
	"sort"
)

// Greedy returns the earliest-feasible baseline of SCHEDULING.md §5: summons in order of
// their earliest window start (ties: id, by byte order), each at its earliest start
// feasible given the hearings already placed, a pool summons with the k least-loaded free
// eligible appraisers (load = hearings assigned so far; ties: id order), a remote summons
// in the first free room of its institution (id order); no backtracking. An invalid problem
// (see Validate) gets an empty schedule.
func Greedy(p *Problem) *Schedule {
	if p.Validate() != nil {
		return &Schedule{Instance: p.Name, Solver: "greedy", Assignments: []Assignment{}}
	}
	m := compile(p, nil)
	st := newState(m)
	st.fill(m.order(orderSpec), &pick{})
	return st.schedule("greedy")
}

// An ordering of the movable summons for a constructive pass.
const (
	orderSpec     = iota // earliest window start, then id (§5)
	orderDeadline        // latest feasible start first to expire
	orderFewest          // fewest feasible starts first
	orderSlack           // narrowest span between first and last feasible start
	numOrders
)

// order returns the movable summons that have a static start, in the given order.
func (m *model) order(kind int) []int32 {
	out := make([]int32, 0, len(m.movable))
	for _, s := range m.movable {
		if len(m.sums[s].starts) > 0 {
			out = append(out, s)
		}
	}
	key := func(s int32) (int, int) {
		sm := &m.sums[s]
		first, last := int(sm.starts[0]), int(sm.starts[len(sm.starts)-1])
		switch kind {
		case orderDeadline:
			return last, first
		case orderFewest:
			return len(sm.starts), first
		case orderSlack:
			return last - first, first
		}
		return sm.first, 0
	}
	sort.SliceStable(out, func(i, j int) bool {
		a1, a2 := key(out[i])
		b1, b2 := key(out[j])
		if a1 != b1 {
			return a1 < b1
		}
		if a2 != b2 {
			return a2 < b2
		}
		return m.sums[out[i]].id < m.sums[out[j]].id
	})
	return out
}

// fill inserts the unscheduled summons of order one by one; it returns how many it placed.
func (st *state) fill(order []int32, p *pick) int {
	n := 0
	for _, s := range order {
		if st.start[s] < 0 && st.insert(s, p) {
			n++
		}
	}
	return n
}

// schedule writes the state out: the fixed hearings as given, then the scheduled summons,
// sorted by start and summons id. Pool attendees are listed in id order, named ones in the
// summons' order.
func (st *state) schedule(solver string) *Schedule {
	m := st.m
	out := &Schedule{Instance: m.p.Name, Solver: solver, Assignments: []Assignment{}}
	for _, f := range m.fixed {
		a := f.a
		a.Appraisers = slices.Clone(a.Appraisers)
		out.Assignments = append(out.Assignments, a)
	}
	for s, t := range st.start {
		if t < 0 {
			continue
		}
		a := Assignment{Summons: m.sums[s].id, Start: formatTime(m.cal.slotStart(int(t)))}
		if r := st.room[s]; r >= 0 {
			a.Room = m.roomID[r]
		}
		for _, ap := range st.attendees(int32(s)) {
			a.Appraisers = append(a.Appraisers, m.apID[ap])
		}
		if m.sums[s].named == nil {
			sort.Strings(a.Appraisers)
		}
		out.Assignments = append(out.Assignments, a)
	}
	sort.SliceStable(out.Assignments, func(i, j int) bool {
		a, b := out.Assignments[i], out.Assignments[j]
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.Summons < b.Summons
	})
	return out
}
