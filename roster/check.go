package roster

import (
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strconv"
	"strings"

	"github.com/chuting/chuting"
)

// The rules an appraiser's registration must satisfy. POST and PUT /api/v1/appraisers and the
// roster import both apply them, so a sheet cannot register an appraiser the API would refuse.
// Each problem is an EINVALID *chuting.Error naming the JSON field (name, licence_no,
// categories[2], ce_hours.2026 …); the import maps fields back to the sheet's columns.

// Check returns every rule a breaks, in the order the API reports them (it answers with the
// first), or nil. It looks at the record only: that the institution exists and that the
// licence number is free are for the caller, who knows the store.
func Check(a *chuting.Appraiser) []*chuting.Error {
	var out []*chuting.Error
	add := func(err *chuting.Error) {
		if err != nil {
			out = append(out, err)
		}
	}
	add(first(required("name", a.Name), maxLen("name", a.Name, 50)))
	add(first(required("licence_no", a.LicenceNo), maxLen("licence_no", a.LicenceNo, 50)))
	add(listOfShort("categories", a.Categories, 20, 30))
	add(maxLen("phone", a.Phone, 30))
	add(ceHours(a.CEHours))
	add(proficiency(a.Proficiency))
	add(conflicts(a.Conflicts))
	if len(a.Categories) == 0 {
		add(chuting.FieldError("categories", "至少一个鉴定类别 / at least one category is required"))
	}
	if a.Email != "" {
		if _, err := mail.ParseAddress(a.Email); err != nil {
			add(chuting.FieldError("email", "邮箱格式错误 / email is not a valid address"))
		}
	}
	return out
}

// Validate returns the first problem Check finds, or nil.
func Validate(a *chuting.Appraiser) error {
	if errs := Check(a); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// ceHours checks the continuing-education hours per year (#10): the year must be plausible
// and the hours within what a year can hold.
func ceHours(h map[int]float64) *chuting.Error {
	for _, year := range slices.Sorted(maps.Keys(h)) {
		if hours := h[year]; year < 1990 || year > 2100 || hours < 0 || hours > 2000 {
			return chuting.FieldError(fmt.Sprintf("ce_hours.%d", year),
				"继续教育学时须为 1990–2100 年、0–2000 学时 / ce_hours needs a year 1990–2100 and 0–2000 hours")
		}
	}
	return nil
}

func proficiency(ps []chuting.ProficiencyResult) *chuting.Error {
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

func conflicts(cs []chuting.Conflict) *chuting.Error {
	for i, c := range cs {
		f := fmt.Sprintf("conflicts[%d].party", i)
		if err := first(required(f, c.Party), maxLen(f, c.Party, 100)); err != nil {
			return err
		}
	}
	return nil
}

// listOfShort checks a list of at most n non-blank items of at most size characters.
func listOfShort(field string, items []string, n, size int) *chuting.Error {
	if len(items) > n {
		return chuting.FieldError(field, "%s 最多 %d 项 / %s has more than %d items", field, n, field, n)
	}
	for i, it := range items {
		f := field + "[" + strconv.Itoa(i) + "]"
		if err := first(required(f, it), maxLen(f, it, size)); err != nil {
			return err
		}
	}
	return nil
}

// required and maxLen word their errors as the http package's helpers of the same names do,
// so an API client sees one voice whichever path a rule took.
func required(field, value string) *chuting.Error {
	if strings.TrimSpace(value) == "" {
		return chuting.FieldError(field, "%s 不能为空 / %s is required", field, field)
	}
	return nil
}

func maxLen(field, value string, n int) *chuting.Error {
	if len([]rune(value)) > n {
		return chuting.FieldError(field, "%s 超过 %d 个字符 / %s is longer than %d characters", field, n, field, n)
	}
	return nil
}

func first(errs ...*chuting.Error) *chuting.Error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
