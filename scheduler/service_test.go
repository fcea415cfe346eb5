package scheduler

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/bbolt"
	"github.com/chuting/chuting/redis"
	"github.com/chuting/chuting/redis/redistest"
)

// cst is China Standard Time, in which the tests write times.
var cst = time.FixedZone("CST", 8*3600)

type world struct {
	t        *testing.T
	ctx      context.Context
	store    chuting.Store
	svc      *Service
	now      time.Time
	court    *chuting.Court
	inst     *chuting.Institution
	other    *chuting.Institution
	rooms    []*chuting.TestimonyRoom
	a        []*chuting.Appraiser // a[0], a[1] eligible signatories; a[2] short of CE hours; a[3] elsewhere
	op       *chuting.Opinion
	clerk    *chuting.Principal
	admin    *chuting.Principal
	stranger *chuting.Principal
}

func (w *world) appraiser(i int) *chuting.Principal {
	return &chuting.Principal{UserID: "u-" + w.a[i].ID, Role: chuting.RoleAppraiser, AppraiserID: w.a[i].ID, InstitutionID: w.a[i].InstitutionID}
}

func (w *world) create(e chuting.Entity) {
	w.t.Helper()
	if err := chuting.Create(w.ctx, w.store, e); err != nil {
		w.t.Fatal(err)
	}
}

// newWorld is a court, an institution with two rooms and three appraisers of 法医临床 (two
// signed the opinion), an appraiser at another institution, on Monday 2026-12-07 09:00.
func newWorld(t *testing.T) *world {
	t.Helper()
	store, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return newWorldOn(t, store)
}

// newWorldOn is newWorld on a given store.
func newWorldOn(t *testing.T, store chuting.Store) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), store: store, now: time.Date(2026, 12, 7, 9, 0, 0, 0, cst)}
	w.svc = New(Config{Store: store, Now: func() time.Time { return w.now }})
	w.court = &chuting.Court{Name: "赣州市中级人民法院", Code: "赣07", TimeZone: "Asia/Shanghai", NoticeDays: 3, TravelDays: 1}
	w.create(w.court)
	scope := []chuting.CategoryScope{{Category: "法医临床"}}
	w.inst = &chuting.Institution{Name: "赣南司法鉴定中心", LicenceNo: "1", Categories: scope}
	w.other = &chuting.Institution{Name: "正源", LicenceNo: "2", Categories: scope}
	w.create(w.inst)
	w.create(w.other)
	for i := range 2 {
		r := &chuting.TestimonyRoom{InstitutionID: w.inst.ID, Name: "作证室", Location: "3F"}
		w.create(r)
		w.rooms = append(w.rooms, r)
		time.Sleep(2 * time.Millisecond) // IDs in creation order: rooms are tried in ID order
		_ = i
	}
	for i, inst := range []*chuting.Institution{w.inst, w.inst, w.inst, w.other} {
		a := &chuting.Appraiser{InstitutionID: inst.ID, Name: []string{"李明", "王芳", "陈建国", "刘洋"}[i],
			LicenceNo: "L" + string(rune('0'+i)), Categories: []string{"法医临床"}, InductionTrained: true,
			CEHours: map[int]float64{2025: 40, 2026: 40}, LicenceExpires: chuting.Date{Year: 2030, Month: 1, Day: 1}}
		if i == 2 {
			a.CEHours[2025] = 22
		}
		w.create(a)
		w.a = append(w.a, a)
	}
	w.op = &chuting.Opinion{DocumentNo: "赣南司鉴中心[2026]临鉴字第0123号", InstitutionID: w.inst.ID, Category: "法医临床",
		Signatories: []string{w.a[0].ID, w.a[1].ID}, Reviewers: []string{w.a[2].ID}}
	w.create(w.op)
	w.clerk = &chuting.Principal{UserID: "u-clerk", Role: chuting.RoleClerk, CourtID: w.court.ID}
	w.admin = &chuting.Principal{UserID: "u-admin", Role: chuting.RoleInstitutionAdmin, InstitutionID: w.inst.ID}
	w.stranger = &chuting.Principal{UserID: "u-x", Role: chuting.RoleInstitutionAdmin, InstitutionID: w.other.ID}
	return w
}

func at(day, hour, min int) string {
	return time.Date(2026, 12, day, hour, min, 0, 0, cst).Format(time.RFC3339)
}

// request is a remote civil summons of the opinion's signatories, for 14 December morning.
func (w *world) request() *Request {
	return &Request{CaseNo: "(2026)赣07民初123号", OpinionID: w.op.ID, AppraiserIDs: []string{w.a[0].ID, w.a[1].ID},
		Mode: "remote", RemoteGround: "distance", DurationMinutes: 90,
		Windows: []WindowRequest{{Start: at(14, 8, 30), End: at(14, 12, 0)}},
		Parties: []chuting.Party{{Name: "张三", Role: "原告"}, {Name: "某公司", Role: "被告"}},
		Reason:  "被告对鉴定意见有异议", Contact: chuting.Contact{Name: "周书记员", Phone: "0797-8999001"}}
}

func (w *world) serve(req *Request) *chuting.Summons {
	w.t.Helper()
	sm, _, err := w.svc.Serve(w.ctx, w.clerk, req)
	if err != nil {
		w.t.Fatalf("serve: %v", err)
	}
	return sm
}

func TestServe(t *testing.T) {
	w := newWorld(t)
	sm := w.serve(w.request())
	want := time.Date(2026, 12, 14, 8, 30, 0, 0, cst)
	if sm.State != chuting.SummonsProposed || !sm.Slot.Start.Equal(want) || !sm.Slot.End.Equal(want.Add(90*time.Minute)) ||
		sm.Slot.RoomID != w.rooms[0].ID || len(sm.Slot.AppraiserIDs) != 2 {
		t.Fatalf("served %s with slot %+v, want proposed at %s in the first room", sm.State, sm.Slot, want)
	}
	if sm.Remote == nil || sm.Remote.Ground != chuting.GroundDistance || sm.Remote.ApprovedBy != w.clerk.UserID {
		t.Fatalf("remote approval %+v, want the clerk's on the ground distance (#14)", sm.Remote)
	}
	if len(sm.History) != 1 || sm.History[0].Action != string(Propose) || sm.ServedBy != w.clerk.UserID {
		t.Fatalf("history %+v", sm.History)
	}
	stored, err := chuting.Load[chuting.Summons](w.ctx, w.store, sm.ID)
	if err != nil || stored.Slot == nil || stored.Version != 1 {
		t.Fatalf("stored %+v %v", stored, err)
	}

	t.Run("SecondTakesTheNextSlot", func(t *testing.T) {
		req := w.request()
		req.CaseNo = "(2026)赣07民初124号"
		next := w.serve(req)
		// Same two appraisers: the next start after 10:00 is 10:00 itself (no gap needed for
		// remote hearings), in any free room.
		if !next.Slot.Start.Equal(want.Add(90 * time.Minute)) {
			t.Fatalf("second summons at %s, want right after the first (10:00)", next.Slot.Start.In(cst))
		}
	})
}

func TestServeRefuses(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name  string
		edit  func(r *Request)
		field string
	}{
		{"CaseNoShape", func(r *Request) { r.CaseNo = "2026民初123" }, "case_no"},
		{"CaseNoOtherCourt", func(r *Request) { r.CaseNo = "(2026)赣08民初123号" }, "case_no"},
		{"CaseTypeMismatch", func(r *Request) { r.CaseType = "criminal" }, "case_type"},
		{"RemoteNeedsGround", func(r *Request) { r.RemoteGround = "" }, "remote_ground"},
		{"RemoteOtherNeedsNote", func(r *Request) { r.RemoteGround = "other" }, "remote_note"},
		{"ModeRequiredForCivil", func(r *Request) { r.Mode, r.RemoteGround = "", "" }, "mode"},
		{"Duration", func(r *Request) { r.DurationMinutes = 50 }, "duration_minutes"},
		{"NoWindows", func(r *Request) { r.Windows = nil }, "windows"},
		{"BadTime", func(r *Request) { r.Windows[0].Start = "2026-12-14 08:30" }, "windows[0].start"},
		{"EndBeforeStart", func(r *Request) { r.Windows[0].End = at(14, 8, 0) }, "windows[0].end"},
		// Years ahead is a typing error; past year 9999 (in UTC) it could not be stored.
		{"YearsAhead", func(r *Request) {
			r.Windows = []WindowRequest{{Start: "9999-06-01T00:00:00Z", End: "9999-06-05T00:00:00Z"}}
		}, "windows[0].start"},
		{"PastYear9999", func(r *Request) {
			r.Windows = []WindowRequest{{Start: "9999-12-31T00:00:00-10:00", End: "9999-12-31T23:00:00-10:00"}}
		}, "windows[0].start"},
		{"EndYearsAhead", func(r *Request) { r.Windows[0].End = "2030-01-01T00:00:00+08:00" }, "windows[0].end"},
		// Served Monday the 7th with 3 days' notice: Thursday the 10th at the earliest (#2).
		{"NoticePeriod", func(r *Request) { r.Windows = []WindowRequest{{Start: at(9, 8, 30), End: at(9, 17, 30)}} }, "windows[0]"},
		// In person adds the court's travel day: Friday the 11th at the earliest.
		{"TravelDays", func(r *Request) {
			r.Mode, r.RemoteGround = "in_person", ""
			r.Windows = []WindowRequest{{Start: at(10, 8, 30), End: at(10, 17, 30)}}
		}, "windows[0]"},
		{"NotSignatory", func(r *Request) { r.AppraiserIDs = []string{w.a[0].ID, w.a[3].ID} }, "appraiser_ids[1]"},
		{"Reviewer", func(r *Request) { r.AppraiserIDs = []string{w.a[2].ID} }, "appraiser_ids[0]"},
		{"Twice", func(r *Request) { r.AppraiserIDs = []string{w.a[0].ID, w.a[0].ID} }, "appraiser_ids[1]"},
		{"NamedAndPool", func(r *Request) { r.Pool = &chuting.Pool{Category: "法医临床", K: 1} }, "appraiser_ids"},
		{"PoolTooFew", func(r *Request) {
			r.AppraiserIDs, r.Pool = nil, &chuting.Pool{Category: "法医临床", K: 3} // only two are eligible
		}, "pool.k"},
		{"NoContact", func(r *Request) { r.Contact.Phone = "" }, "contact"},
		{"NoReason", func(r *Request) { r.Reason = " " }, "reason"},
		{"LongReason", func(r *Request) { r.Reason = strings.Repeat("争", MaxReasonRunes+1) }, "reason"},
		{"NoSlotInWindows", func(r *Request) { r.Windows = []WindowRequest{{Start: at(12, 8, 30), End: at(13, 17, 30)}} }, "windows"}, // a weekend
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := w.request()
			tc.edit(req)
			_, _, err := w.svc.Serve(w.ctx, w.clerk, req)
			if chuting.ErrorCode(err) != chuting.EINVALID || chuting.ErrorField(err) != tc.field {
				t.Fatalf("err %v (field %q), want invalid naming %s", err, chuting.ErrorField(err), tc.field)
			}
		})
	}
	all, err := chuting.FindAll[chuting.Summons](w.ctx, w.store, chuting.Query{})
	if err != nil || len(all) != 0 {
		t.Fatalf("refused requests stored %d summons (%v)", len(all), err)
	}
}

func TestServeDefaultsAndWarnings(t *testing.T) {
	w := newWorld(t)
	t.Run("CriminalInPerson", func(t *testing.T) {
		req := w.request()
		req.CaseNo, req.Mode, req.RemoteGround = "(2026)赣07刑初88号", "", ""
		sm := w.serve(req)
		if sm.Mode != chuting.ModeInPerson || sm.CaseType != chuting.CaseTypeCriminal || sm.Slot.RoomID != "" {
			t.Fatalf("criminal summons: mode %s, type %s, room %q; want in person without a room (#15)", sm.Mode, sm.CaseType, sm.Slot.RoomID)
		}
	})
	t.Run("PoolPicksEligible", func(t *testing.T) {
		req := w.request()
		req.CaseNo, req.OpinionID, req.AppraiserIDs = "(2026)赣07民初200号", "", nil
		req.Pool = &chuting.Pool{InstitutionID: w.inst.ID, Category: "法医临床", K: 2}
		req.Windows = []WindowRequest{{Start: at(15, 8, 30), End: at(15, 17, 30)}}
		sm := w.serve(req)
		if slices.Contains(sm.Slot.AppraiserIDs, w.a[2].ID) || len(sm.Slot.AppraiserIDs) != 2 {
			t.Fatalf("pool picked %v; the appraiser short of CE hours must never be picked (#10)", sm.Slot.AppraiserIDs)
		}
	})
	t.Run("WarningsForNamed", func(t *testing.T) {
		// Without an opinion any appraiser of the institution may be named; reasons are warnings (#7).
		req := w.request()
		req.CaseNo, req.OpinionID, req.AppraiserIDs = "(2026)赣07民初300号", "", []string{w.a[2].ID}
		req.Windows = []WindowRequest{{Start: at(16, 8, 30), End: at(16, 17, 30)}}
		_, warnings, err := w.svc.Serve(w.ctx, w.clerk, req)
		if err != nil || len(warnings) != 1 || warnings[0].Code != ReasonCEHours || warnings[0].AppraiserID != w.a[2].ID {
			t.Fatalf("warnings %+v (%v), want the CE-hours reason", warnings, err)
		}
	})
}

func TestHolidays(t *testing.T) {
	w := newWorld(t)
	w.now = time.Date(2026, 12, 25, 9, 0, 0, 0, cst)
	req := w.request()
	// 1 January 2027 is a Friday holiday; the 2nd and 3rd are a weekend.
	req.Windows = []WindowRequest{{Start: time.Date(2027, 1, 1, 8, 0, 0, 0, cst).Format(time.RFC3339),
		End: time.Date(2027, 1, 4, 18, 0, 0, 0, cst).Format(time.RFC3339)}}
	sm := w.serve(req)
	if want := time.Date(2027, 1, 4, 8, 30, 0, 0, cst); !sm.Slot.Start.Equal(want) {
		t.Fatalf("slot %s, want Monday 4 January 08:30 (not the holiday, not the weekend)", sm.Slot.Start.In(cst))
	}
	t.Run("MakeUpWorkday", func(t *testing.T) {
		// The bureau's calendar for 2027 makes Saturday 2 January a working day (调休).
		h := &chuting.HolidayYear{Year: 2027, Holidays: []chuting.Date{{Year: 2027, Month: 1, Day: 1}},
			Workdays: []chuting.Date{{Year: 2027, Month: 1, Day: 2}}, Source: "test"}
		w.create(h)
		req := w.request()
		req.CaseNo = "(2026)赣07民初999号"
		req.Windows = []WindowRequest{{Start: time.Date(2027, 1, 1, 8, 0, 0, 0, cst).Format(time.RFC3339),
			End: time.Date(2027, 1, 4, 18, 0, 0, 0, cst).Format(time.RFC3339)}}
		sm := w.serve(req)
		if want := time.Date(2027, 1, 2, 8, 30, 0, 0, cst); !sm.Slot.Start.Equal(want) {
			t.Fatalf("slot %s, want the make-up working Saturday 2 January 08:30", sm.Slot.Start.In(cst))
		}
	})
}

// TestServeOnTwoNodes serves summons for the same appraisers from two server nodes sharing
// one Redis at once: the booking lease keeps every slot apart.
func TestServeOnTwoNodes(t *testing.T) {
	srv := redistest.Start(t)
	open := func() chuting.Store {
		s, err := redis.Open(context.Background(), srv.URL(0), redis.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	w := newWorldOn(t, open())
	second := New(Config{Store: open(), Now: func() time.Time { return w.now }})
	serveAtOnce(t, w, "1号", w.svc, second)
}

// TestServeConcurrently serves summons for the same appraisers at once: every one gets a
// slot of its own.
func TestServeConcurrently(t *testing.T) {
	w := newWorld(t)
	serveAtOnce(t, w, "0号", w.svc)
}

// serveAtOnce serves six summons for the same appraisers at once, taking turns over svcs
// (the nodes), and fails if any two slots overlap.
func serveAtOnce(t *testing.T, w *world, caseSuffix string, svcs ...*Service) {
	t.Helper()
	const n = 6
	slots := make([]*chuting.Slot, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := w.request()
			req.CaseNo = "(2026)赣07民初" + string(rune('1'+i)) + caseSuffix
			req.Windows = []WindowRequest{{Start: at(14, 8, 30), End: at(16, 17, 30)}}
			sm, _, err := svcs[i%len(svcs)].Serve(w.ctx, w.clerk, req)
			if err != nil {
				t.Error(err)
				return
			}
			slots[i] = sm.Slot
		})
	}
	wg.Wait()
	for i := range slots {
		for j := range i {
			if slots[i] != nil && slots[j] != nil && slots[i].Start.Before(slots[j].End) && slots[j].Start.Before(slots[i].End) {
				t.Fatalf("summons %d and %d (on %d nodes) overlap: %+v %+v", i, j, len(svcs), slots[i], slots[j])
			}
		}
	}
}

func TestWorkflowThroughService(t *testing.T) {
	w := newWorld(t)
	sm := w.serve(w.request())
	act := func(id string, st Step) *chuting.Summons {
		t.Helper()
		got, err := w.svc.Act(w.ctx, id, st, nil)
		if err != nil {
			t.Fatalf("%s: %v", st.Action, err)
		}
		return got
	}
	act(sm.ID, Step{Action: Confirm, By: w.appraiser(0)})
	sm = act(sm.ID, Step{Action: Confirm, By: w.appraiser(1)})
	if sm.State != chuting.SummonsScheduled || sm.HearingID == "" || len(sm.History) != 4 {
		t.Fatalf("after both confirmed: %s, hearing %q, %d transitions; want scheduled", sm.State, sm.HearingID, len(sm.History))
	}
	h, err := chuting.Load[chuting.Hearing](w.ctx, w.store, sm.HearingID)
	if err != nil || !h.Start.Equal(sm.Slot.Start) || h.RoomID != sm.Slot.RoomID || h.SummonsID != sm.ID {
		t.Fatalf("hearing %+v (%v) does not match the slot %+v", h, err, sm.Slot)
	}
	sm = act(sm.ID, Step{Action: Decline, By: w.appraiser(1), Reason: "突发疾病", Evidence: "住院证明"})
	if _, err := chuting.Load[chuting.Hearing](w.ctx, w.store, h.ID); err != nil {
		t.Fatalf("the hearing is gone while the court decides on the excuse: %v", err)
	}
	sm = act(sm.ID, Step{Action: AcceptExcuse, By: w.clerk, Reason: "准许"})
	if _, err := chuting.Load[chuting.Hearing](w.ctx, w.store, h.ID); chuting.ErrorCode(err) != chuting.ENOTFOUND {
		t.Fatalf("an excused summons keeps its hearing: %v", err)
	}
	sm = act(sm.ID, Step{Action: Reschedule, By: w.clerk, Reason: "延期"})
	if sm.State != chuting.SummonsProposed || sm.Slot == nil || len(sm.Responses) != 0 {
		t.Fatalf("after rescheduling: %s %+v %+v", sm.State, sm.Slot, sm.Responses)
	}
	if _, err := w.svc.Act(w.ctx, sm.ID, Step{Action: Start, By: w.clerk}, nil); chuting.ErrorCode(err) != chuting.ECONFLICT {
		t.Fatalf("starting a proposed summons: %v, want a conflict", err)
	}
}

// TestConcurrentConfirmations: two confirmations of one appraiser race; exactly one wins,
// and the summons records one response.
func TestConcurrentConfirmations(t *testing.T) {
	w := newWorld(t)
	for range 5 {
		sm := w.serve(w.request())
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() { _, errs[i] = w.svc.Act(w.ctx, sm.ID, Step{Action: Confirm, By: w.appraiser(0)}, nil) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("both or neither won: %v", errs)
		}
		lost := errs[0]
		if lost == nil {
			lost = errs[1]
		}
		if chuting.ErrorCode(lost) != chuting.ECONFLICT {
			t.Fatalf("the loser got %v, want a conflict", lost)
		}
		got, _ := chuting.Load[chuting.Summons](w.ctx, w.store, sm.ID)
		if len(got.Responses) != 1 || len(got.History) != 2 {
			t.Fatalf("responses %+v, history %d; want one of each", got.Responses, len(got.History))
		}
		// Cancel so the next round has the slot again.
		if _, err := w.svc.Act(w.ctx, sm.ID, Step{Action: Cancel, By: w.clerk, Reason: "test"}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAcknowledge(t *testing.T) {
	w := newWorld(t)
	sm := w.serve(w.request())
	for _, p := range []*chuting.Principal{w.admin, w.appraiser(0), w.admin} {
		if _, err := w.svc.Acknowledge(w.ctx, sm.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*chuting.Principal{w.stranger, w.appraiser(2), w.clerk} {
		if _, err := w.svc.Acknowledge(w.ctx, sm.ID, p); chuting.ErrorCode(err) != chuting.EFORBIDDEN {
			t.Fatalf("acknowledge by %+v: %v, want forbidden", p, err)
		}
	}
	got, _ := chuting.Load[chuting.Summons](w.ctx, w.store, sm.ID)
	if len(got.Receipts) != 2 || got.Receipts[0].Party != "institution" || got.Receipts[1].PartyID != w.a[0].ID {
		t.Fatalf("receipts %+v, want the institution's and the first appraiser's, once each", got.Receipts)
	}
}

// TestRescheduleLater: a reschedule some days after service keeps to the notice period from
// the day of the reschedule, not from the day of service.
func TestRescheduleLater(t *testing.T) {
	w := newWorld(t)
	req := w.request()
	req.Windows = []WindowRequest{{Start: at(14, 8, 30), End: at(31, 17, 30)}}
	sm := w.serve(req) // 14 December
	w.now = time.Date(2026, 12, 22, 10, 0, 0, 0, cst)
	sm, err := w.svc.Act(w.ctx, sm.ID, Step{Action: Reschedule, By: w.clerk, Reason: "合议庭调整"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 12, 25, 8, 30, 0, 0, cst); !sm.Slot.Start.Equal(want) {
		t.Fatalf("rescheduled on the 22nd to %s, want %s (3 days' notice)", sm.Slot.Start.In(cst), want)
	}
	w.now = time.Date(2026, 12, 30, 10, 0, 0, 0, cst)
	_, err = w.svc.Act(w.ctx, sm.ID, Step{Action: Reschedule, By: w.clerk, Reason: "再改"}, nil)
	if chuting.ErrorCode(err) != chuting.EINVALID || chuting.ErrorField(err) != "windows" {
		t.Fatalf("rescheduling with no window left after the notice period: %v", err)
	}
	far := []chuting.Interval{{Start: time.Date(9999, 12, 31, 10, 0, 0, 0, time.UTC), End: time.Date(9999, 12, 31, 12, 0, 0, 0, time.UTC)}}
	_, err = w.svc.Act(w.ctx, sm.ID, Step{Action: Reschedule, By: w.clerk, Reason: "笔误"}, far)
	if chuting.ErrorCode(err) != chuting.EINVALID || chuting.ErrorField(err) != "windows[0].start" {
		t.Fatalf("rescheduling to year 9999: %v (field %q), want invalid naming windows[0].start", err, chuting.ErrorField(err))
	}
}

// TestPoolOnOpinion: a pool on an opinion picks only its signatories, never its reviewer
// (#6), and nobody whose licence lapses during the windows (#9).
func TestPoolOnOpinion(t *testing.T) {
	w := newWorld(t)
	w.a[2].CEHours[2025] = 40 // the reviewer is otherwise eligible
	if err := chuting.Save(w.ctx, w.store, w.a[2]); err != nil {
		t.Fatal(err)
	}
	busy := chuting.Interval{Start: time.Date(2026, 12, 14, 0, 0, 0, 0, cst), End: time.Date(2026, 12, 17, 0, 0, 0, 0, cst)}
	for _, a := range w.a[:2] { // both signatories are away
		a.Busy = []chuting.Interval{busy}
		if err := chuting.Save(w.ctx, w.store, a); err != nil {
			t.Fatal(err)
		}
	}
	req := w.request()
	req.AppraiserIDs, req.Pool = nil, &chuting.Pool{Category: "法医临床", K: 1}
	req.Windows = []WindowRequest{{Start: at(14, 8, 30), End: at(16, 17, 30)}}
	if _, _, err := w.svc.Serve(w.ctx, w.clerk, req); chuting.ErrorField(err) != "windows" {
		t.Fatalf("with the signatories away, serving picked someone: %v", err)
	}
	t.Run("LicenceLapses", func(t *testing.T) {
		w := newWorld(t)
		w.a[1].LicenceExpires = chuting.Date{Year: 2026, Month: 12, Day: 15}
		if err := chuting.Save(w.ctx, w.store, w.a[1]); err != nil {
			t.Fatal(err)
		}
		req := w.request()
		req.OpinionID, req.AppraiserIDs, req.Pool = "", nil, &chuting.Pool{InstitutionID: w.inst.ID, Category: "法医临床", K: 1}
		req.Windows = []WindowRequest{{Start: at(14, 8, 30), End: at(16, 17, 30)}}
		w.a[0].Busy = []chuting.Interval{busy}
		if err := chuting.Save(w.ctx, w.store, w.a[0]); err != nil {
			t.Fatal(err)
		}
		if sm, _, err := w.svc.Serve(w.ctx, w.clerk, req); err == nil {
			t.Fatalf("picked %v, though a[0] is away and a[1]'s licence lapses during the windows", sm.Slot.AppraiserIDs)
		}
	})
}

// TestFits: a planned move is checked against what is booked now.
func TestFits(t *testing.T) {
	w := newWorld(t)
	first := w.serve(w.request()) // 14 December 08:30–10:00, both appraisers, first room
	req := w.request()
	req.CaseNo = "(2026)赣07民初777号"
	req.Windows = []WindowRequest{{Start: at(14, 8, 30), End: at(15, 17, 30)}}
	second := w.serve(req)
	m := w.svc.planner
	taken := *first.Slot
	if ok, err := m.fits(w.ctx, second, &taken, nil); err != nil || ok {
		t.Fatalf("the first summons's slot fits the second: %v %v", ok, err)
	}
	free := chuting.Slot{Start: time.Date(2026, 12, 15, 14, 0, 0, 0, cst), End: time.Date(2026, 12, 15, 15, 30, 0, 0, cst),
		RoomID: w.rooms[0].ID, AppraiserIDs: second.Slot.AppraiserIDs}
	if ok, err := m.fits(w.ctx, second, &free, nil); err != nil || !ok {
		t.Fatalf("a free slot does not fit: %v %v", ok, err)
	}
}
