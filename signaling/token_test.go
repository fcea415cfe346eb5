package signaling

import (
	"errors"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/golang-jwt/jwt/v5"
)

func TestTokens(t *testing.T) {
	clk := &clock{}
	tokens := NewTokens(testKey, clk.Now)
	open := Window{Start: clk.Now().Add(-time.Hour), End: clk.Now().Add(time.Hour)}
	claims := Claims{Hearing: "h1", Subject: "link:abc", Name: "赵律师", Role: RoleCounsel}
	issue := func(t *testing.T, c Claims) string {
		t.Helper()
		tok, err := tokens.Issue(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	t.Run("OK", func(t *testing.T) {
		got, err := tokens.Verify(issue(t, claims), "h1", open)
		if err != nil {
			t.Fatal(err)
		}
		if got.Hearing != "h1" || got.Subject != "link:abc" || got.Name != "赵律师" || got.Role != RoleCounsel || got.ID == "" {
			t.Fatalf("claims = %+v", got)
		}
		if ttl := got.Expires.Sub(clk.Now()); ttl > TokenTTL || ttl < TokenTTL-2*time.Second {
			t.Fatalf("valid for %s, want %s", ttl, TokenTTL)
		}
	})
	t.Run("OKExpiryCapped", func(t *testing.T) {
		c := claims
		c.Expires = clk.Now().Add(24 * time.Hour)
		got, err := tokens.Verify(issue(t, c), "h1", open)
		if err != nil {
			t.Fatal(err)
		}
		if got.Expires.After(clk.Now().Add(TokenTTL)) {
			t.Fatalf("expires %s, more than %s from now", got.Expires, TokenTTL)
		}
	})
	for _, tc := range []struct {
		name  string
		token func(t *testing.T) string
		id    string
		w     Window
		want  *CloseError
	}{
		{"ErrTampered", func(t *testing.T) string { return issue(t, claims) + "x" }, "h1", open, ErrTampered},
		{"ErrOtherKey", func(t *testing.T) string {
			tok, _ := NewTokens([]byte("ffffffffffffffffffffffffffffffff"), clk.Now).Issue(claims)
			return tok
		}, "h1", open, ErrTampered},
		{"ErrAlgNone", func(t *testing.T) string {
			tok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwtClaims{Hearing: "h1", Role: RoleJudge,
				RegisteredClaims: jwt.RegisteredClaims{Subject: "x", ID: "y",
					ExpiresAt: jwt.NewNumericDate(clk.Now().Add(time.Minute))}}).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return tok
		}, "h1", open, ErrTampered},
		{"ErrNoExpiry", func(t *testing.T) string {
			tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{Hearing: "h1", Role: RoleJudge,
				RegisteredClaims: jwt.RegisteredClaims{Subject: "x", ID: "y"}}).SignedString(testKey)
			return tok
		}, "h1", open, ErrTampered},
		{"ErrNoJTI", func(t *testing.T) string {
			tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{Hearing: "h1", Role: RoleJudge,
				RegisteredClaims: jwt.RegisteredClaims{Subject: "x",
					ExpiresAt: jwt.NewNumericDate(clk.Now().Add(time.Minute))}}).SignedString(testKey)
			return tok
		}, "h1", open, ErrTampered},
		{"ErrBadRole", func(t *testing.T) string {
			tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{Hearing: "h1", Role: "bailiff",
				RegisteredClaims: jwt.RegisteredClaims{Subject: "x", ID: "z",
					ExpiresAt: jwt.NewNumericDate(clk.Now().Add(time.Minute))}}).SignedString(testKey)
			return tok
		}, "h1", open, ErrTampered},
		{"ErrWrongHearing", func(t *testing.T) string { return issue(t, claims) }, "h2", open, ErrWrongHearing},
		{"ErrExpired", func(t *testing.T) string {
			c := claims
			c.NotBefore = clk.Now().Add(-10 * time.Minute)
			c.Expires = clk.Now().Add(-time.Minute)
			return issue(t, c)
		}, "h1", open, ErrExpired},
		{"ErrNotYet", func(t *testing.T) string {
			c := claims
			c.NotBefore = clk.Now().Add(time.Minute)
			return issue(t, c)
		}, "h1", open, ErrExpired},
		{"ErrOutsideWindow", func(t *testing.T) string { return issue(t, claims) }, "h1",
			Window{Start: clk.Now().Add(time.Hour), End: clk.Now().Add(2 * time.Hour)}, ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tokens.Verify(tc.token(t), tc.id, tc.w)
			if !errors.Is(err, tc.want) || CloseCode(err) != tc.want.Code {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("ErrReplayed", func(t *testing.T) {
		tok := issue(t, claims)
		if _, err := tokens.Verify(tok, "h2", open); CloseCode(err) != CloseWrongHearing {
			t.Fatal(err) // a refused token is not spent…
		}
		if _, err := tokens.Verify(tok, "h1", open); err != nil {
			t.Fatal(err)
		}
		if _, err := tokens.Verify(tok, "h1", open); CloseCode(err) != CloseReplayed {
			t.Fatalf("second use: %v", err) // …an accepted one is
		}
	})
	t.Run("ErrIssue", func(t *testing.T) {
		for _, c := range []Claims{{Subject: "x", Role: RoleJudge}, {Hearing: "h", Role: RoleJudge},
			{Hearing: "h", Subject: "x", Role: "bailiff"}} {
			if _, err := tokens.Issue(c); chuting.ErrorCode(err) != chuting.EINVALID {
				t.Errorf("Issue(%+v): %v", c, err)
			}
		}
		if _, err := NewTokens([]byte("short"), nil).Issue(claims); chuting.ErrorCode(err) != chuting.EINVALID {
			t.Errorf("short key: %v", err)
		}
	})
	t.Run("UsedForget", func(t *testing.T) {
		tokens.Verify(issue(t, claims), "h1", open)
		clk.Advance(TokenTTL + time.Minute)
		defer clk.Advance(-TokenTTL - time.Minute)
		tokens.Verify("x", "h1", open) // prunes the expired IDs
		tokens.mu.Lock()
		n := len(tokens.used)
		tokens.mu.Unlock()
		if n != 0 {
			t.Fatalf("%d used IDs kept after they expired", n)
		}
	})
}
