package solver

import (
	"context"
	"time"
)

// bnb is an exact depth-first branch and bound over the schedulable summons, in §5 order.
// Each summons is decided in turn: one of its options now feasible (start ascending, so the
// first leaves are earliest-start schedules; every k-subset of the free eligible appraisers
// of a pool summons; every free room, but only one of the rooms whose reservations that day
// are identical, since such rooms are interchangeable for the rest of the search), or
// unscheduled last. A node is cut when even its optimistic completion cannot beat the
// incumbent: N can rise at most by the remaining summons that still have a feasible option,
// and if that only ties the incumbent's N, every one of them must be placed, at no less
// than its earliest feasible delay.
type bnb struct {
	st       *state
	m        *model
	order    []int32
	best     *snapshot
	nodes    int
	limit    int
	ctx      context.Context
	deadline time.Time
	stopped  bool

	free  [][]int32 // per depth: free eligible appraisers
	combo [][]int32 // per depth: the chosen subset
	idx   [][]int   // per depth: positions of the subset in free
}

// run searches from the current (empty) state; b.stopped reports a budget cut.
func (b *bnb) run() {
	b.free = make([][]int32, len(b.order))
	b.combo = make([][]int32, len(b.order))
	b.idx = make([][]int, len(b.order))
	for i, s := range b.order {
		b.free[i] = make([]int32, 0, len(b.m.sums[s].pool))
		b.combo[i] = make([]int32, b.m.sums[s].k)
		b.idx[i] = make([]int, b.m.sums[s].k)
	}
	b.dfs(0)
}

func (b *bnb) dfs(i int) {
	if b.stopped {
		return
	}
	b.nodes++
	if b.nodes > b.limit || (b.nodes&1023 == 0 && (time.Now().After(b.deadline) || b.ctx.Err() != nil)) {
		b.stopped = true
		return
	}
	st := b.st
	if i == len(b.order) {
		if st.score().Better(b.best.score) {
			st.save(b.best)
		}
		return
	}
	if b.prune(i) {
		return
	}
	s := b.order[i]
	sm := &b.m.sums[s]
	for _, t := range sm.starts {
		d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
		om := occMask(k, sm.dur, sm.remote)
		if sm.named != nil {
			ok := true
			for _, a := range sm.named {
				ok = ok && st.free(a, d, om)
			}
			if ok {
				b.rooms(i, s, t, sm.named)
			}
			continue
		}
		free := b.free[i][:0]
		for _, a := range sm.pool {
			if st.free(a, d, om) {
				free = append(free, a)
			}
		}
		b.free[i] = free
		if len(free) < sm.k {
			continue
		}
		// Every k-subset of free, in lexicographic order of positions.
		idx := b.idx[i]
		for j := range idx {
			idx[j] = j
		}
		for {
			for j, x := range idx {
				b.combo[i][j] = free[x]
			}
			b.rooms(i, s, t, b.combo[i])
			if b.stopped {
				return
			}
			j := sm.k - 1
			for j >= 0 && idx[j] == len(free)-sm.k+j {
				j--
			}
			if j < 0 {
				break
			}
			idx[j]++
			for x := j + 1; x < sm.k; x++ {
				idx[x] = idx[x-1] + 1
			}
		}
	}
	b.dfs(i + 1)
}

// rooms branches over the rooms of a remote summons (or none) and recurses.
func (b *bnb) rooms(i int, s, t int32, aps []int32) {
	st, m := b.st, b.m
	sm := &m.sums[s]
	if !sm.remote {
		st.place(s, t, -1, aps)
		b.dfs(i + 1)
		st.unplace(s)
		return
	}
	d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
	rm := resMask(k, sm.dur)
	rooms := m.roomsAt[sm.inst]
	for ri, r := range rooms {
		if !st.roomFree(r, d, rm) {
			continue
		}
		same := false
		for _, r2 := range rooms[:ri] {
			if st.res[int(r2)*m.nDays+d] == st.res[int(r)*m.nDays+d] {
				same = true
				break
			}
		}
		if same {
			continue
		}
		st.place(s, t, r, aps)
		b.dfs(i + 1)
		st.unplace(s)
		if b.stopped {
			return
		}
	}
}

// prune reports whether no completion of the current node can beat the incumbent.
func (b *bnb) prune(i int) bool {
	st := b.st
	nub, dlb := st.n+len(b.m.fixed), st.delta+b.m.fixedD
	for _, s := range b.order[i:] {
		sm := &b.m.sums[s]
		for _, t := range sm.starts {
			if st.feasibleAt(s, t) {
				nub++
				dlb += int(t) - sm.t0
				break
			}
		}
	}
	best := b.best.score
	if nub != best.N {
		return nub < best.N
	}
	if dlb != best.Delta {
		return dlb > best.Delta
	}
	return st.maxL >= best.L
}
