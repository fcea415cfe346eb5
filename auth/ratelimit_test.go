package auth

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// t0 is the start of the limiter tests' clock.
var t0 = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

func TestLimiter(t *testing.T) {
	type step struct {
		key  string
		at   time.Duration // after t0
		want time.Duration // the wait reserve returns; 0 = allowed
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"OKBurst", []step{{"a", 0, 0}, {"a", 0, 0}, {"a", 0, 0}}},
		{"ErrAfterBurst", []step{{"a", 0, 0}, {"a", 0, 0}, {"a", 0, 0}, {"a", 0, time.Minute}}},
		{"ErrRefusalDoesNotPush", []step{{"a", 0, 0}, {"a", 0, 0}, {"a", 0, 0},
			{"a", 0, time.Minute}, {"a", 0, time.Minute}, {"a", 0, time.Minute},
			{"a", 30 * time.Second, 30 * time.Second}, {"a", 59 * time.Second, time.Second},
			{"a", time.Minute, 0}}},
		{"OKAfterEvery", []step{{"a", 0, 0}, {"a", 0, 0}, {"a", 0, 0}, {"a", 0, time.Minute},
			{"a", time.Minute, 0}, {"a", time.Minute, time.Minute}}},
		{"OKRefillsToBurstOnly", []step{{"a", 0, 0}, {"a", time.Hour, 0}, {"a", time.Hour, 0},
			{"a", time.Hour, 0}, {"a", time.Hour, time.Minute}}},
		{"OKSpacedOut", []step{{"a", 0, 0}, {"a", time.Minute, 0}, {"a", 2 * time.Minute, 0},
			{"a", 3 * time.Minute, 0}, {"a", 4 * time.Minute, 0}}},
		{"OKKeysIndependent", []step{{"a", 0, 0}, {"a", 0, 0}, {"a", 0, 0}, {"a", 0, time.Minute},
			{"b", 0, 0}, {"b", 0, 0}, {"b", 0, 0}, {"b", 0, time.Minute}, {"c", 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(time.Minute, 3)
			for i, s := range tt.steps {
				if got := l.reserve(s.key, at(s.at)); !near(got, s.want) {
					t.Fatalf("step %d: reserve(%q, t0+%v) = %v, want %v", i, s.key, s.at, got, s.want)
				}
			}
		})
	}
}

// near reports whether the waits a and b are within a millisecond: x/time/rate computes them
// in floating point.
func near(a, b time.Duration) bool { return (a == 0) == (b == 0) && (a-b).Abs() < time.Millisecond }

func TestLimiterSweep(t *testing.T) {
	// A bucket is full again every*burst = 3 min after its last use; after that it is forgotten.
	const full = 3 * time.Minute
	tests := []struct {
		name     string
		now      time.Duration // of the sweeping call, for key "new"
		wantKeys []string
	}{
		{"OKSwept", time.Minute + full + time.Second, []string{"new"}},
		{"OKRecentKept", full - time.Second, []string{"idle", "recent", "new"}},
		{"OKRecentKeptIdleSwept", full + 30*time.Second, []string{"recent", "new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(time.Minute, 3)
			for range 3 {
				l.reserve("idle", at(0))
			}
			l.reserve("recent", at(time.Minute))
			if n := len(l.buckets); n != 2 {
				t.Fatalf("%d buckets, want 2", n)
			}
			l.reserve("new", at(tt.now))
			if len(l.buckets) != len(tt.wantKeys) {
				t.Errorf("%d buckets after a call at t0+%v, want %v", len(l.buckets), tt.now, tt.wantKeys)
			}
			for _, k := range tt.wantKeys {
				if l.buckets[k] == nil {
					t.Errorf("bucket %q is gone", k)
				}
			}
		})
	}
	t.Run("OKSweptBucketStartsFull", func(t *testing.T) {
		l := newLimiter(time.Minute, 3)
		for range 4 {
			l.reserve("a", at(0))
		}
		for i := range 3 {
			if got := l.reserve("a", at(full+time.Second)); got != 0 {
				t.Errorf("attempt %d after the sweep: wait %v, want 0", i, got)
			}
		}
	})
	t.Run("OKManyKeysShrink", func(t *testing.T) {
		l := newLimiter(time.Second, 2)
		for i := range 1000 {
			l.reserve(string(rune('a'+i%26))+string(rune(i)), at(time.Duration(i)*time.Millisecond))
		}
		before := len(l.buckets)
		l.reserve("late", at(time.Hour))
		if before < 100 || len(l.buckets) != 1 {
			t.Errorf("buckets: %d before the sweep, %d after; want many, then 1", before, len(l.buckets))
		}
	})
}

func TestLimiterConcurrent(t *testing.T) {
	// Run with -race: reserve is called from every sign-in request.
	l := newLimiter(time.Minute, 5)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if l.reserve("a", t0) == 0 {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 5 {
		t.Errorf("%d of 80 concurrent attempts allowed, want the burst of 5", allowed)
	}
}

func TestRateLimitError(t *testing.T) {
	tests := []struct {
		name string
		wait time.Duration
		want string
	}{
		{"OK", 90 * time.Second, "in 90 s"},
		{"OKRounded", 1500 * time.Millisecond, "in 2 s"},
		{"OKAtLeastOne", 200 * time.Millisecond, "in 1 s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := error(&RateLimitError{Wait: tt.wait})
			if code := chuting.ErrorCode(err); code != chuting.ERATELIMIT {
				t.Errorf("ErrorCode = %q, want %q", code, chuting.ERATELIMIT)
			}
			if msg := chuting.ErrorMessage(err); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not contain %q", msg, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Error() = %q does not contain %q", err, tt.want)
			}
		})
	}
}
