package http_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
)

func TestSession(t *testing.T) {
	fx := newFixture(t)
	clerk := fx.own().users[chuting.RoleClerk]

	t.Run("CookieAttributes", func(t *testing.T) {
		res, _ := fx.do(caller{}, "POST", "/api/v1/session", map[string]string{"username": clerk.Username, "password": testPassword})
		var c *http.Cookie
		for _, x := range res.Cookies() {
			if x.Name == auth.CookieName {
				c = x
			}
		}
		if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
			t.Fatalf("session cookie = %+v, want __Host- prefixed, HttpOnly, Secure, SameSite=Lax, Path=/", c)
		}
	})
	t.Run("UsernameIsCaseFolded", func(t *testing.T) {
		res, data := fx.do(caller{}, "POST", "/api/v1/session", map[string]string{"username": strings.ToUpper(clerk.Username), "password": testPassword})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", res.StatusCode, data)
		}
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		for _, body := range []map[string]string{
			{"username": clerk.Username, "password": "wrong password!"},
			{"username": "nobody-here", "password": testPassword},
		} {
			res, data := fx.do(caller{}, "POST", "/api/v1/session", body)
			if e := errorOf(t, data); res.StatusCode != http.StatusUnauthorized || e.Code != chuting.EUNAUTHORIZED ||
				!strings.Contains(e.Message, "wrong username or password") {
				t.Fatalf("bad sign-in answered %d %+v", res.StatusCode, e)
			}
		}
	})
	t.Run("CSRF", func(t *testing.T) {
		c := fx.sessionCaller(chuting.RoleBureauAdmin)
		body := map[string]any{"name": "法院", "code": fx.unique("c")}
		for _, csrf := range []string{"", "wrong-token", c.csrf + "x"} {
			bad := c
			bad.csrf = csrf
			res, data := fx.do(bad, "POST", "/api/v1/courts", body)
			if e := errorOf(t, data); res.StatusCode != http.StatusForbidden || !strings.Contains(e.Message, "CSRF") {
				t.Fatalf("write with CSRF %q answered %d %s", csrf, res.StatusCode, data)
			}
		}
		// Reads need no CSRF token; writes with the right one pass.
		bad := c
		bad.csrf = ""
		if res, _ := fx.do(bad, "GET", "/api/v1/courts", nil); res.StatusCode != http.StatusOK {
			t.Fatalf("read without CSRF answered %d", res.StatusCode)
		}
		if res, data := fx.do(c, "POST", "/api/v1/courts", body); res.StatusCode != http.StatusCreated {
			t.Fatalf("write with CSRF answered %d %s", res.StatusCode, data)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		c := fx.sessionCaller(chuting.RoleJudge)
		if res, _ := fx.do(c, "DELETE", "/api/v1/session", nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("logout answered %d", res.StatusCode)
		}
		if res, _ := fx.do(c, "GET", "/api/v1/session", nil); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the ended session still works: %d", res.StatusCode)
		}
	})
	t.Run("PasswordChangeEndsOtherSessions", func(t *testing.T) {
		first := fx.sessionCaller(chuting.RoleInstitutionAdmin)
		second := fx.sessionCaller(chuting.RoleInstitutionAdmin)
		res, data := fx.do(second, "PUT", "/api/v1/session/password",
			map[string]string{"current_password": testPassword, "new_password": "another long password"})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("change answered %d %s", res.StatusCode, data)
		}
		if res, _ := fx.do(first, "GET", "/api/v1/session", nil); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("another session survived the password change: %d", res.StatusCode)
		}
		var fresh caller
		for _, c := range res.Cookies() {
			if c.Name == auth.CookieName {
				fresh.cookie = c
			}
		}
		var v struct {
			CSRFToken string `json:"csrf_token"`
		}
		if err := json.Unmarshal(data, &v); err != nil || fresh.cookie == nil || v.CSRFToken == "" {
			t.Fatalf("the changing browser got no new session: %s", data)
		}
		fresh.csrf = v.CSRFToken
		if res, _ := fx.do(fresh, "GET", "/api/v1/session", nil); res.StatusCode != http.StatusOK {
			t.Fatalf("the new session does not work: %d", res.StatusCode)
		}
		res, _ = fx.do(caller{}, "POST", "/api/v1/session", map[string]string{
			"username": fx.own().users[chuting.RoleInstitutionAdmin].Username, "password": testPassword})
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the old password still signs in: %d", res.StatusCode)
		}
		res, data = fx.do(fresh, "PUT", "/api/v1/session/password",
			map[string]string{"current_password": "wrong wrong wrong", "new_password": "yet another password"})
		if e := errorOf(t, data); res.StatusCode != http.StatusBadRequest || e.Field != "current_password" {
			t.Fatalf("wrong current password answered %d %+v", res.StatusCode, e)
		}
	})
	t.Run("DisabledUser", func(t *testing.T) {
		appr := fx.own().users[chuting.RoleAppraiser]
		c := fx.sessionCaller(chuting.RoleAppraiser)
		res, data := fx.do(fx.tokenCaller(chuting.RoleBureauAdmin), "PATCH", "/api/v1/users/"+appr.ID,
			map[string]any{"version": fx.version(appr), "disabled": true})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("disable answered %d %s", res.StatusCode, data)
		}
		if res, _ := fx.do(c, "GET", "/api/v1/session", nil); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a disabled user's session works: %d", res.StatusCode)
		}
		if res, _ := fx.do(fx.tokenCaller(chuting.RoleAppraiser), "GET", "/api/v1/session", nil); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a disabled user's token works: %d", res.StatusCode)
		}
		res, _ = fx.do(caller{}, "POST", "/api/v1/session", map[string]string{"username": appr.Username, "password": testPassword})
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a disabled user signs in: %d", res.StatusCode)
		}
	})
	t.Run("BadCredentials", func(t *testing.T) {
		for _, c := range []caller{{token: "cht_not-a-real-token"}, {token: auth.TokenPrefix + strings.Repeat("A", 43)},
			{cookie: &http.Cookie{Name: auth.CookieName, Value: strings.Repeat("x", 43)}}} {
			res, data := fx.do(c, "GET", "/api/v1/courts", nil)
			if e := errorOf(t, data); res.StatusCode != http.StatusUnauthorized || e.Code != chuting.EUNAUTHORIZED {
				t.Fatalf("bad credentials %+v answered %d", c, res.StatusCode)
			}
		}
	})
}

func TestSessionExpires(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	fx := newFixture(t, func(o *auth.Options) {
		o.SessionTTL = time.Hour
		o.Now = func() time.Time { return now }
	})
	c := fx.sessionCaller(chuting.RoleClerk)
	if res, _ := fx.do(c, "GET", "/api/v1/session", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("fresh session refused: %d", res.StatusCode)
	}
	now = now.Add(time.Hour)
	if res, _ := fx.do(c, "GET", "/api/v1/session", nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("expired session accepted: %d", res.StatusCode)
	}
}

func TestTokenExpires(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	fx := newFixture(t, func(o *auth.Options) { o.Now = func() time.Time { return now } })
	res, data := fx.do(fx.sessionCaller(chuting.RoleClerk), "POST", "/api/v1/tokens", map[string]any{"name": "system", "expires_in_days": 1, "password": testPassword})
	if res.StatusCode != http.StatusCreated || !strings.Contains(string(data), `"secret":"cht_`) {
		t.Fatalf("create token: %d %s", res.StatusCode, data)
	}
	var tok struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(data, &tok); err != nil {
		t.Fatal(err)
	}
	secret := tok.Secret
	if res, _ := fx.do(caller{token: secret}, "GET", "/api/v1/session", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("new token refused: %d", res.StatusCode)
	}
	now = now.Add(25 * time.Hour)
	res, data = fx.do(caller{token: secret}, "GET", "/api/v1/session", nil)
	if e := errorOf(t, data); res.StatusCode != http.StatusUnauthorized || !strings.Contains(e.Message, "expired") {
		t.Fatalf("expired token answered %d %+v", res.StatusCode, e)
	}
}

func TestLoginRateLimit(t *testing.T) {
	fx := newFixture(t, func(o *auth.Options) {
		o.AccountBurst, o.AccountInterval = 3, time.Hour
		o.AddressBurst, o.AddressInterval = 6, time.Hour
	})
	login := func(username, password string) (*http.Response, []byte) {
		return fx.do(caller{}, "POST", "/api/v1/session", map[string]string{"username": username, "password": password})
	}
	t.Run("PerAccount", func(t *testing.T) {
		u := fx.own().users[chuting.RoleClerk].Username
		for i := range 3 {
			if res, _ := login(u, "wrong password!"); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("attempt %d answered %d", i, res.StatusCode)
			}
		}
		// Even the right password is refused now: the account is being guessed at.
		res, data := login(u, testPassword)
		if e := errorOf(t, data); res.StatusCode != http.StatusTooManyRequests || e.Code != chuting.ERATELIMIT {
			t.Fatalf("4th attempt answered %d %s", res.StatusCode, data)
		}
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("Retry-After = %q", res.Header.Get("Retry-After"))
		}
	})
	t.Run("PerAddress", func(t *testing.T) {
		// The address made four attempts above (the refused one counts too); two more on other
		// accounts use up its six.
		for i := range 2 {
			if res, _ := login(fx.unique("nobody"), "wrong password!"); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("attempt %d answered %d", i, res.StatusCode)
			}
		}
		if res, _ := login(fx.own().users[chuting.RoleJudge].Username, testPassword); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("attempt beyond the address's limit answered %d", res.StatusCode)
		}
	})
}

// TestTokenNeedsPassword: making an API token asks for the password again, so that a stolen
// session cannot turn itself into a token that outlives it and a password change.
func TestTokenNeedsPassword(t *testing.T) {
	fx := newFixture(t)
	clerk := fx.sessionCaller(chuting.RoleClerk)
	before := fx.snapshot()
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"NoPassword", map[string]any{"name": "system"}},
		{"WrongPassword", map[string]any{"name": "system", "password": "not the password"}},
	} {
		res, data := fx.do(clerk, "POST", "/api/v1/tokens", tc.body)
		if res.StatusCode != http.StatusBadRequest || errorOf(t, data).Field != "password" {
			t.Fatalf("%s: %d %s, want 400 naming password", tc.name, res.StatusCode, data)
		}
	}
	if !maps.Equal(before, fx.snapshot()) {
		t.Fatal("a refused token was made")
	}
	res, data := fx.do(clerk, "POST", "/api/v1/tokens", map[string]any{"name": "system", "password": testPassword})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("with the password: %d %s", res.StatusCode, data)
	}
}
