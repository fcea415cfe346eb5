package attendance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/attendance"
	"github.com/chuting/chuting/bbolt"
)

// world is a store with two courts, two institutions, three appraisers with accounts, three
// opinions, and the people who are told of absences.
type world struct {
	t      *testing.T
	ctx    context.Context
	store  chuting.Store
	now    time.Time
	svc    *attendance.Service
	courts []*chuting.Court
	insts  []*chuting.Institution
	a      []*chuting.Appraiser // a[0], a[1] at insts[0]; a[2] at insts[1]
	users  []*chuting.User      // the accounts of a
	ops    []*chuting.Opinion   // 法医临床 (a0, a1), 法医病理 (a0), 文书 (a2)
	bureau *chuting.User
	admins []*chuting.User // of insts
	clerks []*chuting.User // of courts
	seq    int
}

func (w *world) create(e chuting.Entity) {
	w.t.Helper()
	if err := chuting.Create(w.ctx, w.store, e); err != nil {
		w.t.Fatal(err)
	}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, err := bbolt.Open(filepath.Join(t.TempDir(), "a.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	w := &world{t: t, ctx: context.Background(), store: store, now: time.Date(2026, 12, 1, 2, 30, 0, 0, cst)}
	w.svc = attendance.New(attendance.Config{Store: store, Now: func() time.Time { return w.now }})
	for i, name := range []string{"赣州市中级人民法院", "赣州市章贡区人民法院"} {
		c := &chuting.Court{Name: name, Code: fmt.Sprintf("赣07%d", i), TimeZone: "Asia/Shanghai", NoticeDays: 3}
		w.create(c)
		w.courts = append(w.courts, c)
		u := &chuting.User{Username: fmt.Sprintf("clerk%d", i), Name: "书记员", Role: chuting.RoleClerk, CourtID: c.ID}
		w.create(u)
		w.clerks = append(w.clerks, u)
	}
	for i, name := range []string{"赣南司法鉴定中心", "赣州正源司法鉴定所"} {
		in := &chuting.Institution{Name: name, LicenceNo: fmt.Sprintf("36%d", i)}
		w.create(in)
		w.insts = append(w.insts, in)
		u := &chuting.User{Username: fmt.Sprintf("admin%d", i), Name: "管理员", Role: chuting.RoleInstitutionAdmin, InstitutionID: in.ID}
		w.create(u)
		w.admins = append(w.admins, u)
	}
	for i, name := range []string{"李明", "王芳", "赵静"} {
		in := w.insts[min(i/2, 1)]
		a := &chuting.Appraiser{InstitutionID: in.ID, Name: name, LicenceNo: fmt.Sprintf("L%d", i), Categories: []string{"法医临床"}}
		w.create(a)
		w.a = append(w.a, a)
		u := &chuting.User{Username: fmt.Sprintf("appraiser%d", i), Name: name, Role: chuting.RoleAppraiser, AppraiserID: a.ID,
			InstitutionID: in.ID}
		w.create(u)
		w.users = append(w.users, u)
	}
	for i, o := range []struct {
		category string
		inst     int
		signed   []int
	}{{"法医临床", 0, []int{0, 1}}, {"法医病理", 0, []int{0}}, {"文书", 1, []int{2}}} {
		op := &chuting.Opinion{DocumentNo: fmt.Sprintf("D-%d", i), InstitutionID: w.insts[o.inst].ID, Category: o.category}
		for _, j := range o.signed {
			op.Signatories = append(op.Signatories, w.a[j].ID)
		}
		w.create(op)
		w.ops = append(w.ops, op)
	}
	w.bureau = &chuting.User{Username: "bureau", Name: "司法局", Role: chuting.RoleBureauAdmin}
	w.create(w.bureau)
	return w
}

// hearingSpec is one summons of the generated world.
type hearingSpec struct {
	appraisers []int // indexes into w.a
	court      int
	opinion    int
	start      time.Time
	state      chuting.SummonsState
	outcome    string
	mode       chuting.Mode
	noHearing  bool // excused before a hearing was fixed, or cancelled: no hearing record
	// events are the hearing's log, made from the hearing's start and the appraisers'
	// account IDs.
	events func(start time.Time, users []string, appraisers []string) []chuting.AttendanceEvent
}

// add stores the summons of spec, its hearing, and its log.
func (w *world) add(sp hearingSpec) *chuting.Summons {
	w.t.Helper()
	w.seq++
	op := w.ops[sp.opinion]
	mode := sp.mode
	if mode == chuting.ModeUnknown {
		mode = chuting.ModeRemote
	}
	var ids, users []string
	for _, i := range sp.appraisers {
		ids, users = append(ids, w.a[i].ID), append(users, w.users[i].ID)
	}
	end := sp.start.Add(90 * time.Minute)
	sm := &chuting.Summons{CourtID: w.courts[sp.court].ID, CaseNo: fmt.Sprintf("(2026)%s民初%d号", w.courts[sp.court].Code, w.seq),
		CaseType: chuting.CaseTypeCivil, OpinionID: op.ID, InstitutionID: op.InstitutionID, AppraiserIDs: ids, Mode: mode,
		DurationMinutes: 90, State: sp.state, Outcome: sp.outcome, ServedAt: sp.start.AddDate(0, 0, -10),
		Slot: &chuting.Slot{Start: sp.start, End: end, AppraiserIDs: ids}}
	if !sp.noHearing {
		sm.HearingID = chuting.NewID()
		w.create(&chuting.Hearing{Meta: chuting.Meta{ID: sm.HearingID}, SummonsID: "", CourtID: sm.CourtID,
			InstitutionID: sm.InstitutionID, AppraiserIDs: ids, Mode: mode, Start: sp.start, End: end})
	}
	w.create(sm)
	if sm.HearingID != "" {
		h, err := chuting.Load[chuting.Hearing](w.ctx, w.store, sm.HearingID)
		if err != nil {
			w.t.Fatal(err)
		}
		h.SummonsID = sm.ID
		if err := chuting.Save(w.ctx, w.store, h); err != nil {
			w.t.Fatal(err)
		}
		if sp.events != nil {
			for _, e := range sp.events(sp.start, users, ids) {
				e.HearingID = sm.HearingID
				w.append(e)
			}
		}
	}
	return sm
}

func (w *world) append(e chuting.AttendanceEvent) {
	w.t.Helper()
	data, err := json.Marshal(e)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.store.Append(w.ctx, chuting.HearingStream(e.HearingID), chuting.Event{Time: e.Time, Type: e.Type, Data: data}); err != nil {
		w.t.Fatal(err)
	}
}

// at is an event so many minutes after start.
func at(start time.Time, minutes float64, typ, subject, reason string) chuting.AttendanceEvent {
	return chuting.AttendanceEvent{Time: start.Add(time.Duration(minutes * float64(time.Minute))), Type: typ, SubjectID: subject, Reason: reason}
}

// Logs of the generated world, for the first appraiser of a hearing.
func logAppeared(start time.Time, u, _ []string) []chuting.AttendanceEvent {
	return []chuting.AttendanceEvent{at(start, -10, chuting.AttendanceJoined, u[0], "role=appraiser state=waiting"),
		at(start, 0, chuting.AttendanceHearingStarted, "", ""), at(start, 10, chuting.AttendanceAdmitted, u[0], ""),
		at(start, 50, chuting.AttendanceMovedToWaiting, u[0], ""), at(start, 51, chuting.AttendanceLeft, u[0], ""),
		at(start, 80, chuting.AttendanceHearingEnded, "", "")}
}

func logLate(start time.Time, u, _ []string) []chuting.AttendanceEvent {
	return []chuting.AttendanceEvent{at(start, 0, chuting.AttendanceHearingStarted, "", ""),
		at(start, 20, chuting.AttendanceJoined, u[0], "role=appraiser state=waiting"), at(start, 25, chuting.AttendanceAdmitted, u[0], ""),
		at(start, 60, chuting.AttendanceMovedToWaiting, u[0], ""), at(start, 80, chuting.AttendanceHearingEnded, "", "")}
}

func logInPerson(start time.Time, _, a []string) []chuting.AttendanceEvent {
	e := at(start, 5, chuting.AttendanceInPerson, a[0], "到庭")
	e.At = start.Add(-15 * time.Minute)
	return []chuting.AttendanceEvent{e}
}

func logDroppedNotResumed(start time.Time, u, _ []string) []chuting.AttendanceEvent {
	return []chuting.AttendanceEvent{at(start, -5, chuting.AttendanceJoined, u[0], "role=appraiser state=waiting"),
		at(start, 0, chuting.AttendanceHearingStarted, "", ""), at(start, 10, chuting.AttendanceAdmitted, u[0], ""),
		at(start, 30, chuting.AttendanceDropped, u[0], ""), at(start, 30.5, chuting.AttendanceLeft, u[0], "not resumed within 30s"),
		at(start, 80, chuting.AttendanceHearingEnded, "", "")}
}

func logWalkedOut(start time.Time, u, _ []string) []chuting.AttendanceEvent {
	return []chuting.AttendanceEvent{at(start, -5, chuting.AttendanceJoined, u[0], "role=appraiser state=waiting"),
		at(start, 0, chuting.AttendanceHearingStarted, "", ""), at(start, 10, chuting.AttendanceAdmitted, u[0], ""),
		at(start, 25, chuting.AttendanceLeft, u[0], ""), at(start, 80, chuting.AttendanceHearingEnded, "", "")}
}

func logReconnected(start time.Time, u, _ []string) []chuting.AttendanceEvent {
	return []chuting.AttendanceEvent{at(start, -5, chuting.AttendanceJoined, u[0], "role=appraiser state=waiting"),
		at(start, 0, chuting.AttendanceHearingStarted, "", ""), at(start, 10, chuting.AttendanceAdmitted, u[0], ""),
		at(start, 30, chuting.AttendanceDropped, u[0], ""), at(start, 30.2, chuting.AttendanceResumed, u[0], "gap=12s"),
		at(start, 50, chuting.AttendanceMovedToWaiting, u[0], ""), at(start, 80, chuting.AttendanceHearingEnded, "", "")}
}

func logLostInWaitingRoom(start time.Time, u, _ []string) []chuting.AttendanceEvent {
	return []chuting.AttendanceEvent{at(start, -5, chuting.AttendanceJoined, u[0], "role=appraiser state=waiting"),
		at(start, 0, chuting.AttendanceHearingStarted, "", ""), at(start, 3, chuting.AttendanceDropped, u[0], ""),
		at(start, 3.5, chuting.AttendanceLeft, u[0], "not resumed within 30s"), at(start, 80, chuting.AttendanceHearingEnded, "", "")}
}

func logCorrectedToInPerson(start time.Time, _, a []string) []chuting.AttendanceEvent {
	e := at(start, 120, chuting.AttendanceCorrected, a[0], "鉴定人到庭出庭，书记员漏记")
	e.ActorID, e.Status = "clerk", string(attendance.AppearedInPerson)
	return []chuting.AttendanceEvent{at(start, 0, chuting.AttendanceHearingStarted, "", ""),
		at(start, 80, chuting.AttendanceHearingEnded, "", ""), e}
}
