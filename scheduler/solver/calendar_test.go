package solver

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// nationalDay is 2026-09-28 (Mon) for eight working days across the National Day holiday
// (2026-10-01..07; the weekdays among them are holidays) with two make-up days: Sunday
// 2026-09-27, before the start, and Saturday 2026-10-10.
var nationalDay = Calendar{
	StartDate: "2026-09-28",
	NumDays:   8,
	Holidays:  []string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"},
	Workdays:  []string{"2026-09-27", "2026-10-10"},
}

func compileCalendar(t *testing.T, c Calendar) *model {
	t.Helper()
	p := &Problem{Format: Format, Name: "cal", Calendar: c}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return compile(p, nil)
}

func TestHorizon(t *testing.T) {
	m := compileCalendar(t, nationalDay)
	var got []string
	for _, d := range m.cal.days {
		got = append(got, formatDate(d))
	}
	want := []string{"2026-09-28", "2026-09-29", "2026-09-30", "2026-10-08", "2026-10-09", "2026-10-10",
		"2026-10-12", "2026-10-13"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("horizon = %v, want %v", got, want)
	}
}

func TestSlotNumbering(t *testing.T) {
	m := compileCalendar(t, nationalDay)
	for _, tc := range []struct {
		t    int
		want string
	}{
		{0, "2026-09-28T08:30"},
		{6, "2026-09-28T10:00"},
		{13, "2026-09-28T11:45"}, // the last before lunch
		{14, "2026-09-28T14:00"}, // the first after lunch
		{27, "2026-09-28T17:15"},
		{28, "2026-09-29T08:30"},
		{2*28 + 27, "2026-09-30T17:15"}, // the last before the holiday
		{3 * 28, "2026-10-08T08:30"},    // the first after it
		{5*28 + 14, "2026-10-10T14:00"}, // the make-up Saturday
		{6*28 + 1, "2026-10-12T08:45"},  // the Monday after it
		{8*28 - 1, "2026-10-13T17:15"},  // the last slot
	} {
		if got := formatTime(m.cal.slotStart(tc.t)); got != tc.want {
			t.Errorf("slot %d starts %s, want %s", tc.t, got, tc.want)
		}
	}
	for _, tc := range []struct {
		at   string
		want int
	}{
		{"2026-09-28T08:30", 0},
		{"2026-09-28T00:00", 0},
		{"2026-09-28T08:31", 1},
		{"2026-09-28T12:00", 14}, // lunch: the afternoon's first slot
		{"2026-09-30T17:20", 3 * 28},
		{"2026-10-03T09:00", 3 * 28}, // a holiday weekend: the next working day
		{"2026-10-10T10:00", 5*28 + 6},
		{"2026-10-13T17:16", -1}, // after the horizon
	} {
		at, _ := parseTime(tc.at)
		if got := m.cal.firstSlotAtOrAfter(at); got != tc.want {
			t.Errorf("first slot at or after %s = %d, want %d", tc.at, got, tc.want)
		}
	}
}

func TestSessionsNeverSpanLunch(t *testing.T) {
	for _, tc := range []struct {
		minutes int
		starts  []string // valid starts of day 0 (2026-09-28)
	}{
		{210, []string{"08:30", "14:00"}},
		{195, []string{"08:30", "08:45", "14:00", "14:15"}},
		{225, nil}, // longer than a session: never
		{15, nil},  // nil: every slot
	} {
		p := &Problem{Format: Format, Name: "lunch", Calendar: nationalDay,
			Institutions: []Institution{{ID: "i1"}}, Courts: []Court{{ID: "ct"}},
			Appraisers: []Appraiser{{ID: "a1", Institution: "i1"}},
			Summons: []Summons{{ID: "s", Court: "ct", DurationMinutes: tc.minutes, Mode: InPerson,
				Windows: []Interval{{Start: "2026-09-28T00:00", End: "2026-09-29T00:00"}}, Named: []string{"a1"}}}}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		m := compile(p, nil)
		var got []string
		for _, st := range m.sums[0].starts {
			s := m.cal.slotStart(int(st))
			e := s + tc.minutes
			if (s%minutesPerDay < 12*60) != ((e-1)%minutesPerDay < 12*60) || e%minutesPerDay > 17*60+30 {
				t.Errorf("%d min at %s spans lunch or the evening", tc.minutes, formatTime(s))
			}
			got = append(got, formatTime(s)[11:])
		}
		switch {
		case tc.minutes == 15:
			if len(got) != 28 {
				t.Errorf("15 min: %d starts, want 28", len(got))
			}
		case !reflect.DeepEqual(got, tc.starts):
			t.Errorf("%d min: starts %v, want %v", tc.minutes, got, tc.starts)
		}
		if tc.minutes == 225 && m.sums[0].reason == "" {
			t.Error("225 min: no reason given")
		}
	}
}

// TestHorizonAgreesWithChecker compares the solver's horizon and slot numbering with the
// checker's independent ones on random calendars.
func TestHorizonAgreesWithChecker(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base, _ := parseDate("2026-01-01")
	for i := 0; i < 50; i++ {
		cal := Calendar{StartDate: formatDate(base + rng.IntN(365)), NumDays: 1 + rng.IntN(30)}
		for j := rng.IntN(10); j > 0; j-- {
			cal.Holidays = append(cal.Holidays, formatDate(base+rng.IntN(400)))
		}
		for j := rng.IntN(4); j > 0; j-- {
			d := base + rng.IntN(400)
			for !weekend(d) {
				d++
			}
			cal.Workdays = append(cal.Workdays, formatDate(d))
		}
		m := compileCalendar(t, cal)
		c := checker{p: &Problem{Calendar: cal}}
		if !c.horizon() {
			t.Fatal("checker refused", cal)
		}
		if len(c.days) != len(m.cal.days) {
			t.Fatalf("%+v: %d days vs %d", cal, len(c.days), len(m.cal.days))
		}
		for d := range c.days {
			for k := 0; k < slotsPerDay; k++ {
				want := c.slotStartTime(d, k).Format(timeLayout)
				if got := formatTime(m.cal.slotStart(d*slotsPerDay + k)); got != want {
					t.Fatalf("%+v: slot %d/%d = %s, checker %s", cal, d, k, got, want)
				}
			}
		}
		w := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(400*24*60)) * time.Minute)
		wm, _ := parseTime(w.Format(timeLayout))
		if got, want := m.cal.firstSlotAtOrAfter(wm), c.firstSlotFrom(w); got != want {
			t.Fatalf("%+v: first slot from %s = %d, checker %d", cal, w, got, want)
		}
	}
}

func TestProject(t *testing.T) {
	m := compileCalendar(t, nationalDay)
	for _, tc := range []struct {
		from, to string
		want     map[int]uint64
	}{
		// 08:40–08:50 covers the quarters 08:30 and 08:45 (bits 4, 5 from 07:30).
		{"2026-09-28T08:40", "2026-09-28T08:50", map[int]uint64{0: 0b11 << 4}},
		// A trip over two nights and a holiday-free span: the whole grid of day 1, the
		// evening of day 0 and the morning of day 2 until 10:00 (bits 0..9).
		{"2026-09-28T18:00", "2026-09-30T10:00", map[int]uint64{0: 0b11 << 42, 1: span(0, gridBits), 2: span(0, 10)}},
		// The holiday itself touches no working day.
		{"2026-10-01T00:00", "2026-10-08T00:00", map[int]uint64{}},
	} {
		a, _ := parseTime(tc.from)
		b, _ := parseTime(tc.to)
		got := map[int]uint64{}
		m.cal.project(a, b, func(d int, mask uint64) { got[d] |= mask })
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s–%s: %b, want %b", tc.from, tc.to, got, tc.want)
		}
	}
}
