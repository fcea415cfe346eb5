// Package bbolt is the embedded store: it implements chuting.Store and chuting.Backuper on
// one go.etcd.io/bbolt file, for a court that runs chuting on a single machine.
//
// # Layout
//
// The file holds four top-level buckets:
//
//	meta     "format" → the layout version (1); "schema" → kind → the schema version the
//	         kind's records were last migrated to (a decimal string)
//	records  kind → id → envelope (version, schema, index entries, then the entity's JSON)
//	index    kind → index name → value + "\x00" + id → empty
//	logs     stream → 8-byte big-endian sequence → event (time, type, data)
//
// Index keys put the value first, so a range of values is a range of keys, and the NUL
// separator (which values and IDs never contain) keeps "ab"+id after every "a"+id. A unique
// index is the same bucket: a write seeks value+"\x00" and fails if any other id holds it, so
// there is one source of truth for an index instead of two that could drift apart.
//
// # Durability
//
// Every write is one bbolt update transaction, which fsyncs before it returns, so an
// acknowledged Put or Append survives a kill -9 or a power cut. bbolt admits one writer at a
// time; that is what makes a Put's version check and its write one atomic step.
//
// # Schema migration
//
// Open runs chuting.Schema.Upgrade over every kind whose recorded schema version is not the
// one it was given, and refuses to open a file that holds records of a newer build. Backup
// writes a consistent copy while the store is in use; Restore puts such a copy in place while
// no process has the file open.
package bbolt
