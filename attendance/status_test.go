package attendance_test

import (
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/attendance"
)

var cst = time.FixedZone("CST", 8*3600)

// tm is a time on the hearing day, Monday 14 December 2026, in China Standard Time.
func tm(hhmmss string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", "2026-12-14 "+hhmmss, cst)
	if err != nil {
		panic(err)
	}
	return t
}

// The appraiser is a1; the rooms log them by their account, u1. The judge is uj.
const (
	appraiserID = "a1"
	userID      = "u1"
	judgeID     = "uj"
)

func ev(typ, at, subject, reason string) chuting.AttendanceEvent {
	actor := ""
	switch typ {
	case chuting.AttendanceAdmitted, chuting.AttendanceMovedToWaiting, chuting.AttendanceRemoved,
		chuting.AttendanceHearingStarted, chuting.AttendanceHearingEnded, chuting.AttendanceCorrected,
		chuting.AttendanceInPerson:
		actor = judgeID
	}
	return chuting.AttendanceEvent{Time: tm(at), HearingID: "h1", Type: typ, ActorID: actor, SubjectID: subject, Reason: reason}
}

func joined(at string) chuting.AttendanceEvent {
	return ev(chuting.AttendanceJoined, at, userID, "role=appraiser state=waiting participant=p-1")
}
func admitted(at string) chuting.AttendanceEvent {
	return ev(chuting.AttendanceAdmitted, at, userID, "")
}
func toWaiting(at string) chuting.AttendanceEvent {
	return ev(chuting.AttendanceMovedToWaiting, at, userID, "")
}
func left(at string) chuting.AttendanceEvent    { return ev(chuting.AttendanceLeft, at, userID, "") }
func removed(at string) chuting.AttendanceEvent { return ev(chuting.AttendanceRemoved, at, userID, "") }
func dropped(at string) chuting.AttendanceEvent {
	return ev(chuting.AttendanceDropped, at, userID, "participant=p-1")
}
func resumed(at, gap string) chuting.AttendanceEvent {
	return ev(chuting.AttendanceResumed, at, userID, "gap="+gap+" participant=p-1")
}
func notResumed(at string) chuting.AttendanceEvent {
	return ev(chuting.AttendanceLeft, at, userID, "not resumed within 30s")
}
func roomClosed(at string) chuting.AttendanceEvent {
	return ev(chuting.AttendanceLeft, at, userID, "room closed: 庭审已结束 / the hearing has ended")
}
func started(at string) chuting.AttendanceEvent {
	return ev(chuting.AttendanceHearingStarted, at, "", "")
}
func ended(at string) chuting.AttendanceEvent { return ev(chuting.AttendanceHearingEnded, at, "", "") }
func inPerson(at, arrived string) chuting.AttendanceEvent {
	e := ev(chuting.AttendanceInPerson, at, appraiserID, "到庭")
	e.At = tm(arrived)
	return e
}
func corrected(at string, status attendance.Code, reason string) chuting.AttendanceEvent {
	e := ev(chuting.AttendanceCorrected, at, appraiserID, reason)
	e.Status = string(status)
	return e
}

// seq joins event lists.
func seq(parts ...[]chuting.AttendanceEvent) []chuting.AttendanceEvent {
	var out []chuting.AttendanceEvent
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func evs(e ...chuting.AttendanceEvent) []chuting.AttendanceEvent { return e }

// testified is a normal remote appearance: checked in early, called at 09:10, sent back to
// the waiting room after testifying, gone at 09:51; the judge ends the hearing at 10:20.
var testified = evs(joined("08:50:00"), started("09:00:00"), admitted("09:10:00"), toWaiting("09:50:00"),
	left("09:51:00"), ended("10:20:00"))

func TestStatus(t *testing.T) {
	// The hearing's slot: 09:00–10:30; "now" is after it unless a case says otherwise.
	facts := func(state chuting.SummonsState, outcome string) attendance.Facts {
		return attendance.Facts{AppraiserID: appraiserID, Subjects: []string{userID}, State: state, Outcome: outcome,
			Mode: chuting.ModeRemote, Start: tm("09:00:00"), End: tm("10:30:00"), Now: tm("11:00:00")}
	}
	completed := facts(chuting.SummonsCompleted, "appeared")
	inProgress := facts(chuting.SummonsInProgress, "")
	during := inProgress
	during.Now = tm("09:30:00")
	before := facts(chuting.SummonsScheduled, "")
	before.Now = tm("08:00:00")
	inCourt := completed
	inCourt.Mode = chuting.ModeInPerson

	tests := []struct {
		name   string
		events []chuting.AttendanceEvent
		facts  attendance.Facts
		want   attendance.Code
		check  func(t *testing.T, r attendance.Result)
	}{
		{"OKAppearedRemote", testified, completed, attendance.AppearedRemote, func(t *testing.T, r attendance.Result) {
			if !r.Appeared || r.Late || r.LeftEarly || r.InPerson || !r.Arrived.Equal(tm("08:50:00")) || !r.Admitted.Equal(tm("09:10:00")) {
				t.Errorf("flags and times: %+v", r)
			}
		}},
		{"OKAppearedRemoteUntilRoomClosed", evs(joined("08:55:00"), admitted("09:05:00"), ended("10:20:00"), roomClosed("10:20:00")),
			inProgress, attendance.AppearedRemote, nil},
		{"OKServerStoppedMidHearing", evs(joined("08:55:00"), started("09:00:00"), admitted("09:05:00"),
			ev(chuting.AttendanceLeft, "09:20:00", userID, "room closed: 服务器关闭 / the server is shutting down")),
			during, attendance.AppearedRemote, func(t *testing.T, r attendance.Result) {
				if r.LeftEarly {
					t.Errorf("the room closing is not the appraiser leaving: %+v", r)
				}
			}},
		{"OKServerStoppedBeforeAdmission", evs(joined("08:55:00"), started("09:00:00"),
			ev(chuting.AttendanceLeft, "09:20:00", userID, "room closed: 服务器关闭 / the server is shutting down")),
			during, attendance.Pending, nil},
		{"OKAppearedRemoteLeftAfterTheEnd", evs(joined("08:55:00"), admitted("09:05:00"), ended("10:20:00"), left("10:21:00")),
			inProgress, attendance.AppearedRemote, nil},
		{"OKAppearedRemoteWhileUnderWay", evs(joined("08:55:00"), started("09:00:00"), admitted("09:05:00")),
			during, attendance.AppearedRemote, nil},
		{"OKAdmittedLateButArrivedOnTime", evs(joined("08:55:00"), started("09:00:00"), admitted("09:40:00"), toWaiting("10:00:00"),
			left("10:00:30"), ended("10:20:00")), completed, attendance.AppearedRemote, nil},
		{"OKArrivedAtTheEndOfTheGrace", evs(joined("09:15:00"), admitted("09:16:00"), ended("10:20:00")), completed,
			attendance.AppearedRemote, nil},
		{"OKLate", evs(started("09:00:00"), joined("09:20:00"), admitted("09:25:00"), toWaiting("10:00:00"), ended("10:20:00")),
			completed, attendance.Late, func(t *testing.T, r attendance.Result) {
				if !r.Appeared || !r.Late || r.LeftEarly {
					t.Errorf("flags: %+v", r)
				}
			}},
		{"OKAppearedInPerson", evs(inPerson("09:05:00", "08:50:00")), inCourt, attendance.AppearedInPerson,
			func(t *testing.T, r attendance.Result) {
				if !r.Appeared || !r.InPerson || r.Late || !r.Arrived.Equal(tm("08:50:00")) {
					t.Errorf("flags: %+v", r)
				}
			}},
		{"OKInPersonLate", evs(inPerson("09:40:00", "09:30:00")), inCourt, attendance.Late,
			func(t *testing.T, r attendance.Result) {
				if !r.Appeared || !r.InPerson || !r.Late {
					t.Errorf("flags: %+v", r)
				}
			}},
		{"OKInPersonByTheCourtsRecord", nil, inCourt, attendance.AppearedInPerson, nil},
		{"OKRemoteByTheCourtsRecord", nil, completed, attendance.AppearedRemote, nil},
		{"OKLeftEarlyRemoved", evs(joined("08:50:00"), started("09:00:00"), admitted("09:10:00"), removed("09:30:00"), ended("10:20:00")),
			completed, attendance.LeftEarly, func(t *testing.T, r attendance.Result) {
				if !r.Appeared || !r.LeftEarly || r.ExitHow != "removed" || !r.Exit.Equal(tm("09:30:00")) {
					t.Errorf("exit: %+v", r)
				}
			}},
		{"OKLeftEarlyLateToo", evs(started("09:00:00"), joined("09:20:00"), admitted("09:25:00"), removed("09:30:00"), ended("10:20:00")),
			completed, attendance.LeftEarly, func(t *testing.T, r attendance.Result) {
				if !r.Late || !r.LeftEarly {
					t.Errorf("flags: %+v", r)
				}
			}},
		{"OKLeftBeforeTheHearingStarted", evs(joined("08:50:00"), admitted("08:55:00"), left("08:58:00"), started("09:00:00"),
			ended("10:20:00")), completed, attendance.LeftEarly, nil},

		// Reconnects.
		{"OKReconnectInsideTheWindow", evs(joined("08:50:00"), started("09:00:00"), admitted("09:10:00"), dropped("09:30:00"),
			resumed("09:30:12", "12s"), toWaiting("09:50:00"), left("09:51:00"), ended("10:20:00")),
			completed, attendance.AppearedRemote, func(t *testing.T, r attendance.Result) {
				if r.Reconnects != 1 || r.AwaySeconds != 0 || r.LeftEarly {
					t.Errorf("a drop resumed in time is continuous presence: %+v", r)
				}
			}},
		{"OKTwoReconnectsInsideTheWindow", evs(joined("08:50:00"), admitted("09:10:00"), dropped("09:20:00"),
			resumed("09:20:29", "29s"), dropped("09:30:00"), resumed("09:30:30", "30s"), ended("10:20:00")),
			completed, attendance.AppearedRemote, func(t *testing.T, r attendance.Result) {
				if r.Reconnects != 2 {
					t.Errorf("reconnects %d, want 2", r.Reconnects)
				}
			}},
		{"OKDroppedOutsideTheWindowIsLeftEarly", evs(joined("08:50:00"), started("09:00:00"), admitted("09:10:00"),
			dropped("09:30:00"), notResumed("09:30:30"), ended("10:20:00")),
			completed, attendance.LeftEarly, func(t *testing.T, r attendance.Result) {
				if r.ExitHow != "dropped" || !r.Exit.Equal(tm("09:30:00")) || r.Reconnects != 0 {
					t.Errorf("the stay ends where the connection was lost: %+v", r)
				}
			}},
		{"OKDroppedOutsideTheWindowThenReadmitted", evs(joined("08:50:00"), started("09:00:00"), admitted("09:10:00"),
			dropped("09:30:00"), notResumed("09:30:30"), joined("09:33:00"), admitted("09:35:00"), toWaiting("09:50:00"),
			left("09:51:00"), ended("10:20:00")), completed, attendance.AppearedRemote, func(t *testing.T, r attendance.Result) {
			if r.LeftEarly || r.Late || !r.Arrived.Equal(tm("08:50:00")) {
				t.Errorf("admitted again: %+v", r)
			}
		}},
		{"OKResumedAfterTheWindowCountsTheGapAway", evs(joined("08:50:00"), admitted("09:10:00"), dropped("09:30:00"),
			resumed("09:31:30", "1m30s"), ended("10:20:00")), completed, attendance.AppearedRemote,
			func(t *testing.T, r attendance.Result) {
				if r.Reconnects != 0 || r.AwaySeconds != 90 {
					t.Errorf("reconnects %d away %ds, want 0 and 90", r.Reconnects, r.AwaySeconds)
				}
			}},
		{"OKDroppedDuringTheHearingNotBackYet", evs(joined("08:50:00"), started("09:00:00"), admitted("09:10:00"),
			dropped("09:20:00"), notResumed("09:20:30")), during, attendance.LeftEarly, nil},

		// Walking out (在线诉讼规则 art. 25).
		{"OKWalkedOut", evs(joined("08:50:00"), started("09:00:00"), admitted("09:10:00"), left("09:30:00"), ended("10:20:00")),
			completed, attendance.WalkedOut, func(t *testing.T, r attendance.Result) {
				if r.Appeared || r.Late || r.LeftEarly || r.ExitHow != "left" || !r.Exit.Equal(tm("09:30:00")) {
					t.Errorf("a walk-out is not an appearance: %+v", r)
				}
			}},
		{"OKWalkedOutWithoutAStartEvent", evs(joined("08:50:00"), admitted("09:10:00"), left("09:30:00")), inProgress,
			attendance.WalkedOut, nil},
		{"OKWalkedOutThenAbsentWithoutCause", evs(joined("08:50:00"), started("09:00:00"), admitted("09:10:00"),
			left("09:30:00"), ended("10:20:00")), facts(chuting.SummonsAbsent, chuting.CauseWithoutCause), attendance.AbsentWithoutCause, nil},
		{"OKLeftFromTheWaitingRoomAfterLeave", seq(testified), inProgress, attendance.AppearedRemote, nil},

		// Absences.
		{"OKExcused", nil, facts(chuting.SummonsExcused, "excused: 住院"), attendance.Excused, nil},
		{"OKTechnicalFailureRecorded", evs(joined("08:55:00")), facts(chuting.SummonsAbsent, chuting.CauseTechnicalFailure),
			attendance.TechnicalFailure, nil},
		{"OKTechnicalFailureDroppedAndNeverBack", evs(joined("08:55:00"), started("09:00:00"), dropped("09:05:00"),
			notResumed("09:05:30"), ended("10:20:00")), inProgress, attendance.TechnicalFailure, func(t *testing.T, r attendance.Result) {
			if r.Appeared {
				t.Errorf("appeared: %+v", r)
			}
		}},
		{"OKDroppedInTheWaitingRoomButBack", evs(joined("08:55:00"), dropped("09:05:00"), notResumed("09:05:30"),
			joined("09:07:00"), ended("10:20:00")), inProgress, attendance.NoShow, nil},
		{"OKDroppedThenAbsentWithoutCause", evs(joined("08:55:00"), dropped("09:05:00"), notResumed("09:05:30"), ended("10:20:00")),
			facts(chuting.SummonsAbsent, chuting.CauseWithoutCause), attendance.AbsentWithoutCause, nil},
		{"OKAbsentWithoutCause", nil, facts(chuting.SummonsAbsent, chuting.CauseWithoutCause), attendance.AbsentWithoutCause, nil},
		{"OKAbsentSummonsButThisOneAppeared", testified, facts(chuting.SummonsAbsent, chuting.CauseWithoutCause),
			attendance.AppearedRemote, nil},
		{"OKNoShow", nil, facts(chuting.SummonsScheduled, ""), attendance.NoShow, nil},
		{"OKNoShowLeftTheWaitingRoom", evs(joined("08:55:00"), left("09:20:00"), ended("10:20:00")), inProgress, attendance.NoShow, nil},
		{"OKNoShowWhenTheJudgeEndedEarly", evs(started("09:00:00"), ended("09:20:00")), during, attendance.NoShow, nil},
		{"OKNoShowOtherAppraiserAdmitted", evs(ev(chuting.AttendanceJoined, "08:50:00", "u2", "role=appraiser state=waiting"),
			ev(chuting.AttendanceAdmitted, "09:10:00", "u2", ""), ended("10:20:00")), inProgress, attendance.NoShow, nil},
		{"OKPendingBeforeTheHearing", nil, before, attendance.Pending, nil},
		{"OKPendingWaitingDuringTheHearing", evs(joined("08:55:00"), started("09:00:00")), during, attendance.Pending, nil},
		{"OKPendingProposed", nil, facts(chuting.SummonsProposed, ""), attendance.Pending, nil},
		{"OKPendingDeclined", nil, facts(chuting.SummonsDeclined, ""), attendance.Pending, nil},
		{"OKCancelled", testified, facts(chuting.SummonsCancelled, "cancelled: 撤诉"), attendance.Cancelled, nil},

		// Corrections: a new event overrides the derived status; the history is kept.
		{"OKCorrected", evs(joined("08:55:00"), dropped("09:05:00"), notResumed("09:05:30"), joined("09:07:00"), ended("10:20:00"),
			corrected("10:40:00", attendance.TechnicalFailure, "法院网络中断，非鉴定人原因")),
			inProgress, attendance.TechnicalFailure, func(t *testing.T, r attendance.Result) {
				if r.Derived != attendance.NoShow || len(r.Corrections) != 1 || r.Corrections[0].By != judgeID ||
					r.Corrections[0].From != attendance.NoShow || r.Corrections[0].Reason == "" {
					t.Errorf("correction: %+v", r)
				}
			}},
		{"OKCorrectedTwice", append(evs(joined("08:50:00"), started("09:00:00"), admitted("09:10:00"), left("09:30:00"), ended("10:20:00")),
			corrected("10:40:00", attendance.AppearedRemote, "经法庭许可离开"), corrected("10:50:00", attendance.LeftEarly, "更正：许可在 09:40")),
			completed, attendance.LeftEarly, func(t *testing.T, r attendance.Result) {
				if r.Derived != attendance.WalkedOut || len(r.Corrections) != 2 || r.Corrections[1].From != attendance.AppearedRemote ||
					!r.Appeared || !r.LeftEarly || r.Late {
					t.Errorf("corrections: %+v", r)
				}
			}},
		{"OKCorrectedToLate", append(seq(testified), corrected("10:40:00", attendance.Late, "法警记录 09:30 方到")), completed,
			attendance.Late, func(t *testing.T, r attendance.Result) {
				if !r.Appeared || !r.Late || r.Derived != attendance.AppearedRemote {
					t.Errorf("flags: %+v", r)
				}
			}},
		{"OKCorrectedBackToTheDerivedStatus", append(seq(testified), corrected("10:40:00", attendance.Excused, "误记"),
			corrected("10:41:00", attendance.AppearedRemote, "撤回更正")), completed, attendance.AppearedRemote,
			func(t *testing.T, r attendance.Result) {
				if len(r.Corrections) != 2 || !r.Appeared {
					t.Errorf("corrections: %+v", r)
				}
			}},
		{"OKCorrectionWithUnknownStatusIgnored", append(seq(testified), corrected("10:40:00", "gone_fishing", "?")),
			completed, attendance.AppearedRemote, func(t *testing.T, r attendance.Result) {
				if len(r.Corrections) != 0 {
					t.Errorf("corrections: %+v", r.Corrections)
				}
			}},
		{"OKCorrectionOfAnotherAppraiserIgnored", append(seq(testified), func() chuting.AttendanceEvent {
			e := corrected("10:40:00", attendance.AbsentWithoutCause, "另一名鉴定人")
			e.SubjectID = "a2"
			return e
		}()), completed, attendance.AppearedRemote, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := attendance.Status(tt.events, tt.facts, attendance.Rules{})
			if got.Status != tt.want {
				t.Fatalf("Status = %s (derived %s: %s), want %s", got.Status, got.Derived, got.Why, tt.want)
			}
			if got.AppraiserID != appraiserID || got.Why == "" {
				t.Errorf("result: %+v", got)
			}
			if got.Appeared != got.Status.Appeared() {
				t.Errorf("appeared %v for %s", got.Appeared, got.Status)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// TestStatusRules shows that the grace and the resume window are settings.
func TestStatusRules(t *testing.T) {
	f := attendance.Facts{AppraiserID: appraiserID, Subjects: []string{userID}, State: chuting.SummonsCompleted,
		Mode: chuting.ModeRemote, Start: tm("09:00:00"), End: tm("10:30:00"), Now: tm("11:00:00")}
	arrived := evs(joined("09:10:00"), admitted("09:12:00"), dropped("09:20:00"), resumed("09:21:00", "1m"), ended("10:20:00"))
	tests := []struct {
		name       string
		rules      attendance.Rules
		want       attendance.Code
		reconnects int
	}{
		{"OKDefaults", attendance.Rules{}, attendance.AppearedRemote, 0},
		{"OKShortGrace", attendance.Rules{Grace: 5 * time.Minute}, attendance.Late, 0},
		{"OKNoGrace", attendance.Rules{Grace: -1}, attendance.Late, 0},
		{"OKLongWindow", attendance.Rules{ResumeWindow: 2 * time.Minute}, attendance.AppearedRemote, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := attendance.Status(arrived, f, tt.rules)
			if got.Status != tt.want || got.Reconnects != tt.reconnects {
				t.Fatalf("status %s reconnects %d, want %s and %d (%s)", got.Status, got.Reconnects, tt.want, tt.reconnects, got.Why)
			}
		})
	}
}

func TestCodes(t *testing.T) {
	for _, c := range attendance.Codes() {
		if !c.Valid() || c.Name() == string(c) {
			t.Errorf("%s: valid %v, name %q", c, c.Valid(), c.Name())
		}
	}
	for _, c := range attendance.Correctable() {
		if !c.Settled() {
			t.Errorf("%s can be set by a correction but is not settled", c)
		}
	}
	if attendance.Code("nope").Valid() || attendance.Pending.Settled() || attendance.Cancelled.Settled() {
		t.Error("validity")
	}
}
