package scheduler

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

var (
	t0     = time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC) // the slot's start
	soon   = t0.Add(-30 * time.Minute)                     // when the tests act: just before it
	clerk  = &chuting.Principal{UserID: "u-clerk", Role: chuting.RoleClerk, CourtID: "c1"}
	judge  = &chuting.Principal{UserID: "u-judge", Role: chuting.RoleJudge, CourtID: "c1"}
	other  = &chuting.Principal{UserID: "u-other", Role: chuting.RoleClerk, CourtID: "c2"}
	a1     = &chuting.Principal{UserID: "u-a1", Role: chuting.RoleAppraiser, AppraiserID: "a1"}
	a2     = &chuting.Principal{UserID: "u-a2", Role: chuting.RoleAppraiser, AppraiserID: "a2"}
	a3     = &chuting.Principal{UserID: "u-a3", Role: chuting.RoleAppraiser, AppraiserID: "a3"}
	server = &chuting.Principal{}
	slot   = &chuting.Slot{Start: t0, End: t0.Add(time.Hour), RoomID: "r1", AppraiserIDs: []string{"a1", "a2"}}
)

// summonsIn returns a summons in state, as the workflow would have left it there.
func summonsIn(state chuting.SummonsState) *chuting.Summons {
	s := &chuting.Summons{Meta: chuting.Meta{ID: "s1"}, CourtID: "c1", State: state}
	if state != chuting.SummonsUnknown {
		s.Slot = slot
	}
	switch state {
	case chuting.SummonsConfirmed, chuting.SummonsScheduled, chuting.SummonsInProgress:
		s.Responses = []chuting.Response{{AppraiserID: "a1", Confirmed: true}, {AppraiserID: "a2", Confirmed: true}}
	case chuting.SummonsDeclined, chuting.SummonsExcused:
		s.Responses = []chuting.Response{{AppraiserID: "a1", Confirmed: true}, {AppraiserID: "a2", Reason: "手术"}}
	}
	return s
}

// legalStep returns a step of action that is complete and taken by someone allowed to.
func legalStep(a Action) Step {
	st := Step{Action: a, By: clerk, Reason: "理由"}
	switch a {
	case Propose, Schedule:
		st.By = server
	case Confirm, Decline:
		st.By = a2
	}
	switch a {
	case Propose, Reschedule:
		st.Slot = slot
	case Absent:
		st.Cause = CauseWithoutCause
	case Schedule:
		st.HearingID = "h1"
	}
	return st
}

var allStates = []chuting.SummonsState{chuting.SummonsUnknown, chuting.SummonsProposed, chuting.SummonsConfirmed,
	chuting.SummonsDeclined, chuting.SummonsExcused, chuting.SummonsScheduled, chuting.SummonsInProgress,
	chuting.SummonsCompleted, chuting.SummonsAbsent, chuting.SummonsCancelled}

var allActions = []Action{Propose, Confirm, Decline, AcceptExcuse, RejectExcuse, Schedule, Reschedule, Cancel,
	Start, Complete, Absent}

// TestTransitions takes every action in every state: the legal ones reach the expected state
// and record a transition; every other one is refused with a conflict and changes nothing.
func TestTransitions(t *testing.T) {
	want := map[Action]map[chuting.SummonsState]chuting.SummonsState{
		Propose: {chuting.SummonsUnknown: chuting.SummonsProposed, chuting.SummonsProposed: chuting.SummonsProposed},
		Confirm: {chuting.SummonsProposed: chuting.SummonsProposed}, // a2 confirms; a1 has not yet
		Decline: {chuting.SummonsProposed: chuting.SummonsDeclined, chuting.SummonsConfirmed: chuting.SummonsDeclined,
			chuting.SummonsScheduled: chuting.SummonsDeclined},
		AcceptExcuse: {chuting.SummonsDeclined: chuting.SummonsExcused},
		RejectExcuse: {chuting.SummonsDeclined: chuting.SummonsConfirmed}, // the court binds the decliner
		Schedule:     {chuting.SummonsConfirmed: chuting.SummonsScheduled},
		Start:        {chuting.SummonsScheduled: chuting.SummonsInProgress},
		Complete:     {chuting.SummonsScheduled: chuting.SummonsCompleted, chuting.SummonsInProgress: chuting.SummonsCompleted},
		Absent:       {chuting.SummonsScheduled: chuting.SummonsAbsent, chuting.SummonsInProgress: chuting.SummonsAbsent},
	}
	beforeHearing := []chuting.SummonsState{chuting.SummonsProposed, chuting.SummonsConfirmed, chuting.SummonsScheduled,
		chuting.SummonsDeclined, chuting.SummonsExcused}
	want[Reschedule], want[Cancel] = map[chuting.SummonsState]chuting.SummonsState{}, map[chuting.SummonsState]chuting.SummonsState{}
	for _, s := range beforeHearing {
		want[Reschedule][s], want[Cancel][s] = chuting.SummonsProposed, chuting.SummonsCancelled
	}
	legal := 0
	for _, action := range allActions {
		for _, state := range allStates {
			t.Run(string(action)+"/"+state.String(), func(t *testing.T) {
				s := summonsIn(state)
				before := mustJSON(t, s)
				tr, err := Apply(s, legalStep(action), soon)
				to, ok := want[action][state]
				if !ok {
					if chuting.ErrorCode(err) != chuting.ECONFLICT {
						t.Fatalf("illegal step: err %v, want a conflict", err)
					}
					if mustJSON(t, s) != before {
						t.Fatal("an illegal step changed the summons")
					}
					return
				}
				legal++
				if err != nil {
					t.Fatalf("legal step refused: %v", err)
				}
				if s.State != to || tr.From != state || tr.To != to || tr.Action != string(action) || !tr.Time.Equal(soon) {
					t.Fatalf("state %s, transition %+v; want %s → %s", s.State, tr, state, to)
				}
				if len(s.History) != 1 || s.History[0] != tr {
					t.Fatalf("history %+v, want the transition", s.History)
				}
			})
		}
	}
	if legal != 24 {
		t.Fatalf("%d legal (state, action) pairs, want 24", legal)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConfirmAll(t *testing.T) {
	s := summonsIn(chuting.SummonsProposed)
	if _, err := Apply(s, Step{Action: Confirm, By: a1}, soon); err != nil || s.State != chuting.SummonsProposed {
		t.Fatalf("first confirmation: %v, state %s", err, s.State)
	}
	if _, err := Apply(s, Step{Action: Confirm, By: a1}, soon); chuting.ErrorCode(err) != chuting.ECONFLICT {
		t.Fatalf("confirming twice: %v, want a conflict", err)
	}
	if _, err := Apply(s, Step{Action: Confirm, By: a2}, soon); err != nil || s.State != chuting.SummonsConfirmed {
		t.Fatalf("last confirmation: %v, state %s, want confirmed", err, s.State)
	}
	if _, err := Apply(s, Step{Action: Schedule, By: server, HearingID: "h9"}, soon); err != nil || s.HearingID != "h9" {
		t.Fatalf("schedule: %v %s", err, s.HearingID)
	}
}

func TestDeclineAndDecide(t *testing.T) {
	t.Run("Reject", func(t *testing.T) {
		s := summonsIn(chuting.SummonsProposed)
		mustApply(t, s, Step{Action: Confirm, By: a1}, soon)
		mustApply(t, s, Step{Action: Decline, By: a2, Reason: "出差", Evidence: "差旅审批单"}, soon)
		if i := responseOf(s, "a2"); i < 0 || s.Responses[i].Confirmed || s.Responses[i].Evidence != "差旅审批单" {
			t.Fatalf("responses %+v", s.Responses)
		}
		mustApply(t, s, Step{Action: RejectExcuse, By: judge, Reason: "理由不成立"}, soon)
		i := responseOf(s, "a2")
		if s.State != chuting.SummonsConfirmed || i < 0 || !s.Responses[i].Confirmed || s.Responses[i].By != judge.UserID {
			t.Fatalf("after rejection: %s %+v; want confirmed, a2 bound by the judge's order", s.State, s.Responses)
		}
	})
	t.Run("WithdrawConfirmation", func(t *testing.T) {
		s := summonsIn(chuting.SummonsScheduled)
		mustApply(t, s, Step{Action: Decline, By: a1, Reason: "突发疾病"}, soon)
		if i := responseOf(s, "a1"); s.State != chuting.SummonsDeclined || s.Responses[i].Confirmed || len(s.Responses) != 2 {
			t.Fatalf("after a confirmed appraiser declines: %s %+v", s.State, s.Responses)
		}
	})
	t.Run("LongText", func(t *testing.T) {
		s := summonsIn(chuting.SummonsProposed)
		long := strings.Repeat("理", MaxStepRunes+1)
		for _, st := range []Step{{Action: Decline, By: a2, Reason: long}, {Action: Decline, By: a2, Reason: "出差", Evidence: long}} {
			_, err := Apply(s, st, soon)
			if want := map[bool]string{true: "reason", false: "evidence"}[st.Reason == long]; chuting.ErrorField(err) != want {
				t.Fatalf("a %d-character text: %v, want invalid naming %s", MaxStepRunes+1, err, want)
			}
		}
		if s.State != chuting.SummonsProposed || len(s.Responses) != 0 {
			t.Fatalf("a refused step changed the summons: %s %+v", s.State, s.Responses)
		}
	})
	t.Run("Accept", func(t *testing.T) {
		s := summonsIn(chuting.SummonsDeclined)
		mustApply(t, s, Step{Action: AcceptExcuse, By: clerk, Reason: "有住院证明"}, soon)
		mustApply(t, s, Step{Action: Reschedule, By: clerk, Reason: "延期审理", Slot: slot}, soon)
		if s.State != chuting.SummonsProposed || len(s.Responses) != 0 || s.Outcome != "" {
			t.Fatalf("a postponed summons starts over: %s %+v %q", s.State, s.Responses, s.Outcome)
		}
	})
}

func mustApply(t *testing.T, s *chuting.Summons, st Step, now time.Time) {
	t.Helper()
	if _, err := Apply(s, st, now); err != nil {
		t.Fatalf("%s: %v", st.Action, err)
	}
}

func TestWhoMayAct(t *testing.T) {
	tests := []struct {
		name  string
		state chuting.SummonsState
		step  Step
		code  string
	}{
		{"OtherAppraiser", chuting.SummonsProposed, Step{Action: Confirm, By: a3}, chuting.EFORBIDDEN},
		{"ClerkCannotConfirm", chuting.SummonsProposed, Step{Action: Confirm, By: clerk}, chuting.EFORBIDDEN},
		{"OtherCourt", chuting.SummonsScheduled, Step{Action: Cancel, By: other, Reason: "x"}, chuting.EFORBIDDEN},
		{"AppraiserCannotCancel", chuting.SummonsScheduled, Step{Action: Cancel, By: a1, Reason: "x"}, chuting.EFORBIDDEN},
		{"AppraiserCannotExcuseThemself", chuting.SummonsDeclined, Step{Action: AcceptExcuse, By: a2, Reason: "x"}, chuting.EFORBIDDEN},
		{"DeclineNeedsReason", chuting.SummonsProposed, Step{Action: Decline, By: a1}, chuting.EINVALID},
		{"CancelNeedsReason", chuting.SummonsProposed, Step{Action: Cancel, By: judge, Reason: "  "}, chuting.EINVALID},
		{"RescheduleNeedsSlot", chuting.SummonsProposed, Step{Action: Reschedule, By: judge, Reason: "x"}, chuting.EINVALID},
		{"AbsentNeedsCause", chuting.SummonsScheduled, Step{Action: Absent, By: judge, Cause: "lazy"}, chuting.EINVALID},
		{"DeclineTooLate", chuting.SummonsScheduled, Step{Action: Decline, By: a1, Reason: "x"}, chuting.ECONFLICT},
		{"StartTooEarly", chuting.SummonsScheduled, Step{Action: Start, By: judge}, chuting.ECONFLICT},
		{"OnlyTheServerProposes", chuting.SummonsProposed, Step{Action: Propose, By: clerk, Slot: slot}, chuting.EFORBIDDEN},
		{"OK", chuting.SummonsScheduled, Step{Action: Absent, By: judge, Cause: CauseTechnicalFailure}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := summonsIn(tc.state)
			before := mustJSON(t, s)
			now := soon
			switch tc.name {
			case "DeclineTooLate":
				now = t0 // the hearing's time
			case "StartTooEarly":
				now = t0.Add(-2 * time.Hour)
			}
			_, err := Apply(s, tc.step, now)
			if chuting.ErrorCode(err) != tc.code {
				t.Fatalf("err %v, want code %q", err, tc.code)
			}
			if tc.code != "" && mustJSON(t, s) != before {
				t.Fatal("a refused step changed the summons")
			}
		})
	}
}

func TestHistoryIsAppendOnly(t *testing.T) {
	s := summonsIn(chuting.SummonsUnknown)
	steps := []Step{legalStep(Propose), {Action: Confirm, By: a1}, {Action: Confirm, By: a2},
		{Action: Schedule, By: server, HearingID: "h1"}, {Action: Start, By: judge}, {Action: Complete, By: judge}}
	var seen []chuting.Transition
	for _, st := range steps {
		tr, err := Apply(s, st, soon)
		if err != nil {
			t.Fatalf("%s: %v", st.Action, err)
		}
		seen = append(seen, tr)
		if !slices.EqualFunc(s.History, seen, func(a, b chuting.Transition) bool { return mustJSON(t, a) == mustJSON(t, b) }) {
			t.Fatalf("history after %s = %+v", st.Action, s.History)
		}
	}
	if s.State != chuting.SummonsCompleted || s.Outcome != "appeared" {
		t.Fatalf("final state %s %q", s.State, s.Outcome)
	}
}
