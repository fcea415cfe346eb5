package attendance

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/chuting/chuting"
	"github.com/xuri/excelize/v2"
)

// Monthly reports (统计报表, #42, #43): one per institution, its appraisers' tallies, and one
// for the justice bureau, by institution, court and category. Each is a CSV file (UTF-8 with
// a byte-order mark, so that Excel reads the Chinese right) and an XLSX workbook whose first
// sheet holds exactly the CSV's table, numbers as numbers; both are stored in the Report
// record. The XLSX is written with github.com/xuri/excelize/v2, which the roster import
// already uses to read workbooks: pure Go, no other runtime.

// Columns of a report table, zh-CN with English.
var columns = []string{"分组 / group", "编号 / key", "名称 / name", "应出庭人次 / served", "出庭 / appeared",
	"远程 / remote", "现场 / in person", "迟到 / late", "提前离开 / left early", "中途退庭 / walked out",
	"准许不出庭 / excused", "技术故障 / technical failure", "无故拒不出庭 / absent without cause",
	"未到庭待认定 / no-show", "待出庭 / pending", "出庭率 / appearance rate",
	"剔除正当理由出庭率 / rate excluding excused and technical failures"}

// Columns returns the report table's header.
func Columns() []string { return append([]string(nil), columns...) }

// firstRateColumn is the index of the first rate column (shown as percentages in the workbook).
const firstRateColumn = 15

// groupName names a dimension in the group column.
func groupName(by Dimension) string {
	switch by {
	case ByAppraiser:
		return "鉴定人 / appraiser"
	case ByInstitution:
		return "鉴定机构 / institution"
	case ByCategory:
		return "鉴定类别 / category"
	case ByCourt:
		return "法院 / court"
	case ByMonth:
		return "月份 / month"
	}
	return string(by)
}

// row is one table row: text, then counts, then rates (nil when there is none).
func row(group string, t Tally) []any {
	out := []any{group, t.Key, t.Name, t.Served, t.Appeared, t.Remote, t.InPerson, t.Late, t.LeftEarly,
		t.WalkedOut, t.Excused, t.TechnicalFailure, t.AbsentWithoutCause, t.NoShow, t.Pending}
	for _, r := range []*float64{t.Rate, t.RateExcludingJustified} {
		if r == nil {
			out = append(out, nil)
		} else {
			out = append(out, *r)
		}
	}
	return out
}

// Grid lays tables out as one report table: a row per group of each table, then the total
// (of the first table: every table holds the same units).
func Grid(tables ...Table) [][]any {
	var out [][]any
	for _, t := range tables {
		for _, r := range t.Rows {
			out = append(out, row(groupName(t.By), r))
		}
	}
	if len(tables) > 0 {
		out = append(out, row("合计 / total", tables[0].Total))
	}
	return out
}

// cellText is how a cell is written in the CSV: counts as integers, rates to four places,
// no rate as an empty cell.
func cellText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	return fmt.Sprint(v)
}

// CSV writes the grid under the header as CSV, UTF-8 with a byte-order mark.
func CSV(grid [][]any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.UseCRLF = true // what Excel writes and expects
	if err := w.Write(columns); err != nil {
		return nil, err
	}
	for _, r := range grid {
		rec := make([]string, len(r))
		for i, v := range r {
			rec[i] = cellText(v)
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// SheetName is the name of the workbook's table sheet.
const SheetName = "出庭统计"

// XLSX writes the grid under the header as a workbook: the table on the first sheet
// (SheetName), the report's title and the definitions on a second.
func XLSX(grid [][]any, about [][]string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		return nil, err
	}
	header := make([]any, len(columns))
	for i, c := range columns {
		header[i] = c
	}
	if err := f.SetSheetRow(SheetName, "A1", &header); err != nil {
		return nil, err
	}
	for i, r := range grid {
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return nil, err
		}
		if err := f.SetSheetRow(SheetName, cell, &r); err != nil {
			return nil, err
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return nil, err
	}
	last, _ := excelize.ColumnNumberToName(len(columns))
	if err := f.SetCellStyle(SheetName, "A1", last+"1", bold); err != nil {
		return nil, err
	}
	if len(grid) > 0 {
		percent, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
		if err != nil {
			return nil, err
		}
		from, _ := excelize.ColumnNumberToName(firstRateColumn + 1)
		if err := f.SetCellStyle(SheetName, from+"2", last+strconv.Itoa(len(grid)+1), percent); err != nil {
			return nil, err
		}
	}
	if err := f.SetColWidth(SheetName, "A", "C", 22); err != nil {
		return nil, err
	}
	from, _ := excelize.ColumnNumberToName(4)
	if err := f.SetColWidth(SheetName, from, last, 12); err != nil {
		return nil, err
	}
	if err := f.SetPanes(SheetName, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	const aboutSheet = "说明"
	if _, err := f.NewSheet(aboutSheet); err != nil {
		return nil, err
	}
	for i, r := range about {
		cells := make([]any, len(r))
		for j, v := range r {
			cells[j] = v
		}
		if err := f.SetSheetRow(aboutSheet, "A"+strconv.Itoa(i+1), &cells); err != nil {
			return nil, err
		}
	}
	if err := f.SetColWidth(aboutSheet, "A", "A", 24); err != nil {
		return nil, err
	}
	if err := f.SetColWidth(aboutSheet, "B", "B", 100); err != nil {
		return nil, err
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// definitions explain the columns, for the workbook's second sheet.
var definitions = [][]string{
	{"口径 / Definitions", "每名被通知鉴定人在每份出庭通知上计一人次，按出庭时间归入月份。/ Each summoned appraiser on each summons is one unit, in the month its hearing was due."},
	{"应出庭人次 / served", "已有结果的人次（不含待出庭和已撤销）。/ Units with a settled attendance (not pending, not cancelled)."},
	{"出庭 / appeared", "远程或现场出庭，含迟到和提前离开；中途退庭不计。/ Remote or in person, late and left early included; a walk-out is not counted."},
	{"出庭率 / appearance rate", "出庭 ÷ 应出庭人次。/ appeared ÷ served."},
	{"剔除正当理由出庭率", "出庭 ÷（应出庭 − 准许不出庭 − 技术故障）。/ appeared ÷ (served − excused − technical failures)."},
	{"迟到 / late", "首次到达（进入等候室或到庭）晚于开庭时间加宽限。/ First arrival (waiting room or court) after the start plus the grace."},
	{"依据 / Basis", "DOMAIN.md §4 #34–#43; 在线诉讼规则 art. 25; 民诉法 art. 81; 刑诉法 art. 192."},
}

// Month returns the first instant of t's month in Asia/Shanghai.
func Month(t time.Time) time.Time {
	t = t.In(chuting.ChinaZone())
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, chuting.ChinaZone())
}

// MonthlyReports generates and stores the reports of the month that month falls in (Asia/
// Shanghai): one per institution and one for the bureau. A report already stored is kept
// as it was, so running it twice stores each once. It returns how many it stored.
func (s *Service) MonthlyReports(ctx context.Context, month time.Time) (int, error) {
	from := Month(month)
	to := from.AddDate(0, 1, 0)
	period := from.Format("2006-01")
	insts, err := chuting.FindAll[chuting.Institution](ctx, s.store, chuting.Query{})
	if err != nil {
		return 0, err
	}
	// The reports made already are not worked out again (asked twice, the month costs once).
	made, err := chuting.FindAll[chuting.Report](ctx, s.store, chuting.Equal(chuting.KindReport, chuting.IndexPeriod, period))
	if err != nil {
		return 0, err
	}
	have := map[string]bool{}
	for _, r := range made {
		have[r.ID] = true
	}
	if have[chuting.ReportID(chuting.ReportBureau, "", period)] && !slices.ContainsFunc(insts, func(i *chuting.Institution) bool {
		return !have[chuting.ReportID(chuting.ReportInstitution, i.ID, period)]
	}) {
		return 0, nil // every institution's and the bureau's
	}
	units, err := s.Units(ctx, from, to, nil)
	if err != nil {
		return 0, err
	}
	stored := 0
	var errs []error
	save := func(r *chuting.Report, tables func() []Table, title string) {
		if have[r.ID] {
			return
		}
		about := append([][]string{{"报表 / Report", title}, {"期间 / Period", period},
			{"生成时间 / Generated", s.now().In(chuting.ChinaZone()).Format("2006-01-02 15:04 MST")}}, definitions...)
		ts := tables()
		grid := Grid(ts...)
		var err error
		if r.CSV, err = CSV(grid); err == nil {
			r.XLSX, err = XLSX(grid, about)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("report %s: %w", r.ID, err))
			return
		}
		r.Served, r.Appeared = ts[0].Total.Served, ts[0].Total.Appeared
		switch err := chuting.Create(ctx, s.store, r); chuting.ErrorCode(err) {
		case "":
			stored++
		case chuting.ECONFLICT: // generated already
		default:
			errs = append(errs, fmt.Errorf("store report %s: %w", r.ID, err))
		}
	}
	for _, in := range insts {
		r := &chuting.Report{Meta: chuting.Meta{ID: chuting.ReportID(chuting.ReportInstitution, in.ID, period)},
			Scope: chuting.ReportInstitution, InstitutionID: in.ID, Period: period, From: from.UTC(), To: to.UTC()}
		save(r, func() []Table {
			var mine []Unit
			for _, u := range units {
				if u.Summons.InstitutionID == in.ID {
					mine = append(mine, u)
				}
			}
			return []Table{s.Group(ctx, mine, ByAppraiser, from, to)}
		}, in.Name+" 出庭作证统计 / appearance statistics")
	}
	r := &chuting.Report{Meta: chuting.Meta{ID: chuting.ReportID(chuting.ReportBureau, "", period)},
		Scope: chuting.ReportBureau, Period: period, From: from.UTC(), To: to.UTC()}
	save(r, func() []Table {
		return []Table{s.Group(ctx, units, ByInstitution, from, to), s.Group(ctx, units, ByCourt, from, to),
			s.Group(ctx, units, ByCategory, from, to)}
	}, "司法鉴定人出庭作证统计 / appraisers' appearance statistics")
	return stored, errors.Join(errs...)
}

// ReportLastMonth generates the reports of the month before now's (the monthly job).
func (s *Service) ReportLastMonth(ctx context.Context) (int, error) {
	return s.MonthlyReports(ctx, Month(s.now()).AddDate(0, -1, 0))
}
