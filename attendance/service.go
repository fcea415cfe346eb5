package attendance

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/chuting/chuting"
)

// Config holds what a Service needs.
type Config struct {
	Store  chuting.Store
	Now    func() time.Time // nil = time.Now
	Rules  Rules
	Logger *slog.Logger
	// Notify is told when the follow-ups of an absence without cause are opened
	// (SummonsEvent.FollowUp), for the institution, the bureau and the court (#38).
	Notify func(ctx context.Context, e chuting.SummonsEvent)
}

// Service reads attendance from the store, records what the court adds to the log, runs the
// follow-ups of absences without cause, and computes rates and reports.
type Service struct {
	store  chuting.Store
	now    func() time.Time
	rules  Rules
	logger *slog.Logger
	notify func(ctx context.Context, e chuting.SummonsEvent)
}

// New returns a Service.
func New(c Config) *Service {
	s := &Service{store: c.Store, now: c.Now, rules: c.Rules.withDefaults(), logger: c.Logger, notify: c.Notify}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.notify == nil {
		s.notify = func(context.Context, chuting.SummonsEvent) {}
	}
	return s
}

// Rules returns the rules the service applies.
func (s *Service) Rules() Rules { return s.rules }

// Events returns the attendance events of a hearing's log, in order.
func (s *Service) Events(ctx context.Context, hearingID string) ([]chuting.AttendanceEvent, error) {
	var out []chuting.AttendanceEvent
	if hearingID == "" {
		return out, nil
	}
	for after := uint64(0); ; {
		evs, err := s.store.Events(ctx, chuting.HearingStream(hearingID), after, chuting.MaxLimit)
		if err != nil {
			return nil, fmt.Errorf("read the log of hearing %s: %w", hearingID, err)
		}
		for _, e := range evs {
			var ae chuting.AttendanceEvent
			if err := json.Unmarshal(e.Data, &ae); err != nil {
				s.logger.Warn("unreadable attendance event", "hearing", hearingID, "seq", e.Seq, "err", err)
				continue
			}
			out = append(out, ae)
		}
		if len(evs) < chuting.MaxLimit {
			return out, nil
		}
		after = evs[len(evs)-1].Seq
	}
}

// subjects returns the IDs that name an appraiser in a hearing's log besides their own: the
// user ID of their account, which the rooms log (the join token's subject).
func (s *Service) subjects(ctx context.Context, appraiserID string, cache map[string][]string) []string {
	if ids, ok := cache[appraiserID]; ok {
		return ids
	}
	var ids []string
	if u, err := chuting.FindOne[chuting.User](ctx, s.store, chuting.IndexAppraiser, appraiserID); err == nil {
		ids = []string{u.ID}
	} else if chuting.ErrorCode(err) != chuting.ENOTFOUND {
		s.logger.Warn("account of appraiser", "appraiser", appraiserID, "err", err)
	}
	if cache != nil {
		cache[appraiserID] = ids
	}
	return ids
}

// facts returns what sm says about one of its appraisers.
func (s *Service) facts(ctx context.Context, sm *chuting.Summons, appraiserID string, cache map[string][]string) Facts {
	f := Facts{AppraiserID: appraiserID, Subjects: s.subjects(ctx, appraiserID, cache), State: sm.State,
		Outcome: sm.Outcome, Mode: sm.Mode, Now: s.now()}
	if sm.Slot != nil {
		f.Start, f.End = sm.Slot.Start, sm.Slot.End
	}
	return f
}

// Of returns the attendance of every appraiser sm summons, in the order Summoned gives.
func (s *Service) Of(ctx context.Context, sm *chuting.Summons) ([]Result, error) {
	return s.of(ctx, sm, nil)
}

func (s *Service) of(ctx context.Context, sm *chuting.Summons, cache map[string][]string) ([]Result, error) {
	evs, err := s.Events(ctx, sm.HearingID)
	if err != nil {
		return nil, err
	}
	out := []Result{}
	for _, id := range sm.Summoned() {
		out = append(out, Status(evs, s.facts(ctx, sm, id, cache), s.rules))
	}
	return out, nil
}

// Hearing is a hearing's attendance: each summoned appraiser's result, and the log it was
// derived from.
type Hearing struct {
	HearingID string                    `json:"hearing_id"`
	SummonsID string                    `json:"summons_id"`
	State     chuting.SummonsState      `json:"state"`
	Rules     RulesView                 `json:"rules"`
	Results   []Result                  `json:"results"`
	Events    []chuting.AttendanceEvent `json:"events"`

	subjects map[string]bool // the IDs naming the hearing's appraisers in the log
}

// Redact leaves in Events only those about the hearing's appraisers and the hearing's start
// and end: what an appraiser or their institution may see of a hearing the appraiser was
// not to follow (证人不得旁听, #17), without the parties', counsel's or observers' comings
// and goings.
func (h *Hearing) Redact() {
	h.Events = slices.DeleteFunc(h.Events, func(e chuting.AttendanceEvent) bool {
		switch e.Type {
		case chuting.AttendanceHearingStarted, chuting.AttendanceHearingEnded:
			return false
		}
		return !h.subjects[e.SubjectID]
	})
}

// RulesView shows the rules in seconds.
type RulesView struct {
	GraceSeconds        int64 `json:"grace_seconds"`
	ResumeWindowSeconds int64 `json:"resume_window_seconds"`
}

// OfHearing returns the attendance of hearing h.
func (s *Service) OfHearing(ctx context.Context, h *chuting.Hearing) (*Hearing, error) {
	sm, err := chuting.Load[chuting.Summons](ctx, s.store, h.SummonsID)
	if err != nil {
		return nil, fmt.Errorf("summons %s of hearing %s: %w", h.SummonsID, h.ID, err)
	}
	return s.ofHearing(ctx, h, sm)
}

// ofHearing is OfHearing with h's summons sm read already.
func (s *Service) ofHearing(ctx context.Context, h *chuting.Hearing, sm *chuting.Summons) (*Hearing, error) {
	evs, err := s.Events(ctx, h.ID)
	if err != nil {
		return nil, err
	}
	out := &Hearing{HearingID: h.ID, SummonsID: sm.ID, State: sm.State, Events: evs, Results: []Result{},
		Rules: RulesView{int64(s.rules.Grace / time.Second), int64(s.rules.ResumeWindow / time.Second)}}
	if out.Events == nil {
		out.Events = []chuting.AttendanceEvent{}
	}
	ids := sm.Summoned()
	if sm.HearingID != h.ID { // an earlier hearing of the summons: its own appraisers, as fixed then
		ids = h.AppraiserIDs
	}
	out.subjects = map[string]bool{}
	for _, id := range ids {
		f := s.facts(ctx, sm, id, nil)
		out.subjects[id] = true
		for _, sub := range f.Subjects {
			out.subjects[sub] = true
		}
		if sm.HearingID != h.ID {
			f.State, f.Start, f.End = chuting.SummonsScheduled, h.Start, h.End
		}
		out.Results = append(out.Results, Status(evs, f, s.rules))
	}
	return out, nil
}

// earlyMark is how long before its slot a hearing's attendance may be recorded.
const earlyMark = time.Hour

// InPerson records, for the court, that an appraiser of hearing h appeared in court (in
// person), arriving at arrived (zero: now), and returns the hearing's attendance. Errors:
// EINVALID naming appraiser_id (not summoned to h) or arrived_at (in the future, or long
// before the hearing); ECONFLICT when the hearing's time has not come or the summons was
// withdrawn. The caller has checked that p is the hearing's court.
func (s *Service) InPerson(ctx context.Context, p *chuting.Principal, h *chuting.Hearing, appraiserID string,
	arrived time.Time, note string) (*Hearing, error) {
	now := s.now()
	if arrived.IsZero() {
		arrived = now
	}
	sm, err := s.markable(ctx, h, appraiserID, now)
	if err != nil {
		return nil, err
	}
	if arrived.After(now.Add(time.Minute)) || arrived.Before(h.Start.Add(-12*time.Hour)) {
		return nil, chuting.FieldError("arrived_at", "到庭时间须在开庭前 12 小时之内且不晚于现在 / arrived_at must be within 12 hours before the hearing and not in the future")
	}
	e := chuting.AttendanceEvent{Time: now.UTC(), HearingID: h.ID, Type: chuting.AttendanceInPerson, ActorID: p.UserID,
		SubjectID: appraiserID, Reason: note, At: arrived.UTC()}
	if err := s.append(ctx, e); err != nil {
		return nil, err
	}
	return s.ofHearing(ctx, h, sm)
}

// Correct records, for the court, that an appraiser's attendance at hearing h is status, and
// why; the derived status and every earlier correction stay in the log. It runs the follow-
// ups of the summons (an absence without cause opens them; a correction away from it lifts
// the bar on the opinion) and returns the hearing's attendance. Errors: EINVALID naming
// appraiser_id, status or reason; ECONFLICT when the hearing's time has not come.
func (s *Service) Correct(ctx context.Context, p *chuting.Principal, h *chuting.Hearing, appraiserID string,
	status Code, reason string) (*Hearing, error) {
	now := s.now()
	if !slices.Contains(Correctable(), status) {
		names := make([]string, 0, len(Correctable()))
		for _, c := range Correctable() {
			names = append(names, string(c))
		}
		return nil, chuting.FieldError("status", "status 须为 %s 之一 / status must be one of %s",
			strings.Join(names, ", "), strings.Join(names, ", "))
	}
	if strings.TrimSpace(reason) == "" {
		return nil, chuting.FieldError("reason", "更正须说明理由 / a correction needs a reason")
	}
	sm, err := s.markable(ctx, h, appraiserID, now)
	if err != nil {
		return nil, err
	}
	e := chuting.AttendanceEvent{Time: now.UTC(), HearingID: h.ID, Type: chuting.AttendanceCorrected, ActorID: p.UserID,
		SubjectID: appraiserID, Reason: strings.TrimSpace(reason), Status: string(status)}
	if err := s.append(ctx, e); err != nil {
		return nil, err
	}
	if _, err := s.followUp(context.WithoutCancel(ctx), sm); err != nil {
		// The correction stands; the sweep opens the follow-ups.
		s.logger.Error("attendance follow-up after a correction", "hearing", h.ID, "err", err)
	}
	return s.ofHearing(ctx, h, sm) // the follow-ups do not change the summons
}

// markable checks that the court may add to the attendance of appraiserID at h now, and
// returns h's summons.
func (s *Service) markable(ctx context.Context, h *chuting.Hearing, appraiserID string, now time.Time) (*chuting.Summons, error) {
	if !slices.Contains(h.AppraiserIDs, appraiserID) {
		return nil, chuting.FieldError("appraiser_id", "该鉴定人不是本庭审的出庭鉴定人 / appraiser_id is not an appraiser of this hearing")
	}
	if now.Before(h.Start.Add(-earlyMark)) {
		return nil, chuting.Errorf(chuting.ECONFLICT, "未到开庭时间，不能记录出庭情况 / the hearing's time has not come; attendance cannot be recorded yet")
	}
	sm, err := chuting.Load[chuting.Summons](ctx, s.store, h.SummonsID)
	if err != nil {
		return nil, err
	}
	if sm.State == chuting.SummonsCancelled {
		return nil, chuting.Errorf(chuting.ECONFLICT, "出庭通知已撤销 / the summons was withdrawn")
	}
	return sm, nil
}

func (s *Service) append(ctx context.Context, e chuting.AttendanceEvent) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = s.store.Append(ctx, chuting.HearingStream(e.HearingID), chuting.Event{Time: e.Time, Type: e.Type, Data: data})
	return err
}
