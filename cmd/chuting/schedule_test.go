package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/chuting/chuting/scheduler/solver"
)

// writeProblem writes p to a file in a temporary directory and returns its path.
func writeProblem(t *testing.T, p *solver.Problem) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "problem.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := solver.WriteProblem(f, p); err != nil {
		t.Fatal(err)
	}
	return path
}

func schedule(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = runSchedule(context.Background(), args, &stdio{in: strings.NewReader(""), out: &out, err: &errb},
		func(string) string { return "" })
	return out.String(), errb.String(), err
}

func readScheduleFile(t *testing.T, path string) *solver.Schedule {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := solver.ReadSchedule(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScheduleRoundTrip(t *testing.T) {
	p := solver.Generate(1, 80, 25, 8, 5)
	in := writeProblem(t, p)
	out := filepath.Join(filepath.Dir(in), "schedule.json")
	stdout, stderr, err := schedule(t, "--in", in, "--out", out, "--time-limit", "2s", "--seed", "7")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	s := readScheduleFile(t, out)
	score, v := solver.Check(p, s)
	if len(v) != 0 {
		t.Fatalf("violations %v", v)
	}
	if s.Solver != "chuting optimal" || s.Instance != p.Name {
		t.Errorf("solver %q instance %q", s.Solver, s.Instance)
	}
	g, _ := solver.Check(p, solver.Greedy(p))
	for _, want := range []string{"optimal  " + score.String(), "greedy   " + g.String(), "wrote " + out} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	if score.N < len(p.Summons) && !strings.Contains(stderr, "unscheduled (") {
		t.Errorf("summary lists no unscheduled summons:\n%s", stderr)
	}
}

func TestScheduleGreedy(t *testing.T) {
	p := solver.Generate(2, 60, 20, 6, 5)
	in := writeProblem(t, p)
	out := filepath.Join(filepath.Dir(in), "greedy.json")
	if _, stderr, err := schedule(t, "--in", in, "--out", out, "--solver", "greedy"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	s := readScheduleFile(t, out)
	if want := solver.Greedy(p); !reflect.DeepEqual(s.Assignments, want.Assignments) || s.Solver != "chuting greedy" {
		t.Errorf("--solver greedy wrote another schedule than Greedy (solver %q)", s.Solver)
	}
}

func TestScheduleStdout(t *testing.T) {
	p := solver.Generate(3, 40, 15, 5, 4)
	in := writeProblem(t, p)
	stdout, stderr, err := schedule(t, "--in", in, "--out", "-", "--time-limit", "1s")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	s, err := solver.ReadSchedule(strings.NewReader(stdout))
	if err != nil {
		t.Fatalf("stdout is no schedule: %v\n%s", err, stdout)
	}
	if _, v := solver.Check(p, s); len(v) != 0 || len(s.Assignments) == 0 {
		t.Errorf("%d assignments, violations %v", len(s.Assignments), v)
	}
	if strings.Contains(stderr, "wrote") {
		t.Errorf("stderr %q", stderr)
	}
}

func TestScheduleErrors(t *testing.T) {
	p := solver.Generate(4, 20, 8, 3, 3)
	p.Summons[2].DurationMinutes = 50
	bad := writeProblem(t, p)
	out := filepath.Join(t.TempDir(), "out.json")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"BadField", []string{"--in", bad, "--out", out}, "summons[2].duration_minutes: 50 is not a positive multiple of 15"},
		{"NoIn", []string{"--out", out}, "--in and --out are required"},
		{"Missing", []string{"--in", filepath.Join(t.TempDir(), "none.json"), "--out", out}, "no such file"},
		{"Solver", []string{"--in", bad, "--out", out, "--solver", "magic"}, `--solver "magic"`},
		{"Arg", []string{"--in", bad, "--out", out, "extra"}, `unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := schedule(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s", out)
	}
}
