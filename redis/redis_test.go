package redis_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/redis"
	"github.com/chuting/chuting/redis/redistest"
	"github.com/chuting/chuting/storetest"
)

// TestMain fails the package if goroutines outlive the tests (pion's test.CheckRoutines, in
// small): a store's or a redis-server's goroutine left running by a test would leak the same
// way in a long-running node.
func TestMain(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		if stacks := leakedGoroutines(before, 2*time.Second); stacks != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked by the tests:\n%s\n", stacks)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines waits until no more than n goroutines run, and otherwise returns the
// stacks of all of them.
func leakedGoroutines(n int, wait time.Duration) string {
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if runtime.NumGoroutine() <= n {
			return ""
		}
	}
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// MustOpen opens a store on srv under prefix and closes it when the test ends.
func MustOpen(tb testing.TB, srv *redistest.Server, prefix string) *redis.Store {
	tb.Helper()
	s, err := redis.Open(context.Background(), srv.URL(0), redis.Options{Prefix: prefix})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformance runs the store suite against one redis-server, giving each test a fresh key
// prefix so the tests share the server without seeing each other's data.
func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		prefix := "t" + chuting.NewID() + ":"
		return func(schema chuting.Schema) (chuting.Store, error) {
			s, err := redis.Open(context.Background(), srv.URL(0), redis.Options{Schema: schema, Prefix: prefix})
			if err != nil {
				return nil, err // not a nil *Store in a non-nil interface
			}
			return s, nil
		}
	})
}

func TestOpenPersistence(t *testing.T) {
	tests := []struct {
		name          string
		args          []string // redis-server arguments after redistest's defaults (AOF on, RDB off)
		allowVolatile bool
		want          string   // Persistence(), or "" if Open must fail
		wantErr       []string // parts of the error message
	}{
		{name: "OK/AOF", want: "aof"},
		{name: "OK/RDB", args: []string{"--appendonly", "no", "--save", "3600 1"}, want: "rdb"},
		{name: "OK/AOFAndRDB", args: []string{"--save", "3600 1"}, want: "aof+rdb"},
		{name: "ErrVolatile", args: []string{"--appendonly", "no"},
			wantErr: []string{"127.0.0.1:", "persistence off", "appendonly no", `save ""`, "--allow-volatile"}},
		{name: "OK/VolatileAllowed", args: []string{"--appendonly", "no"}, allowVolatile: true, want: "none"},
		{name: "ErrConfigRefused", args: []string{"--rename-command", "CONFIG", ""},
			wantErr: []string{"refused CONFIG GET", "--allow-volatile"}},
		{name: "OK/ConfigRefusedAllowed", args: []string{"--rename-command", "CONFIG", ""}, allowVolatile: true,
			want: "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := redistest.Start(t, tt.args...)
			s, err := redis.Open(ctx, srv.URL(0), redis.Options{AllowVolatile: tt.allowVolatile})
			if tt.want == "" {
				if err == nil {
					_ = s.Close()
					t.Fatal("Open succeeded")
				}
				if !errors.Is(err, redis.ErrVolatile) {
					t.Fatalf("error %v does not wrap ErrVolatile", err)
				}
				for _, part := range tt.wantErr {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q does not contain %q", err, part)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if got := s.Persistence(); got != tt.want {
				t.Fatalf("Persistence() = %q, want %q", got, tt.want)
			}
			c := &chuting.Court{Name: "x", Code: chuting.NewID()}
			if err := chuting.Create(ctx, s, c); err != nil {
				t.Fatalf("write to the opened store: %v", err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close() // nothing listens there now
	tests := []struct {
		name    string
		url     string
		want    string // part of the error
		wantNot string // must not be in the error
	}{
		{"ErrUnreachable", "redis://" + closed + "/0", closed, ""},
		{"ErrBadURL", "redis://clerk:s3cret@127.0.0.1:bad/0", "bad url", "s3cret"},
		{"ErrBadScheme", "http://127.0.0.1:6379/0", "bad url", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := redis.Open(ctx, tt.url, redis.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if errors.Is(err, redis.ErrVolatile) || !strings.Contains(err.Error(), tt.want) ||
				tt.wantNot != "" && strings.Contains(err.Error(), tt.wantNot) {
				t.Fatalf("error = %v, want one with %q, without %q, not ErrVolatile", err, tt.want, tt.wantNot)
			}
		})
	}
}

// TestDurability kills redis-server with SIGKILL while writers are busy, restarts it on its
// AOF, and checks that every write the store acknowledged before the kill is there.
func TestDurability(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t, "--appendfsync", "always")
	prefix := "dur:"
	s, err := redis.Open(ctx, srv.URL(0), redis.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	stream := chuting.HearingStream(chuting.NewID())

	// Acknowledged records, by ID with their version, and acknowledged event seqs.
	var mu sync.Mutex
	courts := map[string]*chuting.Court{}
	events := map[uint64]string{}
	keep := func(c *chuting.Court) {
		cp := *c
		mu.Lock()
		courts[c.ID] = &cp
		mu.Unlock()
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			// Each writer stops at its first error: the server is gone, and the write that
			// failed may or may not have landed, so it is not counted.
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := &chuting.Court{Name: fmt.Sprintf("法院 %d-%d", w, i), Code: chuting.NewID()}
				if err := chuting.Create(ctx, s, c); err != nil {
					return
				}
				keep(c)
				c.NoticeDays = i + 1
				if err := chuting.Save(ctx, s, c); err != nil {
					return
				}
				keep(c)
				data := fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)
				seq, err := s.Append(ctx, stream, chuting.Event{Time: time.Now(), Type: "joined", Data: []byte(data)})
				if err != nil {
					return
				}
				mu.Lock()
				events[seq] = data
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	srv.Kill()
	close(stop)
	wg.Wait()
	_ = s.Close()
	if len(courts) == 0 || len(events) == 0 {
		t.Fatalf("only %d records and %d events were acknowledged before the kill", len(courts), len(events))
	}

	srv.Restart(t)
	s2 := MustOpen(t, srv, prefix)
	for id, want := range courts {
		got, err := chuting.Load[chuting.Court](ctx, s2, id)
		if err != nil {
			t.Fatalf("acknowledged court %s is lost: %v", id, err)
		}
		if got.Version < want.Version || got.Version == want.Version && got.NoticeDays != want.NoticeDays {
			t.Fatalf("court %s is at version %d with %d days, want the acknowledged version %d with %d",
				id, got.Version, got.NoticeDays, want.Version, want.NoticeDays)
		}
	}
	var all []chuting.Event
	for after := uint64(0); ; {
		evs, err := s2.Events(ctx, stream, after, chuting.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		all = append(all, evs...)
		after = evs[len(evs)-1].Seq
	}
	for i, e := range all {
		if e.Seq != uint64(i+1) {
			t.Fatalf("after restart event %d has seq %d", i, e.Seq)
		}
	}
	for seq, data := range events {
		if seq > uint64(len(all)) || string(all[seq-1].Data) != data {
			t.Fatalf("acknowledged event %d (%s) is lost; %d events survived", seq, data, len(all))
		}
	}
	// The stream continues where it ended.
	seq, err := s2.Append(ctx, stream, chuting.Event{Time: time.Now(), Type: "left"})
	if err != nil || seq != uint64(len(all)+1) {
		t.Fatalf("append after restart = %d, %v; want %d", seq, err, len(all)+1)
	}
	t.Logf("%d records and %d events acknowledged before the kill; %d events survived", len(courts), len(events), len(all))
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s, err := redis.Open(ctx, srv.URL(0), redis.Options{Prefix: "close:"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Run("ErrUnavailable", func(t *testing.T) {
		errs := map[string]error{
			"Ping":   s.Ping(ctx),
			"Put":    s.Put(ctx, chuting.Record{Kind: chuting.KindCourt, ID: chuting.NewID(), Version: 1}, 0),
			"Delete": s.Delete(ctx, chuting.KindCourt, chuting.NewID(), 1),
		}
		_, errs["Get"] = s.Get(ctx, chuting.KindCourt, chuting.NewID())
		_, errs["List"] = s.List(ctx, chuting.Query{Kind: chuting.KindCourt})
		_, errs["Append"] = s.Append(ctx, "audit", chuting.Event{Type: "x"})
		_, errs["Events"] = s.Events(ctx, "audit", 0, 0)
		for op, err := range errs {
			if code := chuting.ErrorCode(err); code != chuting.EUNAVAILABLE {
				t.Errorf("%s after Close: %v (code %q), want %q", op, err, code, chuting.EUNAVAILABLE)
			}
		}
	})
	t.Run("Twice", func(t *testing.T) {
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}

// TestLeaseCountersExpire: a lease's fencing counter is kept an hour past the lease, not for
// good: periodic jobs take a lease per tick, and their counters piled up (1,440 a day for the
// minutely job alone).
func TestLeaseCountersExpire(t *testing.T) {
	srv := redistest.Start(t)
	s := MustOpen(t, srv, "fence:")
	if _, ok, err := s.Acquire(context.Background(), "job/no-shows/2026-12-14T00:01:00Z", "node-1", time.Minute); err != nil || !ok {
		t.Fatal(ok, err)
	}
	out, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", srv.Addr[strings.LastIndexByte(srv.Addr, ':')+1:],
		"PTTL", "fence:fence:job/no-shows/2026-12-14T00:01:00Z").Output()
	if err != nil {
		t.Fatal(err)
	}
	ms, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || ms <= 0 || ms > int((time.Minute+time.Hour)/time.Millisecond) {
		t.Fatalf("the fencing counter's PTTL is %q, want it to expire within the lease and an hour", strings.TrimSpace(string(out)))
	}
}
