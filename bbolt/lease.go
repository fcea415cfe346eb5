package bbolt

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chuting/chuting"
	bolt "go.etcd.io/bbolt"
)

// bucketLeases holds the leases, by name. A lease is decided inside one write transaction,
// which bbolt serialises, so one process holding the file is the only arbiter needed.
var bucketLeases = []byte("leases")

var _ chuting.Leaser = (*Store)(nil)

// lease is a stored lease.
type lease struct {
	Holder  string `json:"h"`
	Expires int64  `json:"e"` // Unix nanoseconds
	Token   uint64 `json:"t"`
}

// Acquire implements chuting.Leaser. Time is this process's clock: the embedded store has
// one process, so there is no other clock to disagree with.
func (s *Store) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (uint64, bool, error) {
	if err := checkLease(name, holder, ttl); err != nil {
		return 0, false, err
	}
	var token uint64
	var ok bool
	err := s.update(ctx, "acquire lease", func(tx *bolt.Tx) error {
		b, err := createBucket(tx, bucketLeases)
		if err != nil {
			return err
		}
		now := time.Now()
		var cur lease
		if v := b.Get([]byte(name)); v != nil {
			if err := json.Unmarshal(v, &cur); err != nil {
				return errCorrupt
			}
		}
		if cur.Holder != "" && cur.Holder != holder && now.UnixNano() < cur.Expires {
			return nil // held by someone else
		}
		next := lease{Holder: holder, Expires: now.Add(ttl).UnixNano(), Token: cur.Token}
		if cur.Holder != holder || now.UnixNano() >= cur.Expires {
			next.Token++ // the lease passes to a (new) holder
		}
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		token, ok = next.Token, true
		if err := b.Put([]byte(name), data); err != nil {
			return err
		}
		return sweepLeases(b, now)
	})
	return token, ok, err
}

// sweepLeases deletes leases that expired over an hour ago: periodic jobs take a lease per
// tick, which would otherwise pile up. Nobody compares tokens of a lease that old.
func sweepLeases(b *bolt.Bucket, now time.Time) error {
	cutoff := now.Add(-time.Hour).UnixNano()
	var stale [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var l lease
		if json.Unmarshal(v, &l) == nil && l.Expires < cutoff {
			stale = append(stale, k)
		}
		return nil
	})
	for _, k := range stale {
		if err == nil {
			err = b.Delete(k)
		}
	}
	return err
}

// Release implements chuting.Leaser.
func (s *Store) Release(ctx context.Context, name, holder string) error {
	return s.update(ctx, "release lease", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLeases)
		if b == nil {
			return nil
		}
		var cur lease
		if v := b.Get([]byte(name)); v == nil || json.Unmarshal(v, &cur) != nil || cur.Holder != holder {
			return nil
		}
		// Keep the token, so the next holder's is larger; the holder goes, and the lease ends
		// now (swept an hour on, as an expired one: with expiry 0 the next sweep took it, and
		// its token, at once).
		data, err := json.Marshal(lease{Token: cur.Token, Expires: time.Now().UnixNano()})
		if err != nil {
			return err
		}
		return b.Put([]byte(name), data)
	})
}

func checkLease(name, holder string, ttl time.Duration) error {
	switch {
	case name == "" || holder == "":
		return chuting.Errorf(chuting.EINVALID, "a lease needs a name and a holder")
	case ttl < time.Millisecond:
		return chuting.Errorf(chuting.EINVALID, "a lease needs a ttl of at least 1 ms")
	}
	return nil
}
