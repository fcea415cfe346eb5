package auth_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
	"github.com/chuting/chuting/bbolt"
)

// cheap are argon2id parameters that make a hash take microseconds, for tests.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

// clock is a settable clock for auth.Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// records wraps a store and counts its List calls, which every look-up by username makes.
type records struct {
	chuting.Records
	lists atomic.Int64
}

func (r *records) List(ctx context.Context, q chuting.Query) (chuting.Page, error) {
	r.lists.Add(1)
	return r.Records.List(ctx, q)
}

// fixture is a Service over a real embedded store.
type fixture struct {
	svc   *auth.Service
	store *records
	clock *clock
}

// MustService returns a Service over a new embedded store, with cheap hashing, a 12 h session
// TTL, a settable clock and rate limits high enough not to interfere unless o sets them.
func MustService(tb testing.TB, o auth.Options) *fixture {
	tb.Helper()
	s, err := bbolt.Open(filepath.Join(tb.TempDir(), "x.db"), bbolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	f := &fixture{store: &records{Records: s}, clock: &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	o.Params, o.Now, o.SessionTTL = cheap, f.clock.Now, 12*time.Hour
	o.AccountBurst, o.AddressBurst = cmp.Or(o.AccountBurst, 1000), cmp.Or(o.AddressBurst, 1000)
	if f.svc, err = auth.New(f.store, o); err != nil {
		tb.Fatal(err)
	}
	return f
}

// MustUser stores a user with password, and applies edit to it first when not nil.
func (f *fixture) MustUser(tb testing.TB, username, password string, role chuting.Role, edit func(*chuting.User)) *chuting.User {
	tb.Helper()
	u, err := f.svc.NewUser(context.Background(), username, "张三", role, password)
	if err != nil {
		tb.Fatal(err)
	}
	if edit != nil {
		edit(u)
	}
	if err := chuting.Create(context.Background(), f.store, u); err != nil {
		tb.Fatal(err)
	}
	return u
}

// MustLogin signs username in and returns the session and cookie.
func (f *fixture) MustLogin(tb testing.TB, username, password string) (*chuting.Session, string) {
	tb.Helper()
	sess, cookie, _, err := f.svc.Login(context.Background(), username, password, "10.0.0.1", "test")
	if err != nil {
		tb.Fatalf("Login(%q): %v", username, err)
	}
	return sess, cookie
}

// mustCode fails unless err has the code want.
func mustCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := chuting.ErrorCode(err); got != want {
		tb.Fatalf("error %v has code %q, want %q", err, got, want)
	}
}

const password = "correct horse battery"

func TestLogin(t *testing.T) {
	ctx := context.Background()
	f := MustService(t, auth.Options{})
	clerk := f.MustUser(t, "Clerk", password, chuting.RoleClerk, func(u *chuting.User) { u.CourtID = "c1" })
	f.MustUser(t, "gone", password, chuting.RoleJudge, func(u *chuting.User) { u.Disabled = true })
	long := strings.Repeat("x", auth.MaxPasswordLength+1)
	longHash, err := auth.HashPassword(long, cheap)
	if err != nil {
		t.Fatal(err)
	}
	f.MustUser(t, "long", password, chuting.RoleJudge, func(u *chuting.User) { u.PasswordHash = longHash })

	t.Run("OK", func(t *testing.T) {
		sess, cookie, u, err := f.svc.Login(ctx, " clerk ", password, "10.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		if sess.ID != auth.HashSecret(cookie) || len(cookie) != 43 {
			t.Errorf("session ID %q is not HashSecret of the cookie %q", sess.ID, cookie)
		}
		if sess.CSRF == "" || sess.CSRF == cookie {
			t.Errorf("session CSRF = %q", sess.CSRF)
		}
		if u.ID != clerk.ID || sess.UserID != clerk.ID {
			t.Errorf("signed in user %s, session of %s; want %s", u.ID, sess.UserID, clerk.ID)
		}
		if want := f.clock.Now().Add(12 * time.Hour); !sess.Expires.Equal(want) {
			t.Errorf("session expires %v, want %v", sess.Expires, want)
		}
		stored, err := chuting.Load[chuting.Session](ctx, f.store, sess.ID)
		if err != nil || stored.CSRF != sess.CSRF {
			t.Errorf("stored session = %+v, %v", stored, err)
		}
		if _, err := chuting.Load[chuting.Session](ctx, f.store, cookie); chuting.ErrorCode(err) != chuting.ENOTFOUND {
			t.Errorf("the cookie itself is a stored session ID: %v", err)
		}
	})

	// One answer for every failure, so that a caller cannot tell which it was.
	_, _, _, refErr := f.svc.Login(ctx, "nobody-at-all", password, "10.0.0.1", "")
	wantMsg := chuting.ErrorMessage(refErr)
	for _, tt := range []struct{ name, username, password string }{
		{"ErrWrongPassword", "clerk", password + "!"},
		{"ErrUnknownUser", "nobody", password},
		{"ErrDisabled", "gone", password},
		{"ErrEmpty", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sess, cookie, u, err := f.svc.Login(ctx, tt.username, tt.password, "10.0.0.1", "")
			mustCode(t, err, chuting.EUNAUTHORIZED)
			if sess != nil || cookie != "" || u != nil {
				t.Errorf("a failed Login returned %v, %q, %v", sess, cookie, u)
			}
			if msg := chuting.ErrorMessage(err); msg != wantMsg || msg == "" {
				t.Errorf("message %q, want %q as for an unknown user", msg, wantMsg)
			}
		})
	}
	t.Run("ErrTooLong", func(t *testing.T) {
		// The user's password really is this long; it is refused before any look-up or hashing.
		before := f.store.lists.Load()
		_, _, _, err := f.svc.Login(ctx, "long", long, "10.0.0.1", "")
		mustCode(t, err, chuting.EUNAUTHORIZED)
		if n := f.store.lists.Load() - before; n != 0 {
			t.Errorf("an over-long password made %d look-ups, want 0", n)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	ctx := context.Background()
	login := func(f *fixture, username, pw, addr string) error {
		_, _, _, err := f.svc.Login(ctx, username, pw, addr, "")
		return err
	}
	wantLimited := func(t *testing.T, err error, most time.Duration) {
		t.Helper()
		var rl *auth.RateLimitError
		if !errors.As(err, &rl) || rl.Wait <= 0 || rl.Wait > most {
			t.Fatalf("got %v, want a RateLimitError with a wait up to %s", err, most)
		}
		mustCode(t, err, chuting.ERATELIMIT)
	}
	t.Run("FailuresFromOneAddress", func(t *testing.T) {
		f := MustService(t, auth.Options{AccountBurst: 2, AccountInterval: time.Minute})
		f.MustUser(t, "clerk", password, chuting.RoleClerk, nil)
		for i := range 2 {
			mustCode(t, login(f, "clerk", "wrong password", "10.0.0.1"), chuting.EUNAUTHORIZED)
			_ = i
		}
		// Even the right password is refused from there now: the account is being guessed at.
		wantLimited(t, login(f, "CLERK", password, "10.0.0.1"), time.Minute)
		// The owner elsewhere is not locked out by a stranger's failures.
		if err := login(f, "clerk", password, "10.0.0.2"); err != nil {
			t.Fatalf("the owner from another address: %v", err)
		}
		f.clock.Advance(time.Minute)
		if err := login(f, "clerk", password, "10.0.0.1"); err != nil {
			t.Fatalf("a minute later: %v", err)
		}
	})
	t.Run("SuccessesDoNotCount", func(t *testing.T) {
		f := MustService(t, auth.Options{AccountBurst: 2, AccountInterval: time.Minute})
		f.MustUser(t, "clerk", password, chuting.RoleClerk, nil)
		for i := range 5 {
			if err := login(f, "clerk", password, "10.0.0.1"); err != nil {
				t.Fatalf("sign-in %d: %v", i, err)
			}
		}
	})
	t.Run("FailuresFromManyAddresses", func(t *testing.T) {
		// Ten times the burst of failures on one account, from any addresses, stops everyone.
		f := MustService(t, auth.Options{AccountBurst: 2, AccountInterval: time.Minute})
		f.MustUser(t, "clerk", password, chuting.RoleClerk, nil)
		for i := range 20 {
			mustCode(t, login(f, "clerk", "wrong password", fmt.Sprintf("10.1.0.%d", i)), chuting.EUNAUTHORIZED)
		}
		wantLimited(t, login(f, "clerk", password, "10.2.0.1"), 6*time.Second)
	})
	t.Run("Address", func(t *testing.T) {
		f := MustService(t, auth.Options{AddressBurst: 3, AddressInterval: time.Minute})
		for i := range 3 {
			mustCode(t, login(f, fmt.Sprintf("nobody%d", i), password, "10.0.0.9"), chuting.EUNAUTHORIZED)
		}
		wantLimited(t, login(f, "someone", password, "10.0.0.9"), time.Minute)
	})
}

func TestSession(t *testing.T) {
	ctx := context.Background()
	f := MustService(t, auth.Options{})
	u := f.MustUser(t, "clerk", password, chuting.RoleClerk, func(u *chuting.User) { u.CourtID = "c1" })
	if err := chuting.Create(ctx, f.store, &chuting.Appraiser{Meta: chuting.Meta{ID: "a1"}, InstitutionID: "i1", Name: "李"}); err != nil {
		t.Fatal(err)
	}
	a := f.MustUser(t, "appraiser", password, chuting.RoleAppraiser, func(u *chuting.User) {
		u.InstitutionID, u.AppraiserID = "i-old", "a1" // the account's copy is stale: the record wins
	})
	for _, tt := range []struct {
		name string
		want chuting.Principal // without SessionID
	}{
		{"OK", chuting.Principal{UserID: u.ID, Username: "clerk", Name: "张三", Role: chuting.RoleClerk, CourtID: "c1"}},
		{"OKAppraiser", chuting.Principal{UserID: a.ID, Username: "appraiser", Name: "张三", Role: chuting.RoleAppraiser,
			InstitutionID: "i1", AppraiserID: "a1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sess, cookie := f.MustLogin(t, tt.want.Username, password)
			p, got, err := f.svc.Session(ctx, cookie)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.SessionID = sess.ID; *p != tt.want {
				t.Errorf("principal = %+v, want %+v", *p, tt.want)
			}
			if got.ID != sess.ID || got.CSRF != sess.CSRF {
				t.Errorf("session = %+v, want %+v", got, sess)
			}
		})
	}
	t.Run("ErrExpired", func(t *testing.T) {
		f := MustService(t, auth.Options{})
		f.MustUser(t, "clerk", password, chuting.RoleClerk, nil)
		sess, cookie := f.MustLogin(t, "clerk", password)
		f.clock.Advance(12*time.Hour - time.Second)
		if _, _, err := f.svc.Session(ctx, cookie); err != nil {
			t.Fatalf("a second before it expires: %v", err)
		}
		f.clock.Advance(time.Second)
		_, _, err := f.svc.Session(ctx, cookie)
		mustCode(t, err, chuting.EUNAUTHORIZED)
		_, err = chuting.Load[chuting.Session](ctx, f.store, sess.ID)
		mustCode(t, err, chuting.ENOTFOUND)
	})
	t.Run("ErrLoggedOut", func(t *testing.T) {
		sess, cookie := f.MustLogin(t, "clerk", password)
		if err := f.svc.Logout(ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.svc.Session(ctx, cookie)
		mustCode(t, err, chuting.EUNAUTHORIZED)
		if err := f.svc.Logout(ctx, sess.ID); err != nil {
			t.Errorf("a second Logout: %v", err)
		}
	})
	t.Run("ErrDisabledSince", func(t *testing.T) {
		f := MustService(t, auth.Options{})
		u := f.MustUser(t, "clerk", password, chuting.RoleClerk, nil)
		_, cookie := f.MustLogin(t, "clerk", password)
		u.Disabled = true
		if err := chuting.Save(ctx, f.store, u); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.svc.Session(ctx, cookie)
		mustCode(t, err, chuting.EUNAUTHORIZED)
	})
	for _, tt := range []struct{ name, cookie string }{
		{"ErrEmpty", ""},
		{"ErrGarbage", "garbage"},
		{"ErrUnknown", auth.NewSecret()},
		{"ErrSessionID", auth.HashSecret(auth.NewSecret())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.svc.Session(ctx, tt.cookie)
			mustCode(t, err, chuting.EUNAUTHORIZED)
		})
	}
}

func TestToken(t *testing.T) {
	ctx := context.Background()
	f := MustService(t, auth.Options{})
	u := f.MustUser(t, "cms", password, chuting.RoleClerk, func(u *chuting.User) { u.CourtID = "c1" })
	tok, secret, err := f.svc.NewToken(ctx, u.ID, "case system", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, shortSecret, err := f.svc.NewToken(ctx, u.ID, "one hour", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimPrefix(secret, auth.TokenPrefix)
	flip := byte('A') // another first character of the body
	if body[0] == 'A' {
		flip = 'B'
	}

	t.Run("OK", func(t *testing.T) {
		if !strings.HasPrefix(secret, auth.TokenPrefix) || len(secret) != len(auth.TokenPrefix)+43 {
			t.Errorf("secret %q: want %s and 43 characters", secret, auth.TokenPrefix)
		}
		if tok.Prefix != secret[:len(auth.TokenPrefix)+6] || tok.Hash != auth.HashSecret(secret) || strings.Contains(tok.Hash, body) {
			t.Errorf("token = %+v", tok)
		}
		p, err := f.svc.Token(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if p.UserID != u.ID || p.TokenID != tok.ID || p.CourtID != "c1" || p.SessionID != "" {
			t.Errorf("principal = %+v", p)
		}
	})
	for _, tt := range []struct{ name, secret string }{
		{"ErrEmpty", ""},
		{"ErrTampered", auth.TokenPrefix + string(flip) + body[1:]},
		{"ErrWrongPrefix", "chx_" + body},
		{"ErrNoPrefix", body},
		{"ErrCookieShape", auth.NewSecret()},
		{"ErrTruncated", secret[:len(secret)-1]},
		{"ErrExtended", secret + "A"},
		{"ErrBadCharacter", secret[:len(secret)-1] + "="},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Token(ctx, tt.secret)
			mustCode(t, err, chuting.EUNAUTHORIZED)
		})
	}
	t.Run("ErrExpired", func(t *testing.T) {
		if _, err := f.svc.Token(ctx, shortSecret); err != nil {
			t.Fatalf("before it expires: %v", err)
		}
		f.clock.Advance(time.Hour)
		_, err := f.svc.Token(ctx, shortSecret)
		mustCode(t, err, chuting.EUNAUTHORIZED)
		if _, err := f.svc.Token(ctx, secret); err != nil {
			t.Errorf("a token without expiry: %v", err)
		}
	})
}

func TestSetPassword(t *testing.T) {
	ctx := context.Background()
	const newPassword = "a brand new passphrase"
	t.Run("OK", func(t *testing.T) {
		f := MustService(t, auth.Options{})
		u := f.MustUser(t, "clerk", password, chuting.RoleClerk, nil)
		other := f.MustUser(t, "judge", password, chuting.RoleJudge, nil)
		_, c1 := f.MustLogin(t, "clerk", password)
		_, c2 := f.MustLogin(t, "clerk", password)
		_, c3 := f.MustLogin(t, "judge", password)
		if err := f.svc.SetPassword(ctx, u, newPassword); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{c1, c2} {
			_, _, err := f.svc.Session(ctx, c)
			mustCode(t, err, chuting.EUNAUTHORIZED)
		}
		if p, _, err := f.svc.Session(ctx, c3); err != nil || p.UserID != other.ID {
			t.Errorf("another user's session = %v, %v; want it kept", p, err)
		}
		_, _, _, err := f.svc.Login(ctx, "clerk", password, "10.0.0.1", "")
		mustCode(t, err, chuting.EUNAUTHORIZED)
		f.MustLogin(t, "clerk", newPassword)
		if u.Version != 2 || !u.PasswordSet.Equal(f.clock.Now()) {
			t.Errorf("user after SetPassword = version %d, password set %v", u.Version, u.PasswordSet)
		}
	})
	t.Run("ErrPolicy", func(t *testing.T) {
		f := MustService(t, auth.Options{})
		u := f.MustUser(t, "clerk", password, chuting.RoleClerk, nil)
		_, cookie := f.MustLogin(t, "clerk", password)
		err := f.svc.SetPassword(ctx, u, "short")
		mustCode(t, err, chuting.EINVALID)
		if chuting.ErrorField(err) != "password" {
			t.Errorf("error names %q, want password", chuting.ErrorField(err))
		}
		if _, _, err := f.svc.Session(ctx, cookie); err != nil {
			t.Errorf("a refused password change ended the session: %v", err)
		}
		f.MustLogin(t, "clerk", password)
	})
	t.Run("ErrStale", func(t *testing.T) {
		f := MustService(t, auth.Options{})
		u := f.MustUser(t, "clerk", password, chuting.RoleClerk, nil)
		stale := *u
		if err := f.svc.SetPassword(ctx, u, newPassword); err != nil {
			t.Fatal(err)
		}
		mustCode(t, f.svc.SetPassword(ctx, &stale, "yet another passphrase"), chuting.ECONFLICT)
		f.MustLogin(t, "clerk", newPassword)
	})
}

func TestEndSessions(t *testing.T) {
	// SetPassword's test checks that sessions end; here, that having none is fine.
	ctx := context.Background()
	f := MustService(t, auth.Options{})
	u := f.MustUser(t, "clerk", password, chuting.RoleClerk, nil)
	for _, tt := range []struct{ name, userID string }{
		{"OKNoSessions", u.ID},
		{"OKUnknownUser", chuting.NewID()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := f.svc.EndSessions(ctx, tt.userID); err != nil {
				t.Errorf("EndSessions(%s) = %v", tt.userID, err)
			}
		})
	}
}

func TestScope(t *testing.T) {
	ctx := context.Background()
	f := MustService(t, auth.Options{})
	court := &chuting.Court{Name: "赣州市中级人民法院", Code: "赣07", NoticeDays: 3}
	inst := &chuting.Institution{Name: "赣南司法鉴定所", LicenceNo: "360001"}
	for _, e := range []chuting.Entity{court, inst} {
		if err := chuting.Create(ctx, f.store, e); err != nil {
			t.Fatal(err)
		}
	}
	appraiser := &chuting.Appraiser{Name: "李四", InstitutionID: inst.ID, LicenceNo: "A-1"}
	if err := chuting.Create(ctx, f.store, appraiser); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                        string
		role                        chuting.Role
		courtID, instID, appraiser  string
		wantCourt, wantInst, wantAp string
		wantField                   string // "" for no error
	}{
		{"OKClerk", chuting.RoleClerk, court.ID, "", "", court.ID, "", "", ""},
		{"OKJudge", chuting.RoleJudge, court.ID, inst.ID, appraiser.ID, court.ID, "", "", ""},
		{"OKInstitutionAdmin", chuting.RoleInstitutionAdmin, "", inst.ID, "", "", inst.ID, "", ""},
		{"OKAppraiser", chuting.RoleAppraiser, "", "someone-else", appraiser.ID, "", inst.ID, appraiser.ID, ""},
		{"OKBureauAdmin", chuting.RoleBureauAdmin, "", "", "", "", "", "", ""},
		{"ErrClerkMissingCourt", chuting.RoleClerk, chuting.NewID(), "", "", "", "", "", "court_id"},
		{"ErrClerkNoCourt", chuting.RoleClerk, "", "", "", "", "", "", "court_id"},
		{"ErrJudgeCourtIsInstitution", chuting.RoleJudge, inst.ID, "", "", "", "", "", "court_id"},
		{"ErrInstitutionMissing", chuting.RoleInstitutionAdmin, "", chuting.NewID(), "", "", "", "", "institution_id"},
		{"ErrAppraiserMissing", chuting.RoleAppraiser, "", inst.ID, chuting.NewID(), "", "", "", "appraiser_id"},
		{"ErrAppraiserMalformed", chuting.RoleAppraiser, "", "", "A-1", "", "", "", "appraiser_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &chuting.User{Username: "u", Role: tt.role}
			err := f.svc.Scope(ctx, u, tt.courtID, tt.instID, tt.appraiser)
			if tt.wantField != "" {
				mustCode(t, err, chuting.EINVALID)
				if got := chuting.ErrorField(err); got != tt.wantField {
					t.Errorf("error names field %q, want %q", got, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.CourtID != tt.wantCourt || u.InstitutionID != tt.wantInst || u.AppraiserID != tt.wantAp {
				t.Errorf("scoped user = court %q institution %q appraiser %q; want %q %q %q",
					u.CourtID, u.InstitutionID, u.AppraiserID, tt.wantCourt, tt.wantInst, tt.wantAp)
			}
		})
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		name              string
		header            string
		cookies           []*http.Cookie
		insecure          bool // the server's cookies are not Secure (plain HTTP on loopback)
		wantToken, wantCk string
	}{
		{"OKToken", "Bearer cht_abc", nil, false, "cht_abc", ""},
		{"OKHeaderWins", "Bearer cht_abc", []*http.Cookie{{Name: auth.CookieName, Value: "c1"}}, false, "cht_abc", ""},
		{"OKTokenSpaces", "Bearer  cht_abc ", nil, false, "cht_abc", ""},
		{"OKCookie", "", []*http.Cookie{{Name: auth.CookieName, Value: "c1"}}, false, "", "c1"},
		{"OKCookieNoTLS", "", []*http.Cookie{{Name: auth.CookieNameNoTLS, Value: "c2"}}, true, "", "c2"},
		// A cookie without the __Host- prefix, which anyone on plain HTTP or a sibling
		// subdomain can plant, is not read by a server whose cookies are Secure.
		{"UnprefixedOnSecure", "", []*http.Cookie{{Name: auth.CookieNameNoTLS, Value: "c2"}}, false, "", ""},
		{"SecureCookieAmongOthers", "", []*http.Cookie{{Name: auth.CookieNameNoTLS, Value: "c2"}, {Name: auth.CookieName, Value: "c1"}}, false, "", "c1"},
		{"OKOtherCookie", "", []*http.Cookie{{Name: "theme", Value: "dark"}}, false, "", ""},
		{"OKNone", "", nil, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			for _, c := range tt.cookies {
				r.AddCookie(c)
			}
			tok, ck := auth.Credentials(r, !tt.insecure)
			if tok != tt.wantToken || ck != tt.wantCk {
				t.Errorf("Credentials = %q, %q; want %q, %q", tok, ck, tt.wantToken, tt.wantCk)
			}
		})
	}
}

func TestSweepSessions(t *testing.T) {
	ctx := context.Background()
	f := MustService(t, auth.Options{}) // sessions last 12 h
	f.MustUser(t, "clerk", password, chuting.RoleClerk, nil)
	_, old1 := f.MustLogin(t, "clerk", password)
	_, old2 := f.MustLogin(t, "clerk", password)
	f.clock.Advance(6 * time.Hour)
	_, fresh := f.MustLogin(t, "clerk", password)
	f.clock.Advance(6*time.Hour + time.Minute) // the first two have expired, the third has not
	n, err := f.svc.SweepSessions(ctx)
	if err != nil || n != 2 {
		t.Fatalf("swept %d (%v), want the 2 expired", n, err)
	}
	for _, c := range []string{old1, old2} {
		if _, err := f.store.Get(ctx, chuting.KindSession, auth.HashSecret(c)); chuting.ErrorCode(err) != chuting.ENOTFOUND {
			t.Fatalf("an expired session is still stored: %v", err)
		}
	}
	if _, _, err := f.svc.Session(ctx, fresh); err != nil {
		t.Fatalf("the live session was swept: %v", err)
	}
}
