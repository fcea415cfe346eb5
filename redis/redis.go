package redis

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"sync"

	"github.com/chuting/chuting"
	goredis "github.com/redis/go-redis/v9"
)

// Errors.
var (
	// ErrVolatile is wrapped by the error of Open when the server is not known to persist
	// writes: both AOF (appendonly) and RDB snapshots (save) are off, or the server refuses
	// CONFIG GET (managed Redis services often do), so the settings cannot be checked. Such a
	// server would lose every acknowledged write on a restart, which breaks the promise that
	// an acknowledged Put or Append is durable. Options.AllowVolatile (--allow-volatile) opens
	// it anyway, for demos, or when persistence was checked by other means.
	ErrVolatile = errors.New("redis persistence is off")

	// errClosed is the cause of errors from a store after Close.
	errClosed = errors.New("redis store is closed")
)

// Options configures Open.
type Options struct {
	Schema        chuting.Schema // schema to migrate to on open; zero value = chuting.CurrentSchema()
	Prefix        string         // key prefix; "" = "chuting:"
	AllowVolatile bool           // accept a Redis with persistence off
}

// defaultPrefix is the key prefix when Options.Prefix is empty.
const defaultPrefix = "chuting:"

// Store is a chuting.Store on a Redis server. It is safe for concurrent use by many
// goroutines, and by several processes sharing the server and prefix.
type Store struct {
	rdb         *goredis.Client
	addr        string // for messages
	prefix      string
	persistence string

	// mu is held shared by every operation and exclusively by Close, so that Close waits for
	// writes under way instead of cutting their connections (go-redis closes connections
	// that are in use).
	mu     sync.RWMutex
	closed bool
}

var _ chuting.Store = (*Store)(nil)

// Open connects to the Redis server at url (redis://host:port/db, as go-redis ParseURL reads
// it), checks that it answers and that it persists writes (see ErrVolatile), and migrates the
// records under opts.Prefix to opts.Schema. It fails, naming the record, if a record cannot
// be migrated, in particular one written by a newer build.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	ropts, err := goredis.ParseURL(url)
	if err != nil {
		var uerr *neturl.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // without the URL, which may hold a password
		}
		return nil, fmt.Errorf("open redis store: bad url: %w", err)
	}
	// Without this, go-redis ignores the deadlines of request contexts and waits up to its
	// own read timeout on a server that has stopped answering.
	ropts.ContextTimeoutEnabled = true
	// go-redis resends a command when its connection breaks, even after the command was
	// sent. Put, Delete and Append are not idempotent (a resent Append would add the event
	// twice), so a broken connection must reach the caller as an error of unknown outcome.
	ropts.MaxRetries = -1
	if opts.Prefix == "" {
		opts.Prefix = defaultPrefix
	}
	if opts.Schema.Versions == nil && opts.Schema.Migrations == nil {
		opts.Schema = chuting.CurrentSchema()
	}
	s := &Store{rdb: goredis.NewClient(ropts), addr: ropts.Addr, prefix: opts.Prefix}
	if err := s.open(ctx, opts); err != nil {
		_ = s.rdb.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, opts Options) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s does not answer: %w", s.addr, err)
	}
	persistence, err := s.checkPersistence(ctx, opts.AllowVolatile)
	if err != nil {
		return err
	}
	s.persistence = persistence
	if err := s.migrate(ctx, opts.Schema); err != nil {
		return fmt.Errorf("redis at %s: %w", s.addr, err)
	}
	return nil
}

// volatileError is the error of Open for a server that is not known to persist writes.
type volatileError struct{ msg string }

func (e *volatileError) Error() string { return e.msg }

// Unwrap returns ErrVolatile, so callers can test for it with errors.Is.
func (e *volatileError) Unwrap() error { return ErrVolatile }

// checkPersistence reads the AOF and RDB settings of the server and returns Persistence's
// answer, or a *volatileError unless allowVolatile.
func (s *Store) checkPersistence(ctx context.Context, allowVolatile bool) (string, error) {
	aof, err := s.rdb.ConfigGet(ctx, "appendonly").Result()
	var save map[string]string
	if err == nil {
		save, err = s.rdb.ConfigGet(ctx, "save").Result()
	}
	var refused goredis.Error
	switch {
	case errors.As(err, &refused):
		// The server answered with an error (CONFIG renamed away, or an ACL without
		// +config): managed services do this, and usually do persist.
		if allowVolatile {
			return "unknown", nil
		}
		return "", &volatileError{fmt.Sprintf("redis at %s refused CONFIG GET (%v), so chuting cannot check "+
			"that it persists writes (appendonly or save); check that your provider keeps AOF or RDB "+
			"persistence on, then pass --allow-volatile", s.addr, refused)}
	case err != nil:
		return "", fmt.Errorf("redis at %s: read persistence settings: %w", s.addr, err)
	}
	onAOF, onRDB := aof["appendonly"] == "yes", save["save"] != ""
	switch {
	case onAOF && onRDB:
		return "aof+rdb", nil
	case onAOF:
		return "aof", nil
	case onRDB:
		return "rdb", nil
	case allowVolatile:
		return "none", nil
	}
	return "", &volatileError{fmt.Sprintf("redis at %s has persistence off (appendonly %s, save %q): "+
		"acknowledged writes would be lost on a restart; enable appendonly yes (recommended) or RDB "+
		"snapshots, or pass --allow-volatile", s.addr, aof["appendonly"], save["save"])}
}

// Persistence reports how the server persists writes, as Open found it: "aof", "rdb",
// "aof+rdb", "none" (only with Options.AllowVolatile), or "unknown" (CONFIG GET refused, only
// with Options.AllowVolatile). Callers log a warning for anything but "aof" and "aof+rdb":
// with RDB alone a crash loses the writes since the last snapshot.
func (s *Store) Persistence() string { return s.persistence }

// Ping reports whether the server answers. It implements chuting.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// Close waits for the operations under way, then closes the connections to Redis. Later
// operations fail with EUNAVAILABLE. It implements chuting.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.rdb.Close()
}

// begin takes the shared lock for one operation, and fails once the store is closed. The
// caller releases it with s.mu.RUnlock. Operations never call other locking methods, since a
// second RLock would deadlock behind a waiting Close.
func (s *Store) begin() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return &chuting.Error{Code: chuting.EUNAVAILABLE, Message: "存储已关闭 / store is closed", Err: errClosed}
	}
	return nil
}

// fail wraps an error of go-redis. An error reply of the server (a script error, out of
// memory) is EINTERNAL; anything else (connection refused, timeout, cancelled context) means
// Redis is out of reach, EUNAVAILABLE, which the HTTP adapter maps to 503 so clients retry.
func (s *Store) fail(op string, err error) error {
	code, msg := chuting.EUNAVAILABLE, "存储不可用 / store unavailable"
	var reply goredis.Error
	if errors.As(err, &reply) {
		code, msg = chuting.EINTERNAL, "存储出错 / store error"
	}
	return &chuting.Error{Code: code, Message: msg, Err: fmt.Errorf("redis %s: %w", op, err)}
}

// Key names; doc.go describes the layout.

func (s *Store) recKey(kind chuting.Kind, id string) string {
	return s.prefix + "rec:" + string(kind) + ":" + id
}

func (s *Store) idsKey(kind chuting.Kind) string { return s.prefix + "ids:" + string(kind) }

func (s *Store) ixKey(kind chuting.Kind, name string) string {
	return s.prefix + "ix:" + string(kind) + ":" + name
}

func (s *Store) uqKey(kind chuting.Kind, name string) string {
	return s.prefix + "uq:" + string(kind) + ":" + name
}

func (s *Store) logKey(stream string) string { return s.prefix + "log:" + stream }

func (s *Store) metaKey() string { return s.prefix + "meta" }
