package chuting_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chuting/chuting"
)

// courtRecord returns a stored court at schema version schema and record version 4, whose
// JSON is data.
func courtRecord(schema int, data string) chuting.Record {
	return chuting.Record{Kind: chuting.KindCourt, ID: "01jcourt0000000000000000aa", Version: 4, Schema: schema,
		Index: []chuting.IndexEntry{{Name: "stale", Value: "x"}}, Data: []byte(data)}
}

// appendTo returns a migration that appends s to the string field key, so that the order in
// which migrations ran can be read back.
func appendTo(key, s string) chuting.Migration {
	return func(doc map[string]any) error {
		old, _ := doc[key].(string)
		doc[key] = old + s
		return nil
	}
}

// courtV3 is a schema with courts at version 3: v1→v2 appends "1" to the address, v2→v3
// appends "2" and sets the court code.
func courtV3() chuting.Schema {
	return chuting.Schema{
		Versions: map[chuting.Kind]int{chuting.KindCourt: 3},
		Migrations: map[chuting.Kind][]chuting.Migration{chuting.KindCourt: {
			appendTo("address", "1"),
			func(doc map[string]any) error {
				if err := appendTo("address", "2")(doc); err != nil {
					return err
				}
				doc["code"] = "赣07"
				return nil
			},
		}},
	}
}

// mustDecodeNumbers decodes JSON keeping numbers as written.
func mustDecodeNumbers(tb testing.TB, data []byte) map[string]any {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		tb.Fatalf("decode %s: %v", data, err)
	}
	return doc
}

func TestSchemaUpgrade(t *testing.T) {
	const v1 = `{"id":"01jcourt0000000000000000aa","version":4,"schema":1,"name":"赣州市中级人民法院","address":"",` +
		`"notice_days":7,"legacy_count":9007199254740993,"ratio":0.1}`
	tests := []struct {
		name        string
		schema      chuting.Schema
		rec         chuting.Record
		wantAddress string // the address after the migrations
		wantCode    string
	}{
		{"OKFromV1", courtV3(), courtRecord(1, v1), "12", "赣07"},
		{"OKFromV2", courtV3(), courtRecord(2, strings.Replace(v1, `"schema":1`, `"schema":2`, 1)), "2", "赣07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := tt.schema.Upgrade(tt.rec)
			if err != nil {
				t.Fatalf("Upgrade: %v", err)
			}
			if !changed {
				t.Error("Upgrade reported no change")
			}
			if got.Version != tt.rec.Version+1 || got.Schema != 3 {
				t.Errorf("Upgrade gave version %d schema %d, want version %d schema 3", got.Version, got.Schema, tt.rec.Version+1)
			}
			if got.Kind != tt.rec.Kind || got.ID != tt.rec.ID {
				t.Errorf("Upgrade changed the key to %s %s", got.Kind, got.ID)
			}
			doc := mustDecodeNumbers(t, got.Data)
			for key, want := range map[string]string{
				"version": fmt.Sprint(got.Version), "schema": "3",
				"notice_days": "7", "legacy_count": "9007199254740993", "ratio": "0.1",
			} {
				if n, ok := doc[key].(json.Number); !ok || n.String() != want {
					t.Errorf("migrated JSON has %s = %v, want %s", key, doc[key], want)
				}
			}
			var c chuting.Court
			if err := json.Unmarshal(got.Data, &c); err != nil {
				t.Fatal(err)
			}
			if c.Address != tt.wantAddress || c.Code != tt.wantCode || c.Name != "赣州市中级人民法院" {
				t.Errorf("migrated court = %+v, want address %q, code %q", c, tt.wantAddress, tt.wantCode)
			}
			want := []chuting.IndexEntry{{Name: chuting.IndexCode, Value: tt.wantCode, Unique: true}}
			if !reflect.DeepEqual(got.Index, want) {
				t.Errorf("Index = %+v, want %+v (recomputed from the migrated JSON)", got.Index, want)
			}
			if _, changed, err := tt.schema.Upgrade(got); err != nil || changed {
				t.Errorf("a second Upgrade = changed %v, %v; want no change", changed, err)
			}
		})
	}
}

func TestSchemaUpgradeUnchanged(t *testing.T) {
	rec := courtRecord(1, `{"notice_days":7}`)
	tests := []struct {
		name   string
		schema chuting.Schema
		rec    chuting.Record
	}{
		{"OKCurrent", chuting.CurrentSchema(), rec},
		{"OKZeroSchema", chuting.Schema{}, rec},
		{"OKOtherKindNewer", chuting.Schema{Versions: map[chuting.Kind]int{chuting.KindUser: 2}}, rec},
		{"OKAtVersion", courtV3(), courtRecord(3, `not even JSON`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := tt.schema.Upgrade(tt.rec)
			if err != nil || changed {
				t.Fatalf("Upgrade = changed %v, %v; want unchanged, nil", changed, err)
			}
			if !reflect.DeepEqual(got, tt.rec) {
				t.Errorf("Upgrade = %+v, want the record as it was, %+v", got, tt.rec)
			}
		})
	}
}

func TestSchemaUpgradeErr(t *testing.T) {
	const v1 = `{"name":"n","notice_days":7}`
	failing := errors.New("address is ambiguous")
	withMigrations := func(migs ...chuting.Migration) chuting.Schema {
		return chuting.Schema{Versions: map[chuting.Kind]int{chuting.KindCourt: 3},
			Migrations: map[chuting.Kind][]chuting.Migration{chuting.KindCourt: migs}}
	}
	unknown := courtRecord(1, v1)
	unknown.Kind = "widget"
	tests := []struct {
		name   string
		schema chuting.Schema
		rec    chuting.Record
		want   []string // the error contains each
	}{
		{"ErrNewer", chuting.CurrentSchema(), courtRecord(2, v1), []string{"newer", "01jcourt0000000000000000aa"}},
		{"ErrNewerThanMigrated", courtV3(), courtRecord(4, v1), []string{"newer"}},
		{"ErrSchemaZero", courtV3(), courtRecord(0, v1), []string{"invalid schema version 0"}},
		{"ErrSchemaNegative", courtV3(), courtRecord(-1, v1), []string{"invalid schema version"}},
		{"ErrMissingMigration", withMigrations(appendTo("address", "1")), courtRecord(1, v1), []string{"no migration", "version 2"}},
		{"ErrNilMigration", withMigrations(nil, appendTo("address", "2")), courtRecord(1, v1), []string{"no migration", "version 1"}},
		{"ErrNoMigrations", chuting.Schema{Versions: map[chuting.Kind]int{chuting.KindCourt: 2}}, courtRecord(1, v1), []string{"no migration"}},
		{"ErrMigrationFails", withMigrations(appendTo("address", "1"), func(map[string]any) error { return failing }),
			courtRecord(1, v1), []string{"01jcourt0000000000000000aa", "court", "version 2", failing.Error()}},
		{"ErrBadJSON", courtV3(), courtRecord(1, `{"name":`), []string{"decode", "01jcourt0000000000000000aa"}},
		{"ErrDoesNotDecode", withMigrations(appendTo("address", "1"), func(doc map[string]any) error {
			doc["notice_days"] = "seven"
			return nil
		}), courtRecord(1, v1), []string{"does not decode", "01jcourt0000000000000000aa"}},
		{"ErrUnknownKind", chuting.Schema{Versions: map[chuting.Kind]int{"widget": 2}}, unknown, []string{"unknown kind", "widget"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := tt.schema.Upgrade(tt.rec)
			if err == nil {
				t.Fatalf("Upgrade = %+v, nil; want an error", got)
			}
			if changed {
				t.Error("a failed Upgrade reported a change")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.name == "ErrMigrationFails" && !errors.Is(err, failing) {
				t.Errorf("error %v does not wrap the migration's error", err)
			}
		})
	}
}

func TestSchemaVersion(t *testing.T) {
	s := chuting.Schema{Versions: map[chuting.Kind]int{chuting.KindCourt: 3, chuting.KindUser: 0}}
	tests := []struct {
		name string
		kind chuting.Kind
		want int
	}{
		{"OKListed", chuting.KindCourt, 3},
		{"OKUnlisted", chuting.KindHearing, 1},
		{"OKZeroIsOne", chuting.KindUser, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Version(tt.kind); got != tt.want {
				t.Errorf("Version(%s) = %d, want %d", tt.kind, got, tt.want)
			}
		})
	}
	for _, k := range chuting.Kinds() {
		if v := chuting.CurrentSchema().Version(k); v < 1 {
			t.Errorf("CurrentSchema().Version(%s) = %d, want ≥ 1", k, v)
		}
	}
}
