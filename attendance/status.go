package attendance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chuting/chuting"
)

// Code is an appraiser's attendance status for one summons. Codes are written in correction
// events and reports, so they are never renamed: append only.
type Code string

// Attendance statuses (#34, #35). The first eight are those a court can also set by a
// correction; the last three say that there is nothing to count (yet).
const (
	AppearedRemote     Code = "appeared_remote"      // 远程出庭: admitted into the remote hearing
	AppearedInPerson   Code = "appeared_in_person"   // 现场出庭: the clerk recorded the appearance in court
	Late               Code = "late"                 // 迟到: appeared, but first arrived after the start plus the grace
	LeftEarly          Code = "left_early"           // 提前离开: appeared, but removed or cut off before the court let them go
	WalkedOut          Code = "walked_out"           // 中途退庭: left during testimony without leave (在线诉讼规则 art. 25)
	Excused            Code = "excused"              // 准许不出庭: the court accepted an excuse (#37)
	TechnicalFailure   Code = "technical_failure"    // 技术故障: the court said so, or a connection lost and never back (#35)
	AbsentWithoutCause Code = "absent_without_cause" // 无故拒不出庭: the court recorded an absence without cause (#35, #36)
	NoShow             Code = "no_show"              // 未到庭: never admitted, and the court has not yet said why
	Pending            Code = "pending"              // 待出庭: the hearing is to come, or under way without them so far
	Cancelled          Code = "cancelled"            // 已撤销: the court withdrew the summons; not counted
)

// Codes lists every status, in the order reports show them.
func Codes() []Code {
	return []Code{AppearedRemote, AppearedInPerson, Late, LeftEarly, WalkedOut, Excused, TechnicalFailure,
		AbsentWithoutCause, NoShow, Pending, Cancelled}
}

// Correctable lists the statuses a court may set with a correction: the settled ones.
func Correctable() []Code {
	return []Code{AppearedRemote, AppearedInPerson, Late, LeftEarly, WalkedOut, Excused, TechnicalFailure, AbsentWithoutCause}
}

// Valid reports whether c is a known status.
func (c Code) Valid() bool { return slices.Contains(Codes(), c) }

// Appeared reports whether c counts as an appearance (the numerator of the appearance rate):
// remote or in person, also late or leaving early. A walk-out does not count: the testimony
// was abandoned without leave.
func (c Code) Appeared() bool {
	switch c {
	case AppearedRemote, AppearedInPerson, Late, LeftEarly:
		return true
	}
	return false
}

// Settled reports whether c is counted in the served total: everything but pending and
// cancelled.
func (c Code) Settled() bool { return c.Valid() && c != Pending && c != Cancelled }

// Name returns the status in zh-CN and English.
func (c Code) Name() string {
	switch c {
	case AppearedRemote:
		return "远程出庭 / appeared remotely"
	case AppearedInPerson:
		return "现场出庭 / appeared in person"
	case Late:
		return "迟到 / late"
	case LeftEarly:
		return "提前离开 / left early"
	case WalkedOut:
		return "中途退庭 / walked out"
	case Excused:
		return "准许不出庭 / excused"
	case TechnicalFailure:
		return "技术故障 / technical failure"
	case AbsentWithoutCause:
		return "无故拒不出庭 / absent without cause"
	case NoShow:
		return "未到庭（待法院认定）/ not present, cause not yet recorded"
	case Pending:
		return "待出庭 / pending"
	case Cancelled:
		return "已撤销 / cancelled"
	}
	return string(c)
}

// Rules are the attendance rules that are a matter of local practice.
type Rules struct {
	// Grace is how long after the hearing's scheduled start an appraiser may first arrive
	// and not be late; 0 means DefaultGrace, a negative value no grace at all.
	Grace time.Duration
	// ResumeWindow is how long a dropped connection may be away and still count as
	// continuous presence; 0 means DefaultResumeWindow (the rooms' own window).
	ResumeWindow time.Duration
}

// Rule defaults.
const (
	DefaultGrace        = 15 * time.Minute
	DefaultResumeWindow = 30 * time.Second
)

func (r Rules) withDefaults() Rules {
	if r.Grace == 0 {
		r.Grace = DefaultGrace
	} else if r.Grace < 0 {
		r.Grace = 0
	}
	if r.ResumeWindow <= 0 {
		r.ResumeWindow = DefaultResumeWindow
	}
	return r
}

// Facts are what the summons and its hearing say about one summoned appraiser.
type Facts struct {
	AppraiserID string
	// Subjects are the other IDs that name the appraiser in the log: the rooms log the
	// account's user ID (the join token's subject), the court's own events the appraiser ID.
	Subjects []string
	State    chuting.SummonsState
	Outcome  string // the summons's outcome: chuting.CauseWithoutCause, chuting.CauseTechnicalFailure …
	Mode     chuting.Mode
	Start    time.Time // the hearing's scheduled slot
	End      time.Time
	Now      time.Time
}

// Correction is one correction of a status by the court, kept with the history.
type Correction struct {
	Time   time.Time `json:"time"`
	By     string    `json:"by"`   // the user ID
	From   Code      `json:"from"` // the status before it
	Status Code      `json:"status"`
	Reason string    `json:"reason"`
}

// Result is an appraiser's attendance for one summons, as Status derives it.
type Result struct {
	AppraiserID string `json:"appraiser_id"`
	// Status is the status that counts: the latest correction's, else Derived.
	Status Code `json:"status"`
	// Derived is what the log and the summons say, before any correction.
	Derived   Code `json:"derived"`
	Appeared  bool `json:"appeared"`
	InPerson  bool `json:"in_person"`
	Late      bool `json:"late"`       // appeared, first arriving after the start plus the grace
	LeftEarly bool `json:"left_early"` // appeared, and their stay ended early (also a walk-out)
	// Arrived is the first arrival: the first check-in to the waiting room, or the arrival
	// in court.
	Arrived  time.Time `json:"arrived,omitzero"`
	Admitted time.Time `json:"admitted,omitzero"` // first admitted into the hearing
	// Exit and ExitHow say when and how a stay in the hearing ended early: left (on their
	// own), removed (by the judge) or dropped (the connection lost, not resumed in time).
	Exit       time.Time `json:"exit,omitzero"`
	ExitHow    string    `json:"exit_how,omitempty"`
	Reconnects int       `json:"reconnects"` // drops resumed within the window: continuous presence
	// AwaySeconds is the time spent away beyond the resume window, from drops resumed late.
	AwaySeconds int64        `json:"away_seconds"`
	Why         string       `json:"why"` // how Derived was reached, zh-CN / English
	Corrections []Correction `json:"corrections,omitempty"`
}

// How a stay in the hearing ended.
const (
	exitLeft    = "left"
	exitRemoved = "removed"
	exitDropped = "dropped"
)

// trace is what replaying the log tells about one appraiser.
type trace struct {
	arrived, admitted    time.Time
	inPerson             bool
	everAdmitted, inside bool // inside: admitted now
	released             bool // the court sent them back to the waiting room: leave to go
	started, ended       time.Time
	exit                 time.Time
	exitHow              string
	waitingDrop          bool // lost while waiting, never admitted, not back
	dropped              bool
	dropAt               time.Time
	reconnects           int
	away                 time.Duration
	corrections          []chuting.AttendanceEvent
}

func first(t *time.Time, at time.Time) {
	if t.IsZero() || at.Before(*t) {
		*t = at
	}
}

func (t *trace) admit(at time.Time) {
	t.everAdmitted, t.inside, t.released, t.waitingDrop = true, true, false, false
	t.exit, t.exitHow = time.Time{}, "" // back in: an earlier exit no longer ends their stay
	first(&t.admitted, at)
	first(&t.arrived, at)
}

func (t *trace) leave(how string, at time.Time) {
	switch {
	case t.inside:
		t.exit, t.exitHow = at, how
	case !t.everAdmitted && how == exitDropped:
		t.waitingDrop = true
	}
	t.inside, t.dropped = false, false
}

// replay walks the hearing's log and keeps what concerns the appraiser.
func replay(events []chuting.AttendanceEvent, mine func(string) bool, window time.Duration) *trace {
	t := &trace{}
	for _, e := range events {
		switch e.Type {
		case chuting.AttendanceHearingStarted:
			first(&t.started, e.Time)
			continue
		case chuting.AttendanceHearingEnded:
			first(&t.ended, e.Time)
			continue
		}
		if !mine(e.SubjectID) {
			continue
		}
		switch e.Type {
		case chuting.AttendanceJoined:
			first(&t.arrived, e.Time)
			t.waitingDrop, t.dropped = false, false
			if strings.Contains(e.Reason, "state=admitted") {
				t.admit(e.Time)
			}
		case chuting.AttendanceAdmitted:
			t.admit(e.Time)
		case chuting.AttendanceMovedToWaiting:
			if t.inside { // the court ends the testimony: leave to go (刑诉法解释 art. 265)
				t.inside, t.released = false, true
			}
		case chuting.AttendanceDropped:
			t.dropped, t.dropAt = true, e.Time
		case chuting.AttendanceResumed:
			if t.dropped {
				if gap := e.Time.Sub(t.dropAt); gap <= window {
					t.reconnects++
				} else {
					t.away += gap
				}
				t.dropped = false
			}
		case chuting.AttendanceLeft:
			how, at := exitLeft, e.Time
			switch {
			case strings.HasPrefix(e.Reason, "room closed"):
				// The room closed for everyone (the hearing ended, its window passed, or the
				// server stopped): not the appraiser's leaving.
				t.inside, t.dropped = false, false
				continue
			case t.dropped || strings.HasPrefix(e.Reason, "not resumed"):
				how = exitDropped
				if t.dropped {
					at = t.dropAt // they were gone from the moment the connection was lost
				}
			}
			t.leave(how, at)
		case chuting.AttendanceRemoved:
			t.leave(exitRemoved, e.Time)
		case chuting.AttendanceInPerson:
			t.inPerson = true
			at := e.At
			if at.IsZero() {
				at = e.Time
			}
			first(&t.arrived, at)
		case chuting.AttendanceCorrected:
			if Code(e.Status).Valid() {
				t.corrections = append(t.corrections, e)
			}
		}
	}
	return t
}

// Status derives one appraiser's attendance for a summons from the hearing's log (events, in
// log order) and the summons (f), under rules r. It is pure: the same inputs give the same
// Result.
//
// The summons decides what the log cannot: a cancelled summons is not counted, an accepted
// excuse is excused (#37), and an absence the court recorded is without cause or a technical
// failure as it said (#35), unless the log shows that this appraiser did appear (a summons
// names several; the court records one outcome). Otherwise the log decides:
//
//   - appeared in person: the clerk recorded it (appeared_in_person);
//   - appeared remotely: admitted into the hearing;
//   - late: appeared, and first arrived (checked in to the waiting room, or arrived in court)
//     after the scheduled start plus the grace. Arrival, not admission, counts: a witness waits
//     until the judge calls them (#17), which is the court's time, not theirs;
//   - left early: appeared, and the last stay in the hearing ended before the hearing did,
//     without the court's leave, by removal or by a connection lost and not resumed in time;
//   - walked out: the same, but by leaving on their own after the hearing had started, that
//     is during testimony without leave (在线诉讼规则 art. 25, 中途退庭). The court gives leave
//     by sending the appraiser back to the waiting room (or by ending the hearing), so
//     leaving from there, or after the end, is not early;
//   - technical failure: never admitted, and lost from the waiting room without coming back;
//   - no show: never admitted, the hearing over, and the court has not recorded why;
//   - pending: none of these yet.
//
// A drop resumed within the resume window is continuous presence; one not resumed in time
// ends the stay where the connection was lost. Being admitted again undoes an exit.
// A correction (attendance_corrected) overrides the derived status; the latest one counts,
// and every one is kept in Corrections.
func Status(events []chuting.AttendanceEvent, f Facts, r Rules) Result {
	r = r.withDefaults()
	mine := func(id string) bool {
		return id != "" && (id == f.AppraiserID || slices.Contains(f.Subjects, id))
	}
	t := replay(events, mine, r.ResumeWindow)
	res := Result{AppraiserID: f.AppraiserID, Arrived: t.arrived, Admitted: t.admitted, Reconnects: t.reconnects,
		AwaySeconds: int64(t.away / time.Second)}
	logCode, why := fromLog(t, f, r, &res)
	res.Derived, res.Why = logCode, why
	switch f.State {
	case chuting.SummonsCancelled:
		res.Derived, res.Why = Cancelled, "法院已撤销出庭通知 / the court withdrew the summons"
	case chuting.SummonsExcused:
		res.Derived, res.Why = Excused, "法院准许不出庭 / the court accepted the excuse"
	case chuting.SummonsUnknown, chuting.SummonsProposed, chuting.SummonsConfirmed, chuting.SummonsDeclined:
		if !logCode.Appeared() {
			res.Derived, res.Why = Pending, "出庭时间未定或未到 / the hearing is not yet fixed or due"
		}
	case chuting.SummonsAbsent:
		if logCode.Appeared() {
			break // the court recorded the summons; the log shows this appraiser appeared
		}
		switch f.Outcome {
		case chuting.CauseTechnicalFailure:
			res.Derived, res.Why = TechnicalFailure, "法院记录为技术故障 / the court recorded a technical failure"
		case chuting.CauseWithoutCause:
			res.Derived, res.Why = AbsentWithoutCause, "法院记录为无正当理由未出庭 / the court recorded an absence without cause"
		}
	}
	if !res.Derived.Appeared() {
		res.Late, res.LeftEarly, res.InPerson = false, false, false
	}
	res.Status = res.Derived
	prev := res.Derived
	for _, e := range t.corrections {
		c := Correction{Time: e.Time, By: e.ActorID, From: prev, Status: Code(e.Status), Reason: e.Reason}
		res.Corrections = append(res.Corrections, c)
		prev = c.Status
	}
	if n := len(res.Corrections); n > 0 && res.Corrections[n-1].Status != res.Derived {
		res.Status = res.Corrections[n-1].Status
		res.Late, res.LeftEarly = res.Status == Late, res.Status == LeftEarly || res.Status == WalkedOut
		res.InPerson = res.Status == AppearedInPerson || res.Status.Appeared() && f.Mode == chuting.ModeInPerson
	}
	res.Appeared = res.Status.Appeared()
	return res
}

// fromLog derives the status the log shows, filling in res's flags and times.
func fromLog(t *trace, f Facts, r Rules, res *Result) (Code, string) {
	end := t.ended
	if end.IsZero() {
		end = f.End
	}
	over := !t.ended.IsZero() || !f.End.IsZero() && !f.Now.Before(f.End)
	due := f.Start.Add(r.Grace)
	late := !f.Start.IsZero() && !t.arrived.IsZero() && t.arrived.After(due)
	lateWhy := fmt.Sprintf("首次到达 %s，晚于开庭时间 %s 加宽限 %s / first arrived %s, after the start %s plus %s grace",
		clock(t.arrived), clock(f.Start), r.Grace, clock(t.arrived), clock(f.Start), r.Grace)
	switch {
	case t.inPerson:
		res.InPerson, res.Late = true, late
		if late {
			return Late, "现场出庭，" + lateWhy
		}
		return AppearedInPerson, "书记员记录现场出庭 / the clerk recorded an appearance in court"
	case t.everAdmitted:
		res.Late = late
		if !t.exit.IsZero() && (end.IsZero() || t.exit.Before(end)) {
			res.LeftEarly, res.Exit, res.ExitHow = true, t.exit, t.exitHow
			started := t.started
			if started.IsZero() {
				started = f.Start
			}
			if t.exitHow == exitLeft && !t.exit.Before(started) {
				return WalkedOut, fmt.Sprintf("作证中未经许可于 %s 自行退出，未再返回 / left on their own at %s during testimony, without leave, and did not come back",
					clock(t.exit), clock(t.exit))
			}
			return LeftEarly, fmt.Sprintf("于 %s 离开庭审（%s），未再返回 / their stay ended at %s (%s) and they did not come back",
				clock(t.exit), exitName(t.exitHow), clock(t.exit), t.exitHow)
		}
		if late {
			return Late, "远程出庭，" + lateWhy
		}
		return AppearedRemote, "已获准进入庭审 / admitted into the hearing"
	case f.State == chuting.SummonsCompleted:
		res.InPerson = f.Mode == chuting.ModeInPerson
		if res.InPerson {
			return AppearedInPerson, "法院记录已出庭 / the court recorded the appearance"
		}
		return AppearedRemote, "法院记录已出庭 / the court recorded the appearance"
	case over && t.waitingDrop:
		return TechnicalFailure, "在等候室断线后未再连接 / the connection was lost in the waiting room and never came back"
	case over:
		return NoShow, "庭审结束时未获准进入，法院尚未记录原因 / never admitted by the end, and the court has not recorded why"
	}
	return Pending, "尚未出庭 / not appeared yet"
}

func exitName(how string) string {
	switch how {
	case exitRemoved:
		return "被法官移出"
	case exitDropped:
		return "断线未恢复"
	}
	return "自行离开"
}

// clock shows a time of day in China Standard Time.
func clock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(chuting.ChinaZone()).Format("15:04")
}
