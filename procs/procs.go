// Package procs sizes the Go scheduler's processors (GOMAXPROCS) to the process's load: as
// few as its CPU use needs, up to as many as the runtime started with.
//
// A media server hands each packet between goroutines (the socket's reader, a writer per
// subscriber, the socket's flusher), and with a processor idle each hand-off may wake it: a
// thread woken, spinning for work, parked again, and the packet's memory moved to the other
// core's cache. When the server's work fits in one core, that costs more than the second core
// gives: on the development machine (a 2-vCPU virtual machine, where waking a CPU is dear) 1.5
// to 2 µs of the 12 per forwarded packet at 10 rooms × 5 (docs/perf.md). The Controller reads
// the process's CPU time every interval and runs it on one processor fewer while its use would
// fit in them with room to spare, and on one more as soon as it does not.
package procs

import (
	"context"
	"runtime"
	"time"
)

// Options are a Controller's settings; the zero value of each field takes its default.
type Options struct {
	// Max is the most processors to run on: runtime.GOMAXPROCS(0) when New is called (the
	// machine's CPUs, or the cgroup's limit, or the GOMAXPROCS environment variable).
	Max int
	// Interval is how often the use is read: 1 s (over a quarter of a second the rooms'
	// keyframes alone passed Up, and the server went to two processors at 10 rooms × 5).
	Interval time.Duration
	// Up: one processor more when the use over an interval exceeds Up times the processors:
	// 0.55, so that bursts (keyframes, joins) find room.
	Up float64
	// Down: one processor fewer when the mean use over the last DownAfter intervals is under
	// Down times one fewer: 0.6 and 5 (the mean, so that a busy second, a keyframe or a
	// join, does not start the wait again). Down over Up leaves room for the use to fall when
	// the hand-offs between cores stop (by about an eighth at 10 rooms × 5: 0.6 of a core on
	// two processors is 0.52 on one), so that the count does not go back up at once.
	Down      float64
	DownAfter int
	// Hold is how many intervals after a step up no step down is taken (30); and a step
	// down is not taken while the mean of the last quarter of the DownAfter intervals is over
	// the mark either: a load that grows (hearings opening one after another) passes the mark
	// with the mean of all still under it, and would be stepped down into overload.
	Hold int
	// CPU returns the process's CPU time so far (user and system): getrusage's where there is
	// one.
	CPU func() time.Duration
	// Set runs the process on n processors: runtime.GOMAXPROCS.
	Set func(n int)
	// Changed, if set, is told of each change, with the use (cores) that made it.
	Changed func(from, to int, use float64)
}

// Controller decides how many processors to run on from the CPU use it is given.
type Controller struct {
	o       Options
	n       int       // the processors now
	uses    []float64 // the use over the intervals since the last change, the last DownAfter
	sinceUp int       // intervals since the last step up
}

// New returns a Controller with o's settings (defaults filled in), on Max processors.
func New(o Options) *Controller {
	if o.Max <= 0 {
		o.Max = runtime.GOMAXPROCS(0)
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Up <= 0 {
		o.Up = 0.55
	}
	if o.Down <= 0 {
		o.Down = 0.6
	}
	if o.DownAfter <= 0 {
		o.DownAfter = 5
	}
	if o.Hold <= 0 {
		o.Hold = 30
	}
	if o.CPU == nil {
		o.CPU = processCPU // nil where it cannot be read
	}
	if o.Set == nil {
		o.Set = func(n int) { runtime.GOMAXPROCS(n) }
	}
	return &Controller{o: o, n: o.Max, sinceUp: o.Hold}
}

// Procs returns the processors the Controller runs the process on.
func (c *Controller) Procs() int { return c.n }

// Step takes the use (cores) over the last interval and returns the processors to run on.
func (c *Controller) Step(use float64) int {
	if use > c.o.Up*float64(c.n) && c.n < c.o.Max {
		c.n++
		c.uses, c.sinceUp = c.uses[:0], 0
		return c.n
	}
	c.sinceUp++
	if len(c.uses) == c.o.DownAfter {
		c.uses = append(c.uses[:0], c.uses[1:]...)
	}
	c.uses = append(c.uses, use)
	mark := c.o.Down * float64(c.n-1)
	if c.n > 1 && len(c.uses) == c.o.DownAfter && c.sinceUp >= c.o.Hold &&
		mean(c.uses) < mark && mean(c.uses[len(c.uses)-max(1, len(c.uses)/4):]) < mark {
		c.n--
		c.uses = c.uses[:0]
	}
	return c.n
}

// mean returns the mean of uses.
func mean(uses []float64) float64 {
	var sum float64
	for _, u := range uses {
		sum += u
	}
	return sum / float64(len(uses))
}

// Run reads the process's CPU use every interval and sets the processors Step decides, until
// ctx ends; then it puts the process back on Max. Where the process's CPU time cannot be read
// (no getrusage), it returns at once, the process left on Max.
func (c *Controller) Run(ctx context.Context) {
	if c.o.CPU == nil {
		return
	}
	t := time.NewTicker(c.o.Interval)
	defer t.Stop()
	defer func() {
		if c.n != c.o.Max {
			c.apply(c.n, c.o.Max, 0)
			c.n = c.o.Max
		}
	}()
	last, lastAt := c.o.CPU(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cpu := c.o.CPU()
			use := float64(cpu-last) / float64(now.Sub(lastAt))
			last, lastAt = cpu, now
			from := c.n
			if to := c.Step(use); to != from {
				c.apply(from, to, use)
			}
		}
	}
}

// apply runs the process on to processors instead of from.
func (c *Controller) apply(from, to int, use float64) {
	c.o.Set(to)
	if c.o.Changed != nil {
		c.o.Changed(from, to, use)
	}
}
