package solver

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The two valid schedules of testdata/example-problem.json, worked out by hand.
//
// Optimal: s1 cannot start before 10:00 (a1 busy until then; its window opens at 08:00, so
// t0 = 08:30 and Δ = 6). s3's window opens 09-30 16:00 (t0 = slot 22), but a4 is busy from
// 09-30 12:00 to 10-08 12:00, so it starts 10-08 14:00 = slot 28+14 = 42: Δ = 20, counting
// the six slots left on 09-30 and the fourteen of the 10-08 morning, and neither the holiday,
// the weekend, the nights nor lunch. Everything else starts at its t0. Δ = 26. a1, a2, a3
// attend two hearings each: L = 2.
//
// Greedy (§5) gives s2 (in person, 13:00–16:30 with the buffers) to the least-loaded a2 and
// a3, which pushes s6 (named a3) to 16:30: Δ = 26 + 10, and a3 attends three: L = 3.
var (
	optimal = []Assignment{
		{Summons: "s1", Start: "2026-09-30T10:00", Room: "r1", Appraisers: []string{"a1"}},
		{Summons: "s2", Start: "2026-09-30T14:00", Appraisers: []string{"a1", "a2"}},
		{Summons: "s6", Start: "2026-09-30T14:00", Room: "r1", Appraisers: []string{"a3"}},
		{Summons: "s3", Start: "2026-10-08T14:00", Room: "r3", Appraisers: []string{"a4"}},
		{Summons: "s4", Start: "2026-10-10T08:30", Room: "r1", Appraisers: []string{"a2", "a3"}},
	}
	greedy = []Assignment{
		{Summons: "s1", Start: "2026-09-30T10:00", Room: "r1", Appraisers: []string{"a1"}},
		{Summons: "s2", Start: "2026-09-30T14:00", Appraisers: []string{"a2", "a3"}},
		{Summons: "s6", Start: "2026-09-30T16:30", Room: "r1", Appraisers: []string{"a3"}},
		{Summons: "s3", Start: "2026-10-08T14:00", Room: "r3", Appraisers: []string{"a4"}},
		{Summons: "s4", Start: "2026-10-10T08:30", Room: "r1", Appraisers: []string{"a2", "a3"}},
	}
)

func example(t *testing.T) *Problem {
	t.Helper()
	return MustReadProblem(t, "testdata/example-problem.json")
}

// with returns a copy of base with the assignment of summons id replaced by a (or removed
// when a.Summons is empty), plus extra.
func with(base []Assignment, id string, a Assignment, extra ...Assignment) *Schedule {
	s := &Schedule{Instance: "example-national-day"}
	for _, b := range base {
		if b.Summons != id {
			s.Assignments = append(s.Assignments, b)
		} else if a.Summons != "" {
			s.Assignments = append(s.Assignments, a)
		}
	}
	s.Assignments = append(s.Assignments, extra...)
	return s
}

func TestCheckValid(t *testing.T) {
	p := example(t)
	for _, tc := range []struct {
		name  string
		s     *Schedule
		score Score
	}{
		{"Optimal", with(optimal, "", Assignment{}), Score{N: 5, Delta: 26, L: 2}},
		{"Greedy", with(greedy, "", Assignment{}), Score{N: 5, Delta: 36, L: 3}},
		{"File", MustReadSchedule(t, "testdata/example-schedule.json"), Score{N: 5, Delta: 26, L: 2}},
		{"AcrossHolidayAndLunch", &Schedule{Instance: p.Name, Assignments: optimal[3:4]}, Score{N: 1, Delta: 20, L: 1}},
		{"Empty", &Schedule{Instance: p.Name}, Score{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			score, v := Check(p, tc.s)
			if len(v) != 0 {
				t.Errorf("violations: %v", v)
			}
			if score != tc.score {
				t.Errorf("score %v, want %v", score, tc.score)
			}
		})
	}
}

func TestCheckViolations(t *testing.T) {
	p := example(t)
	a := func(id, start, room string, aps ...string) Assignment {
		return Assignment{Summons: id, Start: start, Room: room, Appraisers: aps}
	}
	for _, tc := range []struct {
		name, want, msg string
		s               *Schedule
	}{
		{"H1Twice", "H1", "s1 scheduled more than once",
			with(greedy, "", Assignment{}, a("s1", "2026-09-30T11:00", "r2", "a1"))},
		{"H2NotASlot", "H2", "2026-10-10T08:40",
			with(optimal, "s4", a("s4", "2026-10-10T08:40", "r1", "a2", "a3"))},
		{"H2OverLunch", "H2", "2026-10-08T11:00–12:30",
			with(optimal, "s2", a("s2", "2026-10-08T11:00", "", "a1", "a2"))},
		{"H3OutsideWindows", "H3", "not inside any of its windows",
			with(optimal, "s1", a("s1", "2026-10-08T10:00", "r1", "a1"))},
		{"H4PoolTooFew", "H4", "needs 2 distinct appraisers, has 1",
			with(optimal, "s2", a("s2", "2026-09-30T14:00", "", "a1"))},
		{"H4NamedMissing", "H4", "named appraiser a3 does not attend",
			with(optimal, "s4", a("s4", "2026-10-10T08:30", "r1", "a2"))},
		{"H5WrongInstitution", "H5", "room r3 is at institution i2",
			with(optimal, "s1", a("s1", "2026-09-30T10:00", "r3", "a1"))},
		{"H5InPersonRoom", "H5", "in-person summons s2 has room r2",
			with(optimal, "s2", a("s2", "2026-09-30T14:00", "r2", "a1", "a2"))},
		{"H6Busy", "H6", "appraiser a1 busy 2026-09-30T08:00–2026-09-30T10:00",
			with(optimal, "s1", a("s1", "2026-09-30T09:00", "r1", "a1"))},
		{"H7TravelBuffer", "H7", "appraiser a3 attends summons s2",
			with(greedy, "s6", a("s6", "2026-09-30T16:00", "r1", "a3"))},
		{"H8DailyCap", "H8", "appraiser a2 attends 2 hearings starting on 2026-10-10, more than 1",
			with(optimal, "s2", a("s2", "2026-10-10T14:00", "", "a1", "a2"))},
		{"H9Changeover", "H9", "room r1 reserved by summons",
			with(greedy, "s1", a("s1", "2026-09-30T16:15", "r1", "a1"))},
		{"UnknownSummons", "ref", `unknown summons "s9"`,
			with(optimal, "", Assignment{}, a("s9", "2026-09-30T10:00", "", "a1"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, v := Check(p, tc.s)
			if len(v) != 1 {
				t.Fatalf("violations %v, want exactly one %s", v, tc.want)
			}
			if v[0].Constraint != tc.want || !strings.HasPrefix(v[0].String(), tc.want+": ") ||
				!strings.Contains(v[0].Message, tc.msg) {
				t.Errorf("violation %q, want %s containing %q", v[0], tc.want, tc.msg)
			}
		})
	}
	t.Run("Instance", func(t *testing.T) {
		s := with(optimal, "", Assignment{})
		s.Instance = "other"
		if _, v := Check(p, s); len(v) != 1 || v[0].Constraint != "instance" {
			t.Errorf("violations %v", v)
		}
	})
}

func TestScoreBetter(t *testing.T) {
	for _, tc := range []struct {
		a, b Score
		want bool
	}{
		{Score{5, 100, 9}, Score{4, 0, 0}, true},
		{Score{4, 0, 0}, Score{5, 100, 9}, false},
		{Score{5, 10, 9}, Score{5, 11, 1}, true},
		{Score{5, 10, 2}, Score{5, 10, 3}, true},
		{Score{5, 10, 3}, Score{5, 10, 3}, false},
	} {
		if got := tc.a.Better(tc.b); got != tc.want {
			t.Errorf("%v.Better(%v) = %v", tc.a, tc.b, got)
		}
	}
}

func TestGreedyExample(t *testing.T) {
	p := example(t)
	g := Greedy(p)
	want := with(greedy, "", Assignment{}).Assignments
	slices.SortStableFunc(want, func(a, b Assignment) int { return strings.Compare(a.Start+a.Summons, b.Start+b.Summons) })
	if !reflect.DeepEqual(g.Assignments, want) {
		t.Errorf("greedy:\n%+v\nwant\n%+v", g.Assignments, want)
	}
}

func TestSolveExample(t *testing.T) {
	p := example(t)
	s, rep := Solve(context.Background(), p, Options{Seed: 1})
	score, v := Check(p, s)
	if len(v) != 0 {
		t.Fatal(v)
	}
	if want := (Score{N: 5, Delta: 26, L: 2}); score != want || rep.Score != want || !rep.Optimal {
		t.Errorf("score %v, report %v optimal %v, want %v proven", score, rep.Score, rep.Optimal, want)
	}
	if rep.Greedy != (Score{N: 5, Delta: 36, L: 3}) {
		t.Errorf("greedy %v", rep.Greedy)
	}
	want := []Unplaced{{Summons: "s5", Reason: "no valid start inside its windows on the horizon"}}
	if !reflect.DeepEqual(rep.Unscheduled, want) {
		t.Errorf("unscheduled %+v, want %+v", rep.Unscheduled, want)
	}
}
