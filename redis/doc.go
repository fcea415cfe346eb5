// Package redis implements chuting.Store on Redis, for deployments that run several chuting
// nodes against one shared store. The embedded bbolt store is the default; this one exists
// because bbolt cannot be shared between processes.
//
// # Deployment
//
// The store needs a single Redis server (tested with 7.0), not Redis Cluster: its Lua scripts
// build the names of index keys from the record they read, and none of its keys carry hash
// tags, so a script's keys cannot be declared up front or kept in one slot. A replica may be
// added for failover, but writes go to the one primary.
//
// Run one chuting build at a time against a key prefix. Records are migrated to the build's
// schema when it opens the store (see Migration below); an older build still writing to the
// same prefix would write the old shape back behind the newer one.
//
// Redis must not evict keys: keep maxmemory-policy at noeviction (the default), since an
// evicted record or index entry is lost silently.
//
// # Durability
//
// Store.Put, Store.Delete and Store.Append return once Redis has applied the write. They are
// as durable as the server's persistence settings make them, and Open refuses a server that
// persists nothing (see ErrVolatile):
//   - appendonly yes, appendfsync everysec (the Redis default, and what we recommend): Redis
//     writes each change to the AOF file before it answers, so a crash of the Redis process
//     loses nothing acknowledged; a crash of the whole machine loses up to about one second.
//   - appendonly yes, appendfsync always: the AOF is fsynced before Redis answers, so nothing
//     acknowledged is lost even then, at the price of one fsync per write.
//   - RDB snapshots only: a crash loses everything written since the last snapshot, minutes
//     of records and attendance events. Open accepts it; the caller logs a warning, using
//     Store.Persistence.
//
// # Layout
//
// Every key starts with Options.Prefix ("chuting:" by default), so several stores can share
// one Redis database:
//
//	rec:{kind}:{id}     hash: v (version), s (schema), d (data JSON),
//	                    x (the index entries, JSON, so the next write can remove them)
//	ids:{kind}          sorted set of the kind's ids, all scores 0, for listing in id order
//	ix:{kind}:{name}    sorted set of value + "\x00" + id, all scores 0, for index queries
//	uq:{kind}:{name}    hash value → id for unique indexes
//	log:{stream}        stream of events; entry ID "{seq}-0", fields t (time), y (type), d (data)
//	meta                hash schema:{kind} → the schema version all records of kind are at
//
// All members of a sorted set have score 0, so Redis orders them byte-wise, and
// ZRANGEBYLEX pages through them in index-value order then id order, the order Records.List
// promises. Kinds contain no ':' and no value or id contains NUL, so no two keys or members
// can collide.
//
// Put, Delete and Append are Lua scripts: Redis runs a script to its end before any other
// command, so the version check, the unique checks, the removal of the old index entries and
// the writing of the new ones happen as one step, and sequence numbers have no gaps even when
// several nodes append at once. A script makes all its checks before its first write, so a
// refused write leaves nothing behind.
//
// # Migration
//
// Open upgrades every record whose kind's marker in meta differs from the schema it was given
// (a new store has no markers, and is scanned once), writes changed records back through the
// same script as Put, and then sets the marker, so later opens skip the scan.
package redis
