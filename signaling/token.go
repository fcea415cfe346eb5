package signaling

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chuting/chuting"
	"github.com/golang-jwt/jwt/v5"
)

// TokenTTL is how long a join token is valid: long enough to open the room page, short enough
// that a leaked token is soon worthless. It is cut at the end of the room's window.
const TokenTTL = 5 * time.Minute

// WebSocket close codes the server closes a connection with. The table is in
// docs/signaling.md; reasons are in zh-CN and English.
const (
	CloseNoJoin       = 4001 // no join in time, or the first message was not join
	CloseTampered     = 4003 // the token is tampered with or not ours
	CloseWrongHearing = 4004 // the token is for another hearing
	CloseExpired      = 4005 // the token expired, or the room is not open
	CloseReplayed     = 4006 // the token was used already, or the link was revoked
	CloseRoleRefused  = 4007 // the role may not join this hearing
	CloseRateLimited  = 4008 // too many messages
	CloseRemoved      = 4009 // removed by the judge
	CloseEnded        = 4010 // the hearing has ended
	CloseElsewhere    = 4011 // the hearing's room is open on another node
	CloseFull         = 4012 // the node has as many participants as it may (Config.MaxParticipants)
)

// CloseError is a refusal that closes the WebSocket with Code and Reason.
type CloseError struct {
	Code   int
	Reason string
	Err    error // the cause, for logs; never sent
}

// Error implements error.
func (e *CloseError) Error() string {
	s := fmt.Sprintf("close %d: %s", e.Code, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *CloseError) Unwrap() error { return e.Err }

// Is makes errors.Is match any CloseError with the same code, so callers can test for the
// sentinels below even when the error carries a cause.
func (e *CloseError) Is(target error) bool {
	t, ok := target.(*CloseError)
	return ok && t.Code == e.Code
}

// Refusals. Each carries its close code; match them with errors.Is, or read the code with
// CloseCode.
var (
	ErrNoJoin       = &CloseError{Code: CloseNoJoin, Reason: "未加入 / no join"}
	ErrTampered     = &CloseError{Code: CloseTampered, Reason: "令牌无效 / token invalid"}
	ErrWrongHearing = &CloseError{Code: CloseWrongHearing, Reason: "令牌不属于本庭 / token is for another hearing"}
	ErrExpired      = &CloseError{Code: CloseExpired, Reason: "令牌过期或房间未开放 / token expired or room not open"}
	ErrReplayed     = &CloseError{Code: CloseReplayed, Reason: "令牌已使用 / token already used"}
	ErrRoleRefused  = &CloseError{Code: CloseRoleRefused, Reason: "不公开审理，不得旁听 / not open to observers"}
	ErrRateLimited  = &CloseError{Code: CloseRateLimited, Reason: "消息过多 / too many messages"}
	ErrRemoved      = &CloseError{Code: CloseRemoved, Reason: "已被法官移出 / removed by the judge"}
	ErrEnded        = &CloseError{Code: CloseEnded, Reason: "庭审已结束 / the hearing has ended"}
	ErrFull         = &CloseError{Code: CloseFull, Reason: "服务器已满，请稍后再试 / the server is full; try again later"}
)

func refuse(sentinel *CloseError, cause error) *CloseError {
	return &CloseError{Code: sentinel.Code, Reason: sentinel.Reason, Err: cause}
}

// CloseCode returns the close code of the first CloseError in err's chain, or 0.
func CloseCode(err error) int {
	var e *CloseError
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// Window is the time a hearing's room is open: from a while before the hearing starts to a
// grace period after its slot ends.
type Window struct {
	Start, End time.Time
}

// Contains reports whether t is inside the window, [Start, End).
func (w Window) Contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }

// Claims are what a join token says: who may join which hearing, as what, and when.
type Claims struct {
	Hearing   string    // the hearing's ID
	Subject   string    // the user's ID, or "link:<id>" for a personal link (#49)
	Name      string    // shown to the others
	Role      Role      //
	ID        string    // the token's own ID (jti): each is accepted once
	NotBefore time.Time //
	Expires   time.Time //
}

// jwtClaims is the token's JSON.
type jwtClaims struct {
	Hearing string `json:"hid"`
	Name    string `json:"name"`
	Role    Role   `json:"role"`
	jwt.RegisteredClaims
}

// Tokens issues and checks join tokens: JWTs signed with HS256 and the server's key. It
// remembers the IDs of the tokens it accepted until they expire, so each is accepted once.
// A Tokens is safe for concurrent use. The memory is per process: with several nodes, a
// hearing's joins must all reach the node that holds its room (the Hearing's Node).
type Tokens struct {
	key []byte
	now func() time.Time

	mu   sync.Mutex
	used map[string]time.Time // jti → expiry
}

// NewTokens returns Tokens that sign with key (at least 32 bytes) and read the time from now
// (time.Now when nil).
func NewTokens(key []byte, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: key, now: now, used: make(map[string]time.Time)}
}

// Issue returns a signed join token with c's claims. An empty ID gets a random one, a zero
// NotBefore is now, and the expiry is at most TokenTTL from now (a zero Expires gets exactly
// that). EINVALID for a missing hearing or subject, an unknown role or a key under 32 bytes.
func (t *Tokens) Issue(c Claims) (string, error) {
	switch {
	case len(t.key) < 32:
		return "", chuting.Errorf(chuting.EINVALID, "the token key must have at least 32 bytes")
	case c.Hearing == "" || c.Subject == "":
		return "", chuting.Errorf(chuting.EINVALID, "a join token needs a hearing and a subject")
	case !c.Role.Valid():
		return "", chuting.Errorf(chuting.EINVALID, "unknown room role %q", c.Role)
	}
	now := t.now()
	if c.ID == "" {
		c.ID = randomID(18)
	}
	if c.NotBefore.IsZero() {
		c.NotBefore = now
	}
	if max := now.Add(TokenTTL); c.Expires.IsZero() || c.Expires.After(max) {
		c.Expires = max
	}
	jc := jwtClaims{Hearing: c.Hearing, Name: c.Name, Role: c.Role, RegisteredClaims: jwt.RegisteredClaims{
		Subject:   c.Subject,
		ID:        c.ID,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(c.NotBefore),
		ExpiresAt: jwt.NewNumericDate(c.Expires),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jc).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("sign join token: %w", err)
	}
	return s, nil
}

// Verify checks token for the hearing hearingID whose room is open during window, and returns
// its claims. The errors are CloseErrors: ErrTampered (bad signature, not HS256, malformed,
// missing claims), ErrWrongHearing, ErrExpired (expired, not yet valid, or now is outside the
// window) and ErrReplayed (accepted before). A token is marked used only when it passes.
func (t *Tokens) Verify(token, hearingID string, window Window) (Claims, error) {
	t.forget()
	var jc jwtClaims
	_, err := jwt.ParseWithClaims(token, &jc, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(t.now), jwt.WithExpirationRequired())
	switch {
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet):
		return Claims{}, refuse(ErrExpired, err)
	case err != nil:
		return Claims{}, refuse(ErrTampered, err)
	}
	c := Claims{Hearing: jc.Hearing, Subject: jc.Subject, Name: jc.Name, Role: jc.Role, ID: jc.ID,
		Expires: jc.ExpiresAt.Time}
	if jc.NotBefore != nil {
		c.NotBefore = jc.NotBefore.Time
	}
	if c.ID == "" || c.Subject == "" || c.Hearing == "" || !c.Role.Valid() {
		return Claims{}, refuse(ErrTampered, errors.New("the token lacks claims"))
	}
	if c.Hearing != hearingID {
		return Claims{}, refuse(ErrWrongHearing, fmt.Errorf("token for hearing %s", c.Hearing))
	}
	now := t.now()
	if !window.Contains(now) {
		return Claims{}, refuse(ErrExpired, fmt.Errorf("room open %s to %s", window.Start, window.End))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.used[c.ID]; ok {
		return Claims{}, refuse(ErrReplayed, fmt.Errorf("jti %s", c.ID))
	}
	t.used[c.ID] = c.Expires
	return c, nil
}

// forget drops the IDs of tokens that have expired: they are refused as expired anyway.
func (t *Tokens) forget() {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, exp := range t.used {
		if now.After(exp) {
			delete(t.used, id)
		}
	}
}

// randomID returns n random bytes in unpadded base64url.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
