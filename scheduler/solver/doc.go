// Package solver implements the batch scheduling model court-sched-v1 of
// ../shared/SCHEDULING.md: its file format (ReadProblem, WriteProblem, ReadSchedule,
// WriteSchedule, with errors that name the field by JSON path), a checker that re-verifies
// every hard constraint H1–H9 and computes the lexicographic score (Check), the
// earliest-feasible baseline of §5 (Greedy), the optimiser (Solve), the reasons summons stay
// unscheduled (Report.Unscheduled, Explain) and a generator of realistic instances
// (Generate). The server's nightly optimisation and `chuting schedule` both call Solve; the
// server passes its confirmed hearings as Options.Fixed, which are never moved.
//
// # The compiled model
//
// A valid problem is compiled to integers (model.go). The horizon is a list of day numbers;
// a start is a working slot t = 28*d + k. Every occupation of a hearing on a working day
// lies in [07:30, 18:30) of that day (the sessions plus the one-hour travel buffers), which
// is 44 quarters, so the occupancy of an appraiser or a room on a day is one uint64 and each
// of H6, H7 and H9 is an AND of two words; H8 is a per-day counter. Busy blocks and fixed
// hearings, at any minute and across nights, are projected onto these words rounded outward
// to quarters, which is exact: every interval the solver asks about starts and ends on a
// quarter, and such an interval meets [a, b) if and only if it meets the rounded one. Then
// each summons gets its static starts: valid (H2), inside a window (H3), and feasible
// against the busy blocks, the fixed hearings and the rooms alone. A summons without one can
// never be placed, and compile says why ("no valid start inside its windows on the
// horizon", "appraiser a3 busy in every window", "needs 3 appraisers of c1 at i1, has 2",
// "no room at institution i2", …); the others that stay out "conflict with other summons
// (could be placed alone)", with what is taken.
//
// # The optimiser
//
// The objective is lexicographic: N first, then Δ, then L. Solve works in four steps.
//
//  1. Constructive starts: the §5 greedy, then the same insertion in three other orders
//     (earliest deadline, fewest static starts, narrowest spread of starts); the best is
//     the incumbent, so the result can never rank below Greedy's.
//  2. A lower bound: every summons with a static start placed at its earliest one (and L
//     the named attendances that would force). An incumbent that meets it is optimal and
//     Solve stops.
//  3. Small instances (at most 40 summons with a static start): a short local search for a
//     strong incumbent, then an exact depth-first branch and bound (bnb.go) over the summons
//     in §5 order: each is given one of its options feasible now (start ascending, every
//     k-subset of a pool's free eligible appraisers, every free room up to rooms whose
//     reservations that day are identical) or left out. A node is cut when N plus the
//     remaining summons that still have a feasible option cannot beat the incumbent, or
//     ties it and Δ plus each remaining summons' earliest feasible delay cannot (to tie N
//     every one of them must be placed). When it finishes, the result is proven optimal.
//  4. Otherwise, or when the node or time budget runs out: large-neighbourhood search
//     (lns.go, moves.go). Each iteration applies one move and is undone exactly unless the
//     result ranks at least as high as the current schedule. Moves: force an unscheduled
//     summons in at one of its starts, ejecting the hearings in its way (sharing an
//     appraiser that day with overlapping occupations, one over an attendee's daily cap,
//     overlapping the room), and reinsert the ejected; the same to move a delayed hearing to
//     an earlier start; remove a few random hearings, or those sharing an appraiser or a
//     room with one around its day; give a pool hearing of a most-loaded appraiser to a
//     less-loaded eligible one (for L). The repair reinserts the removed hearings and up to
//     24 unscheduled summons that could use what was freed, in one of four randomised orders
//     (§5 order, fewest starts, deadline, random), each at its earliest feasible start with
//     least-loaded attendees (sometimes a random set, room or a skipped start, so that other
//     pool sets and rooms get tried); a removed hearing that fits nowhere forces its own way
//     in, up to two levels deep (an ejection chain). The search runs in three phases, each
//     ended by max(30000, 40 per summons) iterations without a new best: a plain descent; a
//     phase that also accepts a worse Δ at equal N with probability e^(-δ/T), T falling
//     from 40 slots to 0; and a final descent from the best. When moves stop improving for a
//     while, a large random part of the schedule is ruined and repaired (iterated local
//     search). The random choices come from opts.Seed; with opts.Iterations binding before
//     the time limit, a solve is deterministic.
//
// Finally anything still placeable is inserted, the schedule is written out, and Check
// scores it: Report.Score is the checker's.
//
// # Why this design
//
// No MIP or CP solver is available (the project takes no module for this), and a
// time-indexed integer model of 5,000 summons × ~1,700 starts × attendee sets would not fit
// a hand-written one. Min-cost flow does not capture pools of k distinct attendees, rooms,
// travel buffers and daily caps at once; it would need a repair step that is itself the
// hard part. Local search suits the structure: conflicts are local (one appraiser or room
// on one day), so a move touches a handful of words and is evaluated and undone in
// microseconds, and the moves aim at the objective directly: ejection for N, earlier
// starts for Δ, rebalancing for L. Branch and bound complements it where it can finish:
// it proves optimality on small instances, and the exhaustive test checks it against an
// independent enumerator. Measured choices: with the annealed phase, 120 of 120 runs on 30
// dense instances (60 summons, 15 appraisers, 3 days, 300 ms) reached the best N known,
// against 110 of 120 with descent only; annealing from the start, though, made large
// instances worse (a hot search over many independent regions rarely beats a descent),
// hence the descent first. On the generated 400- and 5,000-summons instances the search
// stops by stagnation long before the default budget, and longer runs (20 s) found
// nothing better.
//
// # Figures
//
// `go test -run x -bench . -benchtime 1x ./scheduler/solver/` on the 2-core development
// machine (Generate seed 1, Options{Seed: 1}, default time budget):
//
//	400 summons, 150 appraisers, 40 rooms, 20 days:     0.15–0.26 s, 14 k allocs;
//	    N 374 (greedy 370), Δ 2448 (greedy 2602), L 14, 69–91 k iterations
//	5,000 summons, 1,500 appraisers, 400 rooms, 60 days: 1.7–4.0 s, 175 k allocs;
//	    N 4696 (greedy 4666), Δ 64966 (greedy 71108), L 52, 423 k iterations
//
// The search stops by stagnation well before the default budgets (1.4 s and 6 s); the
// spread of times is the shared machine's noise, and the iterations vary a little because
// the annealing temperature follows the clock (same scores in every run so far).
//
// No allocation happens in the search loop; allocations come from validation, compilation
// and the final check.
package solver
