package http

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/chuting/chuting"
)

// Opinions (鉴定意见书) are registered by their institution's admin or the bureau. Only an
// opinion's signatories may be summoned on it, never its reviewers (#6), so the two lists are
// checked here, where they enter the system. The GET routes are in summons.go.

// opinionInput is the body of POST and PUT /api/v1/opinions.
type opinionInput struct {
	Version       int64    `json:"version"`
	DocumentNo    string   `json:"document_no"`
	CaseNo        string   `json:"case_no"`
	InstitutionID string   `json:"institution_id"`
	Category      string   `json:"category"`
	Signatories   []string `json:"signatories"`
	Reviewers     []string `json:"reviewers"`
	IssuedOn      string   `json:"issued_on"`
}

// opinionWarning is advice about an opinion that does not stop it being stored.
type opinionWarning struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// opinionView is the answer to writing an opinion: the opinion and the warnings about it.
type opinionView struct {
	Opinion  *chuting.Opinion `json:"opinion"`
	Warnings []opinionWarning `json:"warnings"`
}

// maxSignatories bounds the appraiser lists of an opinion; an item is signed by two, or
// several for a complex one (通则 art. 19), never by dozens.
const maxSignatories = 20

// opinionApply checks in and copies it onto an opinion, adding the warnings to *warnings.
// Errors name the field at fault: document_no, case_no, category, issued_on, institution_id,
// signatories[i], reviewers[i]. A document number already taken is the store's ECONFLICT.
func (s *Server) opinionApply(r *http.Request, in *opinionInput, warnings *[]opinionWarning) func(*chuting.Opinion) error {
	return func(o *chuting.Opinion) error {
		in.DocumentNo, in.CaseNo, in.Category = strings.TrimSpace(in.DocumentNo), strings.TrimSpace(in.CaseNo), strings.TrimSpace(in.Category)
		if err := firstError(required("document_no", in.DocumentNo), maxLen("document_no", in.DocumentNo, 100),
			maxLen("case_no", in.CaseNo, 50), required("category", in.Category), maxLen("category", in.Category, 30),
			required("issued_on", in.IssuedOn)); err != nil {
			return err
		}
		issued, err := parseDate("issued_on", in.IssuedOn)
		if err != nil {
			return err
		}
		if today := chuting.DateOf(s.now().In(chuting.ChinaZone())); today.Before(issued) {
			return chuting.FieldError("issued_on", "出具日期不能晚于今天（%s）/ issued_on cannot be after today (%s)", today, today)
		}
		if _, err := chuting.LoadRef[chuting.Institution](r.Context(), s.store, "institution_id", in.InstitutionID); err != nil {
			return err
		}
		if len(in.Signatories) == 0 {
			return chuting.FieldError("signatories", "至少一名签名鉴定人 / at least one signatory is required")
		}
		if err := firstError(s.opinionAppraisers(r, "signatories", in.Signatories, in.InstitutionID, nil),
			s.opinionAppraisers(r, "reviewers", in.Reviewers, in.InstitutionID, in.Signatories)); err != nil {
			return err
		}
		o.DocumentNo, o.CaseNo, o.InstitutionID, o.Category = in.DocumentNo, in.CaseNo, in.InstitutionID, in.Category
		o.Signatories, o.Reviewers, o.IssuedOn = in.Signatories, in.Reviewers, issued
		*warnings = []opinionWarning{}
		if len(o.Signatories) < 2 {
			*warnings = append(*warnings, opinionWarning{Code: "few_signatories", Field: "signatories",
				Message: "司法鉴定应由两名以上鉴定人共同进行（《司法鉴定程序通则》第十九条）/ " +
					"an appraisal should be made by at least two appraisers (通则 art. 19)"})
		}
		return nil
	}
}

// opinionAppraisers checks a list of appraiser IDs of an opinion: each exists, belongs to the
// opinion's institution and appears once, and none is in exclude (the signatories, for the
// reviewers: a reviewer cannot be summoned as the opinion's appraiser, #6).
func (s *Server) opinionAppraisers(r *http.Request, field string, ids []string, institutionID string, exclude []string) error {
	if len(ids) > maxSignatories {
		return chuting.FieldError(field, "%s 最多 %d 人 / %s has more than %d appraisers", field, maxSignatories, field, maxSignatories)
	}
	for i, id := range ids {
		f := field + "[" + strconv.Itoa(i) + "]"
		if slices.Contains(ids[:i], id) {
			return chuting.FieldError(f, "鉴定人重复 / %s is listed twice", id)
		}
		if slices.Contains(exclude, id) {
			return chuting.FieldError(f, "复核人不能同时是签名鉴定人 / a reviewer cannot also be a signatory")
		}
		a, err := chuting.LoadRef[chuting.Appraiser](r.Context(), s.store, f, id)
		if err != nil {
			return err
		}
		if a.InstitutionID != institutionID {
			return chuting.FieldError(f, "%s 不是本机构的鉴定人 / %s is not an appraiser of the opinion's institution", f, f)
		}
	}
	return nil
}

func (s *Server) createOpinion(w http.ResponseWriter, r *http.Request) error {
	var in opinionInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	var warnings []opinionWarning
	o := new(chuting.Opinion)
	if err := s.opinionApply(r, &in, &warnings)(o); err != nil {
		return err
	}
	return create(s, w, r, o, func(o *chuting.Opinion) any { return opinionView{o, warnings} })
}

func (s *Server) updateOpinion(w http.ResponseWriter, r *http.Request) error {
	var in opinionInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	var warnings []opinionWarning
	return update[chuting.Opinion](s, w, r, in.Version, s.opinionApply(r, &in, &warnings),
		func(o *chuting.Opinion) any { return opinionView{o, warnings} })
}
