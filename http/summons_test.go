package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	chutinghttp "github.com/chuting/chuting/http"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// TestServeSummons walks the API through a summons: the clerk serves it, the institution and
// the appraiser acknowledge it, the appraiser confirms, and the hearing is scheduled.
func TestServeSummons(t *testing.T) {
	fx := newFixture(t)
	clerk := fx.tokenCaller(chuting.RoleClerk)
	res, data := fx.do(clerk, "POST", "/api/v1/summons", fx.summonsRequest(fx.own()))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("serve: %d %s", res.StatusCode, data)
	}
	var served struct {
		Summons  chuting.Summons
		Warnings []struct{ Code, Message string }
	}
	if err := json.Unmarshal(data, &served); err != nil {
		t.Fatal(err)
	}
	sm := served.Summons
	if sm.State != chuting.SummonsProposed || sm.Slot == nil || sm.Slot.RoomID != fx.own().room.ID {
		t.Fatalf("served summons %+v", sm)
	}
	path := "/api/v1/summons/" + sm.ID
	for _, c := range []caller{fx.tokenCaller(chuting.RoleInstitutionAdmin), fx.tokenCaller(chuting.RoleAppraiser)} {
		if res, data := fx.do(c, "POST", path+"/acknowledge", nil); res.StatusCode != http.StatusOK {
			t.Fatalf("acknowledge as %s: %d %s", c.comment, res.StatusCode, data)
		}
	}
	res, data = fx.do(fx.tokenCaller(chuting.RoleAppraiser), "POST", path+"/confirm", nil)
	var after chuting.Summons
	if err := json.Unmarshal(data, &after); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %d %s", res.StatusCode, data)
	}
	if after.State != chuting.SummonsScheduled || len(after.Receipts) != 2 || after.HearingID == "" {
		t.Fatalf("after confirming: state %s, %d receipts, hearing %q", after.State, len(after.Receipts), after.HearingID)
	}
	res, data = fx.do(clerk, "POST", path+"/excuse", map[string]any{"accept": true, "reason": "x"})
	if e := errorOf(t, data); res.StatusCode != http.StatusConflict || e.Code != chuting.ECONFLICT {
		t.Fatalf("deciding an excuse nobody asked for: %d %s", res.StatusCode, data)
	}
	res, data = fx.do(clerk, "POST", path+"/excuse", map[string]any{"reason": "x"})
	if e := errorOf(t, data); res.StatusCode != http.StatusBadRequest || e.Field != "accept" {
		t.Fatalf("excuse without a decision: %d %s", res.StatusCode, data)
	}
}

// TestIdempotencyKey: a court system retrying a summons with the same key gets the first
// answer and serves one summons, also when the retries race; the same key with another body
// is refused.
func TestIdempotencyKey(t *testing.T) {
	fx := newFixture(t)
	clerk := fx.tokenCaller(chuting.RoleClerk)
	body := fx.summonsRequest(fx.own())
	headers := map[string]string{"Idempotency-Key": "case-123-attempt"}

	var wg sync.WaitGroup
	codes := make([]int, 4)
	bodies := make([][]byte, 4)
	for i := range codes {
		wg.Go(func() {
			res, data := fx.doHeaders(clerk, "POST", "/api/v1/summons", body, headers)
			codes[i], bodies[i] = res.StatusCode, data
		})
	}
	wg.Wait()
	created := 0
	for i, code := range codes {
		switch code {
		case http.StatusCreated:
			created++
		case http.StatusConflict: // raced the first while it ran: "still being processed"
		default:
			t.Fatalf("request %d: %d %s", i, code, bodies[i])
		}
	}
	res, replay := fx.doHeaders(clerk, "POST", "/api/v1/summons", body, headers)
	if res.StatusCode != http.StatusCreated || res.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s", res.StatusCode, replay)
	}
	all, err := chuting.FindAll[chuting.Summons](t.Context(), fx.store, chuting.Equal(chuting.KindSummons, chuting.IndexCourt, fx.own().court.ID))
	if err != nil || len(all) != 2 { // the fixture's own summons and this one
		t.Fatalf("%d summons of the court (%v), want the fixture's and one served", len(all), err)
	}
	if created < 1 {
		t.Fatal("no request served the summons")
	}

	other := fx.summonsRequest(fx.own())
	res, data := fx.doHeaders(clerk, "POST", "/api/v1/summons", other, headers)
	if e := errorOf(t, data); res.StatusCode != http.StatusConflict || e.Field != "Idempotency-Key" {
		t.Fatalf("same key, other body: %d %s", res.StatusCode, data)
	}
	// A refused request frees its key: correcting the body and retrying works.
	bad := fx.summonsRequest(fx.own())
	bad["duration_minutes"] = 7
	fresh := map[string]string{"Idempotency-Key": "fresh"}
	if res, _ := fx.doHeaders(clerk, "POST", "/api/v1/summons", bad, fresh); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad body: %d", res.StatusCode)
	}
	if res, data := fx.doHeaders(clerk, "POST", "/api/v1/summons", fx.summonsRequest(fx.own()), fresh); res.StatusCode != http.StatusCreated {
		t.Fatalf("corrected retry with the same key: %d %s", res.StatusCode, data)
	}
}

// TestCalendarFeed: an appraiser makes a feed of their hearings, a calendar application reads
// it without signing in, remaking it revokes the old address, and deleting it revokes it.
func TestCalendarFeed(t *testing.T) {
	fx := newFixture(t)
	appraiser := fx.sessionCaller(chuting.RoleAppraiser)
	mk := func() (string, string) {
		res, data := fx.do(appraiser, "POST", "/api/v1/calendar-feeds", map[string]string{"subject": "appraiser:" + fx.own().appraiser.ID})
		var v struct{ ID, URL string }
		if err := json.Unmarshal(data, &v); err != nil || res.StatusCode != http.StatusCreated || !strings.HasPrefix(v.URL, "/calendar/") {
			t.Fatalf("create feed: %d %s", res.StatusCode, data)
		}
		return v.ID, v.URL
	}
	_, first := mk()
	res, data := fx.do(caller{}, "GET", first, nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" ||
		!strings.Contains(string(data), "BEGIN:VEVENT") || !strings.Contains(string(data), fx.own().hearing.ID+"@chuting") {
		t.Fatalf("feed: %d %q\n%s", res.StatusCode, res.Header.Get("Content-Type"), data)
	}
	id, second := mk()
	if res, _ := fx.do(caller{}, "GET", first, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("the old address still works after remaking the feed: %d", res.StatusCode)
	}
	if res, _ := fx.do(appraiser, "DELETE", "/api/v1/calendar-feeds/"+id, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if res, _ := fx.do(caller{}, "GET", second, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a revoked feed still works: %d", res.StatusCode)
	}
	if res, _ := fx.do(caller{}, "GET", "/calendar/guess.ics", nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a made-up address: %d", res.StatusCode)
	}
}

// TestServeNestedFieldNamed: a refused summons names the field at fault with its whole path,
// also inside an object or an array.
func TestServeNestedFieldNamed(t *testing.T) {
	fx := newFixture(t)
	clerk := fx.tokenCaller(chuting.RoleClerk)
	before := fx.snapshot()
	for _, tc := range []struct {
		name  string
		edit  func(req map[string]any)
		field string
	}{
		{"UnknownInObject", func(req map[string]any) {
			req["contact"] = map[string]string{"name": "周", "phone": "1", "fax": "2"}
		}, "contact.fax"},
		{"UnknownInArray", func(req map[string]any) {
			req["windows"] = []map[string]string{{"start": "2026-12-14T08:30:00+08:00", "end": "2026-12-14T17:30:00+08:00", "room": "1"}}
		}, "windows[0].room"},
		{"CaseInArray", func(req map[string]any) {
			req["windows"] = []map[string]string{{"Start": "2026-12-14T08:30:00+08:00", "end": "2026-12-14T17:30:00+08:00"}}
		}, "windows[0].Start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := fx.summonsRequest(fx.own())
			tc.edit(req)
			res, data := fx.doHeaders(clerk, "POST", "/api/v1/summons", req, map[string]string{"X-Test-Undocumented": "1"})
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", res.StatusCode, data)
			}
			if e := errorOf(t, data); e.Field != tc.field {
				t.Fatalf("field %q, want %q", e.Field, tc.field)
			}
		})
	}
	if !maps.Equal(before, fx.snapshot()) {
		t.Fatal("a refused summons changed the store")
	}
}

// TestStepTakesOnlyItsFields: a workflow step given a field of another step is refused,
// naming it, and the summons is left as it was: a confirm sent with an outcome and windows
// does not confirm (the sender meant something else).
func TestStepTakesOnlyItsFields(t *testing.T) {
	fx := newFixture(t)
	appraiser := fx.tokenCaller(chuting.RoleAppraiser)
	clerk := fx.tokenCaller(chuting.RoleClerk)
	sm := fx.summonsIn(fx.own(), chuting.SummonsProposed, nil)
	before := fx.snapshot()
	for _, tc := range []struct {
		name   string
		caller caller
		step   string
		body   string
		field  string
	}{
		{"ConfirmWithOthers", appraiser, "confirm",
			`{"accept":false,"outcome":"absent","windows":[{"start":"2026-12-14T08:30:00+08:00","end":"2026-12-14T17:30:00+08:00"}]}`, "accept"},
		{"ConfirmWithReason", appraiser, "confirm", `{"reason":"好"}`, "reason"},
		{"DeclineWithAccept", appraiser, "decline", `{"reason":"出差","accept":true}`, "accept"},
		{"CancelWithWindows", clerk, "cancel", `{"reason":"撤诉","windows":[]}`, "windows"},
		{"OutcomeWithEvidence", clerk, "outcome", `{"outcome":"completed","evidence":"x"}`, "evidence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, data := fx.doHeaders(tc.caller, "POST", "/api/v1/summons/"+sm.ID+"/"+tc.step, tc.body,
				map[string]string{"X-Test-Undocumented": "1"})
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", res.StatusCode, data)
			}
			if e := errorOf(t, data); e.Field != tc.field {
				t.Fatalf("field %q, want %q: %s", e.Field, tc.field, data)
			}
		})
	}
	if !maps.Equal(before, fx.snapshot()) {
		t.Fatal("a refused step changed the store")
	}
}

// TestCalendarFeedSecretNotLogged: a calendar feed's path is its secret; the request log
// keeps the route, not the path.
func TestCalendarFeedSecretNotLogged(t *testing.T) {
	fx := newFixture(t)
	_, secret := fx.feed("appraiser:" + fx.own().appraiser.ID)
	var buf bytes.Buffer
	srv := chutinghttp.New(chutinghttp.Config{Store: fx.store, Auth: fx.auth, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/calendar/"+secret+".ics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("feed: %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(buf.String(), "calendar") || strings.Contains(buf.String(), secret) {
		t.Fatalf("the request log holds the feed's secret (or no line for the request): %s", buf.String())
	}
}

// TestIdempotencyKeyWhileServeWaits: a retry with the same key, a minute into a serve that is
// waiting for the institution's booking lease (a node died holding it), does not take the
// key over and serve a second summons.
func TestIdempotencyKeyWhileServeWaits(t *testing.T) {
	fx := newFixture(t)
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	srv := chutinghttp.New(chutinghttp.Config{Store: fx.store, Auth: fx.auth, MaxBody: 64 << 10, Now: now})
	fx.ts = httptest.NewServer(srv)
	t.Cleanup(fx.ts.Close)
	if _, ok, err := fx.store.(chuting.Leaser).Acquire(context.Background(), "booking/"+fx.own().institution.ID, "dead-node", 3*time.Second); !ok || err != nil {
		t.Fatal(ok, err)
	}
	clerk := fx.tokenCaller(chuting.RoleClerk)
	body := fx.summonsRequest(fx.own())
	headers := map[string]string{"Idempotency-Key": "case-9-attempt"}
	codes := make([]int, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		res, _ := fx.doHeaders(clerk, "POST", "/api/v1/summons", body, headers)
		codes[0] = res.StatusCode
	})
	time.Sleep(500 * time.Millisecond)
	skew.Store(int64(61 * time.Second)) // the client gave up and retries a minute later
	wg.Go(func() {
		res, _ := fx.doHeaders(clerk, "POST", "/api/v1/summons", body, headers)
		codes[1] = res.StatusCode
	})
	wg.Wait()
	all, err := chuting.FindAll[chuting.Summons](t.Context(), fx.store, chuting.Equal(chuting.KindSummons, chuting.IndexCourt, fx.own().court.ID))
	if err != nil {
		t.Fatal(err)
	}
	if codes[0] == http.StatusCreated && codes[1] == http.StatusCreated || len(all) != 2 {
		t.Fatalf("one Idempotency-Key served %d summons (answers %v), want 1 (and the fixture's)", len(all)-1, codes)
	}
}
