package http_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// opinionBody is a valid opinion of the side's institution signed by its appraiser and a
// second one, with a document number unique to the test.
func (fx *fixture) opinionBody(s *side) map[string]any {
	return map[string]any{"document_no": fx.unique("赣南司鉴所[2026]临鉴字第") + "号", "case_no": "(2026)赣07民初123号",
		"institution_id": s.institution.ID, "category": "法医临床",
		"signatories": []string{s.appraiser.ID, fx.newAppraiser(s).ID}, "issued_on": "2025-12-01"}
}

type opinionWritten struct {
	Opinion  chuting.Opinion
	Warnings []struct{ Code, Field, Message string }
}

func TestOpinion(t *testing.T) {
	fx := newFixture(t)
	admin := fx.tokenCaller(chuting.RoleInstitutionAdmin)
	own := fx.own()

	t.Run("OK", func(t *testing.T) {
		body := fx.opinionBody(own)
		body["reviewers"] = []string{fx.newAppraiser(own).ID}
		res, data := fx.do(admin, "POST", "/api/v1/opinions", body)
		var w opinionWritten
		if err := json.Unmarshal(data, &w); err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, data)
		}
		if w.Opinion.ID == "" || len(w.Opinion.Signatories) != 2 || len(w.Opinion.Reviewers) != 1 ||
			w.Opinion.IssuedOn.String() != "2025-12-01" || len(w.Warnings) != 0 {
			t.Fatalf("created %s", data)
		}
		body["version"], body["document_no"], body["category"] = w.Opinion.Version, w.Opinion.DocumentNo, "法医病理"
		res, data = fx.do(admin, "PUT", "/api/v1/opinions/"+w.Opinion.ID, body)
		if err := json.Unmarshal(data, &w); err != nil || res.StatusCode != http.StatusOK || w.Opinion.Category != "法医病理" ||
			w.Opinion.Version != 2 {
			t.Fatalf("update: %d %s", res.StatusCode, data)
		}
		res, data = fx.do(admin, "PUT", "/api/v1/opinions/"+w.Opinion.ID, body) // version 1 again
		if e := errorOf(t, data); res.StatusCode != http.StatusConflict || e.Code != chuting.ECONFLICT {
			t.Fatalf("stale update: %d %s", res.StatusCode, data)
		}
	})

	t.Run("OneSignatoryWarns", func(t *testing.T) {
		body := fx.opinionBody(own)
		body["signatories"] = []string{own.appraiser.ID}
		res, data := fx.do(admin, "POST", "/api/v1/opinions", body)
		var w opinionWritten
		if err := json.Unmarshal(data, &w); err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, data)
		}
		if len(w.Warnings) != 1 || w.Warnings[0].Code != "few_signatories" || w.Warnings[0].Field != "signatories" {
			t.Fatalf("warnings %+v, want few_signatories", w.Warnings)
		}
	})

	t.Run("Ownership", func(t *testing.T) {
		other := fx.other()
		mine := fx.opinionBody(own)
		res, data := fx.do(admin, "POST", "/api/v1/opinions", mine)
		var w opinionWritten
		if err := json.Unmarshal(data, &w); err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, data)
		}
		moved := maps.Clone(mine)
		moved["version"], moved["institution_id"] = w.Opinion.Version, other.institution.ID
		moved["signatories"] = []string{other.appraiser.ID}
		theirs := fx.opinionBody(other)
		theirs["version"], theirs["document_no"] = fx.version(other.opinion), other.opinion.DocumentNo
		tests := []struct {
			name   string
			method string
			path   string
			body   map[string]any
		}{
			{"ErrCreateForOther", "POST", "/api/v1/opinions", fx.opinionBody(other)},
			{"ErrUpdateOthers", "PUT", "/api/v1/opinions/" + other.opinion.ID, theirs},
			{"ErrMoveToOther", "PUT", "/api/v1/opinions/" + w.Opinion.ID, moved},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := fx.snapshot()
				res, data := fx.do(admin, tc.method, tc.path, tc.body)
				if e := errorOf(t, data); res.StatusCode != http.StatusForbidden || e.Code != chuting.EFORBIDDEN {
					t.Fatalf("status %d: %s", res.StatusCode, data)
				}
				if !maps.Equal(before, fx.snapshot()) {
					t.Fatal("a refused request changed the store")
				}
			})
		}
	})
}

// TestOpinionBadInput: each broken rule is refused with the field at fault, and nothing is
// stored.
func TestOpinionBadInput(t *testing.T) {
	fx := newFixture(t)
	admin := fx.tokenCaller(chuting.RoleInstitutionAdmin)
	own, other := fx.own(), fx.other()
	second := fx.newAppraiser(own).ID
	tomorrow := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 2).Format(time.DateOnly)
	tests := []struct {
		name   string
		change func(b map[string]any)
		status int
		field  string
	}{
		{"ErrNoDocumentNo", func(b map[string]any) { b["document_no"] = "  " }, 400, "document_no"},
		{"ErrDuplicateDocumentNo", func(b map[string]any) { b["document_no"] = other.opinion.DocumentNo }, 409, "document_no"},
		{"ErrCaseNoLong", func(b map[string]any) { b["case_no"] = strings.Repeat("号", 51) }, 400, "case_no"},
		{"ErrNoCategory", func(b map[string]any) { delete(b, "category") }, 400, "category"},
		{"ErrNoIssuedOn", func(b map[string]any) { delete(b, "issued_on") }, 400, "issued_on"},
		{"ErrIssuedOnShape", func(b map[string]any) { b["issued_on"] = "2025/12/01" }, 400, "issued_on"},
		{"ErrIssuedInFuture", func(b map[string]any) { b["issued_on"] = tomorrow }, 400, "issued_on"},
		{"ErrNoInstitution", func(b map[string]any) { b["institution_id"] = chuting.NewID() }, 400, "institution_id"},
		{"ErrNoSignatories", func(b map[string]any) { b["signatories"] = []string{} }, 400, "signatories"},
		{"ErrUnknownSignatory", func(b map[string]any) { b["signatories"] = []string{own.appraiser.ID, chuting.NewID()} }, 400, "signatories[1]"},
		{"ErrMalformedSignatory", func(b map[string]any) { b["signatories"] = []string{"../x"} }, 400, "signatories[0]"},
		{"ErrSignatoryOfOther", func(b map[string]any) { b["signatories"] = []string{own.appraiser.ID, other.appraiser.ID} }, 400, "signatories[1]"},
		{"ErrSignatoryTwice", func(b map[string]any) { b["signatories"] = []string{own.appraiser.ID, own.appraiser.ID} }, 400, "signatories[1]"},
		{"ErrReviewerSigns", func(b map[string]any) {
			b["signatories"], b["reviewers"] = []string{own.appraiser.ID, second}, []string{second}
		}, 400, "reviewers[0]"},
		{"ErrReviewerOfOther", func(b map[string]any) { b["reviewers"] = []string{other.appraiser.ID} }, 400, "reviewers[0]"},
		{"ErrReviewerTwice", func(b map[string]any) {
			r := fx.newAppraiser(own).ID
			b["reviewers"] = []string{r, r}
		}, 400, "reviewers[1]"},
		{"ErrUnknownField", func(b map[string]any) { b["appraisers"] = []string{} }, 400, "appraisers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := fx.opinionBody(own)
			tc.change(body)
			before := fx.snapshot()
			res, data := fx.do(admin, "POST", "/api/v1/opinions", body)
			e := errorOf(t, data)
			if res.StatusCode != tc.status || e.Field != tc.field {
				t.Fatalf("status %d field %q, want %d %q: %s", res.StatusCode, e.Field, tc.status, tc.field, data)
			}
			if !maps.Equal(before, fx.snapshot()) {
				t.Fatal("a refused opinion changed the store")
			}
		})
	}
}
