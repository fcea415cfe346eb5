package solver

// The neighbourhoods of the large-neighbourhood search. Each changes the state only through
// kick, touch-then-place and repair, so that lns.undo can restore it.

// insertMove forces an unscheduled summons in at one of its static starts, ejecting what
// blocks it there, and reinserts the ejected (see eject and repair).
func (l *lns) insertMove() bool {
	s := l.randomPending(false)
	if s < 0 {
		return false
	}
	starts := l.m.sums[s].starts
	return l.eject(s, starts[l.early(len(starts))], 0)
}

// earlierMove moves a scheduled summons that is later than its earliest static start to an
// earlier static start the same way.
func (l *lns) earlierMove() bool {
	st := l.st
	s := int32(-1)
	for s < 0 {
		if len(l.delayed) == 0 {
			if l.delayedFresh {
				return false
			}
			// Rebuild the list of delayed summons; it goes stale as moves run, and stale
			// entries are dropped when drawn.
			for _, c := range l.pending {
				if t := st.start[c]; t >= 0 && t > l.m.sums[c].starts[0] {
					l.delayed = append(l.delayed, c)
				}
			}
			l.delayedFresh = true
			continue
		}
		i := l.rng.IntN(len(l.delayed))
		c := l.delayed[i]
		if t := st.start[c]; t >= 0 && t > l.m.sums[c].starts[0] {
			s = c
		} else {
			l.delayed[i] = l.delayed[len(l.delayed)-1]
			l.delayed = l.delayed[:len(l.delayed)-1]
		}
	}
	l.delayedFresh = false
	starts := l.m.sums[s].starts
	cur := st.start[s]
	n := 0
	for n < len(starts) && starts[n] < cur {
		n++
	}
	return l.eject(s, starts[l.early(n)], 0)
}

// eject places s at static start t after removing every hearing in its way: those whose
// occupation meets the attendees' on that day, one more of an attendee at the daily cap,
// and those overlapping the reservation of the chosen room. Pool attendees and the room
// prefer ones free now. Then it repairs.
func (l *lns) eject(s int32, t int32, depth int) bool {
	st, m := l.st, l.m
	sm := &m.sums[s]
	d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
	om := occMask(k, sm.dur, sm.remote)
	l.touch(s)
	if st.start[s] >= 0 {
		st.unplace(s)
	}
	aps := l.aps[:0]
	if sm.named != nil {
		aps = append(aps, sm.named...)
	} else {
		f1, f2 := l.free1[:0], l.free2[:0]
		for _, a := range sm.pool {
			if !m.baseFree(a, d, om) {
				continue
			}
			if st.free(a, d, om) {
				f1 = append(f1, a)
			} else {
				f2 = append(f2, a)
			}
		}
		if len(f1)+len(f2) < sm.k {
			return false
		}
		if len(f1) >= sm.k || l.rng.IntN(2) == 0 {
			// The free ones first (least loaded), then random blocked ones.
			aps = append(aps, st.choose(f1, min(sm.k, len(f1)), &l.pick)...)
			l.rng.Shuffle(len(f2), func(i, j int) { f2[i], f2[j] = f2[j], f2[i] })
			aps = append(aps, f2[:sm.k-len(aps)]...)
		} else {
			// Any base-free set: lets the search try attendees that are taken now.
			f2 = append(f2, f1...)
			l.rng.Shuffle(len(f2), func(i, j int) { f2[i], f2[j] = f2[j], f2[i] })
			aps = append(aps, f2[:sm.k]...)
		}
		l.free1, l.free2 = f1, f2
	}
	l.aps = aps
	for _, a := range aps {
		l.hs = l.hs[:0]
		for _, h := range st.byAp[a] {
			hk := int(st.start[h]) % slotsPerDay
			if int(st.start[h])/slotsPerDay == d && occMask(hk, m.sums[h].dur, m.sums[h].remote)&om != 0 {
				l.hs = append(l.hs, h)
			}
		}
		for _, h := range l.hs {
			l.kick(h)
		}
		for st.cnt[int(a)*m.nDays+d] >= m.apMax[a] {
			l.hs = l.hs[:0]
			for _, h := range st.byAp[a] {
				if int(st.start[h])/slotsPerDay == d {
					l.hs = append(l.hs, h)
				}
			}
			if len(l.hs) == 0 {
				return false
			}
			l.kick(l.hs[l.rng.IntN(len(l.hs))])
		}
	}
	r := int32(-1)
	if sm.remote {
		rm := resMask(k, sm.dur)
		if r = st.chooseRoom(sm, d, rm, &l.pick); r < 0 {
			rooms := m.roomsAt[sm.inst]
			off := l.rng.IntN(len(rooms))
			for i := range rooms {
				if c := rooms[(i+off)%len(rooms)]; m.roomBase[int(c)*m.nDays+d]&rm == 0 {
					r = c
					break
				}
			}
			if r < 0 {
				return false
			}
			l.hs = l.hs[:0]
			for _, h := range st.byRoom[r] {
				hk := int(st.start[h]) % slotsPerDay
				if int(st.start[h])/slotsPerDay == d && resMask(hk, m.sums[h].dur)&rm != 0 {
					l.hs = append(l.hs, h)
				}
			}
			for _, h := range l.hs {
				l.kick(h)
			}
		}
	}
	for _, a := range aps {
		if !st.free(a, d, om) {
			return false
		}
	}
	st.place(s, t, r, aps)
	l.repair(depth)
	return true
}

// ruinRandom removes a few random hearings and repairs.
func (l *lns) ruinRandom() bool {
	q := 2 + l.rng.IntN(maxRuin-1)
	for i := 0; i < q; i++ {
		if s := l.randomPending(true); s >= 0 && l.stamp[s] != l.epoch {
			l.kick(s)
		}
	}
	if len(l.removed) == 0 {
		return false
	}
	l.repair(0)
	return true
}

// ruinRelated removes a hearing and those sharing an appraiser with it on the days around,
// or its room that day, and repairs: the hearings that compete for the same resources.
func (l *lns) ruinRelated() bool {
	st := l.st
	seed := l.randomPending(true)
	if seed < 0 {
		return false
	}
	d := int(st.start[seed]) / slotsPerDay
	q := 3 + l.rng.IntN(maxRuin-2)
	hs := l.hs[:0]
	for _, a := range st.attendees(seed) {
		for _, h := range st.byAp[a] {
			if hd := int(st.start[h]) / slotsPerDay; hd >= d-1 && hd <= d+1 {
				hs = append(hs, h)
			}
		}
	}
	if r := st.room[seed]; r >= 0 {
		for _, h := range st.byRoom[r] {
			if int(st.start[h])/slotsPerDay == d {
				hs = append(hs, h)
			}
		}
	}
	l.rng.Shuffle(len(hs), func(i, j int) { hs[i], hs[j] = hs[j], hs[i] })
	l.hs = hs
	l.kick(seed)
	for _, h := range hs {
		if len(l.removed) >= q {
			break
		}
		if st.start[h] >= 0 {
			l.kick(h)
		}
	}
	l.repair(0)
	return true
}

// rebalance gives a pool hearing of a most-loaded appraiser to a less loaded eligible one
// free at that time: it aims at L.
func (l *lns) rebalance() bool {
	st, m := l.st, l.m
	a, seen := int32(-1), 0
	for i, ld := range st.load {
		if int(ld) == st.maxL {
			if seen++; l.rng.IntN(seen) == 0 {
				a = int32(i)
			}
		}
	}
	if a < 0 || len(st.byAp[a]) == 0 {
		return false
	}
	h := st.byAp[a][l.rng.IntN(len(st.byAp[a]))]
	sm := &m.sums[h]
	if sm.named != nil {
		return false
	}
	t, r := st.start[h], st.room[h]
	d, k := int(t)/slotsPerDay, int(t)%slotsPerDay
	om := occMask(k, sm.dur, sm.remote)
	l.aps = append(l.aps[:0], st.attendees(h)...)
	l.touch(h)
	st.unplace(h)
	for _, b := range sm.pool {
		if st.load[b] >= st.load[a]-1 || !st.free(b, d, om) || containsID(l.aps, b) {
			continue
		}
		for i := range l.aps {
			if l.aps[i] == a {
				l.aps[i] = b
			}
		}
		st.place(h, t, r, l.aps)
		return true
	}
	return false
}

func containsID(list []int32, v int32) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// repair reinserts the removed hearings, together with unscheduled summons that could use
// the appraisers or rooms the move freed, in a randomised order, each at its earliest
// feasible start.
func (l *lns) repair(depth int) {
	st, m := l.st, l.m
	l.markEp++
	cand := l.cand[:0]
	for _, h := range l.removed {
		if l.mark[h] != l.markEp {
			l.mark[h] = l.markEp
			cand = append(cand, h)
		}
	}
	extra := 0
	for i := range l.touched {
		if l.oldStart[i] < 0 || extra >= maxRelated {
			continue
		}
		for _, a := range l.oldAtt[l.oldOff[i]:l.oldOff[i+1]] {
			cand, extra = l.related(cand, extra, m.apUsers[a])
		}
		if r := l.oldRoom[i]; r >= 0 {
			cand, extra = l.related(cand, extra, m.instRemote[m.roomInst[r]])
		}
	}
	// Order: §5 order, fewest starts, deadline, or random, each with random tie noise.
	keys := l.keys[:0]
	variant := l.rng.IntN(4)
	for _, s := range cand {
		sm := &m.sums[s]
		var key int
		switch variant {
		case 0:
			key = sm.first
		case 1:
			key = len(sm.starts) * 64
		case 2:
			key = int(sm.starts[len(sm.starts)-1]) * 64
		}
		keys = append(keys, key+l.rng.IntN(64))
	}
	for i := 1; i < len(cand); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
			cand[j], cand[j-1] = cand[j-1], cand[j]
		}
	}
	l.cand, l.keys = cand, keys
	nRemoved := len(l.removed)
	for _, s := range cand {
		if st.start[s] < 0 {
			l.touch(s)
			st.insert(s, &l.pick)
		}
	}
	if depth >= maxChain {
		return
	}
	// An ejection chain: a hearing this move took out that fits nowhere now forces its way
	// in at one of its starts in turn, ejecting others, up to maxChain levels deep.
	for i := 0; i < nRemoved; i++ {
		h := l.removed[i]
		if st.start[h] < 0 && l.rng.IntN(2) == 0 {
			starts := m.sums[h].starts
			l.eject(h, starts[l.early(len(starts))], depth+1)
		}
	}
}

// related appends to cand up to maxRelated unscheduled summons of users, looking at no
// more than 4*maxRelated of them from a random offset, so that long lists are sampled
// fairly and cheaply.
func (l *lns) related(cand []int32, extra int, users []int32) ([]int32, int) {
	if len(users) == 0 {
		return cand, extra
	}
	off := l.rng.IntN(len(users))
	for i := 0; i < len(users) && i < 4*maxRelated && extra < maxRelated; i++ {
		u := users[(i+off)%len(users)]
		if l.st.start[u] < 0 && l.mark[u] != l.markEp {
			l.mark[u] = l.markEp
			cand = append(cand, u)
			extra++
		}
	}
	return cand, extra
}
