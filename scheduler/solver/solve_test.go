package solver

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestSolveGenerated runs the acceptance size: 400 summons, 150 appraisers, 40
// rooms, 20 working days. Solve's schedule must pass the checker and rank no lower than
// Greedy's, in particular schedule at least as many summons.
func TestSolveGenerated(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		p := Generate(seed, 400, 150, 40, 20)
		g, gv := Check(p, Greedy(p))
		if len(gv) != 0 {
			t.Fatalf("seed %d: greedy violations %v", seed, gv[:min(3, len(gv))])
		}
		s, rep := Solve(context.Background(), p, Options{Seed: seed, TimeLimit: time.Second})
		score, v := Check(p, s)
		if len(v) != 0 {
			t.Fatalf("seed %d: violations %v", seed, v[:min(3, len(v))])
		}
		if score != rep.Score || rep.Greedy != g {
			t.Errorf("seed %d: report %v/%v, checker %v/%v", seed, rep.Score, rep.Greedy, score, g)
		}
		if score.N < g.N || g.Better(score) {
			t.Errorf("seed %d: Solve %v is worse than Greedy %v", seed, score, g)
		}
		if len(rep.Unscheduled) != len(p.Summons)-score.N {
			t.Errorf("seed %d: %d reasons for %d unscheduled", seed, len(rep.Unscheduled), len(p.Summons)-score.N)
		}
		for _, u := range rep.Unscheduled {
			if u.Reason == "" {
				t.Errorf("seed %d: no reason for %s", seed, u.Summons)
			}
		}
		t.Logf("seed %d: greedy %v, solve %v (%s, %d iterations, %v)", seed, g, score, rep.Method, rep.Iterations,
			rep.Elapsed.Round(time.Millisecond))
	}
}

func TestSolveFixed(t *testing.T) {
	t.Run("Example", func(t *testing.T) {
		// s2 confirmed with a1 and a3: s6 (named a3) must wait for the end of its travel
		// buffer at 16:30, which the free optimum avoids.
		p := example(t)
		fixed := []Assignment{
			{Summons: "s2", Start: "2026-09-30T14:00", Appraisers: []string{"a1", "a3"}},
			{Summons: "s99", Start: "2026-09-30T14:00", Appraisers: []string{"a1"}},
			{Summons: "s4", Start: "2026-10-10T08:30", Room: "r9", Appraisers: []string{"a2", "a3"}},
		}
		s, rep := Solve(context.Background(), p, Options{Seed: 1, Fixed: fixed})
		score, v := Check(p, s)
		if len(v) != 0 {
			t.Fatal(v)
		}
		if want := (Score{N: 5, Delta: 36, L: 3}); score != want {
			t.Errorf("score %v, want %v", score, want)
		}
		if got := find(s, "s2"); !reflect.DeepEqual(got, fixed[0]) {
			t.Errorf("fixed s2 became %+v", got)
		}
		if got := find(s, "s6"); got.Start != "2026-09-30T16:30" {
			t.Errorf("s6 at %s, want 16:30 after the fixed hearing", got.Start)
		}
		if len(rep.Warnings) != 2 || !strings.Contains(rep.Warnings[0], `"s99"`) || !strings.Contains(rep.Warnings[1], `unknown room "r9"`) {
			t.Errorf("warnings %q", rep.Warnings)
		}
	})
	t.Run("Generated", func(t *testing.T) {
		p := Generate(11, 150, 50, 12, 6)
		free, _ := Solve(context.Background(), p, Options{Seed: 1, TimeLimit: time.Second})
		var fixed []Assignment
		moved := 0
		for i, a := range Greedy(p).Assignments {
			if i%4 == 0 {
				fixed = append(fixed, a)
				if f := find(free, a.Summons); f.Start != a.Start || !reflect.DeepEqual(f.Appraisers, a.Appraisers) {
					moved++
				}
			}
		}
		if moved == 0 {
			t.Fatal("the free optimum keeps every fixed hearing: the test would prove nothing")
		}
		s, rep := Solve(context.Background(), p, Options{Seed: 1, TimeLimit: time.Second, Fixed: fixed})
		if _, v := Check(p, s); len(v) != 0 {
			t.Fatalf("violations %v", v[:min(3, len(v))])
		}
		for _, f := range fixed {
			if got := find(s, f.Summons); !reflect.DeepEqual(got, f) {
				t.Errorf("fixed %+v became %+v", f, got)
			}
		}
		if len(rep.Warnings) != 0 {
			t.Errorf("warnings %q", rep.Warnings)
		}
	})
}

func find(s *Schedule, id string) Assignment {
	for _, a := range s.Assignments {
		if a.Summons == id {
			return a
		}
	}
	return Assignment{}
}

func TestSolveReasons(t *testing.T) {
	p := example(t)
	p.Institutions = append(p.Institutions, Institution{ID: "i3", Name: "无作证室的机构"})
	p.Appraisers = append(p.Appraisers, Appraiser{ID: "a5", Institution: "i3", Categories: []string{"c1"}})
	add := func(s Summons) {
		s.Court = "ct1"
		if s.Mode == "" {
			s.Mode = InPerson
		}
		if s.DurationMinutes == 0 {
			s.DurationMinutes = 60
		}
		if s.Windows == nil {
			s.Windows = []Interval{{Start: "2026-10-08T08:30", End: "2026-10-08T10:00"}}
		}
		p.Summons = append(p.Summons, s)
	}
	add(Summons{ID: "s7", Pool: &Pool{Institution: "i1", Category: "c2", K: 2}})
	add(Summons{ID: "s8", Named: []string{"a4"}, Mode: Remote,
		Windows: []Interval{{Start: "2026-09-30T13:00", End: "2026-09-30T17:30"}}})
	add(Summons{ID: "s9", Named: []string{"a5"}, Mode: Remote})
	add(Summons{ID: "s10", Named: []string{"a5"}, DurationMinutes: 240})
	add(Summons{ID: "s11", Named: []string{"a5"}})
	add(Summons{ID: "s12", Named: []string{"a5"}})
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	s, rep := Solve(context.Background(), p, Options{Seed: 1})
	if ex := Explain(p, s); !reflect.DeepEqual(ex, rep.Unscheduled) {
		t.Errorf("Explain %+v\nReport %+v", ex, rep.Unscheduled)
	}
	got := map[string]string{}
	for _, u := range rep.Unscheduled {
		got[u.Summons] = u.Reason
	}
	for id, want := range map[string]string{
		"s5":  "no valid start inside its windows on the horizon",
		"s7":  "needs 2 appraisers of c2 at i1, has 1",
		"s8":  "appraiser a4 busy in every window",
		"s9":  "no room at institution i3",
		"s10": "duration 240 min does not fit in a working session",
		"s12": "conflicts with other summons (could be placed alone): appraiser a5 is in other hearings",
	} {
		if !strings.Contains(got[id], want) {
			t.Errorf("%s: reason %q, want %q", id, got[id], want)
		}
	}
	if len(got) != 6 {
		t.Errorf("unscheduled %v, want the six above", got)
	}
}

func TestSolveDeterministic(t *testing.T) {
	p := Generate(5, 200, 60, 15, 8)
	opts := Options{Seed: 42, Iterations: 3000, TimeLimit: time.Minute}
	a, ra := Solve(context.Background(), p, opts)
	b, rb := Solve(context.Background(), p, opts)
	if !reflect.DeepEqual(a, b) || ra.Score != rb.Score || ra.Iterations != rb.Iterations {
		t.Errorf("two runs with one seed differ: %v (%d it) vs %v (%d it)", ra.Score, ra.Iterations, rb.Score, rb.Iterations)
	}
}

func TestSolveCancelled(t *testing.T) {
	p := Generate(6, 300, 90, 30, 15)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	began := time.Now()
	s, rep := Solve(ctx, p, Options{Seed: 1, TimeLimit: time.Minute})
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("a cancelled solve took %v", d)
	}
	score, v := Check(p, s)
	if len(v) != 0 || rep.Greedy.Better(score) {
		t.Errorf("cancelled: %v (violations %d), greedy %v", score, len(v), rep.Greedy)
	}
}

func TestSolveInvalid(t *testing.T) {
	p := example(t)
	p.Summons[0].DurationMinutes = 50
	s, rep := Solve(context.Background(), p, Options{})
	if rep.Err == nil || !strings.Contains(rep.Err.Error(), "summons[0].duration_minutes") || len(s.Assignments) != 0 {
		t.Errorf("err %v, %d assignments", rep.Err, len(s.Assignments))
	}
	if g := Greedy(p); len(g.Assignments) != 0 {
		t.Errorf("greedy scheduled %d of an invalid problem", len(g.Assignments))
	}
}

func TestGenerate(t *testing.T) {
	a, b := Generate(9, 300, 100, 20, 15), Generate(9, 300, 100, 20, 15)
	if !reflect.DeepEqual(a, b) {
		t.Error("Generate is not deterministic")
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	var remote, named, multiWindow int
	for _, s := range a.Summons {
		if s.Mode == Remote {
			remote++
		}
		if s.Named != nil {
			named++
		}
		if len(s.Windows) > 1 {
			multiWindow++
		}
	}
	n := len(a.Summons)
	if remote < n/4 || remote > 3*n/4 || named < n/4 || named > 3*n/4 || multiWindow < n/10 {
		t.Errorf("mix: %d remote, %d named, %d with several windows of %d", remote, named, multiWindow, n)
	}
	if len(a.Institutions) < 3 || len(a.Calendar.Workdays) == 0 || len(a.Calendar.Holidays) == 0 {
		t.Errorf("%d institutions, calendar %+v", len(a.Institutions), a.Calendar)
	}
}

func TestSolveEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *Problem
	}{
		{"Empty", Generate(1, 0, 5, 2, 3)},
		{"NoRooms", Generate(2, 40, 12, 0, 4)},
		{"OneAppraiser", Generate(3, 30, 1, 3, 2)},
		{"OneDay", Generate(4, 80, 20, 4, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, rep := Solve(context.Background(), tc.p, Options{Seed: 1, TimeLimit: 500 * time.Millisecond})
			score, v := Check(tc.p, s)
			if rep.Err != nil || len(v) != 0 {
				t.Fatalf("err %v, violations %v", rep.Err, v)
			}
			if len(rep.Unscheduled) != len(tc.p.Summons)-score.N {
				t.Errorf("%d reasons for %d unscheduled", len(rep.Unscheduled), len(tc.p.Summons)-score.N)
			}
			if g, _ := Check(tc.p, Greedy(tc.p)); g.Better(score) {
				t.Errorf("greedy %v beats %v", g, score)
			}
		})
	}
}
