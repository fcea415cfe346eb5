package signaling

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/bbolt"
	"github.com/prometheus/client_golang/prometheus"
)

// testKey signs the tests' join tokens.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// clock is the tests' time: the real time plus an offset they move forward.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// world is a store with one scheduled remote hearing: its court, institution, appraiser (and
// the appraiser's user), opinion and summons, and a second hearing far in the future.
type world struct {
	store     *bbolt.Store
	hearing   *chuting.Hearing
	later     *chuting.Hearing // starts in 5 hours: its room is not open
	appraiser *chuting.Appraiser
	user      *chuting.User // the appraiser's account
	judge     *chuting.User
}

// MustWorld creates the world in a bbolt store in a temporary directory.
func MustWorld(tb testing.TB) *world {
	tb.Helper()
	ctx := context.Background()
	s, err := bbolt.Open(filepath.Join(tb.TempDir(), "chuting.db"), bbolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	must := func(e chuting.Entity) {
		tb.Helper()
		if err := chuting.Create(ctx, s, e); err != nil {
			tb.Fatalf("create %s: %v", e.Kind(), err)
		}
	}
	court := &chuting.Court{Name: "赣州市中级人民法院", Code: "赣07", TimeZone: "Asia/Shanghai", NoticeDays: 3}
	must(court)
	inst := &chuting.Institution{Name: "赣南司法鉴定所", LicenceNo: "360001"}
	must(inst)
	a := &chuting.Appraiser{InstitutionID: inst.ID, Name: "李明", LicenceNo: "360001-2026-01",
		Categories: []string{"法医临床"}, InductionTrained: true,
		Conflicts: []chuting.Conflict{{Party: "张三"}}}
	must(a)
	op := &chuting.Opinion{DocumentNo: "赣南司鉴所[2026]临鉴字第0123号", CaseNo: "(2026)赣07民初123号",
		InstitutionID: inst.ID, Category: "法医临床", Signatories: []string{a.ID}}
	must(op)
	start := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	sm := &chuting.Summons{CourtID: court.ID, CaseNo: op.CaseNo, CaseType: chuting.CaseTypeCivil,
		OpinionID: op.ID, InstitutionID: inst.ID, AppraiserIDs: []string{a.ID}, Mode: chuting.ModeRemote,
		DurationMinutes: 60, Parties: []chuting.Party{{Name: "张三", Role: "原告"}, {Name: "李四", Role: "被告"}},
		State: chuting.SummonsScheduled}
	must(sm)
	h := &chuting.Hearing{SummonsID: sm.ID, CourtID: court.ID, InstitutionID: inst.ID,
		AppraiserIDs: []string{a.ID}, Mode: chuting.ModeRemote, Start: start, End: start.Add(time.Hour)}
	must(h)
	later := &chuting.Hearing{SummonsID: sm.ID, CourtID: court.ID, InstitutionID: inst.ID,
		AppraiserIDs: []string{a.ID}, Mode: chuting.ModeRemote, Start: start.Add(5 * time.Hour),
		End: start.Add(6 * time.Hour)}
	must(later)
	u := &chuting.User{Username: "liming", Name: a.Name, Role: chuting.RoleAppraiser,
		InstitutionID: inst.ID, AppraiserID: a.ID}
	must(u)
	j := &chuting.User{Username: "judge", Name: "王法官", Role: chuting.RoleJudge, CourtID: court.ID}
	must(j)
	// The personal links the tests join with as "link:c1", "link:o1" and "link:r1" (revoked).
	for _, l := range []*chuting.JoinLink{
		{Meta: chuting.Meta{ID: "c1"}, HearingID: h.ID, Name: "赵律师", Role: string(RoleCounsel), Hash: "c1"},
		{Meta: chuting.Meta{ID: "o1"}, HearingID: h.ID, Name: "旁听人", Role: string(RoleObserver), Hash: "o1"},
		{Meta: chuting.Meta{ID: "r1"}, HearingID: h.ID, Name: "撤销", Role: string(RoleCounsel), Hash: "r1", Revoked: true},
	} {
		must(l)
	}
	return &world{store: s, hearing: h, later: later, appraiser: a, user: u, judge: j}
}

// env is a running Server on an httptest server, over a world.
type env struct {
	*world
	srv    *Server
	http   *httptest.Server
	tokens *Tokens
	clock  *clock
	reg    *prometheus.Registry
}

// MustEnv starts a Server with loopback-only media. Its cleanup closes everything and then
// checks that no goroutine is left (registered first, so it runs last).
func MustEnv(tb testing.TB, tweak func(*Config)) *env {
	tb.Helper()
	CheckLeaks(tb)
	clk := &clock{}
	return startNode(tb, MustWorld(tb), NewTokens(testKey, clk.Now), clk, "node-1", tweak)
}

// startNode starts a Server named node on w's store, and closes it when the test ends.
func startNode(tb testing.TB, w *world, tokens *Tokens, clk *clock, node string, tweak func(*Config)) *env {
	tb.Helper()
	reg := prometheus.NewRegistry()
	cfg := Config{Records: w.store, Logs: w.store, Tokens: tokens, WebRTC: LoopbackOnly(),
		Now: clk.Now, Registerer: reg, Node: node,
		Logger: slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(httptestMux(srv))
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Errorf("close %s: %v", node, err)
		}
		hs.Close()
	})
	return &env{world: w, srv: srv, http: hs, tokens: tokens, clock: clk, reg: reg}
}

// token issues a join token for the world's hearing.
func (e *env) token(tb testing.TB, subject, name string, role Role) string {
	tb.Helper()
	tok, err := e.srv.JoinToken(context.Background(), e.hearing.ID, subject, name, role)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// url is the room WebSocket of hearing id.
func (e *env) url(id string) string {
	return "ws" + strings.TrimPrefix(e.http.URL, "http") + "/api/v1/hearings/" + id + "/room"
}

// attendance returns the types and subjects of the hearing's attendance events, in order.
func (e *env) attendance(tb testing.TB) []chuting.AttendanceEvent {
	tb.Helper()
	evs, err := e.store.Events(context.Background(), chuting.HearingStream(e.hearing.ID), 0, chuting.MaxLimit)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]chuting.AttendanceEvent, 0, len(evs))
	for _, ev := range evs {
		var a chuting.AttendanceEvent
		if err := json.Unmarshal(ev.Data, &a); err != nil {
			tb.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// eventually polls cond until it holds or d passes.
func eventually(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CheckLeaks fails the test if, once its other cleanups have run, goroutines of this
// package, pion or gorilla/websocket are still running (after a grace period for those
// winding down), as pion's test.CheckRoutines does. Call it first in a test.
func CheckLeaks(tb testing.TB) {
	tb.Helper()
	tb.Cleanup(func() {
		var stacks []string
		for range 100 {
			stacks = leakedGoroutines()
			if len(stacks) == 0 {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		tb.Errorf("%d goroutines leaked:\n%s", len(stacks), strings.Join(stacks, "\n\n"))
	})
}

func leakedGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var leaked []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the caller
			continue
		}
		if strings.Contains(g, "testing.(*T).Run(") || strings.Contains(g, "testing.tRunner.func") ||
			strings.Contains(g, "testing.runFuzzing") {
			continue
		}
		if strings.Contains(g, "github.com/pion/") || strings.Contains(g, "github.com/gorilla/websocket") ||
			strings.Contains(g, "github.com/chuting/chuting/signaling") {
			leaked = append(leaked, g)
		}
	}
	return leaked
}
