package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/chuting/chuting/scheduler/solver"
)

// runSchedule solves a court-sched-v1 problem file offline with the same solver the server
// uses (../shared/SCHEDULING.md): it reads --in, writes the schedule to --out ("-" for
// stdout), and prints to stderr the score (N, Δ, L) of the result and of the greedy
// baseline, and each summons left unscheduled with the reason. A bad problem file fails with
// an error naming the field by its JSON path. getenv is unused: every setting is a flag, and
// an environment variable quietly changing an offline solve would only surprise.
func runSchedule(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	var in, out, method string
	var limit time.Duration
	var seed int64
	fs := flag.NewFlagSet("chuting schedule", flag.ContinueOnError)
	fs.SetOutput(io.err)
	fs.StringVar(&in, "in", "", "problem file, court-sched-v1 JSON (- for stdin)")
	fs.StringVar(&out, "out", "", "schedule file to write (- for stdout)")
	fs.DurationVar(&limit, "time-limit", 10*time.Second, "time budget of the optimiser")
	fs.Int64Var(&seed, "seed", 1, "seed of the optimiser's random choices")
	fs.StringVar(&method, "solver", "optimal", "optimal (branch and bound / local search) or greedy (the earliest-feasible baseline)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: chuting schedule --in problem.json --out schedule.json [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case in == "" || out == "":
		return errors.New("--in and --out are required")
	case method != "optimal" && method != "greedy":
		return fmt.Errorf("--solver %q: want optimal or greedy", method)
	case limit <= 0:
		return fmt.Errorf("--time-limit %s: want a positive duration", limit)
	}
	p, err := readProblem(in, io.in)
	if err != nil {
		return err
	}

	greedy := solver.Greedy(p)
	greedyScore, _ := solver.Check(p, greedy)
	var sched *solver.Schedule
	var rep solver.Report
	if method == "greedy" {
		sched = greedy
		rep.Unscheduled = solver.Explain(p, sched)
	} else {
		sched, rep = solver.Solve(ctx, p, solver.Options{TimeLimit: limit, Seed: seed})
		if rep.Err != nil {
			return rep.Err
		}
	}
	sched.Solver = "chuting " + method
	score, violations := solver.Check(p, sched)
	if len(violations) > 0 {
		return fmt.Errorf("internal error: the schedule breaks %s (and %d more)", violations[0], len(violations)-1)
	}
	if err := writeSchedule(out, io.out, sched); err != nil {
		return err
	}

	fmt.Fprintf(io.err, "%s: %d summons, %d appraisers, %d rooms, %d working days\n",
		p.Name, len(p.Summons), len(p.Appraisers), len(p.Rooms), p.Calendar.NumDays)
	fmt.Fprintf(io.err, "%-8s %s", method, score)
	if method == "optimal" {
		proven := ""
		if rep.Optimal {
			proven = ", proven optimal"
		}
		fmt.Fprintf(io.err, " (%s, %d iterations, %v%s)", rep.Method, rep.Iterations, rep.Elapsed.Round(time.Millisecond), proven)
	}
	fmt.Fprintf(io.err, "\n%-8s %s\n", "greedy", greedyScore)
	for _, w := range rep.Warnings {
		fmt.Fprintf(io.err, "warning: %s\n", w)
	}
	if len(rep.Unscheduled) > 0 {
		fmt.Fprintf(io.err, "unscheduled (%d):\n", len(rep.Unscheduled))
		for _, u := range rep.Unscheduled {
			fmt.Fprintf(io.err, "  %s: %s\n", u.Summons, u.Reason)
		}
	}
	if out != "-" {
		fmt.Fprintf(io.err, "wrote %s\n", out)
	}
	return nil
}

// readProblem reads and validates the problem at path, or stdin for "-".
func readProblem(path string, stdin io.Reader) (*solver.Problem, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	p, err := solver.ReadProblem(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// writeSchedule writes s to path, or stdout for "-". A file is written beside path and
// renamed into place, so a failed run never leaves half a schedule under the name.
func writeSchedule(path string, stdout io.Writer, s *solver.Schedule) error {
	if path == "-" {
		return solver.WriteSchedule(stdout, s)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".chuting-schedule-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := solver.WriteSchedule(tmp, s); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
