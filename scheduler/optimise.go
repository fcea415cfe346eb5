package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/scheduler/solver"
)

// Optimisation re-plans the open proposals (proposed, nobody has answered yet) of each
// institution as a whole, with the exact lexicographic objective of SCHEDULING.md: most
// summons placed, then least total delay from each one's earliest window, then the lightest
// maximum load on one appraiser. Everything answered, confirmed or scheduled stays where it is
// (the solver's fixed hearings). A summons moves only when the whole plan scores better; the
// moved ones get a new proposal (and their appraisers are told again).

// OptimiseReport says what optimising one institution did.
type OptimiseReport struct {
	InstitutionID string        `json:"institution_id"`
	Open          int           `json:"open"`   // proposals that could move
	Before        solver.Score  `json:"before"` // of the current slots of the open proposals
	After         solver.Score  `json:"after"`  // of the plan found (= Before when nothing moved)
	Moved         []string      `json:"moved"`  // summons given a new slot
	Method        string        `json:"method"`
	Elapsed       time.Duration `json:"elapsed_ns"`
}

// open reports whether the optimiser may move sm: a proposal nobody has answered, whose slot
// is still later than the notice period from now allows (a nearer one stays: moving it would
// leave less notice than the law requires, #2).
func open(sm *chuting.Summons, court *chuting.Court, now time.Time) bool {
	return sm.State == chuting.SummonsProposed && len(sm.Responses) == 0 && sm.Slot != nil &&
		!sm.Slot.Start.Before(EarliestStart(court, sm.Mode, now))
}

// optimiseBudget caps the search for one institution's plan: the institution's booking right
// is held meanwhile.
const optimiseBudget = 20 * time.Second

// Optimise re-plans the open proposals of the institution with id, or of every institution
// when id is empty, within budget per institution (at most optimiseBudget).
func (s *Service) Optimise(ctx context.Context, id string, budget time.Duration) ([]OptimiseReport, error) {
	budget = min(budget, optimiseBudget)
	ids := []string{id}
	if id == "" {
		all, err := chuting.FindAll[chuting.Institution](ctx, s.store, chuting.Query{})
		if err != nil {
			return nil, err
		}
		ids = ids[:0]
		for _, inst := range all {
			ids = append(ids, inst.ID)
		}
	}
	var out []OptimiseReport
	for _, id := range ids {
		rep, err := s.optimiseInstitution(ctx, id, budget)
		if err != nil {
			return out, fmt.Errorf("optimise institution %s: %w", id, err)
		}
		out = append(out, rep)
	}
	return out, nil
}

func (s *Service) optimiseInstitution(ctx context.Context, id string, budget time.Duration) (OptimiseReport, error) {
	rep := OptimiseReport{InstitutionID: id, Moved: []string{}}
	unlock, err := s.lockInstitution(ctx, id)
	if err != nil {
		return rep, err
	}
	defer unlock()
	now := s.now()
	all, err := chuting.FindAll[chuting.Summons](ctx, s.store, chuting.Equal(chuting.KindSummons, chuting.IndexInstitution, id))
	if err != nil {
		return rep, err
	}
	var free []*chuting.Summons
	courts := map[string]*chuting.Court{}
	for _, sm := range all {
		court, err := cachedCourt(ctx, s.store, courts, sm.CourtID)
		if err != nil {
			return rep, err
		}
		if open(sm, court, now) {
			free = append(free, sm)
		}
	}
	rep.Open = len(free)
	if len(free) == 0 {
		return rep, nil
	}
	m := s.planner
	pl, err := m.plan(ctx, id, free, courts)
	if err != nil {
		return rep, err
	}
	current := &solver.Schedule{Instance: pl.problem.Name, Assignments: pl.fixed}
	for _, sm := range free {
		current.Assignments = append(current.Assignments, solver.Assignment{Summons: sm.ID,
			Start: naive(sm.Slot.Start), Room: sm.Slot.RoomID, Appraisers: sm.Slot.AppraiserIDs})
	}
	before, violations := solver.Check(pl.problem, current)
	if len(violations) > 0 {
		// The current plan breaks a rule (a calendar edited since, a busy block added): any
		// valid plan is better than it.
		before = solver.Score{}
		s.logger.Warn("current proposals break a scheduling rule", "institution", id, "first", violations[0].String())
	}
	sched, srep := solver.Solve(ctx, pl.problem, solver.Options{Fixed: pl.fixed, TimeLimit: budget})
	if srep.Err != nil {
		return rep, srep.Err
	}
	rep.Before, rep.After, rep.Method, rep.Elapsed = before, before, srep.Method, srep.Elapsed
	if !srep.Score.Better(before) {
		return rep, nil
	}
	rep.After = srep.Score
	for _, sm := range free {
		slot, ok := pl.slot(sched, sm)
		if !ok || sameSlot(slot, sm.Slot) {
			continue // a summons the plan leaves out keeps its current slot
		}
		// The plan assumed every open proposal would move; one answered meanwhile keeps its
		// slot, so each move is checked against what is booked now before it is written.
		if fits, err := m.fits(ctx, sm, slot, courts); err != nil || !fits {
			s.logger.Info("optimised slot no longer free; summons keeps its slot", "summons", sm.ID, "err", err)
			continue
		}
		if _, err := s.Act(ctx, sm.ID, Step{Action: Propose, By: serverActor(), Slot: slot,
			Reason: "夜间优化排期 / nightly optimisation"}, nil); err != nil {
			// Answered meanwhile, most likely: it keeps its slot. The others still move.
			s.logger.Info("optimised slot not applied", "summons", sm.ID, "err", err)
			continue
		}
		rep.Moved = append(rep.Moved, sm.ID)
	}
	return rep, nil
}

func sameSlot(a, b *chuting.Slot) bool {
	if !a.Start.Equal(b.Start) || a.RoomID != b.RoomID || len(a.AppraiserIDs) != len(b.AppraiserIDs) {
		return false
	}
	for i := range a.AppraiserIDs {
		if a.AppraiserIDs[i] != b.AppraiserIDs[i] {
			return false
		}
	}
	return true
}
