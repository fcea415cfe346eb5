package roster_test

import (
	"strings"
	"testing"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/roster"
)

func TestCheck(t *testing.T) {
	good := func() *chuting.Appraiser {
		return &chuting.Appraiser{Name: "张三", LicenceNo: "360100000001", Categories: []string{"法医临床"},
			CEHours: map[int]float64{2026: 40}, Email: "zhang@example.cn", Phone: "0797-8123456"}
	}
	tests := []struct {
		name   string
		change func(a *chuting.Appraiser)
		fields []string // the fields of the problems, in order
	}{
		{"OK", func(*chuting.Appraiser) {}, nil},
		{"ErrName", func(a *chuting.Appraiser) { a.Name = " " }, []string{"name"}},
		{"ErrNameLong", func(a *chuting.Appraiser) { a.Name = strings.Repeat("张", 51) }, []string{"name"}},
		{"ErrLicence", func(a *chuting.Appraiser) { a.LicenceNo = "" }, []string{"licence_no"}},
		{"ErrNoCategory", func(a *chuting.Appraiser) { a.Categories = nil }, []string{"categories"}},
		{"ErrBlankCategory", func(a *chuting.Appraiser) { a.Categories = []string{"法医临床", ""} }, []string{"categories[1]"}},
		{"ErrTooManyCategories", func(a *chuting.Appraiser) { a.Categories = make([]string, 21) }, []string{"categories"}},
		{"ErrPhone", func(a *chuting.Appraiser) { a.Phone = strings.Repeat("1", 31) }, []string{"phone"}},
		{"ErrCEHours", func(a *chuting.Appraiser) { a.CEHours = map[int]float64{2026: -1, 2025: 3000} }, []string{"ce_hours.2025"}},
		{"ErrCEYear", func(a *chuting.Appraiser) { a.CEHours = map[int]float64{1900: 1} }, []string{"ce_hours.1900"}},
		{"ErrProficiency", func(a *chuting.Appraiser) {
			a.Proficiency = []chuting.ProficiencyResult{{Year: 2025, Category: ""}}
		}, []string{"proficiency[0].category"}},
		{"ErrConflict", func(a *chuting.Appraiser) { a.Conflicts = []chuting.Conflict{{Party: ""}} }, []string{"conflicts[0].party"}},
		{"ErrEmail", func(a *chuting.Appraiser) { a.Email = "not an address" }, []string{"email"}},
		{"ErrSeveral", func(a *chuting.Appraiser) { a.Name, a.Email, a.Categories = "", "x", nil },
			[]string{"name", "categories", "email"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := good()
			tc.change(a)
			errs := roster.Check(a)
			var fields []string
			for _, e := range errs {
				if e.Code != chuting.EINVALID || !strings.Contains(e.Message, " / ") {
					t.Errorf("problem %+v is not an EINVALID zh-CN / English message", e)
				}
				fields = append(fields, e.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("fields %v, want %v", fields, tc.fields)
			}
			if err := roster.Validate(a); (err == nil) != (len(tc.fields) == 0) ||
				err != nil && chuting.ErrorField(err) != tc.fields[0] {
				t.Fatalf("Validate = %v, want the first of %v", err, tc.fields)
			}
		})
	}
}
