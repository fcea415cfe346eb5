package bbolt

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/chuting/chuting"
	bolt "go.etcd.io/bbolt"
)

// Get returns the record of kind with id.
// ENOTFOUND if there is none.
func (s *Store) Get(ctx context.Context, kind chuting.Kind, id string) (chuting.Record, error) {
	var rec chuting.Record
	err := s.view(ctx, "get", func(tx *bolt.Tx) error {
		var v []byte
		if b := bucket(tx, bucketRecords, []byte(kind)); b != nil && id != "" {
			v = b.Get([]byte(id))
		}
		if v == nil {
			return notFound(kind, id)
		}
		var err error
		rec, err = decodeRecord(kind, id, v)
		return err
	})
	return rec, err
}

// Put writes rec if the stored version is expect, with its index entries, in one write
// transaction; see chuting.Records.Put for the outcomes. It also rejects (EINVALID) an empty
// kind or index name, a NUL in the ID or an index name, and a schema version below 1, which
// the next Open could not migrate.
func (s *Store) Put(ctx context.Context, rec chuting.Record, expect int64) error {
	if err := validate(rec, expect); err != nil {
		return err
	}
	return s.update(ctx, "put", func(tx *bolt.Tx) error { return s.putTx(tx, rec, expect) })
}

// validate checks what Put can check without reading the store.
func validate(rec chuting.Record, expect int64) error {
	switch {
	case rec.Kind == "":
		return chuting.FieldError("kind", "记录类型为空 / the record kind is empty")
	case len(rec.Kind) > bolt.MaxKeySize:
		return chuting.FieldError("kind", "记录类型过长 / the record kind is too long")
	case rec.ID == "":
		return chuting.FieldError("id", "ID 为空 / the ID is empty")
	case strings.IndexByte(rec.ID, 0) >= 0:
		return chuting.FieldError("id", "ID 含有 NUL 字符 / the ID contains NUL")
	case expect < 0:
		return chuting.FieldError("version", "预期版本为负数 / the expected version is negative")
	case rec.Version != expect+1:
		return chuting.FieldError("version", "版本应为 %d，而不是 %d / the version must be %d, not %d",
			expect+1, rec.Version, expect+1, rec.Version)
	case rec.Schema < 1:
		return chuting.FieldError("schema", "结构版本无效 / schema version %d is invalid", rec.Schema)
	}
	for _, e := range rec.Index {
		switch {
		case e.Name == "" || len(e.Name) > bolt.MaxKeySize:
			return chuting.FieldError("index", "索引名无效 / invalid index name %q", e.Name)
		case strings.IndexByte(e.Name, 0) >= 0:
			return chuting.FieldError("index", "索引名含有 NUL 字符 / index name %q contains NUL", e.Name)
		case strings.IndexByte(e.Value, 0) >= 0:
			return chuting.FieldError(e.Name, "索引值含有 NUL 字符 / the value of index %s contains NUL", e.Name)
		}
	}
	return nil
}

// putTx is Put inside tx, after validate. Migration uses it too, so migrated records get the
// same version check and index maintenance as any other write.
func (s *Store) putTx(tx *bolt.Tx, rec chuting.Record, expect int64) error {
	kind := []byte(rec.Kind)
	b, err := createBucket(tx, bucketRecords, kind)
	if err != nil {
		return err
	}
	id := []byte(rec.ID)
	if v := b.Get(id); v == nil && expect > 0 {
		return notFound(rec.Kind, rec.ID)
	} else if v != nil && expect == 0 {
		return &chuting.Error{Code: chuting.ECONFLICT, Message: "记录已存在 / the record already exists",
			Err: fmt.Errorf("%s %s exists", rec.Kind, rec.ID)}
	} else if v != nil {
		old, err := decodeRecord(rec.Kind, rec.ID, v)
		if err != nil {
			return err
		}
		if old.Version != expect {
			return staleVersion(rec.Kind, rec.ID, old.Version, expect)
		}
		if err := removeIndex(tx, old); err != nil {
			return err
		}
	}
	if err := addIndex(tx, rec); err != nil {
		return err
	}
	if err := b.Put(id, encodeRecord(rec)); err != nil {
		return err
	}
	if rec.Schema != s.schema.Version(rec.Kind) {
		// A record in another schema version than this build's (an import of old data, a
		// test) voids the kind's migration marker, so the next Open scans the kind again
		// instead of trusting that every record is current.
		return bucket(tx, bucketMeta, bucketSchema).Delete(kind)
	}
	return nil
}

// Delete removes the record and its index entries if its version is expect.
// ENOTFOUND if there is none, ECONFLICT if its version is not expect.
func (s *Store) Delete(ctx context.Context, kind chuting.Kind, id string, expect int64) error {
	return s.update(ctx, "delete", func(tx *bolt.Tx) error {
		b := bucket(tx, bucketRecords, []byte(kind))
		var v []byte
		if b != nil && id != "" {
			v = b.Get([]byte(id))
		}
		if v == nil {
			return notFound(kind, id)
		}
		old, err := decodeRecord(kind, id, v)
		if err != nil {
			return err
		}
		if old.Version != expect {
			return staleVersion(kind, id, old.Version, expect)
		}
		if err := removeIndex(tx, old); err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
}

// indexKey returns the key of one index entry: the value, NUL, the record's ID.
func indexKey(value, id string) []byte {
	k := make([]byte, 0, len(value)+1+len(id))
	k = append(k, value...)
	k = append(k, 0)
	return append(k, id...)
}

// addIndex adds rec's index entries. For a unique entry it first looks for any key with the
// same value and another ID; finding one aborts the transaction, so nothing of rec is written.
func addIndex(tx *bolt.Tx, rec chuting.Record) error {
	for _, e := range rec.Index {
		b, err := createBucket(tx, bucketIndex, []byte(rec.Kind), []byte(e.Name))
		if err != nil {
			return err
		}
		if e.Unique {
			prefix := indexKey(e.Value, "")
			c := b.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				if holder := string(k[len(prefix):]); holder != rec.ID {
					return &chuting.Error{Code: chuting.ECONFLICT, Field: e.Name,
						Message: e.Name + " 已被使用 / already taken",
						Err:     fmt.Errorf("%s %s: %s %q is held by %s", rec.Kind, rec.ID, e.Name, e.Value, holder)}
				}
			}
		}
		if err := b.Put(indexKey(e.Value, rec.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

// removeIndex removes the index entries of the stored version old.
func removeIndex(tx *bolt.Tx, old chuting.Record) error {
	for _, e := range old.Index {
		if b := bucket(tx, bucketIndex, []byte(old.Kind), []byte(e.Name)); b != nil {
			if err := b.Delete(indexKey(e.Value, old.ID)); err != nil {
				return err
			}
		}
	}
	return nil
}

// List returns one page of the records q selects, in index-value order then ID order.
// The cursor (Page.Next) is the last key returned: the ID when listing by ID, value+NUL+ID
// for an index; EINVALID for an index cursor without the NUL. List reads one ahead, so Next
// is "" on the last page.
func (s *Store) List(ctx context.Context, q chuting.Query) (chuting.Page, error) {
	if q.Kind == "" {
		return chuting.Page{}, chuting.FieldError("kind", "记录类型为空 / the record kind is empty")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = chuting.DefaultLimit
	} else if limit > chuting.MaxLimit {
		limit = chuting.MaxLimit
	}
	var lo, hi []byte
	if q.Index == "" {
		lo, hi = []byte(q.From), []byte(q.To)
	} else {
		if q.After != "" && strings.IndexByte(q.After, 0) < 0 {
			return chuting.Page{}, chuting.FieldError("after", "无效的分页游标 / invalid page cursor")
		}
		lo, hi = valueKey(q.From), valueKey(q.To)
	}
	var page chuting.Page
	err := s.view(ctx, "list", func(tx *bolt.Tx) error {
		recs := bucket(tx, bucketRecords, []byte(q.Kind))
		b := recs
		if q.Index != "" {
			b = bucket(tx, bucketIndex, []byte(q.Kind), []byte(q.Index))
		}
		if b == nil || recs == nil {
			return nil // nothing of the kind was ever written
		}
		c := b.Cursor()
		var k, v []byte
		if after := []byte(q.After); len(after) > 0 && bytes.Compare(after, lo) >= 0 {
			if k, v = c.Seek(after); bytes.Equal(k, after) {
				k, v = c.Next()
			}
		} else if len(lo) > 0 {
			k, v = c.Seek(lo)
		} else {
			k, v = c.First()
		}
		var last []byte
		for ; k != nil && (len(hi) == 0 || bytes.Compare(k, hi) < 0); k, v = c.Next() {
			if len(page.Records) == limit {
				page.Next = string(last) // k is in range, so there is more
				break
			}
			id := k
			if q.Index != "" {
				id = k[bytes.IndexByte(k, 0)+1:]
				if v = recs.Get(id); v == nil {
					return fmt.Errorf("%w: index %s/%s entry %q has no record", errCorrupt, q.Kind, q.Index, k)
				}
			}
			rec, err := decodeRecord(q.Kind, string(id), v)
			if err != nil {
				return err
			}
			page.Records = append(page.Records, rec)
			last = k
		}
		return nil
	})
	if err != nil {
		return chuting.Page{}, err
	}
	return page, nil
}

// valueKey returns the smallest index key whose value is at least bound, for "" nil (no
// bound). Stored values never contain NUL, so for a bound p+NUL+… (chuting.Equal's To is
// value+NUL) the smallest such value is p followed by any byte, which sorts from p+"\x01";
// for a bound without NUL it is the bound itself, whose keys start at bound+NUL.
func valueKey(bound string) []byte {
	if bound == "" {
		return nil
	}
	if i := strings.IndexByte(bound, 0); i >= 0 {
		return append([]byte(bound[:i]), 1)
	}
	return append([]byte(bound), 0)
}

func notFound(kind chuting.Kind, id string) error {
	return &chuting.Error{Code: chuting.ENOTFOUND, Message: "记录不存在 / no such record",
		Err: fmt.Errorf("no %s %s", kind, id)}
}

func staleVersion(kind chuting.Kind, id string, stored, expect int64) error {
	return &chuting.Error{Code: chuting.ECONFLICT,
		Message: "记录已被他人修改，请刷新后重试 / the record has changed since it was read; reload and retry",
		Err:     fmt.Errorf("%s %s is at version %d, not %d", kind, id, stored, expect)}
}
