package chuting

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Stored records carry the schema version their JSON was written in. When a kind's JSON
// changes shape (a field renamed or split), its version goes up by one and a Migration that
// upgrades the old shape is added; each adapter runs Schema.Upgrade over its records when it
// opens, so an upgraded binary never strands data written by an older one.

// Migration upgrades the JSON object of one record, in place, from one schema version to the
// next.
type Migration func(doc map[string]any) error

// Schema is the set of schema versions a build writes, and the migrations that reach them.
type Schema struct {
	// Versions holds the current version of each kind; a kind not listed is at version 1.
	Versions map[Kind]int
	// Migrations[k][i] upgrades kind k from version i+1 to i+2.
	Migrations map[Kind][]Migration
}

// CurrentSchema returns the schema of this build. Every kind is at version 1 so far.
func CurrentSchema() Schema { return Schema{} }

// Version returns the current schema version of kind k.
func (s Schema) Version(k Kind) int {
	if v := s.Versions[k]; v > 0 {
		return v
	}
	return 1
}

// Upgrade migrates rec to the current version of its kind and recomputes its index entries.
// It reports whether rec changed; a changed record has its Version bumped, so that a writer
// still holding the old version gets a conflict instead of writing the old shape back.
// It fails for records newer than this build (run a newer chuting) and for missing migrations.
func (s Schema) Upgrade(rec Record) (Record, bool, error) {
	cur := s.Version(rec.Kind)
	switch {
	case rec.Schema == cur:
		return rec, false, nil
	case rec.Schema > cur:
		return rec, false, fmt.Errorf("%s %s has schema version %d, newer than this build's %d: run a newer chuting",
			rec.Kind, rec.ID, rec.Schema, cur)
	case rec.Schema < 1:
		return rec, false, fmt.Errorf("%s %s has invalid schema version %d", rec.Kind, rec.ID, rec.Schema)
	}
	e := NewEntity(rec.Kind)
	if e == nil {
		return rec, false, fmt.Errorf("record %s has unknown kind %q", rec.ID, rec.Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Data))
	dec.UseNumber() // keep numbers exactly as written
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return rec, false, fmt.Errorf("decode %s %s: %w", rec.Kind, rec.ID, err)
	}
	migs := s.Migrations[rec.Kind]
	for v := rec.Schema; v < cur; v++ {
		if v-1 >= len(migs) || migs[v-1] == nil {
			return rec, false, fmt.Errorf("no migration for %s from schema version %d", rec.Kind, v)
		}
		if err := migs[v-1](doc); err != nil {
			return rec, false, fmt.Errorf("migrate %s %s from schema version %d: %w", rec.Kind, rec.ID, v, err)
		}
	}
	out := rec
	out.Version++
	out.Schema = cur
	doc["version"], doc["schema"] = out.Version, cur
	data, err := json.Marshal(doc)
	if err != nil {
		return rec, false, fmt.Errorf("encode %s %s: %w", rec.Kind, rec.ID, err)
	}
	if err := json.Unmarshal(data, e); err != nil {
		return rec, false, fmt.Errorf("migrated %s %s does not decode: %w", rec.Kind, rec.ID, err)
	}
	out.Data, out.Index = data, e.Index()
	return out, true, nil
}
