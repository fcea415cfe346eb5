package http

import (
	"fmt"
	"net/http"
	"net/mail"
	"strings"

	"github.com/chuting/chuting"
)

// appraiserInput is the body of POST and PUT /api/v1/appraisers.
type appraiserInput struct {
	Version          int64                       `json:"version"`
	InstitutionID    string                      `json:"institution_id"`
	Name             string                      `json:"name"`
	LicenceNo        string                      `json:"licence_no"`
	LicenceExpires   string                      `json:"licence_expires"`
	Categories       []string                    `json:"categories"`
	InductionTrained bool                        `json:"induction_trained"`
	CEHours          map[int]float64             `json:"ce_hours"`
	Proficiency      []chuting.ProficiencyResult `json:"proficiency"`
	Conflicts        []chuting.Conflict          `json:"conflicts"`
	Phone            string                      `json:"phone"`
	Email            string                      `json:"email"`
}

func (s *Server) appraiserApply(r *http.Request, in *appraiserInput) func(*chuting.Appraiser) error {
	return func(a *chuting.Appraiser) error {
		in.Name, in.LicenceNo = strings.TrimSpace(in.Name), strings.TrimSpace(in.LicenceNo)
		expires, err := parseDate("licence_expires", in.LicenceExpires)
		if err = firstError(err, required("name", in.Name), maxLen("name", in.Name, 50),
			required("licence_no", in.LicenceNo), maxLen("licence_no", in.LicenceNo, 50),
			listOfShort("categories", in.Categories, 20, 30), maxLen("phone", in.Phone, 30),
			ceHours(in.CEHours), proficiency(in.Proficiency), conflicts(in.Conflicts)); err != nil {
			return err
		}
		if len(in.Categories) == 0 {
			return chuting.FieldError("categories", "至少一个鉴定类别 / at least one category is required")
		}
		if in.Email != "" {
			if _, err := mail.ParseAddress(in.Email); err != nil {
				return chuting.FieldError("email", "邮箱格式错误 / email is not a valid address")
			}
		}
		if _, err := chuting.LoadRef[chuting.Institution](r.Context(), s.store, "institution_id", in.InstitutionID); err != nil {
			return err
		}
		a.InstitutionID, a.Name, a.LicenceNo, a.LicenceExpires = in.InstitutionID, in.Name, in.LicenceNo, expires
		a.Categories, a.InductionTrained, a.CEHours = in.Categories, in.InductionTrained, in.CEHours
		a.Proficiency, a.Conflicts, a.Phone, a.Email = in.Proficiency, in.Conflicts, in.Phone, in.Email
		return nil
	}
}

func ceHours(h map[int]float64) error {
	for year, hours := range h {
		if year < 1990 || year > 2100 || hours < 0 || hours > 2000 {
			return chuting.FieldError(fmt.Sprintf("ce_hours.%d", year),
				"继续教育学时须为 1990–2100 年、0–2000 学时 / ce_hours needs a year 1990–2100 and 0–2000 hours")
		}
	}
	return nil
}

func proficiency(ps []chuting.ProficiencyResult) error {
	for i, p := range ps {
		if p.Year < 1990 || p.Year > 2100 {
			return chuting.FieldError(fmt.Sprintf("proficiency[%d].year", i), "年份无效 / year must be 1990–2100")
		}
		if err := required(fmt.Sprintf("proficiency[%d].category", i), p.Category); err != nil {
			return err
		}
	}
	return nil
}

func conflicts(cs []chuting.Conflict) error {
	for i, c := range cs {
		f := fmt.Sprintf("conflicts[%d].party", i)
		if err := firstError(required(f, c.Party), maxLen(f, c.Party, 100)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) listAppraisers(w http.ResponseWriter, r *http.Request) error {
	return list[chuting.Appraiser](s, w, r, map[string]string{"institution": chuting.IndexInstitution,
		"category": chuting.IndexCategory}, asIs[*chuting.Appraiser])
}

func (s *Server) getAppraiser(w http.ResponseWriter, r *http.Request) error {
	return show[chuting.Appraiser](s, w, r, asIs[*chuting.Appraiser])
}

func (s *Server) createAppraiser(w http.ResponseWriter, r *http.Request) error {
	var in appraiserInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	a := new(chuting.Appraiser)
	if err := s.appraiserApply(r, &in)(a); err != nil {
		return err
	}
	return create(s, w, r, a, nil)
}

func (s *Server) updateAppraiser(w http.ResponseWriter, r *http.Request) error {
	var in appraiserInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	var moved *chuting.Appraiser
	apply := s.appraiserApply(r, &in)
	err := update[chuting.Appraiser](s, w, r, in.Version, func(a *chuting.Appraiser) error {
		from := a.InstitutionID
		if err := apply(a); err != nil {
			return err
		}
		if a.InstitutionID != from {
			moved = a
		}
		return nil
	}, nil)
	if err == nil && moved != nil {
		err = s.moveAccount(r, moved)
	}
	return err
}

// moveAccount keeps an appraiser's account with the appraiser when they move to another
// institution, so the old institution's admin no longer manages it. (Authorisation reads the
// institution from the appraiser record anyway; this keeps account listings right.)
func (s *Server) moveAccount(r *http.Request, a *chuting.Appraiser) error {
	ctx := r.Context()
	for range 5 {
		u, err := chuting.FindOne[chuting.User](ctx, s.store, chuting.IndexAppraiser, a.ID)
		if chuting.ErrorCode(err) == chuting.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		u.InstitutionID = a.InstitutionID
		if err = chuting.Save(ctx, s.store, u); chuting.ErrorCode(err) != chuting.ECONFLICT {
			return err
		}
	}
	return chuting.Errorf(chuting.ECONFLICT, "鉴定人账户正被修改，请重试 / the appraiser's account is being changed; retry")
}
