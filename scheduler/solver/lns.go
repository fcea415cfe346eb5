package solver

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// lns is the large-neighbourhood search: each iteration destroys part of the current
// schedule and repairs it greedily in a randomised order (moves.go), and keeps the result
// unless it ranks below the current one (in the annealed phase, a worse Δ at equal N is
// sometimes kept). Every change of a move is logged, so a rejected move is undone exactly.
type lns struct {
	st   *state
	m    *model
	best *snapshot
	rng  *rand.Rand
	lb   Score
	pick pick

	pending []int32 // summons that have a static start

	// Undo log of the current move: the summons touched and their placement before it.
	epoch    uint32
	stamp    []uint32
	touched  []int32
	oldStart []int32
	oldRoom  []int32
	oldOff   []int32
	oldAtt   []int32

	removed []int32 // hearings the move took out
	// delayed samples the scheduled summons later than their earliest static start;
	// delayedFresh says it was rebuilt since the last draw.
	delayed      []int32
	delayedFresh bool
	cand         []int32 // summons to insert in the repair
	keys         []int
	mark         []uint32
	markEp       uint32
	hs           []int32
	aps          []int32
	free1        []int32
	free2        []int32
	temp         float64 // annealing temperature on Δ, in slots
}

func newLNS(st *state, best *snapshot, rng *rand.Rand, lb Score) *lns {
	n := len(st.m.sums)
	return &lns{st: st, m: st.m, best: best, rng: rng, lb: lb,
		pending: st.m.order(orderSpec), stamp: make([]uint32, n), mark: make([]uint32, n)}
}

// Tuning of the search; the figures in the package documentation were measured with them.
const (
	maxRuin         = 12    // most hearings a ruin move removes
	maxRelated      = 24    // most unscheduled neighbours a repair also tries
	maxChain        = 2     // depth of ejection chains
	perturbBase     = 500   // iterations without improving before a perturbation (plus 2 per summons)
	startTemp       = 40.0  // initial annealing temperature (slots of Δ)
	stallMin        = 30000 // iterations without a new best before giving up…
	stallPerSummons = 40    // …or this many per summons, if more
)

// run iterates until the deadline, ctx, maxIter (if > 0), the lower bound, or stagnation;
// it returns the number of iterations and keeps the best schedule in l.best. It runs in
// three phases, each ended by stall iterations without a new best: a plain descent; an
// annealed search whose temperature falls linearly from startTemp to 0 over what is left of
// the iterations (when maxIter is set, so that a run is deterministic) or of the time; and a
// final plain descent from the best. The descent comes first because on large instances,
// where many independent regions anneal at once, a hot search rarely beats it, while on
// small dense ones the annealing is what finds the extra summons.
func (l *lns) run(ctx context.Context, deadline time.Time, maxIter int) int {
	st := l.st
	cur := st.score()
	stall := max(stallMin, stallPerSummons*len(l.pending))
	perturbAfter := perturbBase + 2*len(l.pending)
	lastBest, lastCur := 0, 0
	phase, phaseIt, phaseAt := 0, 0, time.Now()
	l.temp = 0
	for it := 0; ; it++ {
		if maxIter > 0 && it >= maxIter {
			return it
		}
		if it&63 == 0 {
			now := time.Now()
			if now.After(deadline) || ctx.Err() != nil {
				return it
			}
			if phase == 1 {
				frac := 1.0
				if maxIter > 0 {
					frac = float64(it-phaseIt) / float64(max(maxIter-phaseIt, 1))
				} else if left := deadline.Sub(phaseAt); left > 0 {
					frac = float64(now.Sub(phaseAt)) / float64(left)
				}
				l.temp = startTemp * max(1-frac, 0)
			}
		}
		if l.best.score == l.lb || len(l.pending) == 0 {
			return it
		}
		if it-lastBest > stall || (phase == 0 && it-lastBest > stall/8) {
			if phase == 2 {
				return it
			}
			phase, phaseIt, phaseAt = phase+1, it, time.Now()
			lastBest, lastCur = it, it
			l.temp = 0
			if phase == 1 {
				l.temp = startTemp
			}
			st.restore(l.best)
			cur = l.best.score
		}
		l.begin()
		ok := l.move()
		next := st.score()
		if !ok || (cur.Better(next) && !l.acceptWorse(cur, next)) {
			l.undo()
			continue
		}
		if next.Better(cur) {
			lastCur = it
		}
		cur = next
		if cur.Better(l.best.score) {
			st.save(l.best)
			lastBest = it
		}
		if it-lastCur > perturbAfter {
			// Iterated local search: the neighbourhoods are exhausted here; jump to another
			// basin by a large ruin, from the best or from where we are.
			if cur != l.best.score && l.rng.IntN(2) == 0 {
				st.restore(l.best)
			}
			l.begin()
			l.perturb()
			cur = st.score()
			lastCur = it
			if cur.Better(l.best.score) {
				st.save(l.best)
				lastBest = it
			}
		}
	}
}

// perturb removes a large random part of the schedule and repairs it.
func (l *lns) perturb() {
	q := min(3+len(l.pending)/10, 60)
	for i := 0; i < q; i++ {
		if s := l.randomPending(true); s >= 0 && l.stamp[s] != l.epoch {
			l.kick(s)
		}
	}
	l.repair(0)
}

// acceptWorse is the annealing rule: same N, Δ worse by δ, accepted with chance e^(-δ/T).
func (l *lns) acceptWorse(cur, next Score) bool {
	if next.N != cur.N || next.Delta <= cur.Delta || l.temp <= 0.01 {
		return false
	}
	return l.rng.Float64() < math.Exp(-float64(next.Delta-cur.Delta)/l.temp)
}

// move applies one randomly chosen neighbourhood; false means it found nothing to do.
func (l *lns) move() bool {
	l.pick = pick{rnd: l.rng, randPool: 3, randRoom: 2}
	if l.rng.IntN(4) == 0 {
		l.pick.skip = 2
	}
	r := l.rng.IntN(100)
	unscheduled := len(l.pending) > l.st.n
	switch {
	case unscheduled && r < 45:
		return l.insertMove()
	case r < 70:
		return l.earlierMove()
	case r < 80:
		return l.ruinRandom()
	case r < 94:
		return l.ruinRelated()
	}
	return l.rebalance()
}

// begin starts the undo log of a move.
func (l *lns) begin() {
	l.epoch++
	l.touched = l.touched[:0]
	l.oldStart = l.oldStart[:0]
	l.oldRoom = l.oldRoom[:0]
	l.oldAtt = l.oldAtt[:0]
	l.oldOff = append(l.oldOff[:0], 0)
	l.removed = l.removed[:0]
}

// touch logs the placement of s before the move first changes it.
func (l *lns) touch(s int32) {
	if l.stamp[s] == l.epoch {
		return
	}
	st := l.st
	l.stamp[s] = l.epoch
	l.touched = append(l.touched, s)
	l.oldStart = append(l.oldStart, st.start[s])
	l.oldRoom = append(l.oldRoom, st.room[s])
	l.oldAtt = append(l.oldAtt, st.attendees(s)...)
	l.oldOff = append(l.oldOff, int32(len(l.oldAtt)))
}

// undo puts every touched summons back where it was.
func (l *lns) undo() {
	st := l.st
	for _, s := range l.touched {
		if st.start[s] >= 0 {
			st.unplace(s)
		}
	}
	for i, s := range l.touched {
		if l.oldStart[i] >= 0 {
			st.place(s, l.oldStart[i], l.oldRoom[i], l.oldAtt[l.oldOff[i]:l.oldOff[i+1]])
		}
	}
}

// kick removes hearing h and remembers it for the repair.
func (l *lns) kick(h int32) {
	l.touch(h)
	l.st.unplace(h)
	l.removed = append(l.removed, h)
}

// randomPending returns a schedulable summons whose scheduled state is want, or -1.
func (l *lns) randomPending(want bool) int32 {
	for try := 0; try < 64; try++ {
		s := l.pending[l.rng.IntN(len(l.pending))]
		if (l.st.start[s] >= 0) == want {
			return s
		}
	}
	return -1
}

// early returns an index below n biased towards 0 (the minimum of two draws).
func (l *lns) early(n int) int {
	return min(l.rng.IntN(n), l.rng.IntN(n))
}
