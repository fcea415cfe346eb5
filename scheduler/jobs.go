package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/chuting/chuting"
)

// The work the periodic jobs do. Each is safe to run again (it records what it did on the
// records it touches), so a job that ran twice by accident, or half-ran before a crash, does
// no harm; the cron lease makes it run once per tick anyway.

// reminder is one of the reminders before a hearing.
type reminder struct {
	name string
	lead time.Duration
}

// reminderLeads returns how long before a hearing its reminders go out, largest first.
func reminderLeads() []reminder {
	return []reminder{{"72h", 72 * time.Hour}, {"24h", 24 * time.Hour}, {"1h", time.Hour}}
}

// SendReminders sends the due reminders of scheduled hearings (72 h, 24 h and 1 h before),
// each once, and returns how many it sent. A reminder whose time passed while the server was
// down is sent late rather than never, but a later one supersedes it (after 24 h to go the
// 72 h reminder is no longer sent).
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	sent := 0
	err := s.eachInState(ctx, chuting.SummonsScheduled, func(sm *chuting.Summons) error {
		now := s.now()
		left := sm.Slot.Start.Sub(now)
		if left <= 0 {
			return nil
		}
		due := ""
		for _, r := range reminderLeads() {
			if left <= r.lead {
				due = r.name // the smallest lead reached wins
			}
		}
		if due == "" || slices.Contains(sm.Reminders, due) {
			return nil
		}
		start := sm.Slot.Start
		changed, err := chuting.Update(ctx, s.store, sm.ID, func(sm *chuting.Summons) bool {
			// The hearing as read: not one moved since (its reminders are for its new time).
			if sm.State != chuting.SummonsScheduled || slices.Contains(sm.Reminders, due) ||
				sm.Slot == nil || !sm.Slot.Start.Equal(start) {
				return false
			}
			for _, r := range reminderLeads() { // mark the larger leads too: they are past
				if !slices.Contains(sm.Reminders, r.name) {
					sm.Reminders = append(sm.Reminders, r.name)
				}
				if r.name == due {
					break
				}
			}
			return true
		})
		if err != nil || changed == nil {
			return err
		}
		s.notify(ctx, chuting.SummonsEvent{Summons: changed, Reminder: due})
		sent++
		return nil
	})
	return sent, err
}

// DetectNoShows flags each remote hearing whose video room is open (the hearing has a node)
// and that started more than grace ago while a summoned appraiser was never admitted (the
// hearing's attendance log has no "admitted" event for them); it tells the court and returns
// how many it flagged. The court then records the outcome: absent without cause, or a
// technical failure (#35). An appearance in person is recorded by the clerk, not detected.
func (s *Service) DetectNoShows(ctx context.Context, grace time.Duration) (int, error) {
	flagged := 0
	check := func(sm *chuting.Summons) error {
		if !sm.NoShow.IsZero() || sm.HearingID == "" || sm.Mode != chuting.ModeRemote || s.now().Before(sm.Slot.Start.Add(grace)) {
			return nil
		}
		h, err := chuting.Load[chuting.Hearing](ctx, s.store, sm.HearingID)
		if chuting.ErrorCode(err) == chuting.ENOTFOUND || err == nil && h.Node == "" {
			return nil // no room was opened: nothing to detect from
		} else if err != nil {
			return err
		}
		admitted, err := s.admitted(ctx, sm.HearingID)
		if err != nil {
			return err
		}
		missing := slices.ContainsFunc(sm.Slot.AppraiserIDs, func(id string) bool { return !admitted[id] && !admitted[s.userOf(ctx, id)] })
		if !missing {
			return nil
		}
		now := s.now()
		start := sm.Slot.Start
		changed, err := chuting.Update(ctx, s.store, sm.ID, func(sm *chuting.Summons) bool {
			if !sm.NoShow.IsZero() || sm.Slot == nil || !sm.Slot.Start.Equal(start) { // moved since it was read
				return false
			}
			sm.NoShow = now.UTC()
			return true
		})
		if err != nil || changed == nil {
			return err
		}
		s.notify(ctx, chuting.SummonsEvent{Summons: changed, NoShow: true})
		flagged++
		return nil
	}
	for _, st := range []chuting.SummonsState{chuting.SummonsScheduled, chuting.SummonsInProgress} {
		if err := s.eachInState(ctx, st, check); err != nil {
			return flagged, err
		}
	}
	return flagged, nil
}

// ReconcileHearings makes every summons's hearing record match its state (syncHearing), and
// returns how many it checked: the repair for a step whose hearing write failed after the
// step was stored.
func (s *Service) ReconcileHearings(ctx context.Context) (int, error) {
	n := 0
	for _, st := range []chuting.SummonsState{chuting.SummonsScheduled, chuting.SummonsDeclined,
		chuting.SummonsInProgress, chuting.SummonsCancelled, chuting.SummonsExcused, chuting.SummonsProposed} {
		if err := s.eachInState(ctx, st, func(sm *chuting.Summons) error {
			n++
			return s.syncLatest(ctx, sm.ID)
		}); err != nil {
			return n, err
		}
	}
	return n, nil
}

// userOf returns the ID of an appraiser's account, which the rooms log as the subject of
// their events (the join token's subject), or "" without one.
func (s *Service) userOf(ctx context.Context, appraiserID string) string {
	u, err := chuting.FindOne[chuting.User](ctx, s.store, chuting.IndexAppraiser, appraiserID)
	if err != nil {
		return ""
	}
	return u.ID
}

// admitted returns the subjects (appraiser or user IDs) admitted to the hearing at some
// point, from its log.
func (s *Service) admitted(ctx context.Context, hearingID string) (map[string]bool, error) {
	out := map[string]bool{}
	for after := uint64(0); ; {
		evs, err := s.store.Events(ctx, chuting.HearingStream(hearingID), after, chuting.MaxLimit)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			return out, nil
		}
		for _, e := range evs {
			if e.Type == chuting.AttendanceAdmitted {
				var ev chuting.AttendanceEvent
				if err := json.Unmarshal(e.Data, &ev); err == nil && ev.SubjectID != "" {
					out[ev.SubjectID] = true
				}
			}
		}
		after = evs[len(evs)-1].Seq
	}
}

// SweepEligibility tells each institution's admins, once per expiry date, about appraiser
// licences that expire within `within` and about the institution's accreditation (#7, #12).
// It returns how many notices it wrote.
func (s *Service) SweepEligibility(ctx context.Context, within time.Duration) (int, error) {
	now := s.now()
	today, horizon := chuting.DateOf(now.In(chuting.ChinaZone())), chuting.DateOf(now.Add(within).In(chuting.ChinaZone()))
	soon := func(d chuting.Date) bool { return !d.IsZero() && !d.Before(today) && !horizon.Before(d) }
	insts, err := chuting.FindAll[chuting.Institution](ctx, s.store, chuting.Query{})
	if err != nil {
		return 0, err
	}
	written := 0
	for _, inst := range insts {
		admins, err := s.admins(ctx, inst.ID)
		if err != nil {
			return written, err
		} else if len(admins) == 0 {
			continue // nobody to tell
		}
		var notes []chuting.Notice
		if soon(inst.AccreditationExpires) {
			notes = append(notes, chuting.Notice{Topic: "eligibility.accreditation_expiring",
				Title: fmt.Sprintf("资质认定将于%s到期 / accreditation expires %s", inst.AccreditationExpires, inst.AccreditationExpires),
				Body: fmt.Sprintf("%s的资质认定（%s）将于%s到期，到期后相关鉴定意见可能不被采信。/ %s's accreditation %s expires on %s.",
					inst.Name, inst.AccreditationNo, inst.AccreditationExpires, inst.Name, inst.AccreditationNo, inst.AccreditationExpires)})
			notes[len(notes)-1].ID = "accreditation/" + inst.ID + "/" + inst.AccreditationExpires.String()
		}
		appraisers, err := chuting.FindAll[chuting.Appraiser](ctx, s.store, chuting.Equal(chuting.KindAppraiser, chuting.IndexInstitution, inst.ID))
		if err != nil {
			return written, err
		}
		for _, a := range appraisers {
			if soon(a.LicenceExpires) {
				n := chuting.Notice{Topic: "eligibility.licence_expiring",
					Title: fmt.Sprintf("%s的执业证将于%s到期 / %s's licence expires %s", a.Name, a.LicenceExpires, a.Name, a.LicenceExpires),
					Body: fmt.Sprintf("鉴定人%s（执业证号%s）的执业证将于%s到期，到期后不能承接新的出庭。/ Appraiser %s (licence %s) cannot be assigned new appearances after %s.",
						a.Name, a.LicenceNo, a.LicenceExpires, a.Name, a.LicenceNo, a.LicenceExpires)}
				n.ID = "licence/" + a.ID + "/" + a.LicenceExpires.String()
				notes = append(notes, n)
			}
		}
		for _, n := range notes {
			for _, admin := range admins {
				note := n
				note.UserID = admin.ID
				note.ID = chuting.IDOf("notice/" + n.ID + "/" + admin.ID) // once per expiry and reader
				err := chuting.Create(ctx, s.store, &note)
				switch chuting.ErrorCode(err) {
				case "":
					written++
				case chuting.ECONFLICT: // told already
				default:
					return written, err
				}
			}
		}
	}
	return written, nil
}

// admins returns the accounts administering an institution.
func (s *Service) admins(ctx context.Context, institutionID string) ([]*chuting.User, error) {
	users, err := chuting.FindAll[chuting.User](ctx, s.store, chuting.Equal(chuting.KindUser, chuting.IndexInstitution, institutionID))
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(users, func(u *chuting.User) bool {
		return u.Role != chuting.RoleInstitutionAdmin || u.Disabled
	}), nil
}

// eachInState calls fn for every summons in state.
func (s *Service) eachInState(ctx context.Context, state chuting.SummonsState, fn func(*chuting.Summons) error) error {
	q := chuting.Equal(chuting.KindSummons, chuting.IndexState, state.String())
	for {
		page, next, err := chuting.Find[chuting.Summons](ctx, s.store, q)
		if err != nil {
			return err
		}
		for _, sm := range page {
			if sm.Slot == nil {
				continue
			}
			if err := fn(sm); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		q.After = next
	}
}
