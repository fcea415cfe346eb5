package solver

import (
	"sort"
	"time"
)

// The time grid of SCHEDULING.md §1. All solver arithmetic is in integer minutes since
// 1970-01-01T00:00 of the naive local clock ("epoch minutes"), and days since 1970-01-01.
const (
	slotMinutes     = 15
	slotsPerSession = 14
	slotsPerDay     = 2 * slotsPerSession
	morningStart    = 8*60 + 30 // 08:30
	afternoonStart  = 14 * 60   // 14:00
	sessionMinutes  = slotsPerSession * slotMinutes
	travelMinutes   = 60 // H6: in-person buffer each side
	changeover      = 15 // H9: room changeover
	minutesPerDay   = 24 * 60

	// maxNumDays bounds calendar.num_days (ten years of working days): beyond it a file is
	// a mistake, and the horizon would cost memory for nothing.
	maxNumDays = 2500
)

// The day grid: every occupation of a hearing on a working day lies inside
// [07:30, 18:30) of that day (08:30 minus the travel buffer to 17:30 plus it), which is 44
// quarters. One uint64 per (appraiser or room, day) holds them, so a conflict test is an AND.
const (
	gridStart = morningStart - travelMinutes        // 07:30
	gridEnd   = 17*60 + 30 + travelMinutes          // 18:30
	gridBits  = (gridEnd - gridStart) / slotMinutes // 44
)

const (
	dateLayout = "2006-01-02"
	timeLayout = "2006-01-02T15:04"
)

// parseDate returns the day number (days since 1970-01-01) of a `YYYY-MM-DD` date.
func parseDate(s string) (int, bool) {
	if !shaped(s, "dddd-dd-dd") {
		return 0, false
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return 0, false
	}
	return int(floorDiv(t.Unix(), 86400)), true
}

// parseTime returns the epoch minute of a `YYYY-MM-DDTHH:MM` time.
func parseTime(s string) (int, bool) {
	if !shaped(s, "dddd-dd-ddTdd:dd") {
		return 0, false
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return 0, false
	}
	return int(floorDiv(t.Unix(), 60)), true
}

// shaped reports whether s has the digits ('d' in pattern) and separators of pattern:
// time.Parse alone accepts one-digit hours.
func shaped(s, pattern string) bool {
	if len(s) != len(pattern) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if pattern[i] == 'd' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		} else if s[i] != pattern[i] {
			return false
		}
	}
	return true
}

// formatTime formats an epoch minute as `YYYY-MM-DDTHH:MM`.
func formatTime(min int) string {
	return time.Unix(int64(min)*60, 0).UTC().Format(timeLayout)
}

// formatDate formats a day number as `YYYY-MM-DD`.
func formatDate(day int) string {
	return time.Unix(int64(day)*86400, 0).UTC().Format(dateLayout)
}

// weekday returns the weekday of a day number (1970-01-01 was a Thursday).
func weekday(day int) time.Weekday {
	return time.Weekday(((day+4)%7 + 7) % 7)
}

func weekend(day int) bool {
	w := weekday(day)
	return w == time.Saturday || w == time.Sunday
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// workingDays returns the day numbers of the calendar's NumDays working days (horizon). It
// assumes a valid calendar.
func (c Calendar) workingDays() []int {
	start, _ := parseDate(c.StartDate)
	var hol, work []int
	for _, h := range c.Holidays {
		d, _ := parseDate(h)
		hol = append(hol, d)
	}
	for _, w := range c.Workdays {
		d, _ := parseDate(w)
		work = append(work, d)
	}
	return horizon(start, c.NumDays, hol, work)
}

// horizon returns the day numbers of the first num working days >= start (§1): weekdays not
// in holidays, and dates in workdays. It assumes valid input (num <= maxNumDays).
func horizon(start, num int, holidays, workdays []int) []int {
	hol := make(map[int]bool, len(holidays))
	for _, d := range holidays {
		hol[d] = true
	}
	work := make(map[int]bool, len(workdays))
	for _, d := range workdays {
		work[d] = true
	}
	days := make([]int, 0, num)
	for d := start; len(days) < num; d++ {
		if work[d] || (!weekend(d) && !hol[d]) {
			days = append(days, d)
		}
	}
	return days
}

// slotOffset returns the minute of the day at which slot k (0..27) of a working day starts.
func slotOffset(k int) int {
	if k < slotsPerSession {
		return morningStart + slotMinutes*k
	}
	return afternoonStart + slotMinutes*(k-slotsPerSession)
}

// fitsSession reports whether a hearing of dur slots starting at slot k stays inside the
// session of k (it never spans lunch or the night).
func fitsSession(k, dur int) bool {
	if k < slotsPerSession {
		return k+dur <= slotsPerSession
	}
	return k+dur <= slotsPerDay
}

// quarter returns the grid bit of the start of slot k.
func quarter(k int) int {
	return (slotOffset(k) - gridStart) / slotMinutes
}

// span returns n consecutive bits from lo.
func span(lo, n int) uint64 {
	return (uint64(1)<<uint(n) - 1) << uint(lo)
}

// occMask is the grid mask of the occupation (H6) of a hearing of dur slots at slot k.
func occMask(k, dur int, remote bool) uint64 {
	if remote {
		return span(quarter(k), dur)
	}
	return span(quarter(k)-travelMinutes/slotMinutes, dur+2*travelMinutes/slotMinutes)
}

// resMask is the grid mask of the room reservation (H9) of a hearing of dur slots at slot k.
func resMask(k, dur int) uint64 {
	return span(quarter(k), dur+changeover/slotMinutes)
}

// calendar is a compiled horizon.
type calendar struct {
	days []int // day numbers of the working days, ascending
}

// dayIndex returns the horizon index of a day number, or -1.
func (c *calendar) dayIndex(day int) int {
	i := sort.SearchInts(c.days, day)
	if i < len(c.days) && c.days[i] == day {
		return i
	}
	return -1
}

// slotStart returns the epoch minute at which working slot t starts.
func (c *calendar) slotStart(t int) int {
	return c.days[t/slotsPerDay]*minutesPerDay + slotOffset(t%slotsPerDay)
}

// firstSlotAtOrAfter returns the first working slot whose start is >= min, or -1.
func (c *calendar) firstSlotAtOrAfter(min int) int {
	day := int(floorDiv(int64(min), minutesPerDay))
	i := sort.SearchInts(c.days, day)
	for ; i < len(c.days); i++ {
		base := c.days[i] * minutesPerDay
		for k := 0; k < slotsPerDay; k++ {
			if base+slotOffset(k) >= min {
				return i*slotsPerDay + k
			}
		}
	}
	return -1
}

// project returns, for each horizon day the interval [a, b) (epoch minutes) touches inside
// the grid, the day index and the grid bits it covers, rounded outward to quarters. Rounding
// outward is exact for the tests the solver makes: every occupation and reservation it
// queries starts and ends on a quarter, and such an interval meets [a, b) if and only if it
// meets the rounded one.
func (c *calendar) project(a, b int, fn func(day int, mask uint64)) {
	if b <= a {
		return
	}
	first := int(floorDiv(int64(a), minutesPerDay))
	for i := sort.SearchInts(c.days, first); i < len(c.days); i++ {
		lo := c.days[i]*minutesPerDay + gridStart
		if lo >= b {
			return
		}
		hi := lo + gridBits*slotMinutes
		s, e := max(a, lo), min(b, hi)
		if s >= e {
			continue
		}
		q0 := (s - lo) / slotMinutes
		q1 := (e - lo + slotMinutes - 1) / slotMinutes
		fn(i, span(q0, q1-q0))
	}
}
