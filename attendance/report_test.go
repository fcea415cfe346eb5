package attendance_test

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/attendance"
	"github.com/xuri/excelize/v2"
)

// nov is a day and time in November 2026, China Standard Time.
func nov(day, hour, minute int) time.Time { return time.Date(2026, 11, day, hour, minute, 0, 0, cst) }

// month generates November 2026: eighteen summons with known outcomes for three appraisers
// at two institutions, before two courts, in three categories, and a few outside the month.
// The comments number the units the expectations below refer to.
func (w *world) month() {
	const (
		clinical, pathology, documents = 0, 1, 2 // opinions
		c1, c2                         = 0, 1    // courts
	)
	specs := []hearingSpec{
		// 李明 (a0, institution 0)
		{[]int{0}, c1, clinical, nov(2, 9, 0), chuting.SummonsCompleted, "appeared", 0, false, logAppeared},                      // 1 appeared
		{[]int{0}, c1, clinical, nov(4, 9, 0), chuting.SummonsCompleted, "appeared", 0, false, logLate},                          // 2 late
		{[]int{0}, c2, pathology, nov(6, 14, 0), chuting.SummonsCompleted, "appeared", chuting.ModeInPerson, false, logInPerson}, // 3 in person
		{[]int{0}, c1, pathology, nov(9, 9, 0), chuting.SummonsAbsent, chuting.CauseWithoutCause, 0, false, nil},                 // 4 absent without cause
		{[]int{0}, c2, clinical, nov(11, 9, 0), chuting.SummonsExcused, "excused: 住院", 0, true, nil},                             // 5 excused
		// 王芳 (a1, institution 0)
		{[]int{1}, c1, clinical, nov(12, 9, 0), chuting.SummonsCompleted, "appeared", 0, false, logDroppedNotResumed}, // 6 left early
		{[]int{1}, c2, clinical, nov(13, 9, 0), chuting.SummonsAbsent, chuting.CauseTechnicalFailure, 0, false, nil},  // 7 technical failure
		{[]int{1}, c1, clinical, nov(16, 9, 0), chuting.SummonsCompleted, "appeared", 0, false, logWalkedOut},         // 8 walked out
		{[]int{1}, c2, clinical, nov(18, 9, 0), chuting.SummonsCompleted, "appeared", 0, false, logReconnected},       // 9 appeared
		// 赵静 (a2, institution 1)
		{[]int{2}, c2, documents, nov(19, 9, 0), chuting.SummonsCompleted, "appeared", 0, false, logAppeared},    // 10 appeared
		{[]int{2}, c1, documents, nov(20, 9, 0), chuting.SummonsScheduled, "", 0, false, nil},                    // 11 no show
		{[]int{2}, c2, documents, nov(23, 9, 0), chuting.SummonsInProgress, "", 0, false, logLostInWaitingRoom},  // 12 technical failure
		{[]int{2}, c1, documents, nov(25, 9, 0), chuting.SummonsScheduled, "", 0, false, logCorrectedToInPerson}, // 13 corrected to in person
		{[]int{2}, c2, documents, nov(27, 9, 0), chuting.SummonsDeclined, "", 0, false, nil},                     // 14 pending
		{[]int{2}, c1, documents, nov(1, 0, 30), chuting.SummonsCompleted, "appeared", 0, false, logAppeared},    // 18 appeared, 1 Nov 00:30 CST (31 Oct UTC)
		// Not counted: cancelled, and outside the month.
		{[]int{0}, c1, clinical, nov(24, 9, 0), chuting.SummonsCancelled, "cancelled: 撤诉", 0, false, nil},                                 // 15 cancelled
		{[]int{0}, c1, clinical, time.Date(2026, 12, 1, 9, 0, 0, 0, cst), chuting.SummonsScheduled, "", 0, false, nil},                    // 16 December
		{[]int{1}, c2, clinical, time.Date(2026, 10, 31, 23, 30, 0, 0, cst), chuting.SummonsCompleted, "appeared", 0, false, logAppeared}, // 17 October
	}
	for _, sp := range specs {
		w.add(sp)
	}
}

// tally is the expected counts of a group: served, appeared, remote, in person, late, left
// early, walked out, excused, technical failure, absent without cause, no-show, pending.
type tally [12]int

func counts(t attendance.Tally) tally {
	return tally{t.Served, t.Appeared, t.Remote, t.InPerson, t.Late, t.LeftEarly, t.WalkedOut, t.Excused,
		t.TechnicalFailure, t.AbsentWithoutCause, t.NoShow, t.Pending}
}

// Worked out by hand from the units in month.
var (
	wantLiMing   = tally{5, 3, 2, 1, 1, 0, 0, 1, 0, 1, 0, 0}  // 1–5: rate 3/5, excluding justified 3/4
	wantWangFang = tally{4, 2, 2, 0, 0, 1, 1, 0, 1, 0, 0, 0}  // 6–9: 2/4, 2/3
	wantZhaoJing = tally{5, 3, 2, 1, 0, 0, 0, 0, 1, 0, 1, 1}  // 10–14, 18: 3/5, 3/4
	wantInst0    = tally{9, 5, 4, 1, 1, 1, 1, 1, 1, 1, 0, 0}  // 5/9, 5/7
	wantCourt1   = tally{8, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 0}  // 1, 2, 4, 6, 8, 11, 13, 18: 5/8, 5/8
	wantCourt2   = tally{6, 3, 2, 1, 0, 0, 0, 1, 2, 0, 0, 1}  // 3, 5, 7, 9, 10, 12 (+14): 3/6, 3/3
	wantTotal    = tally{14, 8, 6, 2, 1, 1, 1, 1, 2, 1, 1, 1} // 8/14, 8/11
)

func rate(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

func TestRates(t *testing.T) {
	w := newWorld(t)
	w.month()
	from, to := chuting.Date{Year: 2026, Month: 11, Day: 1}, chuting.Date{Year: 2026, Month: 11, Day: 30}
	byKey := func(tb attendance.Table) map[string]attendance.Tally {
		out := map[string]attendance.Tally{}
		for _, r := range tb.Rows {
			out[r.Key] = r
		}
		return out
	}
	tests := []struct {
		by   attendance.Dimension
		want map[string]tally
		rate map[string][2]float64
	}{
		{attendance.ByAppraiser, map[string]tally{w.a[0].ID: wantLiMing, w.a[1].ID: wantWangFang, w.a[2].ID: wantZhaoJing},
			map[string][2]float64{w.a[0].ID: {0.6, 0.75}, w.a[1].ID: {0.5, 0.6667}, w.a[2].ID: {0.6, 0.75}}},
		{attendance.ByInstitution, map[string]tally{w.insts[0].ID: wantInst0, w.insts[1].ID: wantZhaoJing},
			map[string][2]float64{w.insts[0].ID: {0.5556, 0.7143}, w.insts[1].ID: {0.6, 0.75}}},
		{attendance.ByCourt, map[string]tally{w.courts[0].ID: wantCourt1, w.courts[1].ID: wantCourt2},
			map[string][2]float64{w.courts[0].ID: {0.625, 0.625}, w.courts[1].ID: {0.5, 1}}},
		{attendance.ByCategory, map[string]tally{
			"法医临床": {7, 4, 4, 0, 1, 1, 1, 1, 1, 0, 0, 0}, // 1, 2, 5, 6, 7, 8, 9
			"法医病理": {2, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0}, // 3, 4
			"文书":   wantZhaoJing,
		}, map[string][2]float64{"法医临床": {0.5714, 0.8}, "法医病理": {0.5, 0.5}}},
		{attendance.ByMonth, map[string]tally{"2026-11": wantTotal}, map[string][2]float64{"2026-11": {0.5714, 0.7273}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.by), func(t *testing.T) {
			tb, err := w.svc.Rates(w.ctx, tt.by, from, to, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := byKey(tb)
			if len(got) != len(tt.want) {
				t.Errorf("%d groups, want %d: %+v", len(got), len(tt.want), tb.Rows)
			}
			for k, want := range tt.want {
				if c := counts(got[k]); c != want {
					t.Errorf("%s (%s): %v, want %v", k, got[k].Name, c, want)
				}
			}
			for k, r := range tt.rate {
				if g := got[k]; rate(g.Rate) != r[0] || rate(g.RateExcludingJustified) != r[1] {
					t.Errorf("%s rates %v %v, want %v", k, rate(g.Rate), rate(g.RateExcludingJustified), r)
				}
			}
			if c := counts(tb.Total); c != wantTotal || tb.From != "2026-11-01" || tb.To != "2026-11-30" {
				t.Errorf("total %v from %s to %s, want %v for 2026-11-01–30", c, tb.From, tb.To, wantTotal)
			}
		})
	}
	t.Run("Scoped", func(t *testing.T) {
		mine := func(sm *chuting.Summons, appraiserID string) bool { return appraiserID == w.a[1].ID }
		tb, err := w.svc.Rates(w.ctx, attendance.ByAppraiser, from, to, mine)
		if err != nil || len(tb.Rows) != 1 || counts(tb.Total) != wantWangFang {
			t.Fatalf("one appraiser's rates: %+v %v", tb, err)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		d := chuting.Date{Year: 2025, Month: 1, Day: 1}
		tb, err := w.svc.Rates(w.ctx, attendance.ByCourt, d, d, nil)
		if err != nil || len(tb.Rows) != 0 || tb.Total.Served != 0 || tb.Total.Rate != nil {
			t.Fatalf("no units: %+v %v", tb, err)
		}
	})
}

// TestMonthlyReports generates November's reports, and reads their CSV and XLSX files back:
// the numbers are those worked out by hand, the workbook (opened with excelize) holds exactly
// the CSV's table, and running the job again stores nothing new.
func TestMonthlyReports(t *testing.T) {
	w := newWorld(t)
	w.month()
	n, err := w.svc.ReportLastMonth(w.ctx) // now is 1 December 02:30: November's reports
	if err != nil || n != 3 {
		t.Fatalf("stored %d reports (%v), want 3: two institutions and the bureau", n, err)
	}
	if n, err := w.svc.MonthlyReports(w.ctx, nov(15, 12, 0)); err != nil || n != 0 {
		t.Fatalf("a second run stored %d (%v), want none", n, err)
	}
	reports, err := chuting.FindAll[chuting.Report](w.ctx, w.store, chuting.Equal(chuting.KindReport, chuting.IndexPeriod, "2026-11"))
	if err != nil || len(reports) != 3 {
		t.Fatalf("%d reports for 2026-11 (%v)", len(reports), err)
	}
	// One lost (removed by hand): the next run makes that one only.
	if err := chuting.Remove(w.ctx, w.store, reports[0]); err != nil {
		t.Fatal(err)
	}
	if n, err := w.svc.MonthlyReports(w.ctx, nov(15, 12, 0)); err != nil || n != 1 {
		t.Fatalf("a run with one report missing stored %d (%v), want 1", n, err)
	}
	reports, err = chuting.FindAll[chuting.Report](w.ctx, w.store, chuting.Equal(chuting.KindReport, chuting.IndexPeriod, "2026-11"))
	if err != nil || len(reports) != 3 {
		t.Fatalf("%d reports for 2026-11 after the repair (%v)", len(reports), err)
	}

	for _, r := range reports {
		t.Run(string(r.Scope)+r.InstitutionID, func(t *testing.T) {
			csvRows := readCSV(t, r.CSV)
			xlsxRows := readXLSX(t, r.XLSX)
			if len(csvRows) != len(xlsxRows) {
				t.Fatalf("CSV has %d rows, XLSX %d", len(csvRows), len(xlsxRows))
			}
			for i := range csvRows {
				if len(csvRows[i]) != len(xlsxRows[i]) {
					t.Fatalf("row %d: CSV %q, XLSX %q", i+1, csvRows[i], xlsxRows[i])
				}
				for j := range csvRows[i] {
					if !sameCell(csvRows[i][j], xlsxRows[i][j]) {
						t.Errorf("row %d column %d: CSV %q, XLSX %q", i+1, j+1, csvRows[i][j], xlsxRows[i][j])
					}
				}
			}
			if strings.Join(csvRows[0], ",") != strings.Join(attendance.Columns(), ",") ||
				!strings.Contains(csvRows[0][3], "应出庭") || !strings.Contains(csvRows[0][3], "served") {
				t.Errorf("header %q", csvRows[0])
			}
			rows := map[string][]string{} // by key
			for _, row := range csvRows[1:] {
				rows[row[1]] = row
			}
			check := func(key string, want tally, rates string) {
				t.Helper()
				row, ok := rows[key]
				if !ok {
					t.Errorf("no row %s in %q", key, csvRows)
					return
				}
				var got tally
				for i := range got {
					got[i], _ = strconv.Atoi(row[3+i])
				}
				if got != want || row[15]+" "+row[16] != rates {
					t.Errorf("row %s: %v rates %s %s, want %v %s", key, got, row[15], row[16], want, rates)
				}
			}
			switch {
			case r.Scope == chuting.ReportBureau:
				check(w.insts[0].ID, wantInst0, "0.5556 0.7143")
				check(w.insts[1].ID, wantZhaoJing, "0.6000 0.7500")
				check(w.courts[0].ID, wantCourt1, "0.6250 0.6250")
				check(w.courts[1].ID, wantCourt2, "0.5000 1.0000")
				check("法医病理", tally{2, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0}, "0.5000 0.5000")
				check("total", wantTotal, "0.5714 0.7273")
				if r.Served != 14 || r.Appeared != 8 {
					t.Errorf("report totals %d/%d, want 8/14", r.Appeared, r.Served)
				}
			case r.InstitutionID == w.insts[0].ID:
				check(w.a[0].ID, wantLiMing, "0.6000 0.7500")
				check(w.a[1].ID, wantWangFang, "0.5000 0.6667")
				check("total", wantInst0, "0.5556 0.7143")
				if len(csvRows) != 4 {
					t.Errorf("%d rows, want the header, two appraisers and the total", len(csvRows))
				}
			case r.InstitutionID == w.insts[1].ID:
				check(w.a[2].ID, wantZhaoJing, "0.6000 0.7500")
				check("total", wantZhaoJing, "0.6000 0.7500")
			default:
				t.Errorf("unexpected report %+v", r)
			}
		})
	}
}

// readCSV parses a report's CSV, which must start with a UTF-8 byte-order mark.
func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Fatalf("the CSV has no UTF-8 byte-order mark: %q", data[:min(len(data), 20)])
	}
	rows, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// readXLSX opens a report's workbook with excelize and returns its first sheet's raw values,
// each row as wide as the header.
func readXLSX(t *testing.T, data []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("excelize cannot open the workbook: %v", err)
	}
	defer f.Close()
	if f.GetSheetName(0) != attendance.SheetName {
		t.Errorf("first sheet %q, want %q", f.GetSheetName(0), attendance.SheetName)
	}
	rows, err := f.GetRows(attendance.SheetName, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		for len(rows[i]) < len(attendance.Columns()) {
			rows[i] = append(rows[i], "")
		}
	}
	return rows
}

// sameCell reports whether a CSV cell and a workbook cell hold the same value: the same
// text, or the same number (the workbook stores 0.6 where the CSV writes 0.6000).
func sameCell(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x == y
}
