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

// peek returns how long until key may make one more attempt at now (0: now), taking nothing.
func (l *limiter) peek(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	tokens := l.bucketUnlocked(key, now).lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(l.every))
}

// charge takes one attempt for key at now, whether or not one was available.
func (l *limiter) charge(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucketUnlocked(key, now).lim.ReserveN(now, 1)
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
