package scheduler

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/attendance"
	"github.com/chuting/chuting/bbolt"
	"github.com/chuting/chuting/redis"
	"github.com/chuting/chuting/redis/redistest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// twoNodes opens two Redis stores on one real redis-server, as two server nodes would.
func twoNodes(t *testing.T) (chuting.Leaser, chuting.Leaser) {
	t.Helper()
	srv := redistest.Start(t)
	var out [2]chuting.Leaser
	for i := range out {
		s, err := redis.Open(context.Background(), srv.URL(0), redis.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		out[i] = s
	}
	return out[0], out[1]
}

// TestCronOncePerTick: two schedulers on one Redis run each job exactly once per tick, also
// when both start every tick at the same moment.
func TestCronOncePerTick(t *testing.T) {
	a, b := twoNodes(t)
	var runs sync.Map // tick → *atomic.Int32
	job := Job{Name: "count", Spec: "* * * * *", Run: func(ctx context.Context) error { return nil }}
	nodes := []*Cron{NewCron(CronConfig{Leaser: a, Holder: "node-a"}), NewCron(CronConfig{Leaser: b, Holder: "node-b"})}
	base := time.Date(2026, 12, 7, 9, 0, 0, 0, cst)
	const ticks = 30
	var wg sync.WaitGroup
	for i := range ticks {
		tick := base.Add(time.Duration(i) * time.Minute)
		for _, n := range nodes {
			wg.Go(func() {
				ran, err := n.Tick(context.Background(), job, tick)
				if err != nil {
					t.Error(err)
				}
				if ran {
					c, _ := runs.LoadOrStore(tick, new(atomic.Int32))
					c.(*atomic.Int32).Add(1)
				}
			})
		}
	}
	wg.Wait()
	seen := 0
	runs.Range(func(k, v any) bool {
		seen++
		if n := v.(*atomic.Int32).Load(); n != 1 {
			t.Errorf("tick %v ran %d times", k, n)
		}
		return true
	})
	if seen != ticks {
		t.Fatalf("%d ticks ran, want %d", seen, ticks)
	}
}

// TestCronRealTicks runs two real robfig schedulers with a job every second for a few
// seconds: no second runs twice, and the ticks are counted on /metrics.
func TestCronRealTicks(t *testing.T) {
	a, b := twoNodes(t)
	var mu sync.Mutex
	count := map[time.Time]int{}
	job := Job{Name: "every-second", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		mu.Lock()
		count[time.Now().Round(time.Second)]++
		mu.Unlock()
		return nil
	}}
	regs := []*prometheus.Registry{prometheus.NewRegistry(), prometheus.NewRegistry()}
	var nodes []*Cron
	for i, l := range []chuting.Leaser{a, b} {
		c := NewCron(CronConfig{Leaser: l, Holder: []string{"a", "b"}[i], Seconds: true, Registerer: regs[i]})
		if err := c.Add(job); err != nil {
			t.Fatal(err)
		}
		c.Start()
		nodes = append(nodes, c)
	}
	time.Sleep(3500 * time.Millisecond)
	for _, c := range nodes {
		c.Stop(context.Background())
	}
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for tick, n := range count {
		if n != 1 {
			t.Errorf("second %s ran %d times", tick.Format(time.TimeOnly), n)
		}
		total += n
	}
	if total < 2 {
		t.Fatalf("%d runs in 3.5 s", total)
	}
	ok := 0.0
	skipped := 0.0
	for _, c := range nodes {
		ok += testutil.ToFloat64(c.runs.WithLabelValues("every-second", "ok"))
		skipped += testutil.ToFloat64(c.runs.WithLabelValues("every-second", "skipped"))
	}
	if int(ok) != total || skipped < 1 {
		t.Fatalf("metrics: %v ok (want %d), %v skipped (want the other node's)", ok, total, skipped)
	}
}

func TestCronFailures(t *testing.T) {
	store, err := bbolt.Open(filepath.Join(t.TempDir(), "c.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	reg := prometheus.NewRegistry()
	c := NewCron(CronConfig{Leaser: store, Holder: "only", Registerer: reg})
	boom := Job{Name: "boom", Spec: "@every 1h", Run: func(context.Context) error { return errors.New("boom") }}
	if ran, err := c.Tick(context.Background(), boom, time.Now()); !ran || err == nil {
		t.Fatalf("a failing job: ran %v err %v", ran, err)
	}
	if got := testutil.ToFloat64(c.runs.WithLabelValues("boom", "error")); got != 1 {
		t.Fatalf("error count %v, want 1", got)
	}
	if err := c.Add(Job{Name: "bad", Spec: "every tuesday"}); err == nil {
		t.Fatal("a bad schedule was accepted")
	}
	jobs := New(Config{Store: store, Attendance: attendance.New(attendance.Config{Store: store})}).Jobs()
	var names []string
	for _, j := range jobs {
		if err := c.Add(j); err != nil {
			t.Fatalf("the scheduler's own job %s: %v", j.Name, err)
		}
		names = append(names, j.Name)
	}
	for _, want := range []string{"reminders", "no-shows", "attendance-follow-ups", "attendance-reports"} {
		if !slices.Contains(names, want) {
			t.Errorf("jobs %v lack %s", names, want)
		}
	}
}

func TestScheduledTick(t *testing.T) {
	p := NewCron(CronConfig{}).parser
	every5, _ := p.Parse("*/5 * * * *")
	tests := []struct {
		name string
		now  time.Time
		want time.Time
		ok   bool
	}{
		{"OnTime", time.Date(2026, 12, 7, 9, 5, 0, 30e6, cst), time.Date(2026, 12, 7, 9, 5, 0, 0, cst), true},
		{"Late", time.Date(2026, 12, 7, 9, 5, 8, 0, cst), time.Date(2026, 12, 7, 9, 5, 0, 0, cst), true},
		// Not within maxLag of a tick: no tick to claim.
		{"TooLate", time.Date(2026, 12, 7, 9, 4, 59, 990e6, cst), time.Time{}, false},
	}
	for _, tc := range tests {
		if got, ok := scheduledTick(every5, tc.now); ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("%s: scheduledTick(%s) = %s %v, want %s %v", tc.name, tc.now, got, ok, tc.want, tc.ok)
		}
	}
}

// TestCronCatchUp: a CatchUp job runs its last tick when the cron starts (a monthly job whose
// tick fell while no node was up is made up, once across nodes); a job without CatchUp waits
// for its next tick.
func TestCronCatchUp(t *testing.T) {
	store, err := bbolt.Open(filepath.Join(t.TempDir(), "c.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var monthly, plain atomic.Int32
	nodes := []*Cron{NewCron(CronConfig{Leaser: store, Holder: "node-1"}), NewCron(CronConfig{Leaser: store, Holder: "node-2"})}
	for _, c := range nodes {
		if err := c.Add(Job{Name: "reports", Spec: "30 2 1 * *", CatchUp: true,
			Run: func(context.Context) error { monthly.Add(1); return nil }}); err != nil {
			t.Fatal(err)
		}
		if err := c.Add(Job{Name: "daily", Spec: "0 3 * * *",
			Run: func(context.Context) error { plain.Add(1); return nil }}); err != nil {
			t.Fatal(err)
		}
		c.Start()
		defer c.Stop(context.Background())
	}
	deadline := time.Now().Add(5 * time.Second)
	for monthly.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the other node's attempt has come by now
	if monthly.Load() != 1 || plain.Load() != 0 {
		t.Fatalf("at start: the CatchUp job ran %d times (want 1 across the two nodes), the other %d (want 0)",
			monthly.Load(), plain.Load())
	}
}
