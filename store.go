package chuting

import (
	"context"
	"io"
	"time"
)

// The store.
//
// Every persistent record kind (users, sessions, courts, summons, hearings …) shares one
// versioned-record contract, Records, and every append-only history (attendance, audit) shares
// one log contract, Logs. The two adapters (bbolt/ for the embedded default, redis/ for several
// nodes) implement these once, not once per kind, and the conformance suite storetest/ runs the
// same tests against both. Typed access goes through the generic functions in entity.go
// (Load, Create, Save, Remove, Find), so consumers still work with *Summons, not bytes.

// Kind names a record type. Kinds are part of every stored key, so they are never renamed.
type Kind string

// Record kinds.
const (
	KindUser        Kind = "user"
	KindSession     Kind = "session"
	KindAPIToken    Kind = "apitoken"
	KindCourt       Kind = "court"
	KindInstitution Kind = "institution"
	KindRoom        Kind = "room"
	KindAppraiser   Kind = "appraiser"
	KindOpinion     Kind = "opinion"
	KindSummons     Kind = "summons"
	KindHearing     Kind = "hearing"
	KindManifest    Kind = "manifest"
	KindHolidays    Kind = "holidays"
	KindIdempotency Kind = "idempotency"
	KindNotice      Kind = "notice"
	KindWebhook     Kind = "webhook"
	KindDelivery    Kind = "delivery"
	KindFeed        Kind = "feed"
	KindLink        Kind = "link"
	KindRefund      Kind = "refund"      // FeeRefund
	KindReport      Kind = "report"      // Report
	KindGrant       Kind = "recgrant"    // RecordingGrant
	KindDisposal    Kind = "recdisposal" // RecordingDisposal
)

// Kinds lists every record kind.
func Kinds() []Kind {
	return []Kind{KindUser, KindSession, KindAPIToken, KindCourt, KindInstitution, KindRoom,
		KindAppraiser, KindOpinion, KindSummons, KindHearing, KindManifest, KindHolidays, KindIdempotency, KindNotice, KindWebhook, KindDelivery, KindFeed, KindLink,
		KindRefund, KindReport, KindGrant, KindDisposal}
}

// IndexEntry is one secondary look-up key of a record: the record is found by Value under the
// index Name. Values order byte-wise (use TimeKey for times) and must not contain NUL. A
// Unique index admits one record per value.
type IndexEntry struct {
	Name   string `json:"n"`
	Value  string `json:"v"`
	Unique bool   `json:"u,omitempty"`
}

// Record is a stored record as the adapters see it: the JSON of an entity plus what they need
// to key, version and index it.
type Record struct {
	Kind    Kind
	ID      string
	Version int64 // starts at 1 and grows by 1 with each write
	Schema  int   // the schema version Data is written in; see schema.go
	Index   []IndexEntry
	Data    []byte
}

// Query selects records of one kind in the order of one index (or of their IDs when Index is
// empty), with optional bounds on the index value. Use Equal for an exact match.
type Query struct {
	Kind  Kind
	Index string // "" lists by ID
	From  string // inclusive lower bound on the value; "" is unbounded
	To    string // exclusive upper bound on the value; "" is unbounded
	After string // continue after this cursor (Page.Next of the previous page)
	Limit int    // records per page; 0 means DefaultLimit, and more than MaxLimit means MaxLimit
}

// Page limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Equal returns the query for records of kind whose index holds exactly value.
func Equal(kind Kind, index, value string) Query {
	return Query{Kind: kind, Index: index, From: value, To: value + "\x00"}
}

// Page is one page of a List: records in query order, and the cursor for the next page ("" if
// this was the last).
type Page struct {
	Records []Record
	Next    string
}

// TimeKey formats t as a fixed-width UTC index value, so that index order is time order.
func TimeKey(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// Records is the versioned-record half of the store.
type Records interface {
	// Get returns the record of kind with id.
	// ENOTFOUND if there is none.
	Get(ctx context.Context, kind Kind, id string) (Record, error)

	// Put writes rec if the stored version is expect, as one atomic step with its index
	// entries (those of the previous version are removed).
	//  - expect 0 creates: ECONFLICT if a record with rec.ID exists.
	//  - expect > 0 updates: ENOTFOUND if there is no record, ECONFLICT if its version is not
	//    expect. A stale write never overwrites a newer one.
	//  - rec.Version must be expect+1: EINVALID otherwise, and for an empty ID or an index
	//    value with NUL.
	//  - ECONFLICT with Field set to the index name if a Unique index value is held by another
	//    record of the kind.
	// On any error nothing is written. An acknowledged Put is durable.
	Put(ctx context.Context, rec Record, expect int64) error

	// Delete removes the record and its index entries if its version is expect.
	// ENOTFOUND if there is none, ECONFLICT if its version is not expect.
	Delete(ctx context.Context, kind Kind, id string, expect int64) error

	// List returns one page of the records q selects, in index-value order then ID order.
	// EINVALID for an unknown cursor shape. Records changed during paging may be seen in
	// either version, but a record present throughout is listed exactly once.
	List(ctx context.Context, q Query) (Page, error)
}

// Event is one entry of an append-only log.
type Event struct {
	Seq  uint64    // assigned by the store: 1, 2, 3 … within a stream
	Time time.Time // set by the caller, from the server clock
	Type string
	Data []byte // JSON
}

// Logs is the append-only half of the store. A stream is a named log ("audit", "hearing:ID").
type Logs interface {
	// Append adds e to the end of stream and returns its sequence number, ignoring e.Seq. The
	// first event of a stream has Seq 1 and each next one the previous plus 1, also under
	// concurrent appends. An acknowledged Append is durable. Events are never changed or
	// removed. EINVALID for an empty stream name.
	Append(ctx context.Context, stream string, e Event) (uint64, error)

	// Events returns up to limit events of stream with Seq > after, in Seq order. A stream
	// never written reads as empty. limit 0 means DefaultLimit; more than MaxLimit, MaxLimit.
	Events(ctx context.Context, stream string, after uint64, limit int) ([]Event, error)
}

// Store is everything chuting persists.
type Store interface {
	Records
	Logs
	// Ping reports whether the store is reachable (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the store; it waits for writes under way.
	Close() error
}

// Leaser is implemented by stores that grant named, time-limited leases, so that of several
// server nodes sharing the store only one does a thing at a time: a periodic job runs once
// per tick across all nodes.
type Leaser interface {
	// Acquire grants the lease name to holder for ttl when it is free, expired, or already
	// held by holder (a renewal, which extends it). ok reports whether it was granted. The
	// fencing token grows by one each time the lease passes to a holder (not on renewal), so
	// a holder whose lease expired can be told from the current one; a lease unused for an
	// hour past its end is forgotten, token included (periodic jobs take one per tick).
	// EINVALID for an empty name or holder or a ttl under a millisecond.
	Acquire(ctx context.Context, name, holder string, ttl time.Duration) (token uint64, ok bool, err error)
	// Release gives the lease up if holder holds it; otherwise it does nothing.
	Release(ctx context.Context, name, holder string) error
}

// Backuper is implemented by stores that can write a consistent snapshot of themselves while
// in use (the embedded store). The snapshot holds every write acknowledged before Backup began.
type Backuper interface {
	Backup(ctx context.Context, w io.Writer) (int64, error)
}
