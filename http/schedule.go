package http

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/scheduler"
)

// The holiday calendar (which weekdays are off and which weekend days are worked, 调休) and
// on-demand optimisation of open proposals.

// holidaysInput is the body of PUT /api/v1/holidays/{year}.
type holidaysInput struct {
	Holidays []string `json:"holidays"`
	Workdays []string `json:"workdays"`
	Source   string   `json:"source"`
}

func pathYear(r *http.Request) (int, error) {
	y, err := strconv.Atoi(r.PathValue("year"))
	if err != nil || y < 2000 || y > 2100 {
		return 0, chuting.FieldError("year", "年份应为 2000–2100 / year must be 2000–2100")
	}
	return y, nil
}

// getHolidays answers the calendar the scheduler uses for a year: the bureau's, else the
// built-in one.
func (s *Server) getHolidays(w http.ResponseWriter, r *http.Request) error {
	year, err := pathYear(r)
	if err != nil {
		return err
	}
	h, err := scheduler.Holidays(r.Context(), s.store, year)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// putHolidays sets a year's calendar (the bureau, when the State Council publishes it).
func (s *Server) putHolidays(w http.ResponseWriter, r *http.Request) error {
	year, err := pathYear(r)
	if err != nil {
		return err
	}
	var in holidaysInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	setTarget(r, "holidays:"+strconv.Itoa(year))
	h := &chuting.HolidayYear{Year: year, Source: in.Source, Holidays: []chuting.Date{}, Workdays: []chuting.Date{}}
	if err := required("source", in.Source); err != nil {
		return err
	}
	for _, list := range []struct {
		field string
		in    []string
		out   *[]chuting.Date
		want  func(time.Weekday) bool
		rule  string
	}{
		{"holidays", in.Holidays, &h.Holidays, func(d time.Weekday) bool { return d != time.Saturday && d != time.Sunday }, "a weekday"},
		{"workdays", in.Workdays, &h.Workdays, func(d time.Weekday) bool { return d == time.Saturday || d == time.Sunday }, "a Saturday or Sunday"},
	} {
		for i, s := range list.in {
			field := list.field + "[" + strconv.Itoa(i) + "]"
			d, err := chuting.ParseDate(s)
			if err != nil || d.Year != year {
				return chuting.FieldError(field, "应为%d年的日期 YYYY-MM-DD / must be a date of %d", year, year)
			}
			if !list.want(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday()) {
				return chuting.FieldError(field, "%s 须为%s / %s must be %s", s, map[bool]string{true: "工作日", false: "周末"}[list.field == "holidays"], s, list.rule)
			}
			if slices.Contains(*list.out, d) {
				return chuting.FieldError(field, "%s 重复 / %s is listed twice", s, s)
			}
			*list.out = append(*list.out, d)
		}
	}
	old, err := chuting.FindOne[chuting.HolidayYear](r.Context(), s.store, chuting.IndexYear, strconv.Itoa(year))
	switch chuting.ErrorCode(err) {
	case "":
		h.Meta = old.Meta
		err = chuting.Save(r.Context(), s.store, h)
	case chuting.ENOTFOUND:
		err = chuting.Create(r.Context(), s.store, h)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// optimiseInput is the body of POST /api/v1/schedule/optimise.
type optimiseInput struct {
	InstitutionID string `json:"institution_id"` // "" = every institution (bureau only)
}

// optimise runs the optimisation of open proposals now, as the nightly job does: a court for
// the institution of its summons, the bureau for one or all.
func (s *Server) optimise(w http.ResponseWriter, r *http.Request) error {
	var in optimiseInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	p := chuting.UserFromContext(r.Context())
	if in.InstitutionID == "" && p.Role != chuting.RoleBureauAdmin {
		return chuting.FieldError("institution_id", "须指定鉴定机构 / institution_id is required")
	}
	setTarget(r, "schedule:"+in.InstitutionID)
	if in.InstitutionID != "" {
		if _, err := chuting.LoadRef[chuting.Institution](r.Context(), s.store, "institution_id", in.InstitutionID); err != nil {
			return err
		}
		if courtUser(p) {
			// A court re-plans only where it has summons waiting for an answer: it must not
			// hold up, or move, other courts' bookings for nothing.
			mine, err := chuting.FindAll[chuting.Summons](r.Context(), s.store, chuting.Equal(chuting.KindSummons, chuting.IndexState, chuting.SummonsProposed.String()))
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(mine, func(sm *chuting.Summons) bool {
				return sm.InstitutionID == in.InstitutionID && sm.CourtID == p.CourtID
			}) {
				return chuting.Errorf(chuting.EFORBIDDEN, "本院在该机构没有待确认的出庭通知 / your court has no open proposal at this institution")
			}
		}
	}
	// A short budget: the institution's booking waits while it runs. The nightly job takes
	// longer over every institution.
	reports, err := s.sched.Optimise(r.Context(), in.InstitutionID, 3*time.Second)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"institutions": reports})
	return nil
}
