package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a set of token buckets, one per key (an account or an address). Buckets idle
// long enough to be full again are forgotten, so memory follows the recent attack rate, not
// the number of keys ever seen.
type limiter struct {
	every time.Duration // one attempt refills every this long
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newLimiter(every time.Duration, burst int) *limiter {
	return &limiter{every: every, burst: burst, buckets: map[string]*bucket{}}
}

// bucketUnlocked returns key's bucket, sweeping idle ones first. l.mu must be held.
func (l *limiter) bucketUnlocked(key string, now time.Time) *bucket {
	full := l.every * time.Duration(l.burst)
	if now.Sub(l.swept) > full {
		for k, b := range l.buckets {
			if now.Sub(b.last) > full {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	return b
}

// take takes one attempt for key at now, returning its reservation (to cancel, giving the
// attempt back); or, taking nothing, how long until one is allowed.
func (l *limiter) take(key string, now time.Time) (*rate.Reservation, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.bucketUnlocked(key, now).lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, d
	}
	return r, 0
}

// attempt takes one attempt for key at now, or returns a *RateLimitError.
func (l *limiter) attempt(key string, now time.Time) error {
	if d := l.reserve(key, now); d > 0 {
		return &RateLimitError{Wait: d}
	}
	return nil
}

// reserve takes one attempt for key at now. It returns 0 if the attempt may go ahead, or how
// long to wait before the next one would be allowed.
func (l *limiter) reserve(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.bucketUnlocked(key, now).lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // a refused attempt does not push the next one further out
		return d
	}
	return 0
}
