package redis

import (
	"context"
	"fmt"
	"strconv"

	"github.com/chuting/chuting"
	goredis "github.com/redis/go-redis/v9"
)

const (
	// migratePage is how many records migrateKind reads per round trip.
	migratePage = 200
	// migrateRetries bounds the re-reads of one record that another node keeps changing
	// while it is being migrated.
	migrateRetries = 5
)

// migrate brings every record under the prefix to schema. The meta hash keeps, per kind, the
// schema version all of the kind's records were last brought to; kinds whose marker matches
// are skipped, so an ordinary restart reads one hash instead of every record.
func (s *Store) migrate(ctx context.Context, schema chuting.Schema) error {
	markers, err := s.rdb.HGetAll(ctx, s.metaKey()).Result()
	if err != nil {
		return fmt.Errorf("read schema markers: %w", err)
	}
	for _, kind := range chuting.Kinds() {
		want := strconv.Itoa(schema.Version(kind))
		field := "schema:" + string(kind)
		if markers[field] == want {
			continue
		}
		if err := s.migrateKind(ctx, schema, kind); err != nil {
			return err
		}
		if err := s.rdb.HSet(ctx, s.metaKey(), field, want).Err(); err != nil {
			return fmt.Errorf("set the schema marker of %s: %w", kind, err)
		}
	}
	return nil
}

// migrateKind upgrades the records of kind page by page, in id order. It walks the ids
// sorted set rather than SCANning rec:* keys: the set is written by the same scripts as the
// records, so it lists each record exactly once, in a stable order, without glob-escaping the
// prefix.
func (s *Store) migrateKind(ctx context.Context, schema chuting.Schema, kind chuting.Kind) error {
	lo := "-"
	for {
		ids, err := s.rdb.ZRangeByLex(ctx, s.idsKey(kind),
			&goredis.ZRangeBy{Min: lo, Max: "+", Count: migratePage}).Result()
		if err != nil {
			return fmt.Errorf("migrate %s: list: %w", kind, err)
		}
		for _, id := range ids {
			if err := s.migrateRecord(ctx, schema, kind, id); err != nil {
				return err
			}
		}
		if len(ids) < migratePage {
			return nil
		}
		lo = "(" + ids[len(ids)-1]
	}
}

// migrateRecord upgrades one record and writes it back through the Put script, expecting the
// version it read, so an update by another node in the meantime is never overwritten: the
// record is read and upgraded again instead.
func (s *Store) migrateRecord(ctx context.Context, schema chuting.Schema, kind chuting.Kind, id string) error {
	for range migrateRetries {
		rec, err := s.get(ctx, kind, id)
		if chuting.ErrorCode(err) == chuting.ENOTFOUND {
			return nil // deleted since it was listed
		} else if err != nil {
			return fmt.Errorf("migrate %s %s: %w", kind, id, err)
		}
		old := rec.Version
		rec, changed, err := schema.Upgrade(rec)
		if err != nil {
			return fmt.Errorf("migrate: %w", err) // names the record; says "newer" if it is
		} else if !changed {
			return nil
		}
		if err := validRecord(rec, old); err != nil {
			return fmt.Errorf("migrate %s %s: %w", kind, id, err)
		}
		err = s.put(ctx, rec, old)
		switch chuting.ErrorCode(err) {
		case "", chuting.ENOTFOUND:
			return nil
		case chuting.ECONFLICT:
			if chuting.ErrorField(err) != "" { // a unique value of the new shape is taken
				return fmt.Errorf("migrate %s %s: %w", kind, id, err)
			}
			continue // changed by another node since it was read
		default:
			return fmt.Errorf("migrate %s %s: %w", kind, id, err)
		}
	}
	return fmt.Errorf("migrate %s %s: it kept changing during %d attempts", kind, id, migrateRetries)
}
