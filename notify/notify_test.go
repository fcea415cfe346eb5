package notify_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/attendance"
	"github.com/chuting/chuting/auth"
	"github.com/chuting/chuting/bbolt"
	"github.com/chuting/chuting/notify"
	"github.com/chuting/chuting/scheduler"
	"github.com/prometheus/client_golang/prometheus"
)

// cst is China Standard Time, in which the tests write times.
var cst = time.FixedZone("CST", 8*3600)

// clock is the tests' time, moved by hand; the services and their workers read it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is a court and an institution with three appraisers of 法医临床 (a[0] and a[1] signed
// the opinion), another court and institution, and accounts of every kind, on Monday
// 2026-12-07 09:00. The scheduler tells the notify service of every change, as in the server.
type world struct {
	t      *testing.T
	ctx    context.Context
	store  chuting.Store
	clock  *clock
	svc    *notify.Service
	sched  *scheduler.Service
	court  *chuting.Court
	inst   *chuting.Institution
	a      []*chuting.Appraiser
	op     *chuting.Opinion
	users  map[string]*chuting.User // by username
	byID   map[string]string        // user ID → username
	cases  int
	seenMu sync.Mutex
	seen   map[string]bool // notice IDs already returned by newNotices
}

func (w *world) create(e chuting.Entity) {
	w.t.Helper()
	if err := chuting.Create(w.ctx, w.store, e); err != nil {
		w.t.Fatal(err)
	}
}

// newWorld builds the world with a notify service made from cfg (Store and Now are set here).
func newWorld(t *testing.T, cfg notify.Config) *world {
	t.Helper()
	store, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	w := &world{t: t, ctx: context.Background(), store: store, clock: &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, cst)},
		users: map[string]*chuting.User{}, byID: map[string]string{}, seen: map[string]bool{}}
	cfg.Store, cfg.Now = store, w.clock.Now
	if !cfg.AllowPrivate && cfg.Client == nil && !publicOnly[t.Name()] {
		cfg.AllowPrivate = true // the receivers are httptest servers on loopback
	}
	w.svc = notify.New(cfg)
	att := attendance.New(attendance.Config{Store: store, Now: w.clock.Now, Notify: w.svc.Handle})
	w.sched = scheduler.New(scheduler.Config{Store: store, Now: w.clock.Now, Notify: w.svc.Handle, Attendance: att})

	w.court = &chuting.Court{Name: "赣州市中级人民法院", Code: "赣07", TimeZone: "Asia/Shanghai", NoticeDays: 3}
	other := &chuting.Court{Name: "章贡区人民法院", Code: "赣0702", TimeZone: "Asia/Shanghai", NoticeDays: 3}
	scope := []chuting.CategoryScope{{Category: "法医临床"}}
	w.inst = &chuting.Institution{Name: "赣南司法鉴定中心", LicenceNo: "1", Categories: scope}
	otherInst := &chuting.Institution{Name: "正源", LicenceNo: "2", Categories: scope}
	for _, e := range []chuting.Entity{w.court, other, w.inst, otherInst} {
		w.create(e)
	}
	w.create(&chuting.TestimonyRoom{InstitutionID: w.inst.ID, Name: "远程视频出庭作证室", Location: "3F"})
	for i, name := range []string{"李明", "王芳", "陈建国"} {
		a := &chuting.Appraiser{InstitutionID: w.inst.ID, Name: name, LicenceNo: fmt.Sprint("L", i),
			Categories: []string{"法医临床"}, InductionTrained: true, CEHours: map[int]float64{2025: 40, 2026: 40},
			LicenceExpires: chuting.Date{Year: 2030, Month: 1, Day: 1}}
		w.create(a)
		w.a = append(w.a, a)
	}
	w.op = &chuting.Opinion{DocumentNo: "赣南司鉴中心[2026]临鉴字第0123号", InstitutionID: w.inst.ID, Category: "法医临床",
		Signatories: []string{w.a[0].ID, w.a[1].ID}}
	w.create(w.op)

	for _, u := range []*chuting.User{
		{Username: "admin", Name: "中心管理员", Role: chuting.RoleInstitutionAdmin, InstitutionID: w.inst.ID, Email: "admin@center.test"},
		{Username: "admin-disabled", Name: "停用", Role: chuting.RoleInstitutionAdmin, InstitutionID: w.inst.ID, Email: "old@center.test", Disabled: true},
		{Username: "other-admin", Name: "正源管理员", Role: chuting.RoleInstitutionAdmin, InstitutionID: otherInst.ID, Email: "admin@zy.test"},
		{Username: "a0", Name: "李明", Role: chuting.RoleAppraiser, InstitutionID: w.inst.ID, AppraiserID: w.a[0].ID, Email: "liming@center.test"},
		{Username: "a1", Name: "王芳", Role: chuting.RoleAppraiser, InstitutionID: w.inst.ID, AppraiserID: w.a[1].ID},
		{Username: "a2", Name: "陈建国", Role: chuting.RoleAppraiser, InstitutionID: w.inst.ID, AppraiserID: w.a[2].ID, Email: "chen@center.test"},
		{Username: "clerk", Name: "周书记员", Role: chuting.RoleClerk, CourtID: w.court.ID, Email: "clerk@court.test"},
		{Username: "judge", Name: "吴法官", Role: chuting.RoleJudge, CourtID: w.court.ID},
		{Username: "other-clerk", Name: "区法院书记员", Role: chuting.RoleClerk, CourtID: other.ID, Email: "clerk@district.test"},
		{Username: "bureau", Name: "司法局", Role: chuting.RoleBureauAdmin, Email: "bureau@sfj.test"},
	} {
		w.create(u)
		w.users[u.Username], w.byID[u.ID] = u, u.Username
	}
	return w
}

// as returns the principal of the user named username.
func (w *world) as(username string) *chuting.Principal { return auth.PrincipalOf(w.users[username]) }

// serve serves a remote civil summons of a[0] and a[1] as the clerk, in the week of 14 December.
func (w *world) serve() *chuting.Summons {
	w.t.Helper()
	w.cases++
	day := func(d, h, m int) string { return time.Date(2026, 12, d, h, m, 0, 0, cst).Format(time.RFC3339) }
	req := &scheduler.Request{CaseNo: fmt.Sprintf("(2026)赣07民初%d号", 100+w.cases), OpinionID: w.op.ID,
		AppraiserIDs: []string{w.a[0].ID, w.a[1].ID}, Mode: "remote", RemoteGround: "distance", DurationMinutes: 90,
		Windows: []scheduler.WindowRequest{{Start: day(14, 8, 30), End: day(18, 17, 30)}},
		Parties: []chuting.Party{{Name: "张三", Role: "原告"}}, Reason: "被告对鉴定意见有异议",
		Contact: chuting.Contact{Name: "周书记员", Phone: "0797-8999001"}}
	sm, _, err := w.sched.Serve(w.ctx, w.as("clerk"), req)
	if err != nil {
		w.t.Fatalf("serve: %v", err)
	}
	return sm
}

// act takes a workflow step as username.
func (w *world) act(id, username string, st scheduler.Step) {
	w.t.Helper()
	st.By = w.as(username)
	if _, err := w.sched.Act(w.ctx, id, st, nil); err != nil {
		w.t.Fatalf("%s by %s: %v", st.Action, username, err)
	}
}

func (w *world) ack(id, username string) {
	w.t.Helper()
	if _, err := w.sched.Acknowledge(w.ctx, id, w.as(username)); err != nil {
		w.t.Fatalf("acknowledge by %s: %v", username, err)
	}
}

// newNotices returns the notices written since the last call.
func (w *world) newNotices() []*chuting.Notice {
	w.t.Helper()
	all, err := chuting.FindAll[chuting.Notice](w.ctx, w.store, chuting.Query{})
	if err != nil {
		w.t.Fatal(err)
	}
	w.seenMu.Lock()
	defer w.seenMu.Unlock()
	var out []*chuting.Notice
	for _, n := range all {
		if !w.seen[n.ID] {
			w.seen[n.ID] = true
			out = append(out, n)
		}
	}
	return out
}

// recipients maps each topic of ns to the sorted usernames told.
func (w *world) recipients(ns []*chuting.Notice) map[string][]string {
	out := map[string][]string{}
	for _, n := range ns {
		out[n.Topic] = append(out[n.Topic], w.byID[n.UserID])
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// counter reads the value of the metric name with the label outcome (or none) from svc.
func counter(t *testing.T, svc *notify.Service, name, outcome string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(svc.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if outcome == "" && len(m.GetLabel()) == 0 {
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// checkRoutines fails the test if it leaves goroutines behind (pion's test.CheckRoutines,
// by count). Call it first, so its cleanup runs last.
func checkRoutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines left behind:\n%s", n-before, buf[:runtime.Stack(buf, true)])
		}
	})
}

// TestRecipients takes summons through every step of the workflow and checks who is told of
// each: the institution and each appraiser of a summons served (#3), the court of the
// appraisers' answers and of receipts (#4), the appraisers and the institution of the court's
// decisions. Nobody else: not another court or institution, not an appraiser who is not
// summoned, not a disabled account, not the bureau.
func TestRecipients(t *testing.T) {
	w := newWorld(t, notify.Config{})
	appraisersAndInst := []string{"a0", "a1", "admin"}
	courtAndInst := []string{"admin", "clerk", "judge"}
	court := []string{"clerk", "judge"}
	everyone := []string{"a0", "a1", "admin", "clerk", "judge"} // the fixed hearing concerns all

	var sm *chuting.Summons
	steps := []struct {
		name string
		do   func()
		want map[string][]string
	}{
		{"Served", func() { sm = w.serve() }, map[string][]string{"summons.served": appraisersAndInst}},
		{"ReceiptByInstitution", func() { w.ack(sm.ID, "admin") }, map[string][]string{"summons.receipt": court}},
		{"ReceiptByAppraiser", func() { w.ack(sm.ID, "a0") }, map[string][]string{"summons.receipt": court}},
		{"Confirm", func() { w.act(sm.ID, "a0", scheduler.Step{Action: scheduler.Confirm}) },
			map[string][]string{"summons.confirm": courtAndInst}},
		{"Decline", func() {
			w.act(sm.ID, "a1", scheduler.Step{Action: scheduler.Decline, Reason: "住院治疗", Evidence: "住院证明"})
		}, map[string][]string{"summons.decline": courtAndInst}},
		// The court's order binds the decliner: with a0's confirmation, the hearing is fixed.
		{"RejectExcuseSchedules", func() {
			w.act(sm.ID, "judge", scheduler.Step{Action: scheduler.RejectExcuse, Reason: "可远程出庭"})
		}, map[string][]string{"summons.reject_excuse": appraisersAndInst, "summons.schedule": everyone}},
		{"Start", func() {
			w.clock.Add(sm.Slot.Start.Sub(w.clock.Now())) // the hearing's time
			w.act(sm.ID, "judge", scheduler.Step{Action: scheduler.Start})
		},
			map[string][]string{"summons.start": appraisersAndInst}},
		{"Complete", func() { w.act(sm.ID, "judge", scheduler.Step{Action: scheduler.Complete}) },
			map[string][]string{"summons.complete": appraisersAndInst}},

		{"SecondServed", func() { sm = w.serve() }, map[string][]string{"summons.served": appraisersAndInst}},
		{"SecondDecline", func() { w.act(sm.ID, "a0", scheduler.Step{Action: scheduler.Decline, Reason: "出差"}) },
			map[string][]string{"summons.decline": courtAndInst}},
		{"AcceptExcuse", func() { w.act(sm.ID, "clerk", scheduler.Step{Action: scheduler.AcceptExcuse, Reason: "准许"}) },
			map[string][]string{"summons.accept_excuse": appraisersAndInst}},
		{"Reschedule", func() { w.act(sm.ID, "clerk", scheduler.Step{Action: scheduler.Reschedule, Reason: "合议庭调整"}) },
			map[string][]string{"summons.reschedule": appraisersAndInst}},
		{"Cancel", func() { w.act(sm.ID, "clerk", scheduler.Step{Action: scheduler.Cancel, Reason: "原告撤诉"}) },
			map[string][]string{"summons.cancel": appraisersAndInst}},

		{"ThirdServed", func() { sm = w.serve() }, map[string][]string{"summons.served": appraisersAndInst}},
		{"ThirdConfirmed", func() {
			w.act(sm.ID, "a0", scheduler.Step{Action: scheduler.Confirm})
			w.act(sm.ID, "a1", scheduler.Step{Action: scheduler.Confirm})
		}, map[string][]string{"summons.confirm": courtAndInst, "summons.schedule": everyone}},
		{"Reminder", func() { w.svc.Handle(w.ctx, chuting.SummonsEvent{Summons: sm, Reminder: "24h"}) },
			map[string][]string{"reminder.24h": everyone}},
		{"NoShow", func() { w.svc.Handle(w.ctx, chuting.SummonsEvent{Summons: sm, NoShow: true}) },
			map[string][]string{"summons.no_show": courtAndInst}},
		{"Absent", func() {
			w.act(sm.ID, "judge", scheduler.Step{Action: scheduler.Absent, Cause: scheduler.CauseTechnicalFailure})
		}, map[string][]string{"summons.absent": appraisersAndInst}},
	}
	for _, st := range steps {
		st.do()
		got := w.recipients(w.newNotices())
		if st.name == "ThirdConfirmed" { // two confirmations, one notice each to each of the court and institution
			got["summons.confirm"] = slices.Compact(got["summons.confirm"])
		}
		if !maps.EqualFunc(got, st.want, slices.Equal) {
			t.Errorf("%s: told %v, want %v", st.name, got, st.want)
		}
	}
	if n := counter(t, w.svc, "chuting_notify_mail_total", "dropped"); n != 0 {
		t.Errorf("without SMTP, %v e-mails were counted as dropped", n)
	}
}

// TestNoticeText checks what a notice says: the case, the court, the time in the court's zone,
// the room, both languages; and the reason of a step.
func TestNoticeText(t *testing.T) {
	w := newWorld(t, notify.Config{})
	sm := w.serve()
	ns := w.newNotices()
	if len(ns) == 0 {
		t.Fatal("no notices")
	}
	n := ns[0]
	slot := sm.Slot.Start.In(cst).Format("2006-01-02 15:04")
	for _, want := range []string{sm.CaseNo, "出庭通知", "Summons served"} {
		if !strings.Contains(n.Title, want) {
			t.Errorf("title %q lacks %q", n.Title, want)
		}
	}
	for _, want := range []string{"赣州市中级人民法院", slot, "Asia/Shanghai", "远程视频出庭作证室", "李明", "王芳",
		"被告对鉴定意见有异议", "0797-8999001", "sign in", "待确认 / proposed"} {
		if !strings.Contains(n.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, n.Body)
		}
	}
	if n.SummonsID != sm.ID || !n.Read.IsZero() {
		t.Errorf("notice %+v", n)
	}

	w.act(sm.ID, "a1", scheduler.Step{Action: scheduler.Decline, Reason: "住院治疗"})
	for _, n := range w.newNotices() {
		if !strings.Contains(n.Body, "王芳") || !strings.Contains(n.Body, "住院治疗") || !strings.Contains(n.Title, "excused") {
			t.Errorf("decline notice to %s:\n%s\n%s", w.byID[n.UserID], n.Title, n.Body)
		}
	}
}

// TestHandleWithoutSummons: an event without a summons is ignored.
func TestHandleWithoutSummons(t *testing.T) {
	w := newWorld(t, notify.Config{})
	w.svc.Handle(w.ctx, chuting.SummonsEvent{})
	if ns := w.newNotices(); len(ns) != 0 {
		t.Fatalf("notices %v", ns)
	}
}
