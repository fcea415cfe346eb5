package scheduler

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chuting/chuting"
)

// The summons workflow, as an explicit state machine:
//
//	proposed ──confirm (each appraiser)──▶ confirmed ──schedule──▶ scheduled ──start──▶ in_progress
//	    │                                      ▲                       │                   │
//	    └──decline──▶ declined ──reject_excuse─┘ (the court's order)   ├──complete─────────┴──▶ completed
//	                     └──accept_excuse──▶ excused                   └──absent (cause)───────▶ absent
//
// reschedule (back to proposed, with a new slot) and cancel are allowed at any point before
// the hearing starts; decline too, up to the start (an appraiser can fall ill after
// confirming). Every step records who took it and why (Transition); a step not allowed from
// the current state is refused and changes nothing.

// Action is a step a user (or the server) takes on a summons.
type Action string

// Actions.
const (
	Propose      Action = "propose"       // the server proposes the first slot
	Confirm      Action = "confirm"       // an appraiser accepts the slot
	Decline      Action = "decline"       // an appraiser asks to be excused, with a reason (#37)
	AcceptExcuse Action = "accept_excuse" // the court accepts the excuse
	RejectExcuse Action = "reject_excuse" // the court rejects it: the appraiser must appear
	Schedule     Action = "schedule"      // the hearing is fixed once everyone confirmed
	Reschedule   Action = "reschedule"    // the court moves the hearing, with a reason
	Cancel       Action = "cancel"        // the court withdraws the summons, with a reason
	Start        Action = "start"         // the hearing begins
	Complete     Action = "complete"      // the appraiser appeared
	Absent       Action = "absent"        // the appraiser did not appear: without cause or technical failure (#35)
)

// Absence causes (#35): they have different consequences (#36–#38). See chuting.CauseWithoutCause.
const (
	CauseWithoutCause     = chuting.CauseWithoutCause     // 无故拒不出庭
	CauseTechnicalFailure = chuting.CauseTechnicalFailure // network failure, device damage, power cut (在线诉讼规则 art. 25)
)

// from lists the states an action may be taken in.
func from(a Action) []chuting.SummonsState {
	beforeHearing := []chuting.SummonsState{chuting.SummonsProposed, chuting.SummonsConfirmed,
		chuting.SummonsScheduled, chuting.SummonsDeclined, chuting.SummonsExcused}
	switch a {
	case Propose: // the first slot, or a better one the optimiser found before anyone answered
		return []chuting.SummonsState{chuting.SummonsUnknown, chuting.SummonsProposed}
	case Confirm:
		return []chuting.SummonsState{chuting.SummonsProposed}
	case Decline:
		return []chuting.SummonsState{chuting.SummonsProposed, chuting.SummonsConfirmed, chuting.SummonsScheduled}
	case AcceptExcuse, RejectExcuse:
		return []chuting.SummonsState{chuting.SummonsDeclined}
	case Schedule:
		return []chuting.SummonsState{chuting.SummonsConfirmed}
	case Reschedule, Cancel:
		return beforeHearing
	case Start:
		return []chuting.SummonsState{chuting.SummonsScheduled}
	case Complete:
		return []chuting.SummonsState{chuting.SummonsScheduled, chuting.SummonsInProgress}
	case Absent:
		return []chuting.SummonsState{chuting.SummonsScheduled, chuting.SummonsInProgress}
	}
	return nil
}

// Step is one action with what it needs.
type Step struct {
	Action    Action
	By        *chuting.Principal
	Reason    string        // required for decline, excuse decisions, reschedule, cancel
	Evidence  string        // decline: e.g. a medical certificate's reference
	Slot      *chuting.Slot // propose, reschedule: the new slot
	Cause     string        // absent: CauseWithoutCause or CauseTechnicalFailure
	HearingID string        // schedule: the hearing record made for the slot
}

// Apply takes step on s at now and returns the transition it made (after the last
// confirmation, proposed → confirmed; the server then schedules). On any error s is left
// unchanged: ECONFLICT for an action not allowed in the current state (or already
// taken), EFORBIDDEN for a user not party to the step, EINVALID for a missing reason, slot
// or cause.
func Apply(s *chuting.Summons, st Step, now time.Time) (chuting.Transition, error) {
	if !slices.Contains(from(st.Action), s.State) {
		return chuting.Transition{}, chuting.Errorf(chuting.ECONFLICT, "出庭通知当前为%s，不能%s / a %s summons cannot be %s",
			s.State.Chinese(), actionName(st.Action), s.State, pastTense(st.Action))
	}
	if err := allowed(s, st); err != nil {
		return chuting.Transition{}, err
	}
	if err := complete(st); err != nil {
		return chuting.Transition{}, err
	}
	if err := timely(s, st, now); err != nil {
		return chuting.Transition{}, err
	}
	next := *s // work on a copy: s changes only when everything succeeded
	next.Responses = slices.Clone(s.Responses)
	to, err := step(&next, st, now)
	if err != nil {
		return chuting.Transition{}, err
	}
	tr := chuting.Transition{Time: now.UTC(), Action: string(st.Action), From: s.State, To: to,
		By: st.By.UserID, Role: st.By.Role, Reason: st.Reason}
	if st.Action == Propose || st.Action == Reschedule || st.Action == Schedule {
		tr.Slot = next.Slot
	}
	next.State = to
	next.History = append(slices.Clone(s.History), tr)
	*s = next
	return tr, nil
}

// step applies the action's effect to s and returns the new state.
func step(s *chuting.Summons, st Step, now time.Time) (chuting.SummonsState, error) {
	switch st.Action {
	case Propose, Reschedule:
		if st.Action == Propose && len(s.Responses) > 0 {
			// Someone answered this slot: only the court may move it now.
			return 0, chuting.Errorf(chuting.ECONFLICT, "已有鉴定人答复，不能自动改期 / an appraiser has answered; only the court may move the slot")
		}
		s.Slot, s.Responses, s.HearingID, s.Outcome = st.Slot, nil, "", ""
		s.Reminders, s.NoShow = nil, time.Time{}
		return chuting.SummonsProposed, nil
	case Confirm:
		id := st.By.AppraiserID
		if i := responseOf(s, id); i >= 0 {
			return 0, chuting.Errorf(chuting.ECONFLICT, "已答复过此时间 / you already answered for this slot")
		}
		s.Responses = append(s.Responses, chuting.Response{AppraiserID: id, Confirmed: true, By: st.By.UserID, At: now.UTC()})
		if allConfirmed(s) {
			return chuting.SummonsConfirmed, nil
		}
		return chuting.SummonsProposed, nil
	case Decline:
		id := st.By.AppraiserID
		if i := responseOf(s, id); i >= 0 {
			s.Responses = slices.Delete(s.Responses, i, i+1) // a confirmation can be withdrawn
		}
		s.Responses = append(s.Responses, chuting.Response{AppraiserID: id, Reason: st.Reason, Evidence: st.Evidence,
			By: st.By.UserID, At: now.UTC()})
		return chuting.SummonsDeclined, nil
	case AcceptExcuse:
		s.Outcome = "excused: " + st.Reason
		return chuting.SummonsExcused, nil
	case RejectExcuse:
		// The court orders the decliners to appear: their answer becomes the court's
		// confirmation, so the hearing is scheduled as soon as everyone is bound to it.
		for i, r := range s.Responses {
			if !r.Confirmed {
				s.Responses[i] = chuting.Response{AppraiserID: r.AppraiserID, Confirmed: true,
					Reason: "法院驳回不出庭申请：" + st.Reason, By: st.By.UserID, At: now.UTC()}
			}
		}
		if allConfirmed(s) {
			return chuting.SummonsConfirmed, nil
		}
		return chuting.SummonsProposed, nil
	case Schedule:
		s.HearingID = st.HearingID
		return chuting.SummonsScheduled, nil
	case Cancel:
		s.Outcome = "cancelled: " + st.Reason
		return chuting.SummonsCancelled, nil
	case Start:
		return chuting.SummonsInProgress, nil
	case Complete:
		s.Outcome = "appeared"
		return chuting.SummonsCompleted, nil
	case Absent:
		s.Outcome = st.Cause
		return chuting.SummonsAbsent, nil
	}
	return 0, chuting.Errorf(chuting.EINVALID, "unknown action %q", st.Action)
}

// allowed checks that the user may take the step: an appraiser answers only for themself and
// only when summoned to the slot; the court acts only on its own summons. The server
// (By.Role unknown) proposes and schedules.
func allowed(s *chuting.Summons, st Step) error {
	p := st.By
	switch st.Action {
	case Propose, Schedule:
		if p.Role != chuting.RoleUnknown {
			return chuting.Errorf(chuting.EFORBIDDEN, "slots are proposed by the scheduler")
		}
		return nil
	case Confirm, Decline:
		if p.Role != chuting.RoleAppraiser || s.Slot == nil || !slices.Contains(s.Slot.AppraiserIDs, p.AppraiserID) {
			return chuting.Errorf(chuting.EFORBIDDEN, "只有被通知出庭的鉴定人本人可以答复 / only a summoned appraiser answers, for themself")
		}
		return nil
	}
	if (p.Role != chuting.RoleClerk && p.Role != chuting.RoleJudge) || p.CourtID != s.CourtID {
		return chuting.Errorf(chuting.EFORBIDDEN, "只有发出通知的法院可以%s / only the summoning court may %s",
			actionName(st.Action), st.Action)
	}
	return nil
}

// earlyStart is how long before its slot a hearing may be started.
const earlyStart = time.Hour

// timely checks the step against the clock: an appraiser cannot ask to be excused once the
// hearing's time has come (the court then records what happened, #35), and a hearing cannot
// be started long before its slot.
func timely(s *chuting.Summons, st Step, now time.Time) error {
	switch {
	case s.Slot == nil:
	case st.Action == Decline && !now.Before(s.Slot.Start):
		return chuting.Errorf(chuting.ECONFLICT, "出庭时间已到，不能再申请不出庭 / the hearing's time has come; it is too late to ask to be excused")
	case st.Action == Start && now.Before(s.Slot.Start.Add(-earlyStart)):
		return chuting.Errorf(chuting.ECONFLICT, "未到开庭时间（%s）/ the hearing is not due until %s",
			s.Slot.Start.In(chuting.ChinaZone()).Format("2006-01-02 15:04"), s.Slot.Start.In(chuting.ChinaZone()).Format("2006-01-02 15:04"))
	}
	return nil
}

// complete checks the step carries what its action needs.
func complete(st Step) error {
	for _, f := range [...]struct{ name, text string }{{"reason", st.Reason}, {"evidence", st.Evidence}} {
		if utf8.RuneCountInString(f.text) > MaxStepRunes {
			return chuting.FieldError(f.name, "%s 超过 %d 字 / %s is longer than %d characters", f.name, MaxStepRunes, f.name, MaxStepRunes)
		}
	}
	switch st.Action {
	case Decline, AcceptExcuse, RejectExcuse, Reschedule, Cancel:
		if strings.TrimSpace(st.Reason) == "" {
			return chuting.FieldError("reason", "须说明理由 / a reason is required")
		}
	}
	switch st.Action {
	case Propose, Reschedule:
		if st.Slot == nil || len(st.Slot.AppraiserIDs) == 0 || !st.Slot.Start.Before(st.Slot.End) {
			return chuting.FieldError("slot", "须提供时间和鉴定人 / a slot with a time and appraisers is required")
		}
	case Absent:
		if st.Cause != CauseWithoutCause && st.Cause != CauseTechnicalFailure {
			return chuting.FieldError("cause", "原因须为 without_cause 或 technical_failure / cause must be without_cause or technical_failure")
		}
	case Schedule:
		if st.HearingID == "" {
			return chuting.FieldError("hearing_id", "schedule needs the hearing")
		}
	}
	return nil
}

func responseOf(s *chuting.Summons, appraiserID string) int {
	return slices.IndexFunc(s.Responses, func(r chuting.Response) bool { return r.AppraiserID == appraiserID })
}

// allConfirmed reports whether every appraiser of the slot has confirmed.
func allConfirmed(s *chuting.Summons) bool {
	for _, id := range s.Slot.AppraiserIDs {
		if i := responseOf(s, id); i < 0 || !s.Responses[i].Confirmed {
			return false
		}
	}
	return true
}

func actionName(a Action) string {
	switch a {
	case Propose:
		return "提出时间"
	case Confirm:
		return "确认"
	case Decline:
		return "申请不出庭"
	case AcceptExcuse:
		return "准许不出庭"
	case RejectExcuse:
		return "驳回不出庭申请"
	case Schedule:
		return "排期"
	case Reschedule:
		return "改期"
	case Cancel:
		return "撤销"
	case Start:
		return "开庭"
	case Complete:
		return "记为已出庭"
	case Absent:
		return "记为未出庭"
	}
	return string(a)
}

func pastTense(a Action) string {
	switch a {
	case Propose:
		return "given a slot"
	case Confirm:
		return "confirmed"
	case Decline:
		return "declined"
	case AcceptExcuse:
		return "excused"
	case RejectExcuse:
		return "refused an excuse"
	case Schedule:
		return "scheduled"
	case Reschedule:
		return "rescheduled"
	case Cancel:
		return "cancelled"
	case Start:
		return "started"
	case Complete:
		return "completed"
	case Absent:
		return "marked absent"
	}
	return string(a)
}
