// Package demo seeds a small, realistic world into a store, so that a new user of
// `chuting serve --demo` can sign in and look around at once: two courts in Ganzhou, two
// appraisal institutions with a testimony room each (one accreditation about to expire), six
// appraisers (one short of continuing-education hours, one with an expired licence, one with a
// declared conflict), two opinions, three summons, and an account for every role.
//
// Every record has a stable ID derived from its natural key, so seeding is idempotent: a
// second run, or a run after one that was killed half-way, adds only what is missing and
// changes nothing that is there (passwords included).
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chuting/chuting"
)

// Account is a demo account, for the start-up message and the README.
type Account struct {
	Username string
	Name     string
	Role     chuting.Role
}

// Seed writes what is missing of the demo world. passwordHash is the hash every new demo
// account gets; now places dates (licence expiries, summons windows) around the present. It
// returns the accounts it made, which are none when the world was already there.
func Seed(ctx context.Context, s chuting.Records, passwordHash string, now time.Time) ([]Account, error) {
	w := &world{ctx: ctx, s: s, hash: passwordHash}
	in := func(years, months, days int) chuting.Date { return chuting.DateOf(now.AddDate(years, months, days)) }
	cst := time.FixedZone("CST", 8*3600) // Asia/Shanghai has no DST; a fixed zone needs no tzdata
	day := time.Date(now.In(cst).Year(), now.In(cst).Month(), now.In(cst).Day(), 0, 0, 0, 0, cst)
	at := func(days, hour, min int) time.Time {
		return nextWorkday(day, days).Add(time.Duration(hour*60+min) * time.Minute)
	}

	court := w.court(&chuting.Court{Name: "赣州市中级人民法院", Code: "赣07", TimeZone: "Asia/Shanghai", NoticeDays: 3,
		TravelDays: 2, Address: "江西省赣州市章贡区长征大道"})
	district := w.court(&chuting.Court{Name: "赣州市章贡区人民法院", Code: "赣0702", TimeZone: "Asia/Shanghai", NoticeDays: 5,
		Address: "江西省赣州市章贡区红旗大道"})

	center := w.institution(&chuting.Institution{Name: "赣南司法鉴定中心", LicenceNo: "360001001", Phone: "0797-8123456",
		Address: "江西省赣州市章贡区青年路 38 号", AccreditationNo: "CNAS IB0123",
		AccreditationExpires: in(2, 0, 0),
		Categories: []chuting.CategoryScope{{Category: "法医临床"}, {Category: "法医病理"},
			{Category: "法医物证", AccreditedLab: true}}})
	zhengyuan := w.institution(&chuting.Institution{Name: "赣州正源司法鉴定所", LicenceNo: "360001017", Phone: "0797-8234567",
		Address: "江西省赣州市南康区蓉江路 9 号", AccreditationNo: "CMA 2021360123",
		AccreditationExpires: in(0, 0, 45),
		Categories:           []chuting.CategoryScope{{Category: "文书"}, {Category: "痕迹"}, {Category: "声像资料"}, {Category: "法医临床"}}})

	centerRoom := w.room(&chuting.TestimonyRoom{InstitutionID: center.ID, Name: "远程视频出庭作证室（一）", Location: "中心三楼 301 室",
		Equipment: []string{"高清摄像机", "全向麦克风", "身份证阅读器", "文件展示台"}, ApprovedBy: "赣州市中级人民法院",
		ApprovedOn: in(0, -6, 0)})
	zhengyuanRoom := w.room(&chuting.TestimonyRoom{InstitutionID: zhengyuan.ID, Name: "远程作证室", Location: "二楼 205 室",
		Equipment: []string{"高清摄像机", "会议麦克风"}, ApprovedBy: "赣州市章贡区人民法院",
		ApprovedOn: in(0, -4, 0)})

	year := now.In(cst).Year()
	full := map[int]float64{year - 1: 44, year: 40}
	li := w.appraiser(&chuting.Appraiser{InstitutionID: center.ID, Name: "李明", LicenceNo: "360101001234",
		LicenceExpires: in(3, 0, 0), Categories: []string{"法医临床", "法医病理"},
		InductionTrained: true, CEHours: full, Phone: "13907970001"})
	wang := w.appraiser(&chuting.Appraiser{InstitutionID: center.ID, Name: "王芳", LicenceNo: "360101001235",
		LicenceExpires: in(2, 3, 0), Categories: []string{"法医临床"},
		InductionTrained: true, CEHours: map[int]float64{year - 1: 22, year: 30}, Phone: "13907970002"})
	chen := w.appraiser(&chuting.Appraiser{InstitutionID: center.ID, Name: "陈建国", LicenceNo: "360101001236",
		LicenceExpires: in(4, 1, 0), Categories: []string{"法医物证"},
		InductionTrained: true, CEHours: full, Phone: "13907970003",
		Proficiency: []chuting.ProficiencyResult{{Year: year - 2, Category: "法医物证", Passed: true},
			{Year: year - 1, Category: "法医物证", Passed: true}}})
	liu := w.appraiser(&chuting.Appraiser{InstitutionID: zhengyuan.ID, Name: "刘洋", LicenceNo: "360101002001",
		LicenceExpires: in(0, -9, 0), Categories: []string{"文书"},
		InductionTrained: true, CEHours: full, Phone: "13907970004"})
	zhao := w.appraiser(&chuting.Appraiser{InstitutionID: zhengyuan.ID, Name: "赵静", LicenceNo: "360101002002",
		LicenceExpires: in(3, 0, 0), Categories: []string{"痕迹", "声像资料", "文书"},
		InductionTrained: true, CEHours: full, Phone: "13907970005"})
	sun := w.appraiser(&chuting.Appraiser{InstitutionID: zhengyuan.ID, Name: "孙伟", LicenceNo: "360101002003",
		LicenceExpires: in(1, 6, 0), Categories: []string{"法医临床"},
		InductionTrained: true, CEHours: full, Phone: "13907970006",
		Conflicts: []chuting.Conflict{{Party: "张三", Note: "表兄弟 / cousin"}}})

	injury := w.opinion(&chuting.Opinion{DocumentNo: "赣南司鉴中心[2026]临鉴字第0123号", CaseNo: "(2026)赣07民初123号",
		InstitutionID: center.ID, Category: "法医临床", Signatories: []string{li.ID, wang.ID},
		IssuedOn: in(0, -2, 0)})
	handwriting := w.opinion(&chuting.Opinion{DocumentNo: "正源司鉴所[2026]文鉴字第0045号", CaseNo: "(2026)赣0702民初456号",
		InstitutionID: zhengyuan.ID, Category: "文书", Signatories: []string{liu.ID, zhao.ID},
		IssuedOn: in(0, -4, 0)})

	// Accounts are made below; their IDs are stable, so the summons can name them here.
	judgeID, clerkID := demoID(chuting.KindUser, "judge"), demoID(chuting.KindUser, "clerk")
	// So is the scheduled summons's, and the hearing's made from it.
	scheduledID := summonsID(handwriting.CaseNo, district.ID)
	hearingID := demoID(chuting.KindHearing, scheduledID)
	contact := chuting.Contact{Name: "周书记员", Phone: "0797-8999001"}
	w.summons(&chuting.Summons{CourtID: court.ID, CaseNo: injury.CaseNo, CaseType: chuting.CaseTypeCivil,
		OpinionID: injury.ID, InstitutionID: center.ID, AppraiserIDs: injury.Signatories, Mode: chuting.ModeRemote,
		Remote: &chuting.RemoteApproval{Ground: chuting.GroundDistance, Note: "鉴定人异地执业，路途遥远", ApprovedBy: judgeID, ApprovedAt: now.UTC()}, DurationMinutes: 90,
		Windows: []chuting.Interval{{Start: at(7, 8, 30), End: at(7, 12, 0)}, {Start: at(8, 14, 0), End: at(8, 17, 30)}},
		Parties: []chuting.Party{{Name: "张三", Role: "原告"}, {Name: "赣州某运输有限公司", Role: "被告"}},
		Reason:  "被告对伤残等级鉴定意见有异议 / the defendant disputes the disability grading", Contact: contact,
		ServedAt: now.UTC(), ServedBy: clerkID,
		Slot: &chuting.Slot{Start: at(7, 8, 30), End: at(7, 10, 0), RoomID: centerRoom.ID, AppraiserIDs: injury.Signatories},
		// 李明 has confirmed; 王芳 has not answered yet.
		Responses: []chuting.Response{{AppraiserID: li.ID, Confirmed: true, By: demoID(chuting.KindUser, "liming"), At: now.UTC()}},
		Receipts:  []chuting.Receipt{{Party: "institution", PartyID: center.ID, By: demoID(chuting.KindUser, "center-admin"), At: now.UTC()}},
		State:     chuting.SummonsProposed})
	w.summons(&chuting.Summons{CourtID: district.ID, CaseNo: handwriting.CaseNo, CaseType: chuting.CaseTypeCivil,
		OpinionID: handwriting.ID, InstitutionID: zhengyuan.ID, AppraiserIDs: []string{zhao.ID}, Mode: chuting.ModeRemote,
		Remote: &chuting.RemoteApproval{Ground: chuting.GroundHealth, Note: "鉴定人术后康复期", ApprovedBy: judgeID, ApprovedAt: now.UTC()}, DurationMinutes: 60,
		Windows:  []chuting.Interval{{Start: at(10, 9, 0), End: at(10, 11, 0)}},
		Parties:  []chuting.Party{{Name: "李四", Role: "原告"}, {Name: "王五", Role: "被告"}},
		Reason:   "原告申请鉴定人出庭说明签名笔迹比对方法 / the plaintiff asks the appraiser to explain the comparison",
		Contact:  chuting.Contact{Name: "吴书记员", Phone: "0797-8999102"},
		ServedAt: now.Add(-48 * time.Hour).UTC(), ServedBy: demoID(chuting.KindUser, "clerk-zhanggong"),
		Slot:      &chuting.Slot{Start: at(10, 9, 0), End: at(10, 10, 0), RoomID: zhengyuanRoom.ID, AppraiserIDs: []string{zhao.ID}},
		Responses: []chuting.Response{{AppraiserID: zhao.ID, Confirmed: true, By: demoID(chuting.KindUser, "zhaojing"), At: now.UTC()}},
		HearingID: hearingID,
		State:     chuting.SummonsScheduled})
	w.create(&chuting.Hearing{SummonsID: scheduledID, CourtID: district.ID,
		InstitutionID: zhengyuan.ID, RoomID: zhengyuanRoom.ID, AppraiserIDs: []string{zhao.ID}, Mode: chuting.ModeRemote,
		Start: at(10, 9, 0), End: at(10, 10, 0)})
	w.summons(&chuting.Summons{CourtID: court.ID, CaseNo: "(2026)赣07刑初88号", CaseType: chuting.CaseTypeCriminal,
		InstitutionID: center.ID, Pool: &chuting.Pool{InstitutionID: center.ID, Category: "法医物证", K: 1},
		Mode: chuting.ModeInPerson, DurationMinutes: 60,
		Windows: []chuting.Interval{{Start: at(12, 14, 0), End: at(14, 17, 30)}},
		Parties: []chuting.Party{{Name: "赣州市人民检察院", Role: "公诉机关"}, {Name: "钱某", Role: "被告人"}},
		Reason:  "辩护人对 DNA 鉴定意见有异议 / defence counsel disputes the DNA opinion", Contact: contact,
		ServedAt: now.UTC(), ServedBy: clerkID,
		Slot:  &chuting.Slot{Start: at(12, 14, 0), End: at(12, 15, 0), AppraiserIDs: []string{chen.ID}},
		State: chuting.SummonsProposed})

	// The practice hearing (模拟庭审): 李明 before 黄法官, its room open now, so that a new user
	// can try the video room at once; Practice keeps it in the near future on every start.
	practiceStart := now.Add(10 * time.Minute).Truncate(time.Minute)
	practice := &chuting.Summons{CourtID: court.ID, CaseNo: PracticeCaseNo, CaseType: chuting.CaseTypeCivil,
		OpinionID: injury.ID, InstitutionID: center.ID, AppraiserIDs: []string{li.ID}, Mode: chuting.ModeRemote,
		Remote:          &chuting.RemoteApproval{Ground: chuting.GroundOther, Note: "模拟庭审 / practice hearing", ApprovedBy: judgeID, ApprovedAt: now.UTC()},
		DurationMinutes: 60, Windows: []chuting.Interval{{Start: practiceStart, End: practiceStart.Add(time.Hour)}},
		Parties: []chuting.Party{{Name: "张三", Role: "原告"}, {Name: "赣州某运输有限公司", Role: "被告"}},
		Reason:  "模拟庭审：熟悉远程出庭流程 / practice hearing: try the remote testimony room", Contact: contact,
		ServedAt: now.UTC(), ServedBy: clerkID,
		Slot:      &chuting.Slot{Start: practiceStart, End: practiceStart.Add(time.Hour), RoomID: centerRoom.ID, AppraiserIDs: []string{li.ID}},
		Responses: []chuting.Response{{AppraiserID: li.ID, Confirmed: true, By: demoID(chuting.KindUser, "liming"), At: now.UTC()}},
		State:     chuting.SummonsScheduled}
	practice.HearingID = demoID(chuting.KindHearing, summonsID(PracticeCaseNo, court.ID))
	w.summons(practice)
	w.create(&chuting.Hearing{SummonsID: practice.ID, CourtID: court.ID, InstitutionID: center.ID,
		RoomID: centerRoom.ID, AppraiserIDs: []string{li.ID}, Mode: chuting.ModeRemote,
		Start: practiceStart, End: practiceStart.Add(time.Hour)})

	w.user("bureau", "赣州市司法局管理员", chuting.RoleBureauAdmin, nil)
	w.user("center-admin", "赣南司法鉴定中心管理员", chuting.RoleInstitutionAdmin, func(u *chuting.User) { u.InstitutionID = center.ID })
	w.user("zhengyuan-admin", "正源鉴定所管理员", chuting.RoleInstitutionAdmin, func(u *chuting.User) { u.InstitutionID = zhengyuan.ID })
	w.user("clerk", "周书记员", chuting.RoleClerk, func(u *chuting.User) { u.CourtID = court.ID })
	w.user("judge", "黄法官", chuting.RoleJudge, func(u *chuting.User) { u.CourtID = court.ID })
	w.user("clerk-zhanggong", "吴书记员", chuting.RoleClerk, func(u *chuting.User) { u.CourtID = district.ID })
	for _, a := range []struct {
		username string
		a        *chuting.Appraiser
	}{{"liming", li}, {"wangfang", wang}, {"chenjianguo", chen}, {"liuyang", liu}, {"zhaojing", zhao}, {"sunwei", sun}} {
		w.user(a.username, a.a.Name, chuting.RoleAppraiser, func(u *chuting.User) {
			u.AppraiserID, u.InstitutionID = a.a.ID, a.a.InstitutionID
		})
	}
	if w.err != nil {
		return nil, fmt.Errorf("seed demo data: %w", w.err)
	}
	return w.accounts, nil
}

// PracticeCaseNo is the case number of the demo's practice hearing.
const PracticeCaseNo = "(2026)赣07民初200号"

// Practice moves the demo's practice hearing to start ten minutes from now, with its room open
// at once, unless it is already due within the room's opening time (30 minutes) or running.
// It reports the hearing's ID, "" when the store holds no practice hearing.
func Practice(ctx context.Context, s chuting.Records, now time.Time) (string, error) {
	court := demoID(chuting.KindCourt, "赣07")
	sm, err := chuting.Load[chuting.Summons](ctx, s, summonsID(PracticeCaseNo, court))
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return "", nil
	} else if err != nil {
		return "", err
	}
	h, err := chuting.Load[chuting.Hearing](ctx, s, sm.HearingID)
	if err != nil {
		return "", err
	}
	if now.After(h.Start.Add(-30*time.Minute)) && now.Before(h.End) {
		return h.ID, nil
	}
	start := now.Add(10 * time.Minute).Truncate(time.Minute)
	h.Start, h.End, h.Node = start, start.Add(time.Hour), ""
	if err := chuting.Save(ctx, s, h); err != nil {
		return "", err
	}
	sm.Windows = []chuting.Interval{{Start: start, End: h.End}}
	if sm.Slot != nil {
		sm.Slot.Start, sm.Slot.End = start, h.End
	}
	sm.State, sm.NoShow, sm.Reminders = chuting.SummonsScheduled, time.Time{}, nil
	return h.ID, chuting.Save(ctx, s, sm)
}

// nextWorkday returns the date n days after day, moved forward off a weekend.
func nextWorkday(day time.Time, n int) time.Time {
	d := day.AddDate(0, 0, n)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// world writes records and keeps the first error, so Seed reads as a list.
type world struct {
	ctx      context.Context
	s        chuting.Records
	hash     string
	err      error
	accounts []Account
}

// create writes e under the stable ID of its natural key, or, when that record is there
// already, reads it back into e. It reports whether it wrote.
func (w *world) create(e chuting.Entity) bool {
	if w.err != nil {
		return false
	}
	key, ok := naturalKey(e)
	if !ok {
		w.err = fmt.Errorf("demo: no natural key for %T", e)
		return false
	}
	m := e.RecordMeta()
	m.ID = demoID(e.Kind(), key)
	err := chuting.Create(w.ctx, w.s, e)
	if chuting.ErrorCode(err) != chuting.ECONFLICT {
		w.err = err
		return err == nil
	}
	rec, gerr := w.s.Get(w.ctx, e.Kind(), m.ID)
	if gerr != nil { // the conflict is with someone else's record, on a unique value
		w.err = fmt.Errorf("the demo data clashes with data already in the store (%w); use an empty data folder for the demo", err)
		return false
	}
	w.err = json.Unmarshal(rec.Data, e)
	return false
}

// demoID is the stable ID of the demo record of kind with the natural key key (naturalKey),
// so that records can name each other before they are made.
func demoID(kind chuting.Kind, key string) string {
	return chuting.IDOf("demo/" + string(kind) + "/" + key)
}

// naturalKey names a demo record the way people would tell it apart.
func naturalKey(e chuting.Entity) (string, bool) {
	switch e := e.(type) {
	case *chuting.Court:
		return e.Code, true
	case *chuting.Institution:
		return e.LicenceNo, true
	case *chuting.TestimonyRoom:
		return e.InstitutionID + "/" + e.Name, true
	case *chuting.Appraiser:
		return e.LicenceNo, true
	case *chuting.Opinion:
		return e.DocumentNo, true
	case *chuting.Summons:
		return summonsKey(e.CaseNo, e.CourtID), true
	case *chuting.User:
		return e.Username, true
	case *chuting.Hearing:
		return e.SummonsID, true
	}
	return "", false
}

// summonsID is the ID of the demo summons of case caseNo at court courtID.
func summonsID(caseNo, courtID string) string {
	return demoID(chuting.KindSummons, summonsKey(caseNo, courtID))
}

func summonsKey(caseNo, courtID string) string { return caseNo + "/" + courtID }

func (w *world) court(c *chuting.Court) *chuting.Court                   { w.create(c); return c }
func (w *world) institution(i *chuting.Institution) *chuting.Institution { w.create(i); return i }
func (w *world) room(r *chuting.TestimonyRoom) *chuting.TestimonyRoom    { w.create(r); return r }
func (w *world) appraiser(a *chuting.Appraiser) *chuting.Appraiser       { w.create(a); return a }
func (w *world) opinion(o *chuting.Opinion) *chuting.Opinion             { w.create(o); return o }
func (w *world) summons(s *chuting.Summons)                              { w.create(s) }

func (w *world) user(username, name string, role chuting.Role, scope func(*chuting.User)) {
	u := &chuting.User{Username: username, Name: name, Role: role, PasswordHash: w.hash, PasswordSet: time.Now().UTC()}
	if scope != nil {
		scope(u)
	}
	if w.create(u) {
		w.accounts = append(w.accounts, Account{Username: username, Name: name, Role: role})
	}
}
