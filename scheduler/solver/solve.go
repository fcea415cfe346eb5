package solver

import (
	"context"
	"math/rand/v2"
	"time"
)

// Options tunes Solve. The zero value is usable.
type Options struct {
	// TimeLimit bounds the whole solve; 0 means DefaultTimeLimit for the instance.
	TimeLimit time.Duration
	// Iterations caps the local-search iterations; 0 means no cap other than time and
	// stagnation. With a cap that binds before the time limit, a solve is deterministic.
	Iterations int
	// Seed seeds the search's random choices.
	Seed int64
	// NodeLimit caps the branch-and-bound nodes on small instances; 0 means 500,000.
	NodeLimit int
	// Fixed are hearings already confirmed: the optimiser never moves them, they occupy
	// their appraisers and rooms, and they appear unchanged in the returned schedule.
	// Entries naming unknown summons, appraisers or rooms are dropped with a warning.
	Fixed []Assignment
}

// Report says what Solve did.
type Report struct {
	Score      Score         // of the returned schedule, as Check computes it
	Greedy     Score         // of the §5 earliest-feasible baseline (with the fixed hearings)
	Method     string        // "branch and bound" or "large-neighbourhood search"
	Optimal    bool          // the score is proven optimal
	Iterations int           // local-search iterations
	Nodes      int           // branch-and-bound nodes
	Elapsed    time.Duration // wall time of the solve
	// Unscheduled lists each summons left out, in problem order, with the reason.
	Unscheduled []Unplaced
	// Warnings are dropped fixed assignments, and any violation the checker finds in the
	// result (only possible when the fixed hearings themselves break a constraint).
	Warnings []string
	// Err is set when the problem is invalid (see Problem.Validate); nothing is scheduled.
	Err error
}

// Unplaced is a summons Solve left unscheduled and why.
type Unplaced struct {
	Summons string
	Reason  string
}

// DefaultTimeLimit is the time budget of Solve for an instance of n summons when
// Options.TimeLimit is 0: 1 s plus 1 ms per summons, at most 30 s. The search usually
// stops earlier, when it stagnates or reaches a bound.
func DefaultTimeLimit(n int) time.Duration {
	return min(time.Second+time.Duration(n)*time.Millisecond, 30*time.Second)
}

// bnbMaxSummons is the largest number of schedulable summons Solve first tries to solve
// exactly by branch and bound.
const bnbMaxSummons = 40

// Solve returns a schedule of p optimising (N desc, Δ asc, L asc) of SCHEDULING.md §4,
// never worse than Greedy's, and a report with, for each summons it leaves out, the reason.
// See the package documentation for the algorithm. It stops at opts.TimeLimit, when ctx is
// done, or earlier when it proves optimality or stagnates, and always returns the best
// schedule found.
func Solve(ctx context.Context, p *Problem, opts Options) (*Schedule, Report) {
	began := time.Now()
	var rep Report
	if err := p.Validate(); err != nil {
		rep.Err = err
		return &Schedule{Instance: p.Name, Solver: "optimal", Assignments: []Assignment{}}, rep
	}
	m := compile(p, opts.Fixed)
	rep.Warnings = append(rep.Warnings, m.warnings...)
	limit := opts.TimeLimit
	if limit <= 0 {
		limit = DefaultTimeLimit(len(p.Summons))
	}
	deadline := began.Add(limit)
	nodeLimit := opts.NodeLimit
	if nodeLimit <= 0 {
		nodeLimit = 500_000
	}

	// Constructive starts: the §5 greedy, then other orders; keep the best.
	st := newState(m)
	var best snapshot
	st.fill(m.order(orderSpec), &pick{})
	rep.Greedy = st.score()
	st.save(&best)
	for o := orderSpec + 1; o < numOrders; o++ {
		st.reset()
		st.fill(m.order(o), &pick{})
		if st.score().Better(best.score) {
			st.save(&best)
		}
	}
	lb := m.lowerBound()
	if best.score == lb {
		rep.Optimal = true
	}

	// Small instances: a short local search for a strong incumbent, then branch and bound
	// to prove it optimal or improve it; if the nodes or the time run out, more local
	// search. Larger ones: local search only (see doc.go for why).
	schedulable := m.order(orderSpec)
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x6368757469))
	l := newLNS(st, &best, rng, lb)
	search := func(until time.Time, iters int) {
		rep.Method = "large-neighbourhood search"
		st.restore(&best)
		rep.Iterations += l.run(ctx, until, iters)
		rep.Optimal = best.score == lb
	}
	if !rep.Optimal && len(schedulable) <= bnbMaxSummons {
		iters := 20000
		if opts.Iterations > 0 {
			iters = min(iters, opts.Iterations)
		}
		search(began.Add(limit/4), iters)
		if !rep.Optimal {
			b := bnb{st: st, m: m, order: schedulable, best: &best, limit: nodeLimit, ctx: ctx,
				deadline: began.Add(limit * 3 / 4)}
			st.reset()
			b.run()
			rep.Nodes = b.nodes
			rep.Optimal = !b.stopped || best.score == lb
			rep.Method = "large-neighbourhood search, then branch and bound"
		}
	}
	if !rep.Optimal && (opts.Iterations == 0 || opts.Iterations > rep.Iterations) {
		search(deadline, max(opts.Iterations-rep.Iterations, 0))
	}
	if rep.Method == "" {
		rep.Method = "constructive (meets the lower bound)"
	}

	st.restore(&best)
	// Anything still placeable at the end goes in: it can only raise N.
	st.fill(schedulable, &pick{})
	sched := st.schedule("optimal")
	score, viol := Check(p, sched)
	rep.Score = score
	for _, v := range viol {
		rep.Warnings = append(rep.Warnings, "checker: "+v.String())
	}
	for _, s := range m.movable {
		if st.start[s] < 0 {
			rep.Unscheduled = append(rep.Unscheduled, Unplaced{Summons: m.sums[s].id, Reason: st.reason(s)})
		}
	}
	rep.Elapsed = time.Since(began)
	return sched, rep
}

// lowerBound is the best score any schedule could have: every summons with a static start
// scheduled at its earliest one; L counts only what is forced then (fixed hearings and named
// attendances). A search that reaches it can stop.
func (m *model) lowerBound() Score {
	sc := Score{N: len(m.fixed), Delta: m.fixedD}
	forced := make([]int32, len(m.apID))
	copy(forced, m.baseLoad)
	for _, s := range m.movable {
		sm := &m.sums[s]
		if len(sm.starts) == 0 {
			continue
		}
		sc.N++
		sc.Delta += int(sm.starts[0]) - sm.t0
		for _, a := range sm.named {
			forced[a]++
		}
	}
	for _, f := range forced {
		sc.L = max(sc.L, int(f))
	}
	if sc.N > 0 {
		sc.L = max(sc.L, 1)
	}
	return sc
}
