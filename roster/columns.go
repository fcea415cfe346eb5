package roster

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// field is what a column of the sheet holds.
type field int

const (
	fieldUnknown field = iota
	fieldName
	fieldLicence
	fieldExpires
	fieldCategories
	fieldInduction
	fieldCEHours
	fieldPhone
	fieldEmail
)

// fieldNames are the JSON names of the fields, as the API's errors name them.
var fieldNames = [...]string{fieldName: "name", fieldLicence: "licence_no", fieldExpires: "licence_expires",
	fieldCategories: "categories", fieldInduction: "induction_trained", fieldCEHours: "ce_hours",
	fieldPhone: "phone", fieldEmail: "email"}

// headers are the accepted headers of each field, folded (see fold). The Chinese
// ones are those of the bureau's roster template (鉴定人名册); the English ones are the API's
// field names.
var headers = map[string]field{
	"姓名": fieldName, "鉴定人姓名": fieldName, "name": fieldName,
	"执业证号": fieldLicence, "执业证编号": fieldLicence, "licence_no": fieldLicence, "license_no": fieldLicence,
	"执业证有效期": fieldExpires, "有效期至": fieldExpires, "licence_expires": fieldExpires, "license_expires": fieldExpires,
	"执业类别": fieldCategories, "鉴定类别": fieldCategories, "categories": fieldCategories,
	"岗前培训": fieldInduction, "induction_trained": fieldInduction,
	"继续教育学时": fieldCEHours, "ce_hours": fieldCEHours,
	"电话": fieldPhone, "联系电话": fieldPhone, "phone": fieldPhone,
	"邮箱": fieldEmail, "电子邮箱": fieldEmail, "email": fieldEmail,
}

// requiredFields are the fields every sheet must have: those the API requires.
var requiredFields = []field{fieldName, fieldLicence, fieldCategories}

// requiredHeader names a required field for the error about its missing column.
var requiredHeader = map[field]string{fieldName: "姓名 / name", fieldLicence: "执业证号 / licence_no",
	fieldCategories: "执业类别 / categories"}

// yearHeader matches a continuing-education column for a given year, folded:
// "2026年继续教育学时", "继续教育学时（2026年）", "ce_hours_2026", "2026_ce_hours".
var yearHeader = regexp.MustCompile(`^(?:(\d{4})年?_?(?:继续教育学时|ce_hours)|(?:继续教育学时|ce_hours)_?[(（]?(\d{4})年?[)）]?)$`)

// hint is a trailing note in a template's header, "执业证有效期（YYYY-MM-DD）", or the star
// that marks a required column, "姓名*".
var hint = regexp.MustCompile(`\s*(?:[(（][^)）]*[)）]|\*)\s*$`)

// column is one column of the sheet the header names.
type column struct {
	index  int // from 0
	letter string
	header string // as written
	field  field
	year   int // fieldCEHours
}

// fold brings a header to the form of the headers table: no surrounding or full-width
// spaces, lower case, "_" for runs of spaces, hyphens and underscores.
func fold(h string) string {
	h = strings.ReplaceAll(strings.TrimPrefix(h, "\ufeff"), "\u3000", " ")
	return strings.ToLower(strings.Join(strings.FieldsFunc(h, func(r rune) bool { return r == ' ' || r == '-' || r == '_' }), "_"))
}

// recognise returns the field a header names, and the year of a continuing-education column
// (current for one without a year). A header is tried as written, then without its hints.
func recognise(header string, current int) (field, int) {
	h := strings.TrimSpace(header)
	for {
		folded := fold(h)
		if f, ok := headers[folded]; ok {
			if f == fieldCEHours {
				return f, current
			}
			return f, 0
		}
		if m := yearHeader.FindStringSubmatch(folded); m != nil {
			year, _ := strconv.Atoi(m[1] + m[2])
			return fieldCEHours, year
		}
		t := hint.ReplaceAllString(h, "")
		if t == h {
			return fieldUnknown, 0
		}
		h = t
	}
}

// letter returns the spreadsheet letter of the column at index (from 0): A, B … Z, AA …
func letter(index int) string {
	s, err := excelize.ColumnNumberToName(index + 1)
	if err != nil {
		return strconv.Itoa(index + 1)
	}
	return s
}

// columns reads the header row: the columns it names, and an error for every unknown,
// repeated or missing column. A blank header cell is no column (data under it is an error
// of that row).
func columns(cells []string, row, current int) ([]column, []RowError) {
	var (
		cols []column
		errs []RowError
		seen = map[[2]int]string{}
	)
	for i, cell := range cells {
		h := strings.TrimSpace(cell)
		if h == "" {
			continue
		}
		c := column{index: i, letter: letter(i), header: h}
		c.field, c.year = recognise(h, current)
		switch {
		case c.field == fieldUnknown:
			errs = append(errs, RowError{Row: row, Column: c.letter, Header: h, Message: "未知的列「" + h +
				"」；可用的列：姓名、执业证号、执业证有效期、执业类别、岗前培训、继续教育学时、电话、邮箱 / unknown column " +
				strconv.Quote(h) + "; known columns: name, licence_no, licence_expires, categories, induction_trained, ce_hours, phone, email"})
			continue
		case c.field == fieldCEHours && (c.year < 1990 || c.year > 2100):
			errs = append(errs, RowError{Row: row, Column: c.letter, Header: h,
				Message: "继续教育学时的年份须为 1990–2100 / the year of a ce_hours column must be 1990–2100"})
			continue
		}
		key := [2]int{int(c.field), c.year}
		if prev, dup := seen[key]; dup {
			errs = append(errs, RowError{Row: row, Column: c.letter, Header: h,
				Message: "与第 " + prev + " 列重复 / the same column as column " + prev})
			continue
		}
		seen[key] = c.letter
		cols = append(cols, c)
	}
	for _, f := range requiredFields {
		if _, ok := seen[[2]int{int(f), 0}]; !ok {
			errs = append(errs, RowError{Row: row, Header: requiredHeader[f],
				Message: "缺少必需的列「" + requiredHeader[f] + "」/ the required column " + requiredHeader[f] + " is missing"})
		}
	}
	return cols, errs
}
