package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/attendance"
	"github.com/xuri/excelize/v2"
)

// refund stores an open fee-refund task of the side's court and institution.
func (fx *fixture) refund(s *side) *chuting.FeeRefund {
	fx.t.Helper()
	now := time.Now().UTC()
	f := &chuting.FeeRefund{SummonsID: s.summons.ID, CourtID: s.court.ID, InstitutionID: s.institution.ID,
		OpinionID: s.opinion.ID, CaseNo: s.summons.CaseNo, AppraiserIDs: []string{s.appraiser.ID}, Opened: now,
		Due: now.AddDate(0, 0, chuting.RefundDays), State: chuting.RefundOpen, Notified: now}
	fx.create(f)
	return f
}

// report returns October 2026's report of a scope (and the side's institution), storing it
// with real files the first time.
func (fx *fixture) report(scope chuting.ReportScope, s *side) *chuting.Report {
	fx.t.Helper()
	inst := ""
	if s != nil {
		inst = s.institution.ID
	}
	id := chuting.ReportID(scope, inst, "2026-10")
	if r, err := chuting.Load[chuting.Report](context.Background(), fx.store, id); err == nil {
		return r
	}
	grid := attendance.Grid(attendance.Table{By: attendance.ByAppraiser, Rows: []attendance.Tally{{Key: "k", Name: "鉴定人", Served: 1, Appeared: 1}}})
	r := &chuting.Report{Meta: chuting.Meta{ID: id}, Scope: scope, InstitutionID: inst, Period: "2026-10",
		From: time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC), Served: 1, Appeared: 1}
	var err error
	r.CSV, err = attendance.CSV(grid)
	fx.must(err)
	r.XLSX, err = attendance.XLSX(grid, nil)
	fx.must(err)
	fx.create(r)
	return r
}

// heldHearing stores a scheduled summons of the side's appraiser whose hearing started an
// hour ago, and the hearing.
func (fx *fixture) heldHearing(s *side) (*chuting.Summons, *chuting.Hearing) {
	fx.t.Helper()
	start := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	sm := &chuting.Summons{CourtID: s.court.ID, InstitutionID: s.institution.ID, OpinionID: s.opinion.ID,
		AppraiserIDs: []string{s.appraiser.ID}, CaseNo: fx.unique("(2026)赣民初") + "号", CaseType: chuting.CaseTypeCivil,
		Mode: chuting.ModeRemote, DurationMinutes: 60, State: chuting.SummonsInProgress, HearingID: chuting.NewID(),
		Slot: &chuting.Slot{Start: start, End: start.Add(2 * time.Hour), RoomID: s.room.ID, AppraiserIDs: []string{s.appraiser.ID}}}
	fx.create(sm)
	h := &chuting.Hearing{Meta: chuting.Meta{ID: sm.HearingID}, SummonsID: sm.ID, CourtID: s.court.ID, InstitutionID: s.institution.ID,
		RoomID: s.room.ID, AppraiserIDs: sm.AppraiserIDs, Mode: chuting.ModeRemote, Start: start, End: start.Add(2 * time.Hour)}
	fx.create(h)
	return sm, h
}

func decodeJSON[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

// TestAttendanceAPI goes through a hearing's attendance as the court records it: the derived
// status, a correction to an absence without cause with its follow-ups visible to those
// concerned, the refund closed by the court, and the appraiser's record.
func TestAttendanceAPI(t *testing.T) {
	fx := newFixture(t)
	own := fx.own()
	sm, h := fx.heldHearing(own)
	clerk, judge := fx.tokenCaller(chuting.RoleClerk), fx.tokenCaller(chuting.RoleJudge)
	base := "/api/v1/hearings/" + h.ID + "/attendance"

	res, data := fx.do(clerk, "GET", base, nil)
	got := decodeJSON[attendance.Hearing](t, data)
	if res.StatusCode != ok || len(got.Results) != 1 || got.Results[0].Status != attendance.Pending || got.Rules.GraceSeconds != 900 {
		t.Fatalf("attendance before anything: %d %s", res.StatusCode, data)
	}

	t.Run("InPerson", func(t *testing.T) {
		arrived := h.Start.Add(-5 * time.Minute).Format(time.RFC3339)
		res, data := fx.do(clerk, "POST", base+"/in-person", map[string]string{"appraiser_id": own.appraiser.ID,
			"arrived_at": arrived, "note": "到庭，核对身份"})
		got := decodeJSON[attendance.Hearing](t, data)
		if res.StatusCode != ok || got.Results[0].Status != attendance.AppearedInPerson || len(got.Events) != 1 ||
			got.Events[0].ActorID != own.users[chuting.RoleClerk].ID {
			t.Fatalf("in person: %d %s", res.StatusCode, data)
		}
	})

	t.Run("CorrectionOpensTheFollowUps", func(t *testing.T) {
		res, data := fx.do(judge, "POST", base+"/corrections", map[string]string{"appraiser_id": own.appraiser.ID,
			"status": "absent_without_cause", "reason": "到庭后拒绝作证"})
		got := decodeJSON[attendance.Hearing](t, data)
		r := got.Results[0]
		if res.StatusCode != ok || r.Status != attendance.AbsentWithoutCause || r.Derived != attendance.AppearedInPerson ||
			len(r.Corrections) != 1 || r.Corrections[0].By != own.users[chuting.RoleJudge].ID {
			t.Fatalf("correction: %d %s", res.StatusCode, data)
		}
		admin := fx.tokenCaller(chuting.RoleInstitutionAdmin)
		_, data = fx.do(admin, "GET", "/api/v1/opinions/"+own.opinion.ID, nil)
		if op := decodeJSON[chuting.Opinion](t, data); !op.Barred() || op.NotForFacts[0].SummonsID != sm.ID {
			t.Fatalf("the opinion is not barred: %s", data)
		}
		// Rewriting the opinion keeps the bar: no API write sets or clears it.
		body := fx.opinionBody(own)
		body["version"], body["document_no"] = fx.version(own.opinion), own.opinion.DocumentNo
		res, data = fx.do(admin, "PUT", "/api/v1/opinions/"+own.opinion.ID, body)
		if v := decodeJSON[struct{ Opinion chuting.Opinion }](t, data); res.StatusCode != ok || !v.Opinion.Barred() {
			t.Fatalf("the opinion after a PUT: %d %s", res.StatusCode, data)
		}
		for _, role := range []chuting.Role{chuting.RoleClerk, chuting.RoleInstitutionAdmin, chuting.RoleBureauAdmin} {
			_, data := fx.do(fx.tokenCaller(role), "GET", "/api/v1/fee-refunds?state=open", nil)
			if !strings.Contains(string(data), chuting.RefundID(sm.ID)) {
				t.Errorf("%s does not see the fee refund: %s", role, data)
			}
		}
		_, data = fx.do(fx.tokenCaller(chuting.RoleAppraiser), "GET", "/api/v1/appraisers/"+own.appraiser.ID+"/attendance", nil)
		rec := decodeJSON[attendance.AppraiserRecord](t, data)
		if len(rec.Entries) == 0 || rec.Summary.AbsentWithoutCause != 1 {
			t.Fatalf("the appraiser's record: %s", data)
		}
		for _, e := range rec.Entries {
			if e.SummonsID == sm.ID && (!e.OpinionBarred || e.FeeRefund == nil || e.Attendance.Status != attendance.AbsentWithoutCause) {
				t.Errorf("record entry %+v", e)
			}
		}
	})

	t.Run("WitnessesSeeTheirOwnEvents", func(t *testing.T) {
		// Counsel's comings and goings are the court's record, not the witness's (#17).
		e := chuting.AttendanceEvent{Time: time.Now().UTC(), HearingID: h.ID, Type: chuting.AttendanceJoined,
			SubjectID: "link:counsel", Reason: "role=counsel state=admitted"}
		raw, _ := json.Marshal(e)
		if _, err := fx.store.Append(context.Background(), chuting.HearingStream(h.ID), chuting.Event{Time: e.Time, Type: e.Type, Data: raw}); err != nil {
			t.Fatal(err)
		}
		for role, wantCounsel := range map[chuting.Role]bool{chuting.RoleClerk: true, chuting.RoleBureauAdmin: true,
			chuting.RoleAppraiser: false, chuting.RoleInstitutionAdmin: false} {
			_, data := fx.do(fx.tokenCaller(role), "GET", base, nil)
			got := decodeJSON[attendance.Hearing](t, data)
			if strings.Contains(string(data), "link:counsel") != wantCounsel || len(got.Events) == 0 {
				t.Errorf("%s sees counsel's events: %v, want %v (%d events)", role, !wantCounsel, wantCounsel, len(got.Events))
			}
		}
	})

	t.Run("OtherCourtSeesNeither", func(t *testing.T) {
		// The clerk of the other side's court.
		other := fx.other()
		u := other.users[chuting.RoleClerk]
		c := caller{role: chuting.RoleClerk, token: other.tokens[chuting.RoleClerk], comment: "other clerk"}
		_, data := fx.do(c, "GET", "/api/v1/fee-refunds", nil)
		if strings.Contains(string(data), chuting.RefundID(sm.ID)) {
			t.Errorf("%s sees another court's fee refund", u.Username)
		}
		_, data = fx.do(c, "GET", "/api/v1/appraisers/"+own.appraiser.ID+"/attendance", nil)
		if strings.Contains(string(data), sm.ID) {
			t.Errorf("another court sees a summons it did not serve on the record: %s", data)
		}
	})

	t.Run("CloseRefund", func(t *testing.T) {
		path := "/api/v1/fee-refunds/" + chuting.RefundID(sm.ID) + "/close"
		res, data := fx.do(clerk, "POST", path, map[string]string{"note": "已裁定退还鉴定费"})
		if f := decodeJSON[chuting.FeeRefund](t, data); res.StatusCode != ok || f.State != chuting.RefundDone {
			t.Fatalf("close: %d %s", res.StatusCode, data)
		}
		if res, _ := fx.do(clerk, "POST", path, map[string]string{"note": "again"}); res.StatusCode != http.StatusConflict {
			t.Fatalf("closing twice: %d", res.StatusCode)
		}
	})

	t.Run("Rates", func(t *testing.T) {
		day := chuting.DateOf(h.Start.In(chuting.ChinaZone())).String()
		for _, tc := range []struct {
			role   chuting.Role
			served int
		}{{chuting.RoleBureauAdmin, 1}, {chuting.RoleClerk, 1}, {chuting.RoleInstitutionAdmin, 1}, {chuting.RoleAppraiser, 1}} {
			res, data := fx.do(fx.tokenCaller(tc.role), "GET", "/api/v1/attendance/rates?by=appraiser&from="+day+"&to="+day, nil)
			tb := decodeJSON[attendance.Table](t, data)
			if res.StatusCode != ok || tb.Total.Served != tc.served || tb.Total.AbsentWithoutCause != 1 {
				t.Errorf("%s rates: %d %s", tc.role, res.StatusCode, data)
			}
		}
		other := fx.other()
		c := caller{role: chuting.RoleInstitutionAdmin, token: other.tokens[chuting.RoleInstitutionAdmin], comment: "other admin"}
		_, data := fx.do(c, "GET", "/api/v1/attendance/rates?by=appraiser&from="+day+"&to="+day, nil)
		if tb := decodeJSON[attendance.Table](t, data); tb.Total.Served != 0 {
			t.Errorf("another institution counts this one's units: %s", data)
		}
	})
}

// TestAttendanceRefuses sends bad input to each attendance route: a stable error naming the
// field, and nothing changed.
func TestAttendanceRefuses(t *testing.T) {
	fx := newFixture(t)
	own := fx.own()
	_, h := fx.heldHearing(own)
	_, otherHearing := fx.heldHearing(fx.other())
	ref := fx.refund(own)
	rep := fx.report(chuting.ReportInstitution, own)
	clerk := fx.tokenCaller(chuting.RoleClerk)
	base := "/api/v1/hearings/" + h.ID + "/attendance"
	tests := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"RatesBy", "GET", "/api/v1/attendance/rates?by=week", nil, bad, "by"},
		{"RatesFrom", "GET", "/api/v1/attendance/rates?from=2026-13-01", nil, bad, "from"},
		{"RatesTo", "GET", "/api/v1/attendance/rates?from=2026-11-02&to=2026-11-01", nil, bad, "to"},
		{"RatesTooLong", "GET", "/api/v1/attendance/rates?from=2000-01-01&to=2026-11-01", nil, bad, "to"},
		{"RatesFromFuture", "GET", "/api/v1/attendance/rates?from=2099-01-01", nil, bad, "from"},
		{"CorrectionStatus", "POST", base + "/corrections", map[string]string{"appraiser_id": own.appraiser.ID, "status": "asleep", "reason": "x"}, bad, "status"},
		{"CorrectionPending", "POST", base + "/corrections", map[string]string{"appraiser_id": own.appraiser.ID, "status": "pending", "reason": "x"}, bad, "status"},
		{"CorrectionNoStatus", "POST", base + "/corrections", map[string]string{"appraiser_id": own.appraiser.ID, "reason": "x"}, bad, "status"},
		{"CorrectionReason", "POST", base + "/corrections", map[string]string{"appraiser_id": own.appraiser.ID, "status": "excused"}, bad, "reason"},
		{"CorrectionLongReason", "POST", base + "/corrections", map[string]string{"appraiser_id": own.appraiser.ID, "status": "excused",
			"reason": strings.Repeat("理", 501)}, bad, "reason"},
		{"CorrectionAppraiser", "POST", base + "/corrections", map[string]string{"appraiser_id": fx.other().appraiser.ID, "status": "excused", "reason": "x"}, bad, "appraiser_id"},
		{"CorrectionUnknownField", "POST", base + "/corrections", map[string]string{"appraiser_id": own.appraiser.ID, "status": "excused", "reason": "x", "derived": "late"}, bad, "derived"},
		{"CorrectionOtherCourt", "POST", "/api/v1/hearings/" + otherHearing.ID + "/attendance/corrections",
			map[string]string{"appraiser_id": fx.other().appraiser.ID, "status": "excused", "reason": "x"}, fb, ""},
		{"InPersonAppraiser", "POST", base + "/in-person", map[string]string{}, bad, "appraiser_id"},
		{"InPersonTime", "POST", base + "/in-person", map[string]string{"appraiser_id": own.appraiser.ID, "arrived_at": "09:00"}, bad, "arrived_at"},
		{"InPersonFuture", "POST", base + "/in-person", map[string]string{"appraiser_id": own.appraiser.ID,
			"arrived_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, bad, "arrived_at"},
		{"InPersonNotYetDue", "POST", "/api/v1/hearings/" + own.hearing.ID + "/attendance/in-person",
			map[string]string{"appraiser_id": own.appraiser.ID}, http.StatusConflict, ""},
		{"RefundState", "GET", "/api/v1/fee-refunds?state=closed", nil, bad, "state"},
		{"RefundNote", "POST", "/api/v1/fee-refunds/" + ref.ID + "/close", map[string]string{"note": " "}, bad, "note"},
		{"RefundID", "POST", "/api/v1/fee-refunds/nope/close", map[string]string{"note": "x"}, bad, "id"},
		{"ReportFormat", "GET", "/api/v1/reports/" + rep.ID + "/download?format=pdf", nil, bad, "format"},
		{"ReportID", "GET", "/api/v1/reports/" + chuting.NewID() + "/download", nil, http.StatusNotFound, ""},
		{"GeneratePeriod", "POST", "/api/v1/reports", map[string]string{"period": "2026-13"}, bad, "period"},
		{"GeneratePeriodDay", "POST", "/api/v1/reports", map[string]string{"period": "2026-10-01"}, bad, "period"},
		{"GenerateNotEnded", "POST", "/api/v1/reports", map[string]string{"period": time.Now().In(chuting.ChinaZone()).Format("2006-01")}, bad, "period"},
		{"GenerateUnknownField", "POST", "/api/v1/reports", map[string]string{"period": "2026-10", "scope": "bureau"}, bad, "scope"},
		{"GenerateYearZero", "POST", "/api/v1/reports", map[string]string{"period": "0000-01"}, bad, "period"},
		{"GenerateLongAgo", "POST", "/api/v1/reports", map[string]string{"period": "1900-01"}, bad, "period"},
	}
	before := fx.snapshot()
	events := func() int {
		evs, err := fx.store.Events(context.Background(), chuting.HearingStream(h.ID), 0, chuting.MaxLimit)
		fx.must(err)
		return len(evs)
	}
	n := events()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := clerk
			if strings.HasPrefix(tc.path, "/api/v1/reports") {
				c = fx.tokenCaller(chuting.RoleBureauAdmin)
			}
			res, data := fx.do(c, tc.method, tc.path, tc.body)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, data)
			}
			if e := errorOf(t, data); e.Field != tc.field {
				t.Fatalf("field %q, want %q: %s", e.Field, tc.field, data)
			}
		})
	}
	after := fx.snapshot()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed", k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s was created", k)
		}
	}
	if events() != n {
		t.Errorf("refused requests appended to the hearing's log")
	}
}

// TestReportDownload downloads a report's files: CSV with a BOM, an XLSX that excelize
// opens, each with its content type and a file name.
func TestReportDownload(t *testing.T) {
	fx := newFixture(t)
	rep := fx.report(chuting.ReportInstitution, fx.own())
	admin := fx.tokenCaller(chuting.RoleInstitutionAdmin)
	res, data := fx.do(admin, "GET", "/api/v1/reports/"+rep.ID+"/download?format=csv", nil)
	if res.StatusCode != ok || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!bytes.HasPrefix(data, []byte("\xef\xbb\xbf分组 / group")) || !strings.Contains(res.Header.Get("Content-Disposition"), ".csv") {
		t.Fatalf("CSV: %d %s %q", res.StatusCode, res.Header, data[:min(len(data), 40)])
	}
	res, data = fx.do(admin, "GET", "/api/v1/reports/"+rep.ID+"/download", nil)
	if res.StatusCode != ok || !strings.Contains(res.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("XLSX: %d %s", res.StatusCode, res.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("excelize cannot open the download: %v", err)
	}
	defer f.Close()
	if v, _ := f.GetCellValue(attendance.SheetName, "C2"); v != "鉴定人" {
		t.Fatalf("C2 = %q", v)
	}
	res, data = fx.do(admin, "GET", "/api/v1/reports", nil)
	if res.StatusCode != ok || !strings.Contains(string(data), rep.ID) || strings.Contains(string(data), `"csv"`) {
		t.Fatalf("listing: %s", data)
	}
	// The other institution's admin lists nothing of it, and is refused the download.
	other := fx.other()
	c := caller{role: chuting.RoleInstitutionAdmin, token: other.tokens[chuting.RoleInstitutionAdmin], comment: "other admin"}
	if _, data := fx.do(c, "GET", "/api/v1/reports", nil); strings.Contains(string(data), rep.ID) {
		t.Fatalf("another institution lists the report: %s", data)
	}
	if res, _ := fx.do(c, "GET", "/api/v1/reports/"+rep.ID+"/download", nil); res.StatusCode != fb {
		t.Fatalf("another institution downloads the report: %d", res.StatusCode)
	}
}

// TestGenerateReports: the bureau makes the reports of an ended month on demand (a month the
// cron job missed): one per institution and the bureau's, listed after; asked again, it adds
// none and keeps those made.
func TestGenerateReports(t *testing.T) {
	fx := newFixture(t)
	bureau := fx.tokenCaller(chuting.RoleBureauAdmin)
	period := attendance.Month(time.Now()).AddDate(0, -1, 0).Format("2006-01")
	insts, err := chuting.FindAll[chuting.Institution](context.Background(), fx.store, chuting.Query{})
	fx.must(err)
	var out struct {
		Period string `json:"period"`
		Added  int    `json:"added"`
	}
	res, data := fx.do(bureau, "POST", "/api/v1/reports", map[string]string{"period": period})
	if res.StatusCode != ok {
		t.Fatalf("generate: %d %s", res.StatusCode, data)
	}
	fx.must(json.Unmarshal(data, &out))
	if out.Period != period || out.Added != len(insts)+1 {
		t.Fatalf("generate: %s, want %d added (%d institutions and the bureau)", data, len(insts)+1, len(insts))
	}
	res, data = fx.do(bureau, "GET", "/api/v1/reports?period="+period, nil)
	var list struct {
		Items []struct {
			Scope  string `json:"scope"`
			Period string `json:"period"`
		} `json:"items"`
	}
	fx.must(json.Unmarshal(data, &list))
	if res.StatusCode != ok || len(list.Items) != len(insts)+1 {
		t.Fatalf("listing %s: %d %s", period, res.StatusCode, data)
	}
	res, data = fx.do(bureau, "POST", "/api/v1/reports", map[string]string{"period": period})
	fx.must(json.Unmarshal(data, &out))
	if res.StatusCode != ok || out.Added != 0 {
		t.Fatalf("generate again: %d %s, want 0 added", res.StatusCode, data)
	}
}
