package http

import (
	"net/http"
	"strings"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/roster"
	"github.com/chuting/chuting/scheduler"
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

// appraiserApply checks in by the registry's rules (roster.Check, which the roster import
// applies too) and copies it onto an appraiser.
func (s *Server) appraiserApply(r *http.Request, in *appraiserInput) func(*chuting.Appraiser) error {
	return func(a *chuting.Appraiser) error {
		in.Name, in.LicenceNo = strings.TrimSpace(in.Name), strings.TrimSpace(in.LicenceNo)
		expires, err := parseDate("licence_expires", in.LicenceExpires)
		if err != nil {
			return err
		}
		next := *a
		next.InstitutionID, next.Name, next.LicenceNo, next.LicenceExpires = in.InstitutionID, in.Name, in.LicenceNo, expires
		next.Categories, next.InductionTrained, next.CEHours = in.Categories, in.InductionTrained, in.CEHours
		next.Proficiency, next.Conflicts, next.Phone, next.Email = in.Proficiency, in.Conflicts, in.Phone, in.Email
		if err := roster.Validate(&next); err != nil {
			return err
		}
		if _, err := chuting.LoadRef[chuting.Institution](r.Context(), s.store, "institution_id", in.InstitutionID); err != nil {
			return err
		}
		*a = next
		return nil
	}
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
	u, err := chuting.FindOne[chuting.User](ctx, s.store, chuting.IndexAppraiser, a.ID)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	_, err = chuting.Update(ctx, s.store, u.ID, func(u *chuting.User) bool {
		u.InstitutionID = a.InstitutionID
		return true
	})
	return err
}

// appraiserEligibility answers the reasons an appraiser is not eligible for a category on a
// day (default today), with the parties for the recusal check: what the institution and the
// court see before summoning (#7–#12).
func (s *Server) appraiserEligibility(w http.ResponseWriter, r *http.Request) error {
	a, err := load[chuting.Appraiser](s, r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	on := chuting.DateOf(s.now().In(chuting.ChinaZone()))
	if d := q.Get("date"); d != "" {
		if on, err = chuting.ParseDate(d); err != nil {
			return chuting.FieldError("date", "date 须为 YYYY-MM-DD / date must be YYYY-MM-DD")
		}
	}
	inst, err := chuting.Load[chuting.Institution](r.Context(), s.store, a.InstitutionID)
	if err != nil && chuting.ErrorCode(err) != chuting.ENOTFOUND {
		return err
	}
	var parties []string
	if p := q.Get("parties"); p != "" {
		parties = strings.Split(p, ",")
	}
	reasons := scheduler.Eligibility(a, inst, scheduler.Case{Category: q.Get("category"), On: on, Parties: parties},
		s.sched.Rules())
	if reasons == nil {
		reasons = []scheduler.Reason{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"appraiser_id": a.ID, "date": on, "eligible": len(reasons) == 0, "reasons": reasons})
	return nil
}
