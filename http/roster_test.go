package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/roster"
	"github.com/xuri/excelize/v2"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// rosterResult is the answer to a roster import.
type rosterResult struct {
	DryRun    bool `json:"dry_run"`
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
	Errors    []struct {
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Header  string `json:"header"`
		Message string `json:"message"`
	} `json:"errors"`
	Rows []struct {
		Row         int    `json:"row"`
		LicenceNo   string `json:"licence_no"`
		Action      string `json:"action"`
		AppraiserID string `json:"appraiser_id"`
	} `json:"rows"`
}

// upload posts a roster file to an institution.
func (fx *fixture) upload(c caller, institutionID, query, contentType string, body []byte) (*http.Response, []byte) {
	fx.t.Helper()
	return fx.doHeaders(c, "POST", "/api/v1/institutions/"+institutionID+"/roster"+query, body,
		map[string]string{"Content-Type": contentType})
}

// rosterCSV is a roster of n new appraisers with licence numbers unique to the test.
func (fx *fixture) rosterCSV(n int) string {
	var b strings.Builder
	b.WriteString("姓名,执业证号,执业证有效期,执业类别,岗前培训,继续教育学时\n")
	for range n {
		b.WriteString("鉴定人," + fx.unique("R-") + ",2027-03-01,\"法医临床,法医病理\",是,40\n")
	}
	return b.String()
}

func mustXLSX(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestImportRoster imports a roster over HTTP: dry run, import, the same file again, and a
// file with a bad row, in CSV and XLSX.
func TestImportRoster(t *testing.T) {
	fx := newFixture(t)
	admin := fx.tokenCaller(chuting.RoleInstitutionAdmin)
	inst := fx.own().institution.ID
	files := []struct {
		name, contentType string
		good, bad         []byte
	}{
		{"CSV", "text/csv", []byte(fx.rosterCSV(3)),
			[]byte("姓名,执业证号,执业证有效期,执业类别\n甲," + fx.unique("R-") + ",2027-03-01,法医临床\n乙," + fx.unique("R-") + ",2027-13-01,法医临床\n")},
		{"XLSX", xlsxType,
			mustXLSX(t, [][]any{{"name", "licence_no", "categories", "ce_hours_2025"}, {"甲", fx.unique("R-"), "法医临床", 40}, {"乙", fx.unique("R-"), "法医临床", 38}}),
			mustXLSX(t, [][]any{{"name", "licence_no", "categories", "ce_hours_2025"}, {"甲", fx.unique("R-"), "法医临床", 40}, {"乙", fx.unique("R-"), "法医临床", "四十"}})},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			decode := func(data []byte) rosterResult {
				t.Helper()
				var r rosterResult
				if err := json.Unmarshal(data, &r); err != nil {
					t.Fatal(err)
				}
				return r
			}
			before := fx.snapshot()
			res, data := fx.upload(admin, inst, "?dry_run=true", f.contentType, f.good)
			if r := decode(data); res.StatusCode != http.StatusOK || !r.DryRun || r.Created == 0 || len(r.Errors) != 0 {
				t.Fatalf("dry run: %d %s", res.StatusCode, data)
			}
			if !maps.Equal(before, fx.snapshot()) {
				t.Fatal("a dry run changed the store")
			}

			res, data = fx.upload(admin, inst, "?dry_run=false", f.contentType, f.good)
			r := decode(data)
			if res.StatusCode != http.StatusOK || r.DryRun || r.Created != len(r.Rows) || r.Created == 0 {
				t.Fatalf("import: %d %s", res.StatusCode, data)
			}
			for _, row := range r.Rows {
				a, err := chuting.Load[chuting.Appraiser](context.Background(), fx.store, row.AppraiserID)
				if err != nil || a.InstitutionID != inst || a.LicenceNo != row.LicenceNo {
					t.Fatalf("row %+v: appraiser %+v (%v)", row, a, err)
				}
			}

			before = fx.snapshot()
			res, data = fx.upload(admin, inst, "", f.contentType, f.good)
			if r2 := decode(data); res.StatusCode != http.StatusOK || r2.Unchanged != r.Created || r2.Created+r2.Updated != 0 {
				t.Fatalf("the same file again: %d %s", res.StatusCode, data)
			}
			if !maps.Equal(before, fx.snapshot()) {
				t.Fatal("importing the same file again changed the store")
			}

			res, data = fx.upload(admin, inst, "?dry_run=true", f.contentType, f.bad)
			if r := decode(data); res.StatusCode != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Row != 3 ||
				(r.Errors[0].Column != "C" && r.Errors[0].Column != "D") || len(r.Rows) != 1 {
				t.Fatalf("dry run of a bad file: %d %s", res.StatusCode, data)
			}
			res, data = fx.upload(admin, inst, "?dry_run=false", f.contentType, f.bad)
			if e := errorOf(t, data); res.StatusCode != http.StatusBadRequest || e.Code != chuting.EINVALID || e.Field != "rows" ||
				!strings.Contains(e.Message, "row 3") || !strings.Contains(e.Message, "nothing was imported") {
				t.Fatalf("import of a bad file: %d %s", res.StatusCode, data)
			}
			if !maps.Equal(before, fx.snapshot()) {
				t.Fatal("a file with a bad row changed the store")
			}
		})
	}
}

// TestImportRosterUpdate: a row with a licence number of the institution updates that
// appraiser, and the dry run names what changes.
func TestImportRosterUpdate(t *testing.T) {
	fx := newFixture(t)
	admin := fx.tokenCaller(chuting.RoleInstitutionAdmin)
	lic := fx.own().appraiser.LicenceNo
	csv := "姓名,执业证号,执业类别,执业证有效期\n" + fx.own().appraiser.Name + "," + lic + ",法医临床,2029-01-01\n"
	for _, dry := range []string{"true", "false"} {
		res, data := fx.upload(admin, fx.own().institution.ID, "?dry_run="+dry, "text/csv", []byte(csv))
		var r rosterResult
		if err := json.Unmarshal(data, &r); err != nil || res.StatusCode != http.StatusOK || r.Updated != 1 ||
			r.Rows[0].AppraiserID != fx.own().appraiser.ID || !strings.Contains(string(data), `"changes":["licence_expires"]`) {
			t.Fatalf("dry_run=%s: %d %s", dry, res.StatusCode, data)
		}
	}
	a, err := chuting.Load[chuting.Appraiser](context.Background(), fx.store, fx.own().appraiser.ID)
	if err != nil || a.LicenceExpires.String() != "2029-01-01" || a.Version != 2 {
		t.Fatalf("appraiser after the import: %+v (%v)", a, err)
	}
}

// TestImportRosterRefused: requests the import refuses, each in the error shape, changing
// nothing.
func TestImportRosterRefused(t *testing.T) {
	fx := newFixture(t)
	admin := fx.tokenCaller(chuting.RoleInstitutionAdmin)
	own, other := fx.own().institution.ID, fx.other().institution.ID
	good := []byte(fx.rosterCSV(1))
	huge := bytes.Repeat([]byte("a"), roster.MaxBytes+1)
	tests := []struct {
		name        string
		c           caller
		institution string
		query       string
		contentType string
		body        []byte
		status      int
		code, field string
	}{
		{"ErrJSON", admin, own, "", "application/json", []byte(`{"rows":[]}`), 415, "unsupported_media", ""},
		{"ErrPlainText", admin, own, "", "text/plain", good, 415, "unsupported_media", ""},
		{"ErrNoContentType", admin, own, "", "", good, 415, "unsupported_media", ""},
		{"ErrCharset", admin, own, "", "text/csv; charset=big5", good, 415, "unsupported_media", ""},
		{"ErrTooLarge", admin, own, "?dry_run=true", "text/csv", huge, 413, "too_large", ""},
		{"ErrDryRun", admin, own, "?dry_run=maybe", "text/csv", good, 400, "invalid", "dry_run"},
		{"ErrNotAWorkbook", admin, own, "", xlsxType, good, 400, "invalid", ""},
		{"ErrOtherInstitution", admin, other, "", "text/csv", good, 403, "forbidden", ""},
		{"ErrClerk", fx.tokenCaller(chuting.RoleClerk), own, "", "text/csv", good, 403, "forbidden", ""},
		{"ErrAppraiser", fx.tokenCaller(chuting.RoleAppraiser), own, "", "text/csv", good, 403, "forbidden", ""},
		{"ErrUnknownInstitution", admin, chuting.NewID(), "", "text/csv", good, 404, "not_found", ""},
		{"ErrBadID", admin, "nope", "", "text/csv", good, 400, "invalid", "id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := fx.snapshot()
			res, data := fx.upload(tc.c, tc.institution, tc.query, tc.contentType, tc.body)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, data)
			}
			if e := errorOf(t, data); e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("error %+v, want code %q field %q", e, tc.code, tc.field)
			}
			if !maps.Equal(before, fx.snapshot()) {
				t.Fatal("a refused import changed the store")
			}
		})
	}

	t.Run("ErrTooLargeChunked", func(t *testing.T) {
		// Without a Content-Length the server can only stop reading at the limit.
		req, err := http.NewRequest("POST", fx.ts.URL+"/api/v1/institutions/"+own+"/roster?dry_run=true", io.MultiReader(bytes.NewReader(huge)))
		fx.must(err)
		req.ContentLength = -1
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+admin.token)
		res, err := fx.ts.Client().Do(req)
		fx.must(err)
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		fx.must(err)
		if e := errorOf(t, data); res.StatusCode != http.StatusRequestEntityTooLarge || e.Code != chuting.ETOOLARGE {
			t.Fatalf("status %d: %s", res.StatusCode, data)
		}
	})

	t.Run("BureauAnyInstitution", func(t *testing.T) {
		res, data := fx.upload(fx.tokenCaller(chuting.RoleBureauAdmin), other, "", "text/csv", []byte(fx.rosterCSV(1)))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("bureau import into another institution: %d %s", res.StatusCode, data)
		}
	})

	t.Run("ErrLicenceOfAnotherInstitution", func(t *testing.T) {
		csv := "姓名,执业证号,执业类别\n鉴定人," + fx.other().appraiser.LicenceNo + ",法医临床\n"
		res, data := fx.upload(admin, own, "?dry_run=true", "text/csv; charset=utf-8", []byte(csv))
		if res.StatusCode != http.StatusOK || !strings.Contains(string(data), "another institution") ||
			!strings.Contains(string(data), `"column":"B"`) {
			t.Fatalf("status %d: %s", res.StatusCode, data)
		}
	})
}
