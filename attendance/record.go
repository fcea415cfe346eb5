package attendance

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/chuting/chuting"
)

// Entry is one summons on an appraiser's record: how they attended, and what followed.
type Entry struct {
	SummonsID     string               `json:"summons_id"`
	CaseNo        string               `json:"case_no"`
	CourtID       string               `json:"court_id"`
	InstitutionID string               `json:"institution_id"`
	OpinionID     string               `json:"opinion_id,omitempty"`
	HearingID     string               `json:"hearing_id,omitempty"`
	Due           time.Time            `json:"due,omitzero"` // the hearing slot's start
	Mode          chuting.Mode         `json:"mode"`
	State         chuting.SummonsState `json:"state"`
	Attendance    Result               `json:"attendance"`
	// OpinionBarred says the summons's absence bars the opinion (#36), until lifted.
	OpinionBarred bool               `json:"opinion_barred"`
	FeeRefund     *chuting.FeeRefund `json:"fee_refund,omitempty"`
}

// AppraiserRecord is an appraiser's attendance history (#39): every summons naming them that
// the caller may see, newest first, and its tally.
type AppraiserRecord struct {
	AppraiserID   string  `json:"appraiser_id"`
	Name          string  `json:"name"`
	InstitutionID string  `json:"institution_id"`
	Summary       Tally   `json:"summary"`
	Entries       []Entry `json:"entries"`
}

// Record returns a's attendance history over the summons that keep selects (nil: all).
func (s *Service) Record(ctx context.Context, a *chuting.Appraiser, keep func(*chuting.Summons) bool) (*AppraiserRecord, error) {
	all, err := chuting.FindAll[chuting.Summons](ctx, s.store, chuting.Equal(chuting.KindSummons, chuting.IndexAppraiser, a.ID))
	if err != nil {
		return nil, err
	}
	out := &AppraiserRecord{AppraiserID: a.ID, Name: a.Name, InstitutionID: a.InstitutionID, Entries: []Entry{},
		Summary: Tally{Key: a.ID, Name: a.Name}}
	users := map[string][]string{}
	barred := map[string]bool{} // summons ID → its exclusion stands
	loaded := map[string]bool{} // opinion IDs read
	for _, sm := range all {
		if keep != nil && !keep(sm) || !slices.Contains(sm.Summoned(), a.ID) {
			continue
		}
		evs, err := s.Events(ctx, sm.HearingID)
		if err != nil {
			return nil, err
		}
		e := Entry{SummonsID: sm.ID, CaseNo: sm.CaseNo, CourtID: sm.CourtID, InstitutionID: sm.InstitutionID,
			OpinionID: sm.OpinionID, HearingID: sm.HearingID, Mode: sm.Mode, State: sm.State,
			Attendance: Status(evs, s.facts(ctx, sm, a.ID, users), s.rules)}
		if sm.Slot != nil {
			e.Due = sm.Slot.Start
		}
		if sm.OpinionID != "" {
			if !loaded[sm.OpinionID] {
				loaded[sm.OpinionID] = true
				if o, err := chuting.Load[chuting.Opinion](ctx, s.store, sm.OpinionID); err == nil {
					for _, x := range o.NotForFacts {
						barred[x.SummonsID] = barred[x.SummonsID] || x.Lifted.IsZero()
					}
				}
			}
			e.OpinionBarred = barred[sm.ID]
		}
		if f, err := chuting.Load[chuting.FeeRefund](ctx, s.store, chuting.RefundID(sm.ID)); err == nil {
			e.FeeRefund = f
		} else if chuting.ErrorCode(err) != chuting.ENOTFOUND {
			return nil, err
		}
		out.Summary.Add(e.Attendance)
		out.Entries = append(out.Entries, e)
	}
	out.Summary.finish()
	slices.SortFunc(out.Entries, func(x, y Entry) int { return cmp.Or(y.Due.Compare(x.Due), cmp.Compare(y.SummonsID, x.SummonsID)) })
	return out, nil
}
