package roster

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chuting/chuting"
	"github.com/xuri/excelize/v2"
)

// Cell parsers. Spreadsheets written by hand hold dates, yes/no and lists in many shapes;
// these accept the common ones and say which shape they want when they fail.

var (
	// civilDate matches 2027-03-01, 2027/3/1, 2027.3.1 and 2027年3月1日, with an optional
	// time of day after it (an ISO date-time cell).
	civilDate = regexp.MustCompile(`^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[T ]00:00(?::00(?:\.0+)?)?Z?)?$`)
	compact   = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})$`) // 20270301
	serial    = regexp.MustCompile(`^\d+(?:\.\d+)?$`)
)

// parseDate reads a date cell. With serials (an XLSX cell), a plain number is a day number
// of the workbook's calendar.
func parseDate(v string, serials, date1904 bool) (chuting.Date, bool) {
	m := civilDate.FindStringSubmatch(v)
	if m == nil {
		m = compact.FindStringSubmatch(v)
	}
	if m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		if t.Year() != y || t.Month() != time.Month(mo) || t.Day() != d { // 2027-02-30
			return chuting.Date{}, false
		}
		return chuting.DateOf(t), true
	}
	if serials && serial.MatchString(v) {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n < 1 || n > 2958465 { // 9999-12-31
			return chuting.Date{}, false
		}
		t, err := excelize.ExcelDateToTime(n, date1904)
		if err != nil {
			return chuting.Date{}, false
		}
		return chuting.DateOf(t), true
	}
	return chuting.Date{}, false
}

// parseBool reads a yes/no cell: 是/否, yes/no, true/false, 1/0 (an XLSX TRUE/FALSE cell reads
// 1/0 raw).
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "是", "yes", "y", "true", "1":
		return true, true
	case "否", "no", "n", "false", "0":
		return false, true
	}
	return false, false
}

// parseHours reads a number of hours.
func parseHours(v string) (float64, bool) {
	h, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(h) || math.IsInf(h, 0) {
		return 0, false
	}
	return h, true
}

// splitList splits a list cell at 、 , ， ； ; or a line break within the cell (Alt+Enter in
// Excel), dropping blanks and repeats.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune("、,，；;\n\r", r) }) {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// hasControl reports whether v holds a control character, which no field of a roster may.
func hasControl(v string) bool {
	return strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f })
}
