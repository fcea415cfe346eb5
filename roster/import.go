package roster

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chuting/chuting"
)

// Importer reads institutions' rosters into the store.
type Importer struct {
	Store chuting.Records
	// Now gives the year of a continuing-education column that names none; nil = time.Now.
	Now func() time.Time
}

// Upload is a roster file to import into an institution.
type Upload struct {
	InstitutionID string
	Format        Format
	Charset       string // the charset parameter of a CSV's media type; "" = detect
	Data          []byte
	DryRun        bool // check and report, write nothing
}

// Action is what an import does with a row.
type Action string

// Actions.
const (
	Create    Action = "create"    // a new appraiser
	Update    Action = "update"    // the appraiser with the row's licence number, changed
	Unchanged Action = "unchanged" // the appraiser with the row's licence number, already as the row says
)

// RowError is a problem with one row (or, with Row the header's, with the header): where it
// is as the spreadsheet shows it, and what it is, in Chinese and English.
type RowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"` // the column letter, A, B …; "" for a missing column
	Header  string `json:"header,omitempty"` // the column's header
	Message string `json:"message"`
}

// String returns the error as one line, for a summary.
func (e RowError) String() string {
	s := fmt.Sprintf("第 %d 行 / row %d", e.Row, e.Row)
	if e.Column != "" {
		s += fmt.Sprintf(", %s 列 / column %s", e.Column, e.Column)
	}
	if e.Header != "" {
		s += " (" + e.Header + ")"
	}
	return s + ": " + e.Message
}

// RowAction is what the import does (or, in a dry run, would do) with a good row.
type RowAction struct {
	Row         int    `json:"row"`
	LicenceNo   string `json:"licence_no"`
	Name        string `json:"name"`
	Action      Action `json:"action"`
	AppraiserID string `json:"appraiser_id,omitempty"` // known for updates, and for creates once written
	// Changes names the fields an update changes (name, licence_expires …), so that a dry
	// run shows a row matched to the wrong appraiser by a mistyped licence number.
	Changes []string `json:"changes,omitempty"`
}

// Result is the outcome of an import: what it did or, in a dry run, would do, and every
// problem found.
type Result struct {
	DryRun    bool        `json:"dry_run"`
	Created   int         `json:"created"`
	Updated   int         `json:"updated"`
	Unchanged int         `json:"unchanged"`
	Errors    []RowError  `json:"errors"`
	Rows      []RowAction `json:"rows"`
}

// planned is a good row and the appraiser record it becomes.
type planned struct {
	row    int // in Result.Rows
	action Action
	a      *chuting.Appraiser
}

// errorsShown is how many row errors the error of a failed import quotes.
const errorsShown = 5

// Import reads the roster in up into institution up.InstitutionID: each data row becomes
// one of its appraisers, matched by licence number (see the package documentation).
//   - A dry run returns the result and writes nothing.
//   - An import with any bad row writes nothing, and returns the result with an EINVALID
//     error (field "rows") that quotes the first problems.
//   - An import without bad rows writes them all, in file order; if a write fails, the
//     error says how far it got, and importing the same file again completes it.
//
// Other errors: ENOTFOUND for an unknown institution; EINVALID for a file that cannot be
// read (not CSV or XLSX, an unknown encoding, no header); ETOOLARGE for one over MaxBytes or
// MaxRows; EUNSUPPORTED for another format or charset.
func (im *Importer) Import(ctx context.Context, up Upload) (*Result, error) {
	if _, err := chuting.Load[chuting.Institution](ctx, im.Store, up.InstitutionID); err != nil {
		return nil, fmt.Errorf("import roster: institution %s: %w", up.InstitutionID, err)
	}
	sh, err := read(up.Data, up.Format, up.Charset)
	if err != nil {
		return nil, err
	}
	if len(sh.lines) == 0 {
		return nil, chuting.Errorf(chuting.EINVALID, "文件是空的，第一行应为表头 / the file is empty; its first row must be the header")
	}
	res := &Result{DryRun: up.DryRun, Errors: []RowError{}, Rows: []RowAction{}}
	plan, err := im.plan(ctx, up.InstitutionID, sh, res)
	if err != nil {
		return nil, err
	}
	if len(res.Errors) > 0 {
		slices.SortStableFunc(res.Errors, func(a, b RowError) int {
			return cmp.Or(cmp.Compare(a.Row, b.Row), cmp.Compare(len(a.Column), len(b.Column)), cmp.Compare(a.Column, b.Column))
		})
		if !up.DryRun {
			return res, rowsError(res.Errors)
		}
	}
	if up.DryRun {
		return res, nil
	}
	return res, im.write(ctx, plan, res)
}

// plan checks every data row against the header, the rules of Check and the store, adding
// the problems to res.Errors and the good rows to res.Rows. A missing required column stops
// it after the header, since no row could then be judged.
func (im *Importer) plan(ctx context.Context, institutionID string, sh *sheet, res *Result) ([]planned, error) {
	now := time.Now
	if im.Now != nil {
		now = im.Now
	}
	header := sh.lines[0]
	cols, errs := columns(header.cells, header.row, now().In(chuting.ChinaZone()).Year())
	res.Errors = append(res.Errors, errs...)
	for _, e := range errs {
		if e.Column == "" {
			return nil, nil
		}
	}
	headed := map[int]bool{} // columns with a header, known or not: data under them is no row's fault
	for i, h := range header.cells {
		headed[i] = strings.TrimSpace(h) != ""
	}

	q := chuting.Equal(chuting.KindAppraiser, chuting.IndexInstitution, institutionID)
	q.Limit = chuting.MaxLimit
	own, err := chuting.FindAll[chuting.Appraiser](ctx, im.Store, q)
	if err != nil {
		return nil, fmt.Errorf("import roster: list appraisers: %w", err)
	}
	byLicence := map[string]*chuting.Appraiser{}
	for _, a := range own {
		byLicence[a.LicenceNo] = a
	}

	var (
		plan []planned
		seen = map[string]int{} // licence number → the row that has it
	)
	for _, l := range sh.lines[1:] {
		r := rowReader{line: l, cols: cols, sheet: sh}
		for i, v := range l.cells {
			if !headed[i] && strings.TrimSpace(v) != "" {
				r.fail(column{index: i, letter: letter(i)}, "此列没有表头 / this column has no header")
			}
		}
		licence, lc := r.get(fieldLicence, 0)
		base := &chuting.Appraiser{InstitutionID: institutionID}
		var old *chuting.Appraiser
		switch prev, dup := seen[licence]; {
		case licence == "":
		case dup:
			r.fail(lc, fmt.Sprintf("与第 %d 行的执业证号重复 / the same licence number as row %d", prev, prev))
		default:
			seen[licence] = l.row
			if old = byLicence[licence]; old != nil {
				base = clone(old)
				break
			}
			_, err := chuting.FindOne[chuting.Appraiser](ctx, im.Store, chuting.IndexLicence, licence)
			switch chuting.ErrorCode(err) {
			case "":
				r.fail(lc, "执业证号已登记在其他鉴定机构 / this licence number belongs to an appraiser of another institution")
			case chuting.ENOTFOUND:
			default:
				return nil, fmt.Errorf("import roster: look up licence: %w", err)
			}
		}
		r.apply(base)
		for _, e := range Check(base) {
			r.fail(r.columnOf(e.Field), e.Message)
		}
		if len(r.errs) > 0 {
			res.Errors = append(res.Errors, r.errs...)
			continue
		}
		act := RowAction{Row: l.row, LicenceNo: base.LicenceNo, Name: base.Name, Action: Create}
		switch {
		case old == nil:
			res.Created++
		case reflect.DeepEqual(base, old):
			act.Action, act.AppraiserID = Unchanged, old.ID
			res.Unchanged++
		default:
			act.Action, act.AppraiserID, act.Changes = Update, old.ID, changes(old, base)
			res.Updated++
		}
		plan = append(plan, planned{row: len(res.Rows), action: act.Action, a: base})
		res.Rows = append(res.Rows, act)
	}
	return plan, nil
}

// clone copies an appraiser deeply enough for a row to change it.
func clone(a *chuting.Appraiser) *chuting.Appraiser {
	c := *a
	c.Categories = slices.Clone(a.Categories)
	c.CEHours = maps.Clone(a.CEHours)
	return &c
}

// changes names the fields of a sheet that differ between a and b, in column order.
func changes(a, b *chuting.Appraiser) []string {
	differ := [...]bool{
		fieldName:       a.Name != b.Name,
		fieldExpires:    a.LicenceExpires != b.LicenceExpires,
		fieldCategories: !slices.Equal(a.Categories, b.Categories),
		fieldInduction:  a.InductionTrained != b.InductionTrained,
		fieldCEHours:    !maps.Equal(a.CEHours, b.CEHours),
		fieldPhone:      a.Phone != b.Phone,
		fieldEmail:      a.Email != b.Email,
	}
	var out []string
	for f, d := range differ {
		if d {
			out = append(out, fieldNames[f])
		}
	}
	return out
}

// rowReader reads one data row into an appraiser and collects its problems.
type rowReader struct {
	line  line
	cols  []column
	sheet *sheet
	errs  []RowError
}

func (r *rowReader) fail(c column, msg string) {
	r.errs = append(r.errs, RowError{Row: r.line.row, Column: c.letter, Header: c.header, Message: msg})
}

func (r *rowReader) cell(c column) string {
	if c.index < len(r.line.cells) {
		return strings.TrimSpace(r.line.cells[c.index])
	}
	return ""
}

// get returns the cell of the column of f (and year, for ce_hours).
func (r *rowReader) get(f field, year int) (string, column) {
	for _, c := range r.cols {
		if c.field == f && c.year == year {
			return r.cell(c), c
		}
	}
	return "", column{}
}

// apply sets the fields of a from the row's cells. A blank cell leaves its field as it was:
// the sheet says nothing about it.
func (r *rowReader) apply(a *chuting.Appraiser) {
	for _, c := range r.cols {
		v := r.cell(c)
		if v == "" {
			continue
		}
		if c.field != fieldCategories && hasControl(v) {
			r.fail(c, "含有控制字符（如换行）/ has a control character, such as a line break")
			continue
		}
		switch c.field {
		case fieldName:
			a.Name = v
		case fieldLicence:
			a.LicenceNo = v
		case fieldExpires:
			d, ok := parseDate(v, r.sheet.serialDates, r.sheet.date1904)
			if !ok {
				r.fail(c, "执业证有效期须为日期，如 2027-03-01 / licence_expires must be a date such as 2027-03-01")
				continue
			}
			a.LicenceExpires = d
		case fieldCategories:
			a.Categories = splitList(v)
			if slices.ContainsFunc(a.Categories, hasControl) {
				r.fail(c, "含有控制字符 / has a control character")
			}
		case fieldInduction:
			b, ok := parseBool(v)
			if !ok {
				r.fail(c, "岗前培训须为 是/否 / induction_trained must be yes/no, true/false or 1/0")
				continue
			}
			a.InductionTrained = b
		case fieldCEHours:
			h, ok := parseHours(v)
			if !ok {
				r.fail(c, "继续教育学时须为数字 / ce_hours must be a number")
				continue
			}
			if a.CEHours == nil {
				a.CEHours = map[int]float64{}
			}
			a.CEHours[c.year] = h
		case fieldPhone:
			a.Phone = v
		case fieldEmail:
			a.Email = v
		}
	}
}

// columnOf returns the column of a Check error's field: "categories[2]" is the categories
// column, "ce_hours.2026" that of 2026. A field the sheet has no column for (a stored
// conflict, say) gives no column.
func (r *rowReader) columnOf(jsonField string) column {
	name, rest, _ := strings.Cut(jsonField, "[")
	if rest == "" {
		name, rest, _ = strings.Cut(jsonField, ".")
	}
	for f, n := range fieldNames {
		if n != name || n == "" {
			continue
		}
		year := 0
		if field(f) == fieldCEHours {
			year, _ = strconv.Atoi(rest)
		}
		_, c := r.get(field(f), year)
		return c
	}
	return column{}
}

// rowsError is the error of an import refused for bad rows: it quotes the first few, and
// the rest are a dry run away.
func rowsError(errs []RowError) error {
	var b strings.Builder
	fmt.Fprintf(&b, "名册有 %d 处错误，未导入任何记录 / the roster has %d errors; nothing was imported", len(errs), len(errs))
	for _, e := range errs[:min(errorsShown, len(errs))] {
		b.WriteString("; ")
		b.WriteString(e.String())
	}
	if len(errs) > errorsShown {
		b.WriteString("; … 以 dry_run=true 再次提交可查看全部错误 / send it with dry_run=true to see them all")
	}
	return &chuting.Error{Code: chuting.EINVALID, Field: "rows", Message: b.String()}
}

// write stores the planned rows in file order. It is not cancelled with ctx: an import the
// client gave up on still completes, rather than stopping at an arbitrary row.
func (im *Importer) write(ctx context.Context, plan []planned, res *Result) error {
	ctx = context.WithoutCancel(ctx)
	written := 0
	for _, p := range plan {
		var err error
		switch p.action {
		case Create:
			err = chuting.Create(ctx, im.Store, p.a)
		case Update:
			err = chuting.Save(ctx, im.Store, p.a)
		default:
			continue
		}
		if err != nil {
			row := res.Rows[p.row]
			return &chuting.Error{Code: chuting.ErrorCode(err), Field: "rows", Err: err, Message: fmt.Sprintf(
				"第 %d 行（执业证号 %s）写入失败：%s；此前已写入 %d 行。请再次导入同一文件，已写入的行不会重复 / "+
					"row %d (licence %s) could not be written: %s; %d rows before it were. Import the same file again: "+
					"rows already written are not written twice",
				row.Row, row.LicenceNo, chuting.ErrorMessage(err), written, row.Row, row.LicenceNo, chuting.ErrorMessage(err), written)}
		}
		res.Rows[p.row].AppraiserID = p.a.ID
		written++
	}
	return nil
}
