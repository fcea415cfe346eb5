package http_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
	"github.com/chuting/chuting/bbolt"
	chutinghttp "github.com/chuting/chuting/http"
)

// TestMovedAppraiser: when the bureau moves an appraiser to another institution, the old
// institution's admin loses the account and the appraiser sees the new institution.
func TestMovedAppraiser(t *testing.T) {
	fx := newFixture(t)
	a := fx.own().appraiser
	body := map[string]any{"version": fx.version(a), "institution_id": fx.other().institution.ID, "name": a.Name,
		"licence_no": a.LicenceNo, "categories": a.Categories}
	if res, data := fx.do(fx.tokenCaller(chuting.RoleBureauAdmin), "PUT", "/api/v1/appraisers/"+a.ID, body); res.StatusCode != http.StatusOK {
		t.Fatalf("move: %d %s", res.StatusCode, data)
	}
	account := fx.own().users[chuting.RoleAppraiser]
	oldAdmin := fx.tokenCaller(chuting.RoleInstitutionAdmin)
	if res, _ := fx.do(oldAdmin, "PUT", "/api/v1/users/"+account.ID+"/password", map[string]string{"password": "taken over now!"}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("the old institution's admin reset the moved appraiser's password: %d", res.StatusCode)
	}
	appraiser := fx.tokenCaller(chuting.RoleAppraiser)
	if res, _ := fx.do(appraiser, "GET", "/api/v1/rooms/"+fx.own().room.ID, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("the moved appraiser still reads the old institution's room: %d", res.StatusCode)
	}
	if res, _ := fx.do(appraiser, "GET", "/api/v1/rooms/"+fx.other().room.ID, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("the moved appraiser cannot read the new institution's room: %d", res.StatusCode)
	}
}

// TestCursorStaysInScope: a filter outside the caller's scope finds nothing, and the paging
// cursor never names a record the caller may not see.
func TestCursorStaysInScope(t *testing.T) {
	fx := newFixture(t)
	for range 3 { // more summons of the other court
		s := *fx.other().summons
		s.Meta = chuting.Meta{}
		fx.create(&s)
	}
	for _, role := range []chuting.Role{chuting.RoleAppraiser, chuting.RoleClerk, chuting.RoleInstitutionAdmin} {
		res, data := fx.do(fx.tokenCaller(role), "GET", "/api/v1/summons?limit=1&court="+fx.other().court.ID, nil)
		var page struct {
			Items []json.RawMessage
			Next  string
		}
		if err := json.Unmarshal(data, &page); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", role, res.StatusCode, data)
		}
		cursor, _ := base64.RawURLEncoding.DecodeString(page.Next)
		if len(page.Items) != 0 || strings.Contains(string(cursor), fx.other().court.ID) ||
			strings.Contains(string(cursor), fx.other().summons.ID) {
			t.Fatalf("%s filtering by another court: %d items, cursor %q", role, len(page.Items), cursor)
		}
	}
}

// TestSignInAgain: signing in with a session cookie still present needs no CSRF token.
func TestSignInAgain(t *testing.T) {
	fx := newFixture(t)
	c := fx.sessionCaller(chuting.RoleClerk)
	c.csrf = ""
	res, data := fx.do(c, "POST", "/api/v1/session", map[string]string{
		"username": fx.own().users[chuting.RoleClerk].Username, "password": testPassword})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sign in with a cookie present: %d %s", res.StatusCode, data)
	}
}

// TestClientAddress: X-Forwarded-For counts only when the peer is a trusted proxy, and then
// only its untrusted right-most address; the address is what the audit and the per-address
// sign-in limit see.
func TestClientAddress(t *testing.T) {
	store, err := bbolt.Open(filepath.Join(t.TempDir(), "c.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc, err := auth.New(store, auth.Options{Params: cheap})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted []string
		peer    string
		xff     []string
		want    string
	}{
		{"NoProxy", nil, "203.0.113.5:4000", nil, "203.0.113.5"},
		{"ForgedHeaderIgnored", nil, "203.0.113.5:4000", []string{"10.9.9.9"}, "203.0.113.5"},
		{"TrustedProxy", []string{"127.0.0.1/32"}, "127.0.0.1:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"ChainRightMostUntrusted", []string{"127.0.0.1/32", "10.0.0.0/8"}, "127.0.0.1:4000",
			[]string{"6.6.6.6, 198.51.100.7, 10.1.2.3"}, "198.51.100.7"},
		{"TwoHeaders", []string{"127.0.0.1/32"}, "127.0.0.1:4000", []string{"6.6.6.6", "198.51.100.8"}, "198.51.100.8"},
		{"GarbledHop", []string{"127.0.0.1/32"}, "127.0.0.1:4000", []string{"198.51.100.7, junk"}, "127.0.0.1"},
		{"AllTrusted", []string{"127.0.0.0/8"}, "127.0.0.1:4000", []string{"127.0.0.2"}, "127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var prefixes []netip.Prefix
			for _, p := range tc.trusted {
				prefixes = append(prefixes, netip.MustParsePrefix(p))
			}
			srv := chutinghttp.New(chutinghttp.Config{Store: store, Auth: svc, TrustedProxies: prefixes})
			req := httptest.NewRequest("POST", "/api/v1/session", strings.NewReader(`{"username":"nobody","password":"0123456789"}`))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = tc.peer
			for _, h := range tc.xff {
				req.Header.Add("X-Forwarded-For", h)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			evs, err := store.Events(context.Background(), chuting.AuditStream, 0, chuting.MaxLimit)
			if err != nil || len(evs) == 0 {
				t.Fatalf("no audit event (%v)", err)
			}
			var ev chuting.AuditEvent
			if err := json.Unmarshal(evs[len(evs)-1].Data, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Remote != tc.want || ev.RequestID != rec.Header().Get("X-Request-ID") {
				t.Fatalf("audited address %q (request %s), want %q", ev.Remote, ev.RequestID, tc.want)
			}
		})
	}
}
