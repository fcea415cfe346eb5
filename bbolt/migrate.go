package bbolt

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"github.com/chuting/chuting"
	bolt "go.etcd.io/bbolt"
)

// migrateBatch is how many records one migration transaction reads. bbolt keeps a write
// transaction's changes in memory until commit, so a large kind is migrated in several
// transactions; a crash between them is harmless, because upgraded records are skipped the
// next time (Upgrade leaves a current record unchanged) and the marker is written last.
const migrateBatch = 1000

// migrate brings every kind's records to s.schema; see doc.go. It looks at the kinds this
// build knows and at any kind bucket in the file, so that records of a kind added by a newer
// build are refused (as newer) instead of ignored.
func (s *Store) migrate() error {
	kinds := chuting.Kinds()
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecords).ForEachBucket(func(k []byte) error {
			if kind := chuting.Kind(k); !slices.Contains(kinds, kind) {
				kinds = append(kinds, kind)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, kind := range kinds {
		if err := s.migrateKind(kind); err != nil {
			return err
		}
	}
	return nil
}

// migrateKind upgrades the records of kind unless the marker says they are current, and then
// records the marker. A kind without records only gets the marker.
func (s *Store) migrateKind(kind chuting.Kind) error {
	want := s.schema.Version(kind)
	marker := []byte(strconv.Itoa(want))
	var current bool
	err := s.db.View(func(tx *bolt.Tx) error {
		current = bytes.Equal(bucket(tx, bucketMeta, bucketSchema).Get([]byte(kind)), marker)
		return nil
	})
	if err != nil || current {
		return err
	}
	var after []byte // the last ID read by the previous batch
	for done := false; !done; {
		err := s.db.Update(func(tx *bolt.Tx) error {
			var changed []chuting.Record
			n := 0
			if b := bucket(tx, bucketRecords, []byte(kind)); b != nil {
				// Collect the batch first: bbolt cursors are not safe across writes to the
				// bucket they walk.
				c := b.Cursor()
				k, v := c.First()
				if after != nil {
					if k, v = c.Seek(after); bytes.Equal(k, after) {
						k, v = c.Next()
					}
				}
				for ; k != nil && n < migrateBatch; k, v = c.Next() {
					n++
					after = bytes.Clone(k)
					rec, err := decodeRecord(kind, string(k), v)
					if err != nil {
						return err
					}
					up, ok, err := s.schema.Upgrade(rec)
					if err != nil {
						return err
					} else if ok {
						changed = append(changed, up)
					}
				}
			}
			for _, rec := range changed {
				if err := s.putTx(tx, rec, rec.Version-1); err != nil {
					return fmt.Errorf("write migrated %s %s: %w", kind, rec.ID, err)
				}
			}
			if done = n < migrateBatch; done {
				return bucket(tx, bucketMeta, bucketSchema).Put([]byte(kind), marker)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("migrate %s records to schema version %d: %w", kind, want, err)
		}
	}
	return nil
}
