package redis

import (
	"context"
	"time"

	"github.com/chuting/chuting"
	goredis "github.com/redis/go-redis/v9"
)

var _ chuting.Leaser = (*Store)(nil)

// acquireScript grants a lease atomically: KEYS[1] holds the holder (with a PX expiry, so
// Redis's clock decides), KEYS[2] the fencing counter, kept an hour past the lease's end (as
// the embedded store keeps it): periodic jobs take a lease per tick, whose counters would
// otherwise pile up for good. A renewal keeps the token; a new holder gets the next one. This
// is SET NX PX with a fencing token.
var acquireScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  return -1
end
local token
if cur == ARGV[1] then
  token = tonumber(redis.call('GET', KEYS[2]) or '0')
else
  token = redis.call('INCR', KEYS[2])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) + 3600000)
return token
`)

// releaseScript deletes the lease only if ARGV[1] holds it.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

func (s *Store) leaseKeys(name string) []string {
	return []string{s.prefix + "lease:" + name, s.prefix + "fence:" + name}
}

// Acquire implements chuting.Leaser, with Redis's clock as the only clock.
func (s *Store) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (uint64, bool, error) {
	if name == "" || holder == "" {
		return 0, false, chuting.Errorf(chuting.EINVALID, "a lease needs a name and a holder")
	} else if ttl < time.Millisecond {
		return 0, false, chuting.Errorf(chuting.EINVALID, "a lease needs a ttl of at least 1 ms")
	}
	if err := s.begin(); err != nil {
		return 0, false, err
	}
	defer s.mu.RUnlock()
	n, err := acquireScript.Run(ctx, s.rdb, s.leaseKeys(name), holder, ttl.Milliseconds()).Int64()
	if err != nil {
		return 0, false, s.fail("acquire lease", err)
	}
	if n < 0 {
		return 0, false, nil
	}
	return uint64(n), true, nil
}

// Release implements chuting.Leaser.
func (s *Store) Release(ctx context.Context, name, holder string) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if err := releaseScript.Run(ctx, s.rdb, s.leaseKeys(name)[:1], holder).Err(); err != nil {
		return s.fail("release lease", err)
	}
	return nil
}
