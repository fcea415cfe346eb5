package attendance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chuting/chuting"
)

// Follow-ups of an absence without cause (DOMAIN.md #36, #38, #39). When a summoned appraiser
// ends up absent without cause (the court records the summons absent without cause, or
// corrects an appraiser's attendance to it), the law attaches consequences:
//
//   - the opinion may not be the basis for finding facts (民诉法 art. 81; 刑诉法 art. 192(3)):
//     an Exclusion is appended to the opinion's NotForFacts;
//   - the party who paid may have the appraisal fee refunded, on which the court rules within
//     3 days (证据规定 art. 81): a FeeRefund task, open until the court closes it;
//   - the justice bureau is told, for a penalty (刑诉法解释 art. 99(3); 决定 art. 13), and the
//     institution, whose head answers too (Jiangxi 2018): notices to both, and to the court;
//   - it shows on the appraiser's record (Record), where a court looks before entrusting new
//     work (#39).
//
// FollowUp does all of it and is idempotent: each step checks whether it was done (the
// refund task and the notices have IDs derived from the summons), so running it again, from
// the sweep or after a crash half-way, opens nothing twice and tells nobody twice.

// FollowUp opens the follow-ups of the summons with id if an appraiser of it is absent
// without cause, and reports whether it did anything now. If none is (any more), it lifts
// the bar on the opinion that an earlier absence set, keeping the entry.
func (s *Service) FollowUp(ctx context.Context, summonsID string) (bool, error) {
	sm, err := chuting.Load[chuting.Summons](ctx, s.store, summonsID)
	if err != nil {
		return false, err
	}
	return s.followUp(ctx, sm)
}

// followUp is FollowUp of a summons loaded already.
func (s *Service) followUp(ctx context.Context, sm *chuting.Summons) (bool, error) {
	results, err := s.Of(ctx, sm)
	if err != nil {
		return false, err
	}
	var absent []string
	for _, r := range results {
		if r.Status == AbsentWithoutCause {
			absent = append(absent, r.AppraiserID)
		}
	}
	if len(absent) == 0 {
		return s.lift(ctx, sm, results)
	}
	at := absenceTime(sm, results, s.now())
	barred, err := s.bar(ctx, sm, absent, at)
	if err != nil {
		return false, err
	}
	ref, opened, err := s.openRefund(ctx, sm, absent, at)
	if err != nil {
		return barred, err
	}
	if !ref.Notified.IsZero() {
		return barred || opened, nil
	}
	s.notify(ctx, chuting.SummonsEvent{Summons: sm, FollowUp: ref})
	_, err = chuting.Update(ctx, s.store, ref.ID, func(f *chuting.FeeRefund) bool {
		if !f.Notified.IsZero() {
			return false
		}
		f.Notified = s.now().UTC()
		return true
	})
	return true, err
}

// absenceTime is when the absence was recorded: the court's absent step, or the latest
// correction to an absence without cause.
func absenceTime(sm *chuting.Summons, results []Result, now time.Time) time.Time {
	var at time.Time
	for _, tr := range sm.History {
		if tr.To == chuting.SummonsAbsent {
			at = tr.Time
		}
	}
	for _, r := range results {
		for _, c := range r.Corrections {
			if c.Status == AbsentWithoutCause && c.Time.After(at) {
				at = c.Time
			}
		}
	}
	if at.IsZero() {
		at = now
	}
	return at.UTC()
}

// basis names the rule that bars the opinion, by case type.
func basis(ct chuting.CaseType) string {
	switch ct {
	case chuting.CaseTypeCriminal:
		return "《刑事诉讼法》第一百九十二条第三款：经人民法院通知，鉴定人拒不出庭作证的，鉴定意见不得作为定案的根据"
	case chuting.CaseTypeAdministrative:
		return "《行政诉讼法》第一百零一条、《民事诉讼法》第八十一条：鉴定人拒不出庭作证的，鉴定意见不得作为认定事实的根据"
	}
	return "《民事诉讼法》第八十一条：经人民法院通知，鉴定人拒不出庭作证的，鉴定意见不得作为认定事实的根据"
}

// bar appends the summons's exclusion to its opinion unless one stands, and reports whether
// it did.
func (s *Service) bar(ctx context.Context, sm *chuting.Summons, absent []string, at time.Time) (bool, error) {
	if sm.OpinionID == "" {
		return false, nil
	}
	changed := false
	err := s.updateOpinion(ctx, sm.OpinionID, func(o *chuting.Opinion) bool {
		if slices.ContainsFunc(o.NotForFacts, func(e chuting.Exclusion) bool { return e.SummonsID == sm.ID && e.Lifted.IsZero() }) {
			return false
		}
		o.NotForFacts = append(o.NotForFacts, chuting.Exclusion{SummonsID: sm.ID, CourtID: sm.CourtID, CaseNo: sm.CaseNo,
			AppraiserIDs: slices.Clone(absent), At: at, Basis: basis(sm.CaseType)})
		changed = true
		return true
	})
	return changed, err
}

// lift lifts the summons's standing exclusion on its opinion, with the court's latest
// correction as the reason: the court found that nobody was absent without cause after all.
func (s *Service) lift(ctx context.Context, sm *chuting.Summons, results []Result) (bool, error) {
	if sm.OpinionID == "" {
		return false, nil
	}
	var last *Correction
	for _, r := range results {
		for i, c := range r.Corrections {
			if last == nil || c.Time.After(last.Time) {
				last = &r.Corrections[i]
			}
		}
	}
	if last == nil {
		return false, nil // only a correction takes an absence back
	}
	changed := false
	err := s.updateOpinion(ctx, sm.OpinionID, func(o *chuting.Opinion) bool {
		for i, e := range o.NotForFacts {
			if e.SummonsID == sm.ID && e.Lifted.IsZero() {
				o.NotForFacts[i].Lifted = s.now().UTC()
				o.NotForFacts[i].LiftedReason = "法院更正出庭情况 / the court corrected the attendance: " + last.Reason
				changed = true
			}
		}
		return changed
	})
	return changed, err
}

// openRefund opens the summons's fee-refund task unless it exists, and returns it and
// whether it opened it now.
func (s *Service) openRefund(ctx context.Context, sm *chuting.Summons, absent []string, at time.Time) (*chuting.FeeRefund, bool, error) {
	id := chuting.RefundID(sm.ID)
	for range chuting.MaxAttempts {
		f, err := chuting.Load[chuting.FeeRefund](ctx, s.store, id)
		if err == nil {
			return f, false, nil
		} else if chuting.ErrorCode(err) != chuting.ENOTFOUND {
			return nil, false, err
		}
		f = &chuting.FeeRefund{Meta: chuting.Meta{ID: id}, SummonsID: sm.ID, HearingID: sm.HearingID, CourtID: sm.CourtID,
			InstitutionID: sm.InstitutionID, OpinionID: sm.OpinionID, CaseNo: sm.CaseNo, AppraiserIDs: slices.Clone(absent),
			Opened: at, Due: at.AddDate(0, 0, chuting.RefundDays), State: chuting.RefundOpen}
		err = chuting.Create(ctx, s.store, f)
		if err == nil {
			return f, true, nil
		} else if chuting.ErrorCode(err) != chuting.ECONFLICT {
			return nil, false, err
		}
		// Opened by someone else meanwhile: read theirs.
	}
	return nil, false, chuting.Errorf(chuting.ECONFLICT, "退费事项正被他人修改，请重试 / the fee refund of summons %s kept changing; try again", sm.ID)
}

// CloseRefund closes an open fee-refund task with the court's note (its ruling). EINVALID
// naming note when there is none; ECONFLICT when it is closed already. The caller has
// checked that p is the task's court.
func (s *Service) CloseRefund(ctx context.Context, p *chuting.Principal, id, note string) (*chuting.FeeRefund, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, chuting.FieldError("note", "须填写处理结果 / note (the court's ruling on the refund) is required")
	}
	if len([]rune(note)) > 1000 {
		return nil, chuting.FieldError("note", "note 超过 1000 个字符 / note is longer than 1000 characters")
	}
	var out *chuting.FeeRefund
	var closedAlready bool
	_, err := chuting.Update(ctx, s.store, id, func(f *chuting.FeeRefund) bool {
		out = f
		if closedAlready = f.State == chuting.RefundDone; closedAlready {
			return false
		}
		f.State, f.Closed, f.ClosedBy, f.Note = chuting.RefundDone, s.now().UTC(), p.UserID, note
		return true
	})
	if err != nil {
		return nil, err
	}
	if closedAlready {
		return nil, chuting.Errorf(chuting.ECONFLICT, "该退费事项已办结 / the fee-refund task is closed already")
	}
	return out, nil
}

// updateOpinion is chuting.Update for the summons's opinion; an opinion removed from the
// registry is nothing to bar or lift.
func (s *Service) updateOpinion(ctx context.Context, id string, change func(*chuting.Opinion) bool) error {
	_, err := chuting.Update(ctx, s.store, id, change)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return nil
	}
	return err
}

// sweepDays is how far back the sweep looks: hearings of the last 30 days, which covers a
// follow-up that failed after its step was stored and a late correction.
const sweepDays = 30

// SweepFollowUps runs FollowUp for the summons of every hearing that started in the last
// sweepDays days, and returns how many did something: the repair for a follow-up that failed
// after the court's step or correction was stored.
func (s *Service) SweepFollowUps(ctx context.Context) (int, error) {
	now := s.now()
	ids, err := s.summonsOfHearings(ctx, now.AddDate(0, 0, -sweepDays), now)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, id := range ids {
		did, err := s.FollowUp(ctx, id)
		if err != nil && chuting.ErrorCode(err) != chuting.ENOTFOUND {
			errs = append(errs, fmt.Errorf("summons %s: %w", id, err))
		}
		if did {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// summonsOfHearings returns the IDs of the summons of the hearings starting in [from, to),
// each once, in hearing order.
func (s *Service) summonsOfHearings(ctx context.Context, from, to time.Time) ([]string, error) {
	q := chuting.Query{Kind: chuting.KindHearing, Index: chuting.IndexStart, From: chuting.TimeKey(from), To: chuting.TimeKey(to),
		Limit: chuting.MaxLimit}
	var out []string
	seen := map[string]bool{}
	for {
		page, next, err := chuting.Find[chuting.Hearing](ctx, s.store, q)
		if err != nil {
			return nil, err
		}
		for _, h := range page {
			if !seen[h.SummonsID] {
				seen[h.SummonsID] = true
				out = append(out, h.SummonsID)
			}
		}
		if next == "" {
			return out, nil
		}
		q.After = next
	}
}
