package auth

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/bbolt"
)

// limitsService returns a Service on a fresh store with one user, clerk, whose password is
// "correct horse battery".
func limitsService(t *testing.T, p Params) *Service {
	t.Helper()
	st, err := bbolt.Open(filepath.Join(t.TempDir(), "x.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	s, err := New(st, Options{Params: p})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.NewUser(context.Background(), "clerk", "书记员", chuting.RoleClerk, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := chuting.Create(context.Background(), st, u); err != nil {
		t.Fatal(err)
	}
	return s
}

var cheapParams = Params{Memory: 64, Time: 1, Threads: 1}

// TestLoginKeepsLittle: sign-ins refused by the address's limit, or with usernames no account
// can have, leave nothing in the account limits (200 of 256 KiB each pinned 100 MiB).
func TestLoginKeepsLittle(t *testing.T) {
	s := limitsService(t, cheapParams)
	for i := range 200 {
		name := fmt.Sprint(i) + strings.Repeat("a", 256<<10)
		_, _, _, _ = s.Login(context.Background(), name, "whatever password", "203.0.113.9", "")
	}
	for _, l := range []*limiter{s.perPair, s.perAccount} {
		l.mu.Lock()
		n := len(l.buckets)
		l.mu.Unlock()
		if n != 0 {
			t.Fatalf("the account limits hold %d keys after sign-ins with impossible usernames", n)
		}
	}
}

// TestConcurrentGuessesCounted: guesses sent at once are each charged before the password is
// checked: no more are checked than the account's budget from one address allows (5).
func TestConcurrentGuessesCounted(t *testing.T) {
	s := limitsService(t, DefaultParams()) // a real hash takes long enough for the guesses to overlap
	var wg sync.WaitGroup
	var mu sync.Mutex
	checked := 0
	for range 20 {
		wg.Go(func() {
			_, _, _, err := s.Login(context.Background(), "clerk", "wrong password!", "203.0.113.9", "")
			if chuting.ErrorCode(err) == chuting.EUNAUTHORIZED {
				mu.Lock()
				checked++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if checked > 5 {
		t.Fatalf("%d of 20 concurrent guesses were checked against the password, want at most 5", checked)
	}
	// A right password is given its attempt back: the owner is not charged for signing in.
	s2 := limitsService(t, cheapParams)
	for i := range 8 {
		if _, _, _, err := s2.Login(context.Background(), "clerk", "correct horse battery", "203.0.113.10", ""); err != nil {
			t.Fatalf("sign-in %d with the right password: %v", i+1, err)
		}
	}
}

// TestIPv6Prefix: the addresses of one IPv6 /64 count as one client, so one host cannot spend
// the account's budget from anywhere (50) by moving through its addresses, locking the owner
// out.
func TestIPv6Prefix(t *testing.T) {
	s := limitsService(t, cheapParams)
	refused := false
	for i := range 50 {
		_, _, _, err := s.Login(context.Background(), "clerk", "wrong password!", fmt.Sprintf("2001:db8:1:2::%x", i+1), "")
		refused = refused || chuting.ErrorCode(err) == chuting.ERATELIMIT
	}
	if !refused {
		t.Fatal("50 guesses from one /64 were never refused")
	}
	if _, _, _, err := s.Login(context.Background(), "clerk", "correct horse battery", "198.51.100.7", ""); err != nil {
		t.Fatalf("the owner, from their own address, after one /64 guessed 50 times: %v", err)
	}
	if got := addressKey("2001:db8:1:2::7"); got != "2001:db8:1:2::/64" {
		t.Fatalf("addressKey = %q", got)
	}
	if got := addressKey("203.0.113.9"); got != "203.0.113.9" {
		t.Fatalf("addressKey(IPv4) = %q", got)
	}
}
