package solver

import "math/rand/v2"

// state is a partial schedule of the movable summons on top of a model's base occupancy,
// with everything the searches query kept incrementally: occupancy grid words, daily counts,
// loads and their histogram (for L), N and Δ. place and unplace are O(attendees); nothing
// on these paths allocates once the per-appraiser lists have grown.
type state struct {
	m *model

	occ  []uint64 // [a*nDays+d]
	cnt  []uint16 // [a*nDays+d]
	res  []uint64 // [r*nDays+d]
	load []int32  // hearings per appraiser, fixed ones included
	hist []int32  // hist[l] = appraisers with load l
	maxL int

	start  []int32 // per summons: working slot, or -1 when unscheduled
	room   []int32 // per summons: room, or -1
	attOff []int32 // att[attOff[s]:attOff[s]+k] are the attendees of s
	att    []int32

	byAp   [][]int32 // scheduled movable summons per appraiser
	byRoom [][]int32 // scheduled movable summons per room

	n, delta int // movable summons scheduled, and their Δ

	scratch []int32 // free eligible appraisers at one start
}

func newState(m *model) *state {
	nA, nR := len(m.apID), len(m.roomID)
	st := &state{
		m:      m,
		occ:    make([]uint64, len(m.apBase)),
		cnt:    make([]uint16, len(m.apBaseN)),
		res:    make([]uint64, len(m.roomBase)),
		load:   make([]int32, nA),
		hist:   make([]int32, len(m.sums)+2),
		start:  make([]int32, len(m.sums)),
		room:   make([]int32, len(m.sums)),
		attOff: make([]int32, len(m.sums)+1),
		byAp:   make([][]int32, nA),
		byRoom: make([][]int32, nR),
	}
	off := 0
	for i := range m.sums {
		st.attOff[i] = int32(off)
		off += m.sums[i].k
	}
	st.attOff[len(m.sums)] = int32(off)
	st.att = make([]int32, off)
	st.reset()
	return st
}

// reset empties the schedule back to the base occupancy.
func (st *state) reset() {
	m := st.m
	copy(st.occ, m.apBase)
	copy(st.cnt, m.apBaseN)
	copy(st.res, m.roomBase)
	copy(st.load, m.baseLoad)
	clear(st.hist)
	st.maxL = 0
	for _, l := range st.load {
		st.hist[l]++
		st.maxL = max(st.maxL, int(l))
	}
	for i := range st.start {
		st.start[i], st.room[i] = -1, -1
	}
	for i := range st.byAp {
		st.byAp[i] = st.byAp[i][:0]
	}
	for i := range st.byRoom {
		st.byRoom[i] = st.byRoom[i][:0]
	}
	st.n, st.delta = 0, 0
}

// attendees returns the attendee slot of summons s (valid while s is scheduled).
func (st *state) attendees(s int32) []int32 {
	return st.att[st.attOff[s]:st.attOff[s+1]]
}

// score returns (N, Δ, L) of the movable part plus the fixed hearings' N and Δ.
func (st *state) score() Score {
	return Score{N: st.n + len(st.m.fixed), Delta: st.delta + st.m.fixedD, L: st.maxL}
}

// free reports whether appraiser a can take occupation mask om on day d now.
func (st *state) free(a int32, d int, om uint64) bool {
	i := int(a)*st.m.nDays + d
	return st.occ[i]&om == 0 && st.cnt[i] < st.m.apMax[a]
}

// roomFree reports whether room r can take reservation mask rm on day d now.
func (st *state) roomFree(r int32, d int, rm uint64) bool {
	return st.res[int(r)*st.m.nDays+d]&rm == 0
}

// place schedules s at slot t with room r (or -1) and the attendees in aps, which must be
// feasible; aps may alias st.scratch.
func (st *state) place(s int32, t int32, r int32, aps []int32) {
	m := st.m
	sm := &m.sums[s]
	d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
	om := occMask(k, sm.dur, sm.remote)
	dst := st.attendees(s)
	copy(dst, aps)
	for _, a := range dst {
		i := int(a)*m.nDays + d
		st.occ[i] |= om
		st.cnt[i]++
		st.bump(a, +1)
		st.byAp[a] = append(st.byAp[a], s)
	}
	if r >= 0 {
		st.res[int(r)*m.nDays+d] |= resMask(k, sm.dur)
		st.byRoom[r] = append(st.byRoom[r], s)
	}
	st.start[s], st.room[s] = t, r
	st.n++
	st.delta += int(t) - sm.t0
}

// unplace removes the hearing of s, which must be scheduled.
func (st *state) unplace(s int32) {
	m := st.m
	sm := &m.sums[s]
	t, r := st.start[s], st.room[s]
	d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
	om := occMask(k, sm.dur, sm.remote)
	for _, a := range st.attendees(s) {
		i := int(a)*m.nDays + d
		st.occ[i] &^= om
		st.cnt[i]--
		st.bump(a, -1)
		st.byAp[a] = remove(st.byAp[a], s)
	}
	if r >= 0 {
		st.res[int(r)*m.nDays+d] &^= resMask(k, sm.dur)
		st.byRoom[r] = remove(st.byRoom[r], s)
	}
	st.start[s], st.room[s] = -1, -1
	st.n--
	st.delta -= int(t) - sm.t0
}

func remove(list []int32, s int32) []int32 {
	for i, v := range list {
		if v == s {
			list[i] = list[len(list)-1]
			return list[:len(list)-1]
		}
	}
	return list
}

// bump changes the load of a by delta and keeps the histogram and maximum.
func (st *state) bump(a int32, delta int32) {
	l := st.load[a]
	st.hist[l]--
	st.load[a] = l + delta
	st.hist[l+delta]++
	if int(l+delta) > st.maxL {
		st.maxL = int(l + delta)
	}
	for st.maxL > 0 && st.hist[st.maxL] == 0 {
		st.maxL--
	}
}

// pick is how insert chooses among feasible options.
type pick struct {
	rnd *rand.Rand // nil: deterministic §5 choices
	// randPool is the chance (out of 16) that a pool summons takes a random free set rather
	// than the least-loaded one; randRoom likewise for a random free room.
	randPool, randRoom int
	// skip is the chance (out of 16) of passing over a feasible start, so that a summons
	// sometimes leaves its earliest start to another.
	skip int
}

// insert places s at its earliest start feasible now, choosing attendees and room as p
// says; it reports whether it found one.
func (st *state) insert(s int32, p *pick) bool {
	sm := &st.m.sums[s]
	for _, t := range sm.starts {
		if p.rnd != nil && p.skip > 0 && p.rnd.IntN(16) < p.skip {
			continue
		}
		if st.tryAt(s, t, p) {
			return true
		}
	}
	return false
}

// tryAt places s at slot t if it is feasible now.
func (st *state) tryAt(s int32, t int32, p *pick) bool {
	m := st.m
	sm := &m.sums[s]
	d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
	om := occMask(k, sm.dur, sm.remote)
	var aps []int32
	if sm.named != nil {
		for _, a := range sm.named {
			if !st.free(a, d, om) {
				return false
			}
		}
		aps = sm.named
	} else {
		free := st.scratch[:0]
		for _, a := range sm.pool {
			if st.free(a, d, om) {
				free = append(free, a)
			}
		}
		st.scratch = free
		if len(free) < sm.k {
			return false
		}
		aps = st.choose(free, sm.k, p)
	}
	r := int32(-1)
	if sm.remote {
		r = st.chooseRoom(sm, d, resMask(k, sm.dur), p)
		if r < 0 {
			return false
		}
	}
	st.place(s, t, r, aps)
	return true
}

// choose moves k of the free appraisers to the front of free and returns them: the k
// least loaded, ties in id order (free is in id order), or with p's randomness a shuffled
// tie order or a random set.
func (st *state) choose(free []int32, k int, p *pick) []int32 {
	if p.rnd != nil && p.randPool > 0 {
		r := p.rnd.IntN(16)
		if r < p.randPool {
			p.rnd.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
			if r < p.randPool/2 {
				return free[:k]
			}
		}
	}
	for i := 0; i < k; i++ {
		best := i
		for j := i + 1; j < len(free); j++ {
			if st.load[free[j]] < st.load[free[best]] {
				best = j
			}
		}
		// Keep the tie order of the rest: rotate rather than swap.
		v := free[best]
		copy(free[i+1:best+1], free[i:best])
		free[i] = v
	}
	return free[:k]
}

// chooseRoom returns a room of the summons' institution free for reservation mask rm on
// day d: the first in id order (§5), or sometimes a random free one; -1 if none.
func (st *state) chooseRoom(sm *sum, d int, rm uint64, p *pick) int32 {
	rooms := st.m.roomsAt[sm.inst]
	if p.rnd != nil && p.randRoom > 0 && len(rooms) > 1 && p.rnd.IntN(16) < p.randRoom {
		off := p.rnd.IntN(len(rooms))
		for i := range rooms {
			r := rooms[(i+off)%len(rooms)]
			if st.roomFree(r, d, rm) {
				return r
			}
		}
		return -1
	}
	for _, r := range rooms {
		if st.roomFree(r, d, rm) {
			return r
		}
	}
	return -1
}

// feasibleAt reports whether s could be placed at t now (any attendees, any room).
func (st *state) feasibleAt(s int32, t int32) bool {
	m := st.m
	sm := &m.sums[s]
	d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
	om := occMask(k, sm.dur, sm.remote)
	if sm.named != nil {
		for _, a := range sm.named {
			if !st.free(a, d, om) {
				return false
			}
		}
	} else {
		n := 0
		for _, a := range sm.pool {
			if st.free(a, d, om) {
				n++
			}
		}
		if n < sm.k {
			return false
		}
	}
	if sm.remote {
		rm := resMask(k, sm.dur)
		for _, r := range m.roomsAt[sm.inst] {
			if st.roomFree(r, d, rm) {
				return true
			}
		}
		return false
	}
	return true
}

// snapshot is a saved schedule of the movable summons.
type snapshot struct {
	start, room, att []int32
	score            Score
}

func (st *state) save(into *snapshot) {
	into.start = append(into.start[:0], st.start...)
	into.room = append(into.room[:0], st.room...)
	into.att = append(into.att[:0], st.att...)
	into.score = st.score()
}

// restore replaces the schedule with a snapshot.
func (st *state) restore(from *snapshot) {
	st.reset()
	for s, t := range from.start {
		if t >= 0 {
			st.place(int32(s), t, from.room[s], from.att[st.attOff[s]:st.attOff[s+1]])
		}
	}
}
