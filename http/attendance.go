package http

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/attendance"
)

// Attendance (issue 5 §8–10; DOMAIN.md #34–#43): a hearing's attendance as derived from its
// log, the court's additions to that log (an appearance in person, a correction), an
// appraiser's record, appearance rates, the fee-refund tasks of absences without cause and
// the monthly reports. Statuses are never written through the API: only facts, appended.

// hearingAttendance answers each summoned appraiser's attendance at the hearing, with the
// log it was derived from: all of it for the court and the bureau, the appraisers' own
// events for the appraisers and their institution.
func (s *Server) hearingAttendance(w http.ResponseWriter, r *http.Request) error {
	h, err := load[chuting.Hearing](s, r)
	if err != nil {
		return err
	}
	out, err := s.att.OfHearing(r.Context(), h)
	if err != nil {
		return err
	}
	if p := chuting.UserFromContext(r.Context()); p.Role != chuting.RoleBureauAdmin && !hearingCourt(p, h) {
		out.Redact()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// inPersonInput is the body of POST /api/v1/hearings/{id}/attendance/in-person.
type inPersonInput struct {
	AppraiserID string `json:"appraiser_id"`
	ArrivedAt   string `json:"arrived_at"` // RFC 3339; empty: now
	Note        string `json:"note"`
}

// markInPerson records, for the clerk or judge, that an appraiser appeared in court.
func (s *Server) markInPerson(w http.ResponseWriter, r *http.Request) error {
	var in inPersonInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	h, p, err := loadCourtHearing(s, r)
	if err != nil {
		return err
	}
	if err := firstError(required("appraiser_id", in.AppraiserID), maxLen("note", in.Note, 500)); err != nil {
		return err
	}
	var arrived time.Time
	if in.ArrivedAt != "" {
		if arrived, err = time.Parse(time.RFC3339, in.ArrivedAt); err != nil {
			return chuting.FieldError("arrived_at", "arrived_at 须为 RFC 3339 时间 / arrived_at must be an RFC 3339 time")
		}
	}
	out, err := s.att.InPerson(r.Context(), p, h, in.AppraiserID, arrived, strings.TrimSpace(in.Note))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// correctionInput is the body of POST /api/v1/hearings/{id}/attendance/corrections.
type correctionInput struct {
	AppraiserID string `json:"appraiser_id"`
	Status      string `json:"status"`
	Reason      string `json:"reason"`
}

// correctAttendance records, for the clerk or judge, a correction of an appraiser's status.
func (s *Server) correctAttendance(w http.ResponseWriter, r *http.Request) error {
	var in correctionInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	h, p, err := loadCourtHearing(s, r)
	if err != nil {
		return err
	}
	if err := firstError(required("appraiser_id", in.AppraiserID), required("status", in.Status),
		maxLen("reason", in.Reason, 500)); err != nil {
		return err
	}
	out, err := s.att.Correct(r.Context(), p, h, in.AppraiserID, attendance.Code(in.Status), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// appraiserAttendance answers an appraiser's attendance record: the bureau, the appraiser's
// institution and the appraiser see all of it; a court sees the summons it served (#39).
func (s *Server) appraiserAttendance(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	setTarget(r, "appraiser:"+id)
	a, err := chuting.Load[chuting.Appraiser](r.Context(), s.store, id)
	if err != nil {
		return err
	}
	p := chuting.UserFromContext(r.Context())
	var keep func(*chuting.Summons) bool
	switch {
	case p.Role == chuting.RoleBureauAdmin:
	case p.Role == chuting.RoleInstitutionAdmin && sameInstitution(p, a.InstitutionID):
	case p.Role == chuting.RoleAppraiser && p.AppraiserID == a.ID:
	case courtUser(p) && p.CourtID != "":
		keep = func(sm *chuting.Summons) bool { return sm.CourtID == p.CourtID }
	default:
		return forbidden()
	}
	out, err := s.att.Record(r.Context(), a, keep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// maxRateDays bounds the period of a rates query, so that one request cannot scan years.
const maxRateDays = 366 * 5

// rates answers appearance rates (#42) grouped by appraiser, institution, category, court or
// month, over the days from and to (inclusive; default: this month so far), over what the
// caller may see: the bureau everything, an institution its own, a court its own summons,
// an appraiser themself.
func (s *Server) rates(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	by := attendance.Dimension(v.Get("by"))
	if by == "" {
		by = attendance.ByInstitution
	}
	if !slices.Contains(attendance.Dimensions(), by) {
		return chuting.FieldError("by", "by 须为 appraiser、institution、category、court 或 month / by must be appraiser, institution, category, court or month")
	}
	today := chuting.DateOf(s.now().In(chuting.ChinaZone()))
	from, err := parseDate("from", v.Get("from"))
	if err != nil {
		return err
	}
	to, err := parseDate("to", v.Get("to"))
	if err != nil {
		return err
	}
	if from.IsZero() {
		from = chuting.Date{Year: today.Year, Month: today.Month, Day: 1}
	}
	if to.IsZero() {
		to = today
	}
	start := time.Date(from.Year, from.Month, from.Day, 0, 0, 0, 0, time.UTC)
	end := time.Date(to.Year, to.Month, to.Day, 0, 0, 0, 0, time.UTC)
	switch {
	case end.Before(start) && v.Get("to") == "": // to is today's default: from is at fault
		return chuting.FieldError("from", "from 不能晚于今天 / from cannot be after today")
	case end.Before(start):
		return chuting.FieldError("to", "to 不能早于 from / to cannot be before from")
	case end.Sub(start) > maxRateDays*24*time.Hour:
		return chuting.FieldError("to", "期间最长 %d 天 / the period is at most %d days", maxRateDays, maxRateDays)
	}
	p := chuting.UserFromContext(r.Context())
	var keep func(*chuting.Summons, string) bool
	switch {
	case p.Role == chuting.RoleBureauAdmin:
	case courtUser(p):
		keep = func(sm *chuting.Summons, _ string) bool { return p.CourtID != "" && sm.CourtID == p.CourtID }
	case p.Role == chuting.RoleAppraiser:
		keep = func(_ *chuting.Summons, a string) bool { return p.AppraiserID != "" && a == p.AppraiserID }
	default:
		keep = func(sm *chuting.Summons, _ string) bool { return sameInstitution(p, sm.InstitutionID) }
	}
	out, err := s.att.Rates(r.Context(), by, from, to, keep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listRefunds lists fee-refund tasks: a court its own, an institution those about it, the
// bureau all.
func (s *Server) listRefunds(w http.ResponseWriter, r *http.Request) error {
	if st := r.URL.Query().Get("state"); st != "" && st != string(chuting.RefundOpen) && st != string(chuting.RefundDone) {
		return chuting.FieldError("state", "state 须为 open 或 done / state must be open or done")
	}
	return list[chuting.FeeRefund](s, w, r, map[string]string{"state": chuting.IndexState, "court": chuting.IndexCourt,
		"institution": chuting.IndexInstitution, "summons": chuting.IndexSummons, "appraiser": chuting.IndexAppraiser},
		asIs[*chuting.FeeRefund])
}

// closeInput is the body of POST /api/v1/fee-refunds/{id}/close.
type closeInput struct {
	Note string `json:"note"`
}

// closeRefund closes a fee-refund task with the court's note (its ruling on the refund).
func (s *Server) closeRefund(w http.ResponseWriter, r *http.Request) error {
	var in closeInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	f, err := load[chuting.FeeRefund](s, r)
	if err != nil {
		return err
	}
	p := chuting.UserFromContext(r.Context())
	if !canWrite(p, f) {
		return forbidden()
	}
	out, err := s.att.CloseRefund(r.Context(), p, f.ID, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// firstReportYear is the first year monthly reports are made for: 2016, when the revised
// 司法鉴定程序通则 gave appraisers' appearance in court its own chapter (DOMAIN.md); a month
// before it is a typing error (0000-01 failed to encode), not a report anyone needs.
const firstReportYear = 2016

// generateInput is the body of POST /api/v1/reports: the month to report, YYYY-MM.
type generateInput struct {
	Period string `json:"period"`
}

// generateReports makes, now, the monthly reports of a month that has ended (Asia/Shanghai):
// the cron job makes last month's at 02:30 on the 1st, and this catches a month it missed (no
// node was up then) or an earlier one. A report made already is kept as it was; the answer
// says how many were added. The bureau's.
func (s *Server) generateReports(w http.ResponseWriter, r *http.Request) error {
	var in generateInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	month, err := time.ParseInLocation("2006-01", in.Period, chuting.ChinaZone())
	if err != nil {
		return chuting.FieldError("period", "period 须为 YYYY-MM 格式的月份 / period must be a month, YYYY-MM")
	}
	if month.Year() < firstReportYear {
		return chuting.FieldError("period", "%s 早于 %d 年，不生成月报 / no reports are made for months before %d",
			in.Period, firstReportYear, firstReportYear)
	}
	if month.AddDate(0, 1, 0).After(s.now()) {
		return chuting.FieldError("period", "%s 尚未结束，月报在月末后生成 / %s has not ended: a month is reported after its end",
			in.Period, in.Period)
	}
	setTarget(r, "reports:"+in.Period)
	n, err := s.att.MonthlyReports(r.Context(), month)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"period": in.Period, "added": n})
	return nil
}

// reportView is a report as listed: what it covers and its totals, not its files.
type reportView struct {
	ID            string              `json:"id"`
	Scope         chuting.ReportScope `json:"scope"`
	InstitutionID string              `json:"institution_id,omitempty"`
	Period        string              `json:"period"`
	From          time.Time           `json:"from"`
	To            time.Time           `json:"to"`
	Served        int                 `json:"served"`
	Appeared      int                 `json:"appeared"`
	CSVBytes      int                 `json:"csv_bytes"`
	XLSXBytes     int                 `json:"xlsx_bytes"`
	Created       time.Time           `json:"created"`
}

func viewReport(r *chuting.Report) reportView {
	return reportView{ID: r.ID, Scope: r.Scope, InstitutionID: r.InstitutionID, Period: r.Period, From: r.From, To: r.To,
		Served: r.Served, Appeared: r.Appeared, CSVBytes: len(r.CSV), XLSXBytes: len(r.XLSX), Created: r.Created}
}

// listReports lists the monthly reports: the bureau all, an institution its own.
func (s *Server) listReports(w http.ResponseWriter, r *http.Request) error {
	return list[chuting.Report](s, w, r, map[string]string{"period": chuting.IndexPeriod,
		"institution": chuting.IndexInstitution}, viewReport)
}

// Content types of the report files.
const (
	contentCSV  = "text/csv; charset=utf-8"
	contentXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// downloadReport answers a report's file, CSV or XLSX (format; default xlsx). Every
// download is audited (the route's audit flag).
func (s *Server) downloadReport(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "xlsx"
	}
	if format != "csv" && format != "xlsx" {
		return chuting.FieldError("format", "format 须为 csv 或 xlsx / format must be csv or xlsx")
	}
	rep, err := load[chuting.Report](s, r)
	if err != nil {
		return err
	}
	setTarget(r, "report:"+rep.ID+"."+format)
	name := "chuting-report-" + rep.Period
	if rep.Scope == chuting.ReportInstitution {
		name += "-" + rep.InstitutionID
	} else {
		name += "-bureau"
	}
	body, ctype := rep.XLSX, contentXLSX
	if format == "csv" {
		body, ctype = rep.CSV, contentCSV
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
	return nil
}
