package procs

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestStep walks the Controller through loads: a light one takes it down one processor once
// the mean of DownAfter intervals is low enough (a busy second among them does not start the
// wait again, a busier mean does) and the last one too (not while the load grows), and not
// within Hold intervals of a step up; a heavier one back up at once; within 1 and Max.
func TestStep(t *testing.T) {
	c := New(Options{Max: 3, Up: 0.5, Down: 0.55, DownAfter: 5, Hold: 8, CPU: func() time.Duration { return 0 }, Set: func(int) {}})
	steps := []struct {
		use  float64
		want int
	}{
		{0.9, 3}, {0.9, 3}, {0.9, 3}, {0.9, 3},
		{1.4, 3},                                                   // a mean of 1.0, under 0.55 × 2, but the last over: a load that grows
		{0.9, 2},                                                   // 1.0 and the last under: one fewer
		{0.6, 2}, {0.6, 2}, {0.6, 2}, {0.6, 2}, {0.6, 2}, {0.6, 2}, // ≥ 0.55 × 1: stays
		{0.9, 2}, {0.3, 2}, // the last five's mean 0.6
		{0.4, 2},                                                   // 0.56
		{0.4, 1},                                                   // 0.52: one fewer
		{0.45, 1},                                                  // under 0.5 × 1
		{0.7, 2},                                                   // over 0.5 × 1: one more at once
		{1.5, 3},                                                   // over 0.5 × 2: and again
		{1.6, 3},                                                   // never more than Max
		{0.5, 3}, {0.5, 3}, {0.5, 3}, {0.5, 3}, {0.5, 3}, {0.5, 3}, // light, but within Hold of the step up
		{0.5, 2}, // the eighth since
	}
	for i, s := range steps {
		if got := c.Step(s.use); got != s.want {
			t.Fatalf("step %d (use %.2f): %d processors, want %d", i, s.use, got, s.want)
		}
	}
	for range 20 {
		c.Step(0)
	}
	if c.Procs() != 1 {
		t.Fatalf("idle: %d processors, want 1", c.Procs())
	}
}

// TestRun runs a Controller on a CPU clock that advances at a given use: it goes to one
// processor while the use is low, back to two when it rises, and to Max when its context ends.
func TestRun(t *testing.T) {
	var mu sync.Mutex
	var use float64 // cores, what the clock below advances at
	var cpu time.Duration
	last := time.Now()
	clock := func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		cpu += time.Duration(use * float64(now.Sub(last)))
		last = now
		return cpu
	}
	setUse := func(u float64) {
		clock()
		mu.Lock()
		use = u
		mu.Unlock()
	}
	sets := make(chan int, 16)
	c := New(Options{Max: 2, Interval: 10 * time.Millisecond, DownAfter: 3, CPU: clock,
		Set: func(n int) { sets <- n }})
	setUse(0.3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	var got []int
	next := func() int {
		t.Helper()
		select {
		case n := <-sets:
			got = append(got, n)
			return n
		case <-time.After(5 * time.Second):
			t.Fatalf("no change after %v", got)
			return 0
		}
	}
	if n := next(); n != 1 {
		t.Fatalf("at 0.3 cores: set %d", n)
	}
	setUse(0.8)
	if n := next(); n != 2 {
		t.Fatalf("at 0.8 cores: set %d", n)
	}
	setUse(0.3)
	if n := next(); n != 1 {
		t.Fatalf("at 0.3 cores again: set %d", n)
	}
	cancel()
	<-done
	if n := next(); n != 2 || !slices.Equal(got, []int{1, 2, 1, 2}) {
		t.Fatalf("sets %v, want 1 2 1 and back to 2 at the end", got)
	}
}
