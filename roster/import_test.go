package roster_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/bbolt"
	"github.com/chuting/chuting/roster"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// now is the clock of the tests: 2026, so a "继续教育学时" column is 2026's.
var now = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

var formats = []roster.Format{roster.CSV, roster.XLSX}

func formatName(f roster.Format) string {
	if f == roster.CSV {
		return "CSV"
	}
	return "XLSX"
}

// env is a real embedded store with two institutions: inst, which imports, and other, which
// has an appraiser with licence OTHER-1. inst has one appraiser already, licence A-100.
type env struct {
	t       *testing.T
	store   chuting.Store
	im      *roster.Importer
	inst    *chuting.Institution
	other   *chuting.Institution
	present *chuting.Appraiser
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := bbolt.Open(filepath.Join(t.TempDir(), "x.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	e := &env{t: t, store: store, im: &roster.Importer{Store: store, Now: func() time.Time { return now }}}
	e.inst = &chuting.Institution{Name: "赣南司法鉴定所", LicenceNo: "360001"}
	e.other = &chuting.Institution{Name: "吉安司法鉴定中心", LicenceNo: "360002"}
	e.create(e.inst)
	e.create(e.other)
	e.create(&chuting.Appraiser{InstitutionID: e.other.ID, Name: "赵六", LicenceNo: "OTHER-1", Categories: []string{"法医临床"}})
	e.present = &chuting.Appraiser{InstitutionID: e.inst.ID, Name: "钱七", LicenceNo: "A-100", Categories: []string{"法医病理"},
		Phone: "0797-1111111", Email: "qian@example.cn", InductionTrained: true, CEHours: map[int]float64{2025: 40},
		Proficiency: []chuting.ProficiencyResult{{Year: 2025, Category: "法医病理", Passed: true}},
		Conflicts:   []chuting.Conflict{{Party: "某保险公司"}}}
	e.create(e.present)
	return e
}

func (e *env) create(x chuting.Entity) {
	e.t.Helper()
	if err := chuting.Create(context.Background(), e.store, x); err != nil {
		e.t.Fatal(err)
	}
}

// snapshot returns every record in the store, to show that an import wrote nothing.
func (e *env) snapshot() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, kind := range chuting.Kinds() {
		q := chuting.Query{Kind: kind}
		for {
			page, err := e.store.List(context.Background(), q)
			if err != nil {
				e.t.Fatal(err)
			}
			for _, r := range page.Records {
				out[string(kind)+"/"+r.ID] = fmt.Sprintf("%d %s", r.Version, r.Data)
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
	}
	return out
}

// appraiser returns the appraiser with a licence number, or nil.
func (e *env) appraiser(licence string) *chuting.Appraiser {
	e.t.Helper()
	a, err := chuting.FindOne[chuting.Appraiser](context.Background(), e.store, chuting.IndexLicence, licence)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return nil
	} else if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) run(f roster.Format, data []byte, dryRun bool) (*roster.Result, error) {
	return e.im.Import(context.Background(), roster.Upload{InstitutionID: e.inst.ID, Format: f, Data: data, DryRun: dryRun})
}

// encode writes rows as a file of format f. Rows of XLSX may hold any cell value excelize
// takes (numbers, times, booleans); CSV cells are their %v.
func encode(t testing.TB, f roster.Format, rows [][]any) []byte {
	t.Helper()
	if f == roster.XLSX {
		return MustXLSX(t, rows)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, r := range rows {
		rec := make([]string, len(r))
		for i, c := range r {
			rec[i] = fmt.Sprint(c)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return b.Bytes()
}

// MustXLSX builds a workbook whose first sheet holds rows from A1, and a second sheet the
// import must ignore. A nil row is left out, as a blank row.
func MustXLSX(tb testing.TB, rows [][]any) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		if r == nil {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := f.NewSheet("说明"); err != nil {
		tb.Fatal(err)
	}
	if err := f.SetSheetRow("说明", "A1", &[]any{"备注", "这张表不导入"}); err != nil {
		tb.Fatal(err)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

var header = []any{"姓名", "执业证号", "执业证有效期", "执业类别", "岗前培训", "继续教育学时", "电话", "邮箱"}

// goodRows is a good roster: two new appraisers and one update of A-100.
func goodRows() [][]any {
	return [][]any{
		header,
		{"张三", "A-001", "2027-03-01", "法医临床、法医病理", "是", "42", "0797-8123456", "zhang@example.cn"},
		{"李四", "A-002", "2027/6/30", "法医物证,法医毒物", "否", "12.5", "", ""},
		{"钱七", "A-100", "2028年1月1日", "法医病理；法医临床", "1", "40", "", ""},
	}
}

func TestImport(t *testing.T) {
	for _, f := range formats {
		t.Run(formatName(f), func(t *testing.T) {
			e := newEnv(t)
			data := encode(t, f, goodRows())

			t.Run("DryRunWritesNothing", func(t *testing.T) {
				before := e.snapshot()
				res, err := e.run(f, data, true)
				if err != nil {
					t.Fatal(err)
				}
				if !res.DryRun || res.Created != 2 || res.Updated != 1 || len(res.Errors) != 0 || len(res.Rows) != 3 {
					t.Fatalf("dry run = %+v", res)
				}
				if got := res.Rows[2].Changes; !slices.Equal(got, []string{"licence_expires", "categories", "ce_hours"}) {
					t.Errorf("the update of A-100 changes %q", got)
				}
				if !reflect.DeepEqual(before, e.snapshot()) {
					t.Fatal("a dry run changed the store")
				}
			})

			t.Run("OK", func(t *testing.T) {
				res, err := e.run(f, data, false)
				if err != nil {
					t.Fatal(err)
				}
				want := []roster.Action{roster.Create, roster.Create, roster.Update}
				for i, r := range res.Rows {
					if r.Action != want[i] || r.Row != i+2 || r.AppraiserID == "" {
						t.Errorf("row %d = %+v, want %s at row %d with an ID", i, r, want[i], i+2)
					}
				}
				if res.Created != 2 || res.Updated != 1 || res.Unchanged != 0 {
					t.Fatalf("result = %+v", res)
				}
				zhang, li, qian := e.appraiser("A-001"), e.appraiser("A-002"), e.appraiser("A-100")
				switch {
				case zhang == nil || li == nil:
					t.Fatal("rows were not created")
				case zhang.InstitutionID != e.inst.ID || zhang.Name != "张三" || zhang.LicenceExpires.String() != "2027-03-01" ||
					!slices.Equal(zhang.Categories, []string{"法医临床", "法医病理"}) || !zhang.InductionTrained ||
					zhang.CEHours[2026] != 42 || zhang.Phone != "0797-8123456" || zhang.Email != "zhang@example.cn":
					t.Errorf("张三 = %+v", zhang)
				case li.LicenceExpires.String() != "2027-06-30" || !slices.Equal(li.Categories, []string{"法医物证", "法医毒物"}) ||
					li.InductionTrained || li.CEHours[2026] != 12.5 || li.Phone != "" || li.Email != "":
					t.Errorf("李四 = %+v", li)
				}
				// The update changes what the row says and keeps the rest: blank cells and
				// fields no sheet has.
				if qian.ID != e.present.ID || qian.LicenceExpires.String() != "2028-01-01" ||
					!slices.Equal(qian.Categories, []string{"法医病理", "法医临床"}) ||
					!reflect.DeepEqual(qian.CEHours, map[int]float64{2025: 40, 2026: 40}) ||
					qian.Phone != e.present.Phone || qian.Email != e.present.Email ||
					!reflect.DeepEqual(qian.Proficiency, e.present.Proficiency) || !reflect.DeepEqual(qian.Conflicts, e.present.Conflicts) {
					t.Errorf("钱七 = %+v", qian)
				}
			})

			t.Run("SameFileAgainChangesNothing", func(t *testing.T) {
				before := e.snapshot()
				res, err := e.run(f, data, false)
				if err != nil {
					t.Fatal(err)
				}
				if res.Created != 0 || res.Updated != 0 || res.Unchanged != 3 {
					t.Fatalf("second import = %+v", res)
				}
				if !reflect.DeepEqual(before, e.snapshot()) {
					t.Fatal("importing the same file again changed the store")
				}
			})
		})
	}
}

// TestImportBadRows: a file with one bad row imports nothing and names the row and column;
// a dry run of it reports the same and writes nothing either.
func TestImportBadRows(t *testing.T) {
	good := []any{"张三", "A-001", "2027-03-01", "法医临床", "是", "42", "", ""}
	with := func(i int, v any) []any { r := slices.Clone(good); r[i] = v; return r }
	tests := []struct {
		name            string
		rows            [][]any
		row             int
		column, header  string
		message         string
		rowsNotChecked  bool // a header so broken that no row is judged
		extraGoodRowsOK bool
	}{
		{"ErrDate", [][]any{header, good, {"李四", "A-002", "2027-02-30", "法医临床", "否", "0", "", ""}}, 3, "C", "执业证有效期", "licence_expires must be a date", false, false},
		{"ErrBlankName", [][]any{header, good, {"", "A-002", "", "法医临床", "", "", "", ""}}, 3, "A", "姓名", "name is required", false, false},
		{"ErrBool", [][]any{header, with(4, "也许")}, 2, "E", "岗前培训", "induction_trained must be", false, false},
		{"ErrHours", [][]any{header, with(5, "四十")}, 2, "F", "继续教育学时", "ce_hours must be a number", false, false},
		{"ErrHoursRule", [][]any{header, with(5, "-3")}, 2, "F", "继续教育学时", "0–2000 hours", false, false},
		{"ErrEmail", [][]any{header, with(7, "zhang at example")}, 2, "H", "邮箱", "email is not a valid address", false, false},
		{"ErrLongName", [][]any{header, with(0, strings.Repeat("名", 51))}, 2, "A", "姓名", "longer than 50", false, false},
		{"ErrCategoryLong", [][]any{header, with(3, "法医临床、"+strings.Repeat("类", 31))}, 2, "D", "执业类别", "categories[1]", false, false},
		{"ErrDuplicateLicence", [][]any{header, good, {"张三丰", "A-001", "", "法医临床", "", "", "", ""}}, 3, "B", "执业证号", "as row 2", false, false},
		{"ErrOtherInstitution", [][]any{header, good, {"赵六", "OTHER-1", "", "法医临床", "", "", "", ""}}, 3, "B", "执业证号", "another institution", false, false},
		{"ErrNoHeader", [][]any{header, append(slices.Clone(good), "多余")}, 2, "I", "", "no header", false, false},
		{"ErrUnknownColumn", [][]any{append(slices.Clone(header), "备注"), append(slices.Clone(good), "x")}, 1, "I", "备注", "unknown column", false, false},
		{"ErrRepeatedColumn", [][]any{append(slices.Clone(header), "name"), append(slices.Clone(good), "x")}, 1, "I", "name", "same column as column A", false, false},
		{"ErrMissingColumn", [][]any{{"姓名", "执业证号"}, {"张三", "A-001"}}, 1, "", "执业类别 / categories", "is missing", true, false},
		{"ErrCEYearColumn", [][]any{{"姓名", "执业证号", "执业类别", "1900年继续教育学时"}, {"张三", "A-001", "法医临床", "1"}}, 1, "D", "1900年继续教育学时", "1990–2100", false, false},
	}
	for _, f := range formats {
		for _, tc := range tests {
			t.Run(formatName(f)+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t)
				data := encode(t, f, tc.rows)
				before := e.snapshot()
				for _, dry := range []bool{true, false} {
					res, err := e.run(f, data, dry)
					switch {
					case dry && err != nil:
						t.Fatalf("dry run: %v", err)
					case !dry && (chuting.ErrorCode(err) != chuting.EINVALID || chuting.ErrorField(err) != "rows"):
						t.Fatalf("import: err %v, want invalid rows", err)
					case !dry && !strings.Contains(chuting.ErrorMessage(err), fmt.Sprintf("row %d", tc.row)):
						t.Errorf("import error does not quote row %d: %s", tc.row, chuting.ErrorMessage(err))
					}
					found := false
					for _, re := range res.Errors {
						found = found || re.Row == tc.row && re.Column == tc.column && re.Header == tc.header &&
							strings.Contains(re.Message, tc.message) && strings.Contains(re.Message, " / ")
					}
					if !found {
						t.Errorf("dry run %v: errors %+v lack row %d column %q header %q %q", dry, res.Errors, tc.row, tc.column, tc.header, tc.message)
					}
					if tc.rowsNotChecked && len(res.Rows)+len(res.Errors) != 1 {
						t.Errorf("rows were judged under a broken header: %+v", res)
					}
					if !reflect.DeepEqual(before, e.snapshot()) {
						t.Fatalf("dry run %v: a file with a bad row changed the store", dry)
					}
				}
			})
		}
	}
}

// TestImportHeaders reads the same roster under Chinese, English and template-style headers.
func TestImportHeaders(t *testing.T) {
	tests := []struct {
		name   string
		header []any
		year   int
	}{
		{"Chinese", header, 2026},
		{"English", []any{"name", "licence_no", "licence_expires", "categories", "induction_trained", "ce_hours", "phone", "email"}, 2026},
		{"EnglishSpaced", []any{"Name", "License No", "License-Expires", "Categories", "Induction Trained", "CE Hours 2025", "Phone", "EMAIL"}, 2025},
		{"Template", []any{"姓名*", "执业证号*", "执业证有效期（YYYY-MM-DD）", "执业类别*", "岗前培训(是/否)", "2025年继续教育学时", "联系电话", "电子邮箱"}, 2025},
		{"YearInHint", []any{"姓名", "执业证号", "有效期至", "鉴定类别", "岗前培训", "继续教育学时（2024年）", "电话", "邮箱"}, 2024},
	}
	for _, f := range formats {
		for _, tc := range tests {
			t.Run(formatName(f)+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t)
				rows := [][]any{tc.header, {"张三", "A-001", "2027-03-01", "法医临床", "yes", "42", "13800138000", "z@example.cn"}}
				res, err := e.run(f, encode(t, f, rows), false)
				if err != nil || res.Created != 1 {
					t.Fatalf("import: %v %+v", err, res)
				}
				a := e.appraiser("A-001")
				if a.Name != "张三" || !a.InductionTrained || !reflect.DeepEqual(a.CEHours, map[int]float64{tc.year: 42}) ||
					a.Phone != "13800138000" || a.Email != "z@example.cn" || a.LicenceExpires.String() != "2027-03-01" {
					t.Fatalf("appraiser = %+v", a)
				}
			})
		}
	}
}

// TestImportCSV covers what only CSV has: encodings, quoting and row numbers across quoted
// line breaks.
func TestImportCSV(t *testing.T) {
	text := "姓名,执业证号,执业类别,岗前培训\n张三,A-001,\"法医临床, 法医病理\",是\n"
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    string
		charset string
		code    string
	}{
		{"UTF8", text, "", ""},
		{"BOM", "\ufeff" + text, "", ""},
		{"BOMWithCharset", "\ufeff" + text, "utf-8", ""},
		{"GB18030", gb, "", ""},
		{"GB18030Named", gb, "GBK", ""},
		{"ErrGB18030AsUTF8", gb, "utf-8", chuting.EINVALID},
		{"ErrCharset", text, "big5", chuting.EUNSUPPORTED},
		{"ErrUTF16", "\xff\xfe" + "h\x00i\x00", "", chuting.EINVALID},
		{"ErrNotText", "\x81\x30\x81", "", chuting.EINVALID},
		{"ErrQuote", "姓名,执业证号,执业类别\n张三,\"A-001,法医临床\n", "", chuting.EINVALID},
		{"ErrEmpty", "\n\n", "", chuting.EINVALID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			res, err := e.im.Import(context.Background(), roster.Upload{InstitutionID: e.inst.ID, Format: roster.CSV,
				Charset: tc.charset, Data: []byte(tc.data)})
			if chuting.ErrorCode(err) != tc.code {
				t.Fatalf("err %v, want code %q", err, tc.code)
			}
			if tc.code != "" {
				return
			}
			a := e.appraiser("A-001")
			if res.Created != 1 || a.Name != "张三" || !slices.Equal(a.Categories, []string{"法医临床", "法医病理"}) {
				t.Fatalf("result %+v, appraiser %+v", res, a)
			}
		})
	}

	t.Run("RowNumbers", func(t *testing.T) {
		// A blank line and a line break inside a quoted cell: the spreadsheet shows the bad
		// row as row 5 (header 1, 张三 2, blank 3, 李四 4), whatever the line count.
		e := newEnv(t)
		data := "姓名,执业证号,执业类别,执业证有效期\n张三,A-001,\"法医临床\n法医病理\",2027-01-01\n\n李四,A-002,法医临床,2027-01-01\n王五,A-003,法医临床,明年\n"
		res, err := e.run(roster.CSV, []byte(data), true)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Errors) != 1 || res.Errors[0].Row != 5 || res.Errors[0].Column != "D" {
			t.Fatalf("errors = %+v, want one at row 5 column D", res.Errors)
		}
		if len(res.Rows) != 2 || res.Rows[0].Row != 2 || res.Rows[1].Row != 4 {
			t.Fatalf("rows = %+v", res.Rows)
		}
	})

	t.Run("Separators", func(t *testing.T) {
		e := newEnv(t)
		data := "姓名,执业证号,执业类别\n张三,A-001,法医临床、法医病理，法医物证；法医毒物;微量物证,声像资料、法医临床\n"
		if _, err := e.run(roster.CSV, []byte(data), false); err == nil {
			t.Fatal("an unquoted comma made extra cells without a header, yet the import passed")
		}
		data = "姓名,执业证号,执业类别\n张三,A-001,\"法医临床、法医病理，法医物证；法医毒物;微量物证,声像资料、法医临床\"\n"
		if _, err := e.run(roster.CSV, []byte(data), false); err != nil {
			t.Fatal(err)
		}
		want := []string{"法医临床", "法医病理", "法医物证", "法医毒物", "微量物证", "声像资料"}
		if got := e.appraiser("A-001").Categories; !slices.Equal(got, want) {
			t.Fatalf("categories = %q, want %q", got, want)
		}
	})
}

// TestImportXLSX covers cells only a workbook has: typed numbers, dates and booleans, blank
// rows, and a second sheet.
func TestImportXLSX(t *testing.T) {
	e := newEnv(t)
	rows := [][]any{
		header,
		{"张三", 360100123456789, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), "法医临床", true, 42, 13800138000, ""},
		nil, // a blank row: the next is row 4
		{"李四", "A-002", 46446, "法医临床", false, 12.5, "", ""}, // day 46446 is 2027-02-28 as Excel counts
		{"王五", "A-003", "不详", "法医临床", "否", "", "", ""},
	}
	res, err := e.run(roster.XLSX, MustXLSX(t, rows), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Row != 5 || res.Errors[0].Column != "C" {
		t.Fatalf("errors = %+v, want one at row 5 column C", res.Errors)
	}
	rows = rows[:4]
	if _, err := e.run(roster.XLSX, MustXLSX(t, rows), false); err != nil {
		t.Fatal(err)
	}
	zhang, li := e.appraiser("360100123456789"), e.appraiser("A-002")
	if zhang == nil || zhang.LicenceExpires.String() != "2027-03-01" || !zhang.InductionTrained || zhang.Phone != "13800138000" ||
		zhang.CEHours[2026] != 42 {
		t.Fatalf("张三 = %+v", zhang)
	}
	if li == nil || li.LicenceExpires.String() != "2027-02-28" || li.InductionTrained || li.CEHours[2026] != 12.5 {
		t.Fatalf("李四 = %+v", li)
	}

	t.Run("ErrNotAWorkbook", func(t *testing.T) {
		_, err := e.run(roster.XLSX, []byte("姓名,执业证号\n"), true)
		if chuting.ErrorCode(err) != chuting.EINVALID {
			t.Fatalf("err %v, want invalid", err)
		}
	})
}

func TestImportLimits(t *testing.T) {
	e := newEnv(t)
	t.Run("ErrTooLarge", func(t *testing.T) {
		data := bytes.Repeat([]byte("a"), roster.MaxBytes+1)
		for _, f := range formats {
			if _, err := e.run(f, data, true); chuting.ErrorCode(err) != chuting.ETOOLARGE {
				t.Errorf("%s: err %v, want too_large", formatName(f), err)
			}
		}
	})
	t.Run("Rows", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("姓名,执业证号,执业类别\n")
		for i := range roster.MaxRows {
			fmt.Fprintf(&b, "鉴定人%d,L-%05d,法医临床\n", i, i)
		}
		res, err := e.run(roster.CSV, []byte(b.String()), true)
		if err != nil || res.Created != roster.MaxRows {
			t.Fatalf("%d rows: %v", roster.MaxRows, err)
		}
		b.WriteString("多一行,L-X,法医临床\n")
		if _, err := e.run(roster.CSV, []byte(b.String()), true); chuting.ErrorCode(err) != chuting.ETOOLARGE {
			t.Fatalf("%d rows: err %v, want too_large", roster.MaxRows+1, err)
		}
	})
	t.Run("ErrWide", func(t *testing.T) {
		// One cell in the sheet's last column: read naively, every row becomes 16,384 wide.
		f := excelize.NewFile()
		defer f.Close()
		_ = f.SetSheetRow("Sheet1", "A1", &header)
		_ = f.SetCellValue("Sheet1", "XFD2", "x")
		b, err := f.WriteToBuffer()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.run(roster.XLSX, b.Bytes(), true); chuting.ErrorCode(err) != chuting.ETOOLARGE {
			t.Fatalf("a 16,384-column row: err %v, want too_large", err)
		}
		wide := "姓名,执业证号,执业类别" + strings.Repeat(",x", roster.MaxColumns) + "\n"
		if _, err := e.run(roster.CSV, []byte(wide), true); chuting.ErrorCode(err) != chuting.ETOOLARGE {
			t.Fatalf("a %d-column CSV row: err %v, want too_large", roster.MaxColumns+3, err)
		}
	})
	t.Run("ErrFormat", func(t *testing.T) {
		if _, err := e.run("application/pdf", []byte("%PDF"), true); chuting.ErrorCode(err) != chuting.EUNSUPPORTED {
			t.Fatalf("err %v, want unsupported_media", err)
		}
	})
	t.Run("ErrInstitution", func(t *testing.T) {
		_, err := e.im.Import(context.Background(), roster.Upload{InstitutionID: chuting.NewID(), Format: roster.CSV, Data: []byte("姓名")})
		if chuting.ErrorCode(err) != chuting.ENOTFOUND {
			t.Fatalf("err %v, want not_found", err)
		}
	})
}

// crashing is a store that fails every Put after the first n, as a crash mid-import would
// stop it.
type crashing struct {
	chuting.Store
	PutFn func(ctx context.Context, rec chuting.Record, expect int64) error
}

func (c *crashing) Put(ctx context.Context, rec chuting.Record, expect int64) error {
	return c.PutFn(ctx, rec, expect)
}

// TestImportResume stops an import after each possible number of writes, then imports the
// same file again: the end state is that of an uninterrupted import, with no duplicates.
func TestImportResume(t *testing.T) {
	rows := goodRows()
	rows = append(rows, []any{"孙八", "A-004", "", "法医临床", "", "", "", ""})
	data := encode(t, roster.CSV, rows)

	clean := newEnv(t)
	if _, err := clean.run(roster.CSV, data, false); err != nil {
		t.Fatal(err)
	}
	want := summary(t, clean)

	for n := range 4 {
		t.Run(fmt.Sprintf("After%d", n), func(t *testing.T) {
			e := newEnv(t)
			writes := 0
			im := &roster.Importer{Now: e.im.Now, Store: &crashing{Store: e.store, PutFn: func(ctx context.Context, rec chuting.Record, expect int64) error {
				if writes == n {
					return chuting.Errorf(chuting.EUNAVAILABLE, "store went away")
				}
				writes++
				return e.store.Put(ctx, rec, expect)
			}}}
			_, err := im.Import(context.Background(), roster.Upload{InstitutionID: e.inst.ID, Format: roster.CSV, Data: data})
			if chuting.ErrorCode(err) != chuting.EUNAVAILABLE || !strings.Contains(chuting.ErrorMessage(err), "Import the same file again") {
				t.Fatalf("interrupted import: %v", err)
			}
			res, err := e.run(roster.CSV, data, false)
			if err != nil {
				t.Fatal(err)
			}
			if res.Created+res.Updated != 4-n || res.Unchanged != n {
				t.Errorf("re-run after %d writes = %+v", n, res)
			}
			if got := summary(t, e); !reflect.DeepEqual(got, want) {
				t.Fatalf("after resuming: %v, want %v", got, want)
			}
		})
	}
}

// summary describes the importing institution's appraisers without IDs and times, to compare
// two stores.
func summary(t *testing.T, e *env) []string {
	t.Helper()
	q := chuting.Equal(chuting.KindAppraiser, chuting.IndexInstitution, e.inst.ID)
	all, err := chuting.FindAll[chuting.Appraiser](context.Background(), e.store, q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range all {
		out = append(out, fmt.Sprintf("%s %s %s %v %v %v %s %s", a.LicenceNo, a.Name, a.LicenceExpires, a.Categories,
			a.InductionTrained, a.CEHours, a.Phone, a.Email))
	}
	slices.Sort(out)
	return out
}
