package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/chuting/chuting"
)

// Matcher proposes hearing slots.
type Matcher interface {
	// Propose returns the earliest feasible slot for sm, given every other summons's slot and
	// every busy time, ignoring sm's own current slot. When there is none it returns an
	// EINVALID error naming the field "windows" and saying why.
	Propose(ctx context.Context, sm *chuting.Summons) (*chuting.Slot, error)
}

// Config holds what a Service needs.
type Config struct {
	Store   chuting.Store
	Now     func() time.Time // nil = time.Now
	Rules   Rules            // zero = DefaultRules()
	Matcher Matcher          // nil = the solver over the store (NewMatcher)
	// Notify is told of every change once it is stored: a summons served, a step taken, a
	// receipt given. Notices, e-mail and webhooks hang off it. It must not block for long.
	Notify func(ctx context.Context, e chuting.SummonsEvent)
	Logger *slog.Logger
	// Attendance opens the follow-ups of an absence without cause when the court records one,
	// and runs the periodic sweep and monthly reports (package attendance's Service); nil =
	// none (the workflow alone, as some tests run it).
	Attendance Attendance
}

// Attendance is what the workflow asks of attendance: the follow-ups of an absence without
// cause (#36, #38), their sweep, which opens any a step failed to open, and last month's
// statistics reports (#43). Package attendance implements it; the scheduler takes it here
// rather than importing that package (imports flow to the root only, ../shared/STYLE.md).
type Attendance interface {
	FollowUp(ctx context.Context, summonsID string) (opened bool, err error)
	SweepFollowUps(ctx context.Context) (opened int, err error)
	ReportLastMonth(ctx context.Context) (made int, err error)
}

// Service runs the summons workflow over the store: it serves summons, takes workflow steps,
// and keeps each scheduled summons's Hearing record in step with its slot.
type Service struct {
	store   chuting.Store
	now     func() time.Time
	rules   Rules
	match   Matcher
	planner *StoreMatcher // the optimiser's, over the store
	notify  func(ctx context.Context, e chuting.SummonsEvent)
	logger  *slog.Logger
	att     Attendance // nil: no follow-ups or reports

	// booking serialises the choice of a slot and its write, per institution (whose rooms
	// and appraisers a slot takes), so two summons served at once cannot take one slot: a
	// mutex within this process, and the store's lease across nodes.
	booking sync.Map // institution ID → *sync.Mutex
	node    string   // this process's name in leases
}

// New returns a Service.
func New(c Config) *Service {
	s := &Service{store: c.Store, now: c.Now, rules: c.Rules, match: c.Matcher, notify: c.Notify, logger: c.Logger,
		att: c.Attendance, node: chuting.NewID()}
	if s.now == nil {
		s.now = time.Now
	}
	// A rule left zero takes its default; to turn one off, configure its off value (a
	// negative number).
	def := DefaultRules()
	if s.rules.CEHours == 0 {
		s.rules.CEHours = def.CEHours
	}
	if s.rules.ProficiencyFailures == 0 {
		s.rules.ProficiencyFailures = def.ProficiencyFailures
	}
	if s.rules.AccreditedLab == nil {
		s.rules.AccreditedLab = def.AccreditedLab
	}
	s.planner = NewMatcher(c.Store, s.now, s.rules)
	if s.match == nil {
		s.match = s.planner
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.notify == nil {
		s.notify = func(context.Context, chuting.SummonsEvent) {}
	}
	return s
}

// bookingLease bounds how long a node holds an institution's booking right; a node that
// dies holding it blocks the others this long at most. Every holder finishes well within it:
// a proposal searches for 2 s, an optimisation for at most optimiseBudget.
const bookingLease = 2 * time.Minute

// lockInstitution takes the right to choose slots at an institution and returns its release:
// a mutex within this process, and the store's lease across nodes (a store without leases
// has one process). It waits while another holds it, up to ctx's deadline or bookingLease,
// and then fails with ECONFLICT rather than book without it.
func (s *Service) lockInstitution(ctx context.Context, id string) (func(), error) {
	mu, _ := s.booking.LoadOrStore(id, new(sync.Mutex))
	if !tryLock(ctx, mu.(*sync.Mutex)) {
		return nil, errBusy()
	}
	l, ok := s.store.(chuting.Leaser)
	if !ok {
		return mu.(*sync.Mutex).Unlock, nil
	}
	name := "booking/" + id
	for deadline := time.Now().Add(bookingLease); ; {
		_, got, err := l.Acquire(ctx, name, s.node, bookingLease)
		if err != nil {
			mu.(*sync.Mutex).Unlock()
			return nil, err
		} else if got {
			break
		}
		if time.Now().After(deadline) || !sleep(ctx, 25*time.Millisecond) {
			mu.(*sync.Mutex).Unlock()
			return nil, errBusy()
		}
	}
	return func() {
		if err := l.Release(context.WithoutCancel(ctx), name, s.node); err != nil {
			s.logger.Warn("release booking lease", "institution", id, "err", err)
		}
		mu.(*sync.Mutex).Unlock()
	}, nil
}

func errBusy() error {
	return chuting.Errorf(chuting.ECONFLICT, "该鉴定机构正在排期，请稍后重试 / the institution's schedule is being changed; retry shortly")
}

// tryLock locks mu, giving up when ctx ends.
func tryLock(ctx context.Context, mu *sync.Mutex) bool {
	for !mu.TryLock() {
		if !sleep(ctx, 5*time.Millisecond) {
			return false
		}
	}
	return true
}

// sleep waits d, or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Errors.
var (
	// errIllegal wraps Apply's refusals, so Act does not mistake them for lost races.
	errIllegal = errors.New("illegal step")
)

// serverActor returns who the server acts as when it proposes and schedules.
func serverActor() *chuting.Principal { return &chuting.Principal{Name: "chuting"} }

// Serve checks a court's request, proposes the earliest feasible slot and stores the summons
// as proposed. It returns the summons and the eligibility warnings about its named
// appraisers. Errors name the field at fault; a request with no feasible slot is refused
// (field windows) and nothing is stored.
func (s *Service) Serve(ctx context.Context, p *chuting.Principal, req *Request) (*chuting.Summons, []Warning, error) {
	now := s.now()
	sm, warnings, err := s.check(ctx, p, req, now)
	if err != nil {
		return nil, nil, err
	}
	if err := s.book(ctx, sm, now); err != nil {
		return nil, nil, err
	}
	s.notify(ctx, chuting.SummonsEvent{Summons: sm, Served: true})
	return sm, warnings, nil
}

// book proposes sm's first slot and stores it, holding the institution's booking right
// only for as long as that takes.
func (s *Service) book(ctx context.Context, sm *chuting.Summons, now time.Time) error {
	unlock, err := s.lockInstitution(ctx, sm.InstitutionID)
	if err != nil {
		return err
	}
	defer unlock()
	slot, err := s.match.Propose(ctx, sm)
	if err != nil {
		return err
	}
	if _, err := Apply(sm, Step{Action: Propose, By: serverActor(), Slot: slot}, now); err != nil {
		return err
	}
	return chuting.Create(ctx, s.store, sm)
}

// Act takes a workflow step on the summons with id, retrying on a concurrent change. A
// reschedule proposes a new slot with the matcher (in windows, when given); the last
// confirmation schedules the hearing. EFORBIDDEN if p may not see the summons; otherwise the
// errors of Apply.
func (s *Service) Act(ctx context.Context, id string, st Step, windows []chuting.Interval) (*chuting.Summons, error) {
	for range chuting.MaxAttempts {
		sm, err := chuting.Load[chuting.Summons](ctx, s.store, id)
		if err != nil {
			return nil, err
		}
		unlock := func() {}
		if st.Action == Reschedule {
			if len(windows) > MaxWindows {
				return nil, chuting.FieldError("windows", "最多 %d 个时间段 / at most %d windows", MaxWindows, MaxWindows)
			}
			for i, w := range windows {
				if err := checkHorizon("windows["+strconv.Itoa(i)+"]", w, s.now()); err != nil {
					return nil, err
				}
			}
			if unlock, err = s.lockInstitution(ctx, sm.InstitutionID); err != nil {
				return nil, err
			}
			if windows != nil {
				sm.Windows = windows
			}
			if st.Slot, err = s.match.Propose(ctx, sm); err != nil {
				unlock()
				return nil, err
			}
		}
		trs, err := s.apply(sm, st)
		if err == nil {
			err = chuting.Save(ctx, s.store, sm)
		}
		unlock()
		if isStale(err) {
			continue // someone changed it first: re-read, re-check, retry
		}
		if err != nil {
			return nil, err
		}
		// The step is stored: what follows must happen even if the client has gone.
		ctx := context.WithoutCancel(ctx)
		for i := range trs {
			s.notify(ctx, chuting.SummonsEvent{Summons: sm, Transition: &trs[i]})
		}
		if err := s.syncLatest(ctx, sm.ID); err != nil {
			// The reconcile job repairs it; the step itself stands.
			s.logger.Error("hearing record not updated", "summons", sm.ID, "err", err)
		}
		if sm.State == chuting.SummonsAbsent && s.att != nil {
			// An absence without cause bars the opinion, opens a fee refund and tells the
			// bureau (#36, #38). The sweep job repairs a failure; the step itself stands.
			if _, err := s.att.FollowUp(ctx, sm.ID); err != nil {
				s.logger.Error("attendance follow-up", "summons", sm.ID, "err", err)
			}
		}
		return sm, nil
	}
	return nil, chuting.Errorf(chuting.ECONFLICT, "出庭通知正被他人修改，请稍后重试 / the summons is being changed by others; try again")
}

// isStale reports whether err is a version conflict from the store (not an illegal step,
// which Apply reports before anything is written). Each retry re-reads the summons and
// re-checks the step, so a step that is no longer allowed fails instead of overwriting the
// winner.
func isStale(err error) bool {
	return chuting.IsStale(err) && !errors.Is(err, errIllegal)
}

// apply takes the step and, when it leaves everyone confirmed, schedules the hearing.
func (s *Service) apply(sm *chuting.Summons, st Step) ([]chuting.Transition, error) {
	now := s.now()
	tr, err := Apply(sm, st, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errIllegal, err)
	}
	trs := []chuting.Transition{tr}
	if sm.State == chuting.SummonsConfirmed {
		tr, err := Apply(sm, Step{Action: Schedule, By: serverActor(), HearingID: hearingID(sm)}, now)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errIllegal, err)
		}
		trs = append(trs, tr)
	}
	return trs, nil
}

// hearingID is the stable ID of the hearing of sm's current slot, so that making it twice
// (a retry, a sweep) is harmless.
func hearingID(sm *chuting.Summons) string {
	return chuting.IDOf("hearing/" + sm.ID + "/" + chuting.TimeKey(sm.Slot.Start) + "/" + sm.Slot.RoomID)
}

// syncLatest is syncHearing on the summons id as it is now, done again should it change
// meanwhile: a copy read earlier (a job's scan, a step racing another) could bring back the
// hearing of a slot it has left, or remove the one it has moved to.
func (s *Service) syncLatest(ctx context.Context, id string) error {
	for range chuting.MaxAttempts {
		sm, err := chuting.Load[chuting.Summons](ctx, s.store, id)
		if chuting.ErrorCode(err) == chuting.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if err := s.syncHearing(ctx, sm); err != nil {
			return err
		}
		after, err := chuting.Load[chuting.Summons](ctx, s.store, id)
		if err != nil || after.Version == sm.Version {
			return err
		}
	}
	return chuting.Errorf(chuting.ECONFLICT, "出庭通知 %s 不断变更，庭审记录稍后同步 / summons %s kept changing; its hearing is synced later", id, id)
}

// syncHearing makes the store's Hearing records match sm: the hearing of its slot exists
// while it is scheduled (or declined from scheduled, while the court decides, or held), and
// no other hearing of sm does.
func (s *Service) syncHearing(ctx context.Context, sm *chuting.Summons) error {
	keep := ""
	switch sm.State {
	case chuting.SummonsScheduled, chuting.SummonsInProgress, chuting.SummonsCompleted, chuting.SummonsAbsent,
		chuting.SummonsDeclined:
		keep = sm.HearingID
	}
	if keep != "" {
		h := &chuting.Hearing{Meta: chuting.Meta{ID: keep}, SummonsID: sm.ID, CourtID: sm.CourtID,
			InstitutionID: sm.InstitutionID, RoomID: sm.Slot.RoomID, AppraiserIDs: sm.Slot.AppraiserIDs,
			Mode: sm.Mode, Start: sm.Slot.Start, End: sm.Slot.End}
		if err := chuting.Create(ctx, s.store, h); err != nil && chuting.ErrorCode(err) != chuting.ECONFLICT {
			return err
		}
	}
	hs, err := chuting.FindAll[chuting.Hearing](ctx, s.store, chuting.Equal(chuting.KindHearing, chuting.IndexSummons, sm.ID))
	if err != nil {
		return err
	}
	for _, h := range hs {
		if h.ID != keep {
			if err := chuting.Remove(ctx, s.store, h); err != nil && chuting.ErrorCode(err) != chuting.ENOTFOUND {
				return err
			}
		}
	}
	return nil
}

// Acknowledge records that the institution (an institution admin) or a summoned appraiser
// received the summons (#3, #4). Acknowledging twice is harmless and keeps the first time.
func (s *Service) Acknowledge(ctx context.Context, id string, p *chuting.Principal) (*chuting.Summons, error) {
	for range chuting.MaxAttempts {
		sm, err := chuting.Load[chuting.Summons](ctx, s.store, id)
		if err != nil {
			return nil, err
		}
		rc := chuting.Receipt{By: p.UserID, At: s.now().UTC()}
		switch {
		case p.Role == chuting.RoleInstitutionAdmin && p.InstitutionID == sm.InstitutionID:
			rc.Party, rc.PartyID = "institution", sm.InstitutionID
		case p.Role == chuting.RoleAppraiser && summoned(sm, p.AppraiserID):
			rc.Party, rc.PartyID = "appraiser", p.AppraiserID
		default:
			return nil, chuting.Errorf(chuting.EFORBIDDEN, "只有受送达的机构或鉴定人可以签收 / only the institution or a summoned appraiser acknowledges a summons")
		}
		if slices.ContainsFunc(sm.Receipts, func(r chuting.Receipt) bool { return r.Party == rc.Party && r.PartyID == rc.PartyID }) {
			return sm, nil
		}
		sm.Receipts = append(sm.Receipts, rc)
		err = chuting.Save(ctx, s.store, sm)
		if isStale(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		s.notify(ctx, chuting.SummonsEvent{Summons: sm, Receipt: &rc})
		return sm, nil
	}
	return nil, chuting.Errorf(chuting.ECONFLICT, "出庭通知正被他人修改，请稍后重试 / the summons is being changed by others; try again")
}

// Rules returns the eligibility rules the service applies.
func (s *Service) Rules() Rules { return s.rules }

// Warnings returns the eligibility reasons about each appraiser summoned by sm (named, or
// picked for its slot), as of its slot's day, or its first window's.
func (s *Service) Warnings(ctx context.Context, sm *chuting.Summons) ([]Warning, error) {
	ids, day := sm.Summoned(), s.now()
	if sm.Slot != nil {
		day = sm.Slot.Start
	} else if len(sm.Windows) > 0 {
		day = sm.Windows[0].Start
	}
	category := ""
	if sm.Pool != nil {
		category = sm.Pool.Category
	} else if sm.OpinionID != "" {
		if o, err := chuting.Load[chuting.Opinion](ctx, s.store, sm.OpinionID); err == nil {
			category = o.Category
		}
	}
	out := []Warning{}
	for _, id := range ids {
		a, err := chuting.Load[chuting.Appraiser](ctx, s.store, id)
		if err != nil {
			return nil, err
		}
		inst, _ := chuting.Load[chuting.Institution](ctx, s.store, a.InstitutionID)
		c := Case{Category: category, On: chuting.DateOf(day.In(chuting.ChinaZone())), Parties: partyNames(sm)}
		for _, r := range Eligibility(a, inst, c, s.rules) {
			out = append(out, Warning{AppraiserID: a.ID, Reason: r})
		}
	}
	return out, nil
}

// summoned reports whether the appraiser is called by sm: named, or picked for its slot.
func summoned(sm *chuting.Summons, appraiserID string) bool {
	return appraiserID != "" && slices.Contains(sm.Summoned(), appraiserID)
}
