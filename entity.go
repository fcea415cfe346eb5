package chuting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Meta is the part every stored entity shares. The store keeps Version and Schema; Create and
// Save set them and the times, so callers never do.
type Meta struct {
	ID      string    `json:"id"`
	Version int64     `json:"version"`
	Schema  int       `json:"schema"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// RecordMeta returns m; embedding Meta gives an entity this method.
func (m *Meta) RecordMeta() *Meta { return m }

// Entity is a typed record: a domain type that embeds Meta and says how it is stored.
type Entity interface {
	// Kind returns the record kind; it is the same for every value of the type.
	Kind() Kind
	// RecordMeta returns the entity's Meta, for the store helpers to fill in.
	RecordMeta() *Meta
	// Index returns the entity's secondary look-up keys.
	Index() []IndexEntry
}

// NewEntity returns a new, empty entity of kind, or nil for an unknown kind.
func NewEntity(k Kind) Entity {
	switch k {
	case KindUser:
		return new(User)
	case KindSession:
		return new(Session)
	case KindAPIToken:
		return new(APIToken)
	case KindCourt:
		return new(Court)
	case KindInstitution:
		return new(Institution)
	case KindRoom:
		return new(TestimonyRoom)
	case KindAppraiser:
		return new(Appraiser)
	case KindOpinion:
		return new(Opinion)
	case KindSummons:
		return new(Summons)
	case KindHearing:
		return new(Hearing)
	case KindManifest:
		return new(RecordingManifest)
	case KindHolidays:
		return new(HolidayYear)
	case KindIdempotency:
		return new(IdempotentRequest)
	case KindNotice:
		return new(Notice)
	case KindWebhook:
		return new(Webhook)
	case KindDelivery:
		return new(Delivery)
	case KindFeed:
		return new(CalendarFeed)
	case KindLink:
		return new(JoinLink)
	case KindRefund:
		return new(FeeRefund)
	case KindReport:
		return new(Report)
	case KindGrant:
		return new(RecordingGrant)
	case KindDisposal:
		return new(RecordingDisposal)
	}
	return nil
}

// Index names. Handlers and adapters refer to these, never to string literals.
const (
	IndexUsername    = "username"    // User, unique, case-folded
	IndexUser        = "user"        // Session, APIToken, RecordingGrant
	IndexExpires     = "expires"     // Session, TimeKey
	IndexHash        = "hash"        // APIToken, unique
	IndexCode        = "code"        // Court, unique
	IndexLicence     = "licence_no"  // Institution, Appraiser, unique
	IndexCourt       = "court"       // User, Summons, Hearing, FeeRefund, RecordingDisposal
	IndexInstitution = "institution" // User, TestimonyRoom, Appraiser, Opinion, Summons, Hearing
	IndexAppraiser   = "appraiser"   // User (unique), Opinion (signatories), Summons, Hearing
	IndexCategory    = "category"    // Appraiser
	IndexDocumentNo  = "document_no" // Opinion, unique
	IndexCaseNo      = "case_no"     // Opinion, Summons
	IndexState       = "state"       // Summons
	IndexStart       = "start"       // Hearing, TimeKey
	IndexRoom        = "room"        // Hearing
	IndexSummons     = "summons"     // Hearing
	IndexHearing     = "hearing"     // RecordingManifest (unique), JoinLink, RecordingGrant, RecordingDisposal (unique)
	IndexYear        = "year"        // HolidayYear, unique
	IndexUnread      = "unread"      // Notice: the user's ID while unread
	IndexWebhook     = "webhook"     // Delivery
	IndexDue         = "due"         // Delivery: TimeKey of the next attempt, while pending
	IndexSubject     = "subject"     // CalendarFeed: "appraiser:ID" or "room:ID", unique
	IndexPeriod      = "period"      // Report: the month, YYYY-MM
)

// entries builds index entries from name/value pairs, skipping empty values.
func entries(unique bool, pairs ...string) []IndexEntry {
	var out []IndexEntry
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			out = append(out, IndexEntry{Name: pairs[i], Value: pairs[i+1], Unique: unique})
		}
	}
	return out
}

// each returns one entry of index name per value.
func each(name string, values []string) []IndexEntry {
	out := make([]IndexEntry, 0, len(values))
	for _, v := range values {
		out = append(out, IndexEntry{Name: name, Value: v})
	}
	return out
}

// FoldUsername returns the form of a username that is stored in the unique index, so that
// "Clerk" and "clerk" cannot both exist.
func FoldUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Kind implements Entity.
func (*User) Kind() Kind { return KindUser }

// Index implements Entity.
func (u *User) Index() []IndexEntry {
	out := entries(true, IndexUsername, FoldUsername(u.Username), IndexAppraiser, u.AppraiserID)
	return append(out, entries(false, IndexCourt, u.CourtID, IndexInstitution, u.InstitutionID)...)
}

// Kind implements Entity.
func (*Session) Kind() Kind { return KindSession }

// Index implements Entity.
func (s *Session) Index() []IndexEntry {
	return entries(false, IndexUser, s.UserID, IndexExpires, TimeKey(s.Expires))
}

// Kind implements Entity.
func (*APIToken) Kind() Kind { return KindAPIToken }

// Index implements Entity.
func (t *APIToken) Index() []IndexEntry {
	return append(entries(true, IndexHash, t.Hash), entries(false, IndexUser, t.UserID)...)
}

// Kind implements Entity.
func (*Court) Kind() Kind { return KindCourt }

// Index implements Entity.
func (c *Court) Index() []IndexEntry { return entries(true, IndexCode, c.Code) }

// Kind implements Entity.
func (*Institution) Kind() Kind { return KindInstitution }

// Index implements Entity.
func (i *Institution) Index() []IndexEntry { return entries(true, IndexLicence, i.LicenceNo) }

// Kind implements Entity.
func (*TestimonyRoom) Kind() Kind { return KindRoom }

// Index implements Entity.
func (r *TestimonyRoom) Index() []IndexEntry {
	return entries(false, IndexInstitution, r.InstitutionID)
}

// Kind implements Entity.
func (*Appraiser) Kind() Kind { return KindAppraiser }

// Index implements Entity.
func (a *Appraiser) Index() []IndexEntry {
	out := entries(true, IndexLicence, a.LicenceNo)
	out = append(out, entries(false, IndexInstitution, a.InstitutionID)...)
	return append(out, each(IndexCategory, a.Categories)...)
}

// Kind implements Entity.
func (*Opinion) Kind() Kind { return KindOpinion }

// Index implements Entity.
func (o *Opinion) Index() []IndexEntry {
	out := entries(true, IndexDocumentNo, o.DocumentNo)
	out = append(out, entries(false, IndexInstitution, o.InstitutionID, IndexCaseNo, o.CaseNo)...)
	return append(out, each(IndexAppraiser, o.Signatories)...)
}

// Kind implements Entity.
func (*Summons) Kind() Kind { return KindSummons }

// Index implements Entity.
func (s *Summons) Index() []IndexEntry {
	out := entries(false, IndexCourt, s.CourtID, IndexInstitution, s.InstitutionID,
		IndexCaseNo, s.CaseNo, IndexState, s.State.String())
	return append(out, each(IndexAppraiser, s.Summoned())...)
}

// Kind implements Entity.
func (*Hearing) Kind() Kind { return KindHearing }

// Index implements Entity.
func (h *Hearing) Index() []IndexEntry {
	out := entries(false, IndexCourt, h.CourtID, IndexInstitution, h.InstitutionID,
		IndexRoom, h.RoomID, IndexSummons, h.SummonsID, IndexStart, TimeKey(h.Start))
	return append(out, each(IndexAppraiser, h.AppraiserIDs)...)
}

// Kind implements Entity.
func (*RecordingManifest) Kind() Kind { return KindManifest }

// Index implements Entity.
func (m *RecordingManifest) Index() []IndexEntry { return entries(true, IndexHearing, m.HearingID) }

// Kind implements Entity.
func (*HolidayYear) Kind() Kind { return KindHolidays }

// Index implements Entity.
func (h *HolidayYear) Index() []IndexEntry { return entries(true, IndexYear, strconv.Itoa(h.Year)) }

// Kind implements Entity.
func (*IdempotentRequest) Kind() Kind { return KindIdempotency }

// Index implements Entity.
func (r *IdempotentRequest) Index() []IndexEntry {
	return entries(false, IndexExpires, TimeKey(r.Expires))
}

// Kind implements Entity.
func (*Notice) Kind() Kind { return KindNotice }

// Index implements Entity.
func (n *Notice) Index() []IndexEntry {
	out := entries(false, IndexUser, n.UserID, IndexSummons, n.SummonsID)
	if n.Read.IsZero() {
		out = append(out, IndexEntry{Name: IndexUnread, Value: n.UserID})
	}
	return out
}

// Kind implements Entity.
func (*Webhook) Kind() Kind { return KindWebhook }

// Index implements Entity.
func (h *Webhook) Index() []IndexEntry { return entries(false, IndexCourt, h.CourtID) }

// Kind implements Entity.
func (*Delivery) Kind() Kind { return KindDelivery }

// Index implements Entity.
func (d *Delivery) Index() []IndexEntry {
	out := entries(false, IndexWebhook, d.WebhookID, IndexCourt, d.CourtID)
	if d.State == DeliveryPending {
		out = append(out, IndexEntry{Name: IndexDue, Value: TimeKey(d.NextAttempt)})
	}
	return out
}

// Kind implements Entity.
func (*CalendarFeed) Kind() Kind { return KindFeed }

// Index implements Entity.
func (f *CalendarFeed) Index() []IndexEntry {
	return entries(true, IndexHash, f.Hash, IndexSubject, f.Subject)
}

// Kind implements Entity.
func (*JoinLink) Kind() Kind { return KindLink }

// Index implements Entity.
func (l *JoinLink) Index() []IndexEntry {
	return append(entries(true, IndexHash, l.Hash), entries(false, IndexHearing, l.HearingID)...)
}

// Kind implements Entity.
func (*RecordingGrant) Kind() Kind { return KindGrant }

// Index implements Entity.
func (g *RecordingGrant) Index() []IndexEntry {
	return entries(false, IndexHearing, g.HearingID, IndexUser, g.UserID)
}

// Kind implements Entity.
func (*RecordingDisposal) Kind() Kind { return KindDisposal }

// Index implements Entity.
func (d *RecordingDisposal) Index() []IndexEntry {
	return append(entries(true, IndexHearing, d.HearingID), entries(false, IndexCourt, d.CourtID)...)
}

// EntityPtr is the constraint of the typed helpers: P is a pointer to an entity type T.
type EntityPtr[T any] interface {
	*T
	Entity
}

// Load reads the entity of type T with id.
// ENOTFOUND if there is none.
func Load[T any, P EntityPtr[T]](ctx context.Context, s Records, id string) (P, error) {
	p := P(new(T))
	rec, err := s.Get(ctx, p.Kind(), id)
	if err != nil {
		return nil, err
	}
	return p, decode(rec, p)
}

// LoadRef reads the entity of type T that an input field refers to by id. A malformed or
// unknown id is an EINVALID error naming field, since it is the input that is wrong.
func LoadRef[T any, P EntityPtr[T]](ctx context.Context, s Records, field, id string) (P, error) {
	if !ValidID(id) {
		return nil, FieldError(field, "%s 格式错误 / %s is not a valid ID", field, field)
	}
	e, err := Load[T, P](ctx, s, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, FieldError(field, "%s 指向的记录不存在 / %s %s does not exist", field, field, id)
	}
	return e, err
}

// Create stores e as a new record: it assigns an ID when e has none, and sets the version (1),
// the schema and the times. ECONFLICT if the ID or a unique index value is taken. On error e
// is left as it was.
func Create(ctx context.Context, s Records, e Entity) error {
	m := e.RecordMeta()
	old := *m
	now := time.Now().UTC()
	if m.ID == "" {
		m.ID = NewID()
	}
	m.Version, m.Schema, m.Created, m.Updated = 1, CurrentSchema().Version(e.Kind()), now, now
	err := put(ctx, s, e, 0)
	if err != nil {
		*m = old
	}
	return err
}

// Save writes e over the stored version e.Version, and bumps e.Version.
// ENOTFOUND if the record is gone, ECONFLICT if it changed since e was read (reload, re-apply
// and retry), or if a unique index value is taken. On error e is left as it was.
func Save(ctx context.Context, s Records, e Entity) error {
	m := e.RecordMeta()
	old := *m
	m.Version, m.Schema, m.Updated = old.Version+1, CurrentSchema().Version(e.Kind()), time.Now().UTC()
	err := put(ctx, s, e, old.Version)
	if err != nil {
		*m = old
	}
	return err
}

// MaxAttempts bounds the retries of a read, change and Save that lost a race for its record.
const MaxAttempts = 5

// IsStale reports whether err is Save's version conflict: the record changed since it was
// read (reload, re-apply and retry). A unique index value taken by another record is an
// ECONFLICT too, but one that names the index in Field, and retrying cannot mend it.
func IsStale(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == ECONFLICT && e.Field == ""
}

// Update loads the entity of type T with id, applies change and saves it; when another writer
// saved it meanwhile (IsStale) it loads it again and re-applies change, at most MaxAttempts
// times. change returns false to leave the entity as it is. Update returns the entity as
// saved, or nil when change left it; ENOTFOUND when there is none; ECONFLICT when it kept
// changing.
func Update[T any, P EntityPtr[T]](ctx context.Context, s Records, id string, change func(P) bool) (P, error) {
	for range MaxAttempts {
		e, err := Load[T, P](ctx, s, id)
		if err != nil {
			return nil, err
		}
		if !change(e) {
			return nil, nil
		}
		if err := Save(ctx, s, e); !IsStale(err) {
			if err != nil {
				return nil, err
			}
			return e, nil
		}
	}
	kind := P(new(T)).Kind()
	return nil, Errorf(ECONFLICT, "%s %s 正被他人修改，请重试 / the %s kept changing; try again", kind, id, kind)
}

// Remove deletes e if it has not changed since it was read.
// ENOTFOUND, ECONFLICT as for Records.Delete.
func Remove(ctx context.Context, s Records, e Entity) error {
	return s.Delete(ctx, e.Kind(), e.RecordMeta().ID, e.RecordMeta().Version)
}

// Find returns one page of the entities of type T that q selects (q.Kind is set from T).
func Find[T any, P EntityPtr[T]](ctx context.Context, s Records, q Query) ([]P, string, error) {
	q.Kind = P(new(T)).Kind()
	page, err := s.List(ctx, q)
	if err != nil {
		return nil, "", err
	}
	out := make([]P, len(page.Records))
	for i, rec := range page.Records {
		out[i] = P(new(T))
		if err := decode(rec, out[i]); err != nil {
			return nil, "", err
		}
	}
	return out, page.Next, nil
}

// FindAll returns every entity of type T that q selects, reading page after page. Use it
// where the result is known to be small (an institution's rooms), never for a whole kind.
func FindAll[T any, P EntityPtr[T]](ctx context.Context, s Records, q Query) ([]P, error) {
	var all []P
	for {
		page, next, err := Find[T, P](ctx, s, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		q.After = next
	}
}

// FindOne returns the entity of type T whose unique index holds value.
// ENOTFOUND if there is none.
func FindOne[T any, P EntityPtr[T]](ctx context.Context, s Records, index, value string) (P, error) {
	kind := P(new(T)).Kind()
	q := Equal(kind, index, value)
	q.Limit = 1
	found, _, err := Find[T, P](ctx, s, q)
	if err != nil {
		return nil, err
	} else if len(found) == 0 {
		return nil, Errorf(ENOTFOUND, "no %s with %s %q", kind, index, value)
	}
	return found[0], nil
}

func put(ctx context.Context, s Records, e Entity, expect int64) error {
	data, err := json.Marshal(e)
	if err != nil {
		return &Error{Code: EINTERNAL, Message: "encode record", Err: err}
	}
	m := e.RecordMeta()
	return s.Put(ctx, Record{Kind: e.Kind(), ID: m.ID, Version: m.Version, Schema: m.Schema,
		Index: e.Index(), Data: data}, expect)
}

func decode(rec Record, e Entity) error {
	if err := json.Unmarshal(rec.Data, e); err != nil {
		return &Error{Code: EINTERNAL, Message: "stored record is unreadable",
			Err: fmt.Errorf("decode %s %s: %w", rec.Kind, rec.ID, err)}
	}
	m := e.RecordMeta()
	m.ID, m.Version, m.Schema = rec.ID, rec.Version, rec.Schema
	return nil
}
