package bbolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chuting/chuting"
	bolt "go.etcd.io/bbolt"
)

// courtV2 is a schema in which courts moved from schema 1, with the code stored as
// "court_code", to schema 2, with it stored as "code" (as in storetest).
func courtV2() chuting.Schema {
	return chuting.Schema{
		Versions: map[chuting.Kind]int{chuting.KindCourt: 2},
		Migrations: map[chuting.Kind][]chuting.Migration{chuting.KindCourt: {
			func(doc map[string]any) error {
				v, ok := doc["court_code"].(string)
				if !ok {
					return errors.New("court_code is missing")
				}
				doc["code"] = v
				delete(doc, "court_code")
				return nil
			},
		}},
	}
}

// oldCourt returns court i as a schema-1 build wrote it.
func oldCourt(i int) chuting.Record {
	id := fmt.Sprintf("c%05d", i)
	return chuting.Record{Kind: chuting.KindCourt, ID: id, Version: 1, Schema: 1,
		Data: fmt.Appendf(nil, `{"id":%q,"version":1,"schema":1,"name":"法院","court_code":"code-%d"}`, id, i)}
}

// markers returns the schema markers recorded in s.
func markers(tb testing.TB, s *Store) map[chuting.Kind]string {
	tb.Helper()
	out := map[chuting.Kind]string{}
	must(tb, s.db.View(func(tx *bolt.Tx) error {
		return bucket(tx, bucketMeta, bucketSchema).ForEach(func(k, v []byte) error {
			out[chuting.Kind(k)] = string(v)
			return nil
		})
	}))
	return out
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		// More records than one migration transaction takes, so batching is exercised.
		path := filepath.Join(t.TempDir(), "chuting.db")
		s := MustOpen(t, path)
		const n = 2*migrateBatch + 3
		must(t, s.db.Update(func(tx *bolt.Tx) error {
			for i := range n {
				if err := s.putTx(tx, oldCourt(i), 0); err != nil {
					return err
				}
			}
			return nil
		}))
		if m := markers(t, s); len(m) != len(chuting.Kinds()) || m[chuting.KindCourt] != "1" {
			t.Fatalf("markers of a new store = %v, want every kind at 1", m)
		}
		must(t, s.Close())

		s2, err := Open(path, Options{Schema: courtV2()})
		must(t, err)
		t.Cleanup(func() { _ = s2.Close() })
		for _, i := range []int{0, migrateBatch - 1, migrateBatch, n - 1} {
			got, err := chuting.FindOne[chuting.Court](ctx, s2, chuting.IndexCode, fmt.Sprintf("code-%d", i))
			must(t, err)
			if got.ID != oldCourt(i).ID || got.Version != 2 || got.Schema != 2 {
				t.Fatalf("court %d after migration = %+v", i, got.Meta)
			}
		}
		if m := markers(t, s2); m[chuting.KindCourt] != "2" || m[chuting.KindUser] != "1" {
			t.Fatalf("markers after migration = %v", m)
		}
	})
	t.Run("OldPutVoidsMarker", func(t *testing.T) {
		// A schema-1 record written while the store is at schema 2 is migrated on the next
		// open even though the marker said the kind was current.
		path := filepath.Join(t.TempDir(), "chuting.db")
		s, err := Open(path, Options{Schema: courtV2()})
		must(t, err)
		must(t, s.Put(ctx, oldCourt(1), 0))
		if _, ok := markers(t, s)[chuting.KindCourt]; ok {
			t.Fatal("an old-schema Put left the court marker in place")
		}
		must(t, s.Close())
		s, err = Open(path, Options{Schema: courtV2()})
		must(t, err)
		defer s.Close()
		rec, err := s.Get(ctx, chuting.KindCourt, oldCourt(1).ID)
		must(t, err)
		if rec.Schema != 2 || rec.Version != 2 {
			t.Fatalf("record after reopen: schema %d version %d, want 2 and 2", rec.Schema, rec.Version)
		}
	})
	t.Run("ErrUpgrade", func(t *testing.T) {
		// A failing migration makes Open fail, leaves the data as it was and the file
		// unlocked, so the operator can go back to the old build.
		path := filepath.Join(t.TempDir(), "chuting.db")
		s := MustOpen(t, path)
		bad := oldCourt(2)
		bad.Data = []byte(`{"name":"no code"}`)
		must(t, s.Put(ctx, bad, 0))
		must(t, s.Close())
		s2, err := Open(path, Options{Schema: courtV2()})
		if err == nil {
			_ = s2.Close()
			t.Fatal("Open succeeded over a failing migration")
		}
		if !strings.Contains(err.Error(), "court_code is missing") {
			t.Fatalf("error = %v, want the migration's message", err)
		}
		s3 := MustOpen(t, path)
		rec, err := s3.Get(ctx, chuting.KindCourt, bad.ID)
		must(t, err)
		if rec.Version != 1 || rec.Schema != 1 {
			t.Fatalf("record after a failed migration: %+v", rec)
		}
	})
	t.Run("ErrNewerKind", func(t *testing.T) {
		// A kind this build does not know, written at schema 2 by a newer build.
		path := filepath.Join(t.TempDir(), "chuting.db")
		newer := chuting.Schema{Versions: map[chuting.Kind]int{"verdict": 2}}
		s, err := Open(path, Options{Schema: newer})
		must(t, err)
		must(t, s.Put(ctx, chuting.Record{Kind: "verdict", ID: "v1", Version: 1, Schema: 2, Data: []byte(`{}`)}, 0))
		must(t, s.Close())
		s, err = Open(path, Options{})
		if err == nil {
			_ = s.Close()
			t.Fatal("opened a store holding records of an unknown kind from a newer build")
		}
		if !strings.Contains(err.Error(), "newer") {
			t.Fatalf("error = %v, want it to say newer", err)
		}
	})
}
