package solver

import (
	"fmt"
	"sort"
)

// model is the compact, indexed form of a valid problem the solvers work on: integer ids,
// the horizon as day numbers, per summons its statically feasible starts (working slot
// indices t = 28*d + k), and the base occupancy that no search may change (busy blocks and
// confirmed hearings) as one 44-bit grid word per (appraiser or room, working day).
type model struct {
	p     *Problem
	cal   calendar
	nDays int

	instID   []string
	apID     []string
	apMax    []uint16
	roomID   []string
	roomInst []int32
	roomsAt  [][]int32 // per institution, its rooms in id order

	sums    []sum   // one per p.Summons, same index
	movable []int32 // summons the search decides (all but the fixed ones)

	apBase   []uint64 // [a*nDays+d]: busy blocks and fixed hearings' occupations
	apBaseN  []uint16 // [a*nDays+d]: fixed hearings starting that day
	roomBase []uint64 // [r*nDays+d]: fixed hearings' reservations
	baseLoad []int32  // fixed hearings per appraiser
	fixed    []fixedHearing
	fixedD   int // Δ of the fixed hearings

	apUsers    [][]int32 // movable summons that could use appraiser a
	instRemote [][]int32 // movable remote summons per institution
	warnings   []string
}

// sum is one summons in model form.
type sum struct {
	id     string
	dur    int // slots
	remote bool
	inst   int32   // institution of the room (remote), else -1
	named  []int32 // named appraisers, or nil
	pool   []int32 // eligible appraisers of a pool summons, in id order
	k      int     // attendees
	first  int     // earliest window start, epoch minutes
	t0     int     // first working slot starting at or after first, or -1
	starts []int32 // statically feasible starts, ascending
	fixed  bool
	reason string // why starts is empty
}

// fixedHearing is a confirmed hearing (Options.Fixed) that the search never moves.
type fixedHearing struct {
	a   Assignment
	sum int32
	t   int // working slot of the start, or -1 when the start is not one
}

// compile builds the model of a valid problem with the given fixed hearings. Fixed
// assignments naming unknown summons, appraisers or rooms, or with a bad start, are
// dropped with a warning.
func compile(p *Problem, fixed []Assignment) *model {
	m := &model{p: p}
	m.cal.days = p.Calendar.workingDays()
	m.nDays = len(m.cal.days)
	nD := m.nDays

	instIdx := map[string]int32{}
	for i, in := range p.Institutions {
		instIdx[in.ID] = int32(i)
		m.instID = append(m.instID, in.ID)
	}
	apIdx := map[string]int32{}
	nA := len(p.Appraisers)
	m.apBase = make([]uint64, nA*nD)
	m.apBaseN = make([]uint16, nA*nD)
	m.baseLoad = make([]int32, nA)
	for i, a := range p.Appraisers {
		apIdx[a.ID] = int32(i)
		m.apID = append(m.apID, a.ID)
		mx := a.MaxPerDay
		if mx == 0 {
			mx = DefaultMaxPerDay
		}
		m.apMax = append(m.apMax, uint16(min(mx, 0xffff)))
		for _, b := range a.Busy {
			s, _ := parseTime(b.Start)
			e, _ := parseTime(b.End)
			m.cal.project(s, e, func(d int, mask uint64) { m.apBase[i*nD+d] |= mask })
		}
	}
	roomIdx := map[string]int32{}
	m.roomsAt = make([][]int32, len(p.Institutions))
	m.roomBase = make([]uint64, len(p.Rooms)*nD)
	for i, r := range p.Rooms {
		roomIdx[r.ID] = int32(i)
		m.roomID = append(m.roomID, r.ID)
		in := instIdx[r.Institution]
		m.roomInst = append(m.roomInst, in)
		m.roomsAt[in] = append(m.roomsAt[in], int32(i))
	}
	for _, rs := range m.roomsAt {
		sort.Slice(rs, func(i, j int) bool { return m.roomID[rs[i]] < m.roomID[rs[j]] })
	}

	// Eligible appraisers per (institution, category), in id order (§5 ties).
	eligible := map[[2]string][]int32{}
	for _, s := range p.Summons {
		if s.Pool == nil {
			continue
		}
		key := [2]string{s.Pool.Institution, s.Pool.Category}
		if _, done := eligible[key]; done {
			continue
		}
		var list []int32
		for i, a := range p.Appraisers {
			if a.Institution == key[0] && contains(a.Categories, key[1]) {
				list = append(list, int32(i))
			}
		}
		sort.Slice(list, func(i, j int) bool { return m.apID[list[i]] < m.apID[list[j]] })
		eligible[key] = list
	}

	sumIdx := map[string]int32{}
	m.sums = make([]sum, len(p.Summons))
	for i, s := range p.Summons {
		sumIdx[s.ID] = int32(i)
		sm := &m.sums[i]
		sm.id = s.ID
		sm.dur = s.DurationMinutes / slotMinutes
		sm.remote = s.Mode == Remote
		sm.inst = -1
		sm.first = -1
		for _, w := range s.Windows {
			ws, _ := parseTime(w.Start)
			if sm.first == -1 || ws < sm.first {
				sm.first = ws
			}
		}
		sm.t0 = m.cal.firstSlotAtOrAfter(sm.first)
		if s.Pool != nil {
			sm.pool = eligible[[2]string{s.Pool.Institution, s.Pool.Category}]
			sm.k = s.Pool.K
			if sm.remote {
				sm.inst = instIdx[s.Pool.Institution]
			}
		} else {
			for _, id := range s.Named {
				sm.named = append(sm.named, apIdx[id])
			}
			sm.k = len(sm.named)
			if sm.remote && len(sm.named) > 0 {
				sm.inst = instIdx[p.Appraisers[sm.named[0]].Institution]
			}
		}
	}

	m.addFixed(fixed, sumIdx, apIdx, roomIdx)
	m.fixedD = m.fixedDelta()

	m.apUsers = make([][]int32, nA)
	m.instRemote = make([][]int32, len(p.Institutions))
	for i := range m.sums {
		sm := &m.sums[i]
		if sm.fixed {
			continue
		}
		m.movable = append(m.movable, int32(i))
		m.staticStarts(i)
		if len(sm.starts) == 0 {
			continue
		}
		for _, a := range sm.named {
			m.apUsers[a] = append(m.apUsers[a], int32(i))
		}
		for _, a := range sm.pool {
			m.apUsers[a] = append(m.apUsers[a], int32(i))
		}
		if sm.remote {
			m.instRemote[sm.inst] = append(m.instRemote[sm.inst], int32(i))
		}
	}
	return m
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// addFixed puts the confirmed hearings into the base occupancy.
func (m *model) addFixed(fixed []Assignment, sumIdx, apIdx, roomIdx map[string]int32) {
	nD := m.nDays
	for i, a := range fixed {
		bad := func(format string, args ...any) {
			m.warnings = append(m.warnings, fmt.Sprintf("fixed[%d] (summons %q) dropped: ", i, a.Summons)+fmt.Sprintf(format, args...))
		}
		si, ok := sumIdx[a.Summons]
		if !ok {
			bad("unknown summons")
			continue
		}
		sm := &m.sums[si]
		if sm.fixed {
			bad("summons fixed twice")
			continue
		}
		start, ok := parseTime(a.Start)
		if !ok {
			bad("start %q is not YYYY-MM-DDTHH:MM", a.Start)
			continue
		}
		var aps []int32
		for _, id := range a.Appraisers {
			ai, ok := apIdx[id]
			if !ok {
				bad("unknown appraiser %q", id)
				aps = nil
				break
			}
			aps = append(aps, ai)
		}
		if aps == nil {
			continue
		}
		room := int32(-1)
		if a.Room != "" {
			r, ok := roomIdx[a.Room]
			if !ok {
				bad("unknown room %q", a.Room)
				continue
			}
			room = r
		}
		sm.fixed = true
		dur := sm.dur * slotMinutes
		os, oe := start, start+dur
		if !sm.remote {
			os, oe = start-travelMinutes, oe+travelMinutes
		}
		di := m.cal.dayIndex(int(floorDiv(int64(start), minutesPerDay)))
		for _, ai := range aps {
			m.cal.project(os, oe, func(d int, mask uint64) { m.apBase[int(ai)*nD+d] |= mask })
			if di >= 0 {
				m.apBaseN[int(ai)*nD+di]++
			}
			m.baseLoad[ai]++
		}
		if room >= 0 {
			m.cal.project(start, start+dur+changeover, func(d int, mask uint64) { m.roomBase[int(room)*nD+d] |= mask })
		}
		t := -1
		if di >= 0 {
			for k := 0; k < slotsPerDay; k++ {
				if m.cal.days[di]*minutesPerDay+slotOffset(k) == start {
					t = di*slotsPerDay + k
				}
			}
		}
		m.fixed = append(m.fixed, fixedHearing{a: a, sum: si, t: t})
	}
}

// baseFree reports whether appraiser a can take an occupation mask on day d given only
// busy blocks and fixed hearings.
func (m *model) baseFree(a int32, d int, mask uint64) bool {
	i := int(a)*m.nDays + d
	return m.apBase[i]&mask == 0 && m.apBaseN[i] < m.apMax[a]
}

// staticStarts computes the starts of summons i that are valid (H2), inside a window (H3)
// and feasible against busy blocks and fixed hearings alone; when there are none it says
// why in sum.reason.
func (m *model) staticStarts(i int) {
	sm := &m.sums[i]
	s := &m.p.Summons[i]
	pool := s.Pool
	switch {
	case sm.dur > slotsPerSession:
		sm.reason = fmt.Sprintf("duration %d min does not fit in a working session (3 h 30 min)", s.DurationMinutes)
		return
	case pool != nil && len(sm.pool) < sm.k:
		sm.reason = fmt.Sprintf("needs %d appraisers of %s at %s, has %d", sm.k, pool.Category, pool.Institution, len(sm.pool))
		return
	case sm.remote && len(m.roomsAt[sm.inst]) == 0:
		sm.reason = fmt.Sprintf("no room at institution %s", m.instID[sm.inst])
		return
	}
	var cand []int32
	for _, w := range s.Windows {
		ws, _ := parseTime(w.Start)
		we, _ := parseTime(w.End)
		d := sort.SearchInts(m.cal.days, int(floorDiv(int64(ws), minutesPerDay)))
		for ; d < m.nDays && m.cal.days[d]*minutesPerDay < we; d++ {
			base := m.cal.days[d] * minutesPerDay
			for k := 0; k < slotsPerDay; k++ {
				st := base + slotOffset(k)
				if st >= ws && st+sm.dur*slotMinutes <= we && fitsSession(k, sm.dur) {
					cand = append(cand, int32(d*slotsPerDay+k))
				}
			}
		}
	}
	sort.Slice(cand, func(a, b int) bool { return cand[a] < cand[b] })
	cand = dedupe(cand)
	if len(cand) == 0 {
		sm.reason = "no valid start inside its windows on the horizon"
		return
	}
	apOK := 0
	for _, t := range cand {
		d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
		om := occMask(k, sm.dur, sm.remote)
		if !m.baseAppraisers(sm, d, om) {
			continue
		}
		apOK++
		if sm.remote && !m.baseRoom(sm, d, resMask(k, sm.dur)) {
			continue
		}
		sm.starts = append(sm.starts, t)
	}
	switch {
	case len(sm.starts) > 0:
	case apOK > 0:
		sm.reason = fmt.Sprintf("no free room at institution %s (confirmed hearings) when its appraisers are free", m.instID[sm.inst])
	case pool != nil:
		sm.reason = fmt.Sprintf("fewer than %d appraisers of %s at %s free at any valid start inside its windows", sm.k, pool.Category, pool.Institution)
	default:
		sm.reason = "its named appraisers are never free together inside its windows"
		for _, a := range sm.named {
			free := false
			for _, t := range cand {
				d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
				if m.baseFree(a, d, occMask(k, sm.dur, sm.remote)) {
					free = true
					break
				}
			}
			if !free {
				sm.reason = fmt.Sprintf("appraiser %s busy in every window", m.apID[a])
				break
			}
		}
	}
}

func (m *model) baseAppraisers(sm *sum, d int, om uint64) bool {
	if sm.named != nil {
		for _, a := range sm.named {
			if !m.baseFree(a, d, om) {
				return false
			}
		}
		return true
	}
	n := 0
	for _, a := range sm.pool {
		if m.baseFree(a, d, om) {
			if n++; n >= sm.k {
				return true
			}
		}
	}
	return false
}

func (m *model) baseRoom(sm *sum, d int, rm uint64) bool {
	for _, r := range m.roomsAt[sm.inst] {
		if m.roomBase[int(r)*m.nDays+d]&rm == 0 {
			return true
		}
	}
	return false
}

func dedupe(a []int32) []int32 {
	out := a[:0]
	for i, v := range a {
		if i == 0 || v != a[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// fixedDelta is the Δ of the fixed hearings whose start is a working slot.
func (m *model) fixedDelta() int {
	d := 0
	for _, f := range m.fixed {
		if t0 := m.sums[f.sum].t0; f.t >= 0 && t0 >= 0 {
			d += f.t - t0
		}
	}
	return d
}
