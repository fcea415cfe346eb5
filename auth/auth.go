package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/chuting/chuting"
)

// Options configure a Service.
type Options struct {
	SessionTTL time.Duration    // how long a session lasts from sign-in; 0 = 12 h
	Params     Params           // argon2id cost; zero = DefaultParams()
	Now        func() time.Time // clock; nil = time.Now
	// Sign-in attempts allowed: a burst, then one per interval, per account and per address.
	AccountBurst, AddressBurst       int           // 0 = 5 and 20
	AccountInterval, AddressInterval time.Duration // 0 = 1 min and 6 s
}

// Service signs users in and out and resolves credentials to principals.
type Service struct {
	store      chuting.Records
	ttl        time.Duration
	params     Params
	now        func() time.Time
	perAccount *limiter
	perAddress *limiter
	dummyHash  string // checked when the account does not exist, so timing does not tell
}

// New returns a Service over store.
func New(store chuting.Records, o Options) (*Service, error) {
	s := &Service{store: store, ttl: o.SessionTTL, params: o.Params, now: o.Now}
	if s.ttl <= 0 {
		s.ttl = 12 * time.Hour
	}
	if s.params == (Params{}) {
		s.params = DefaultParams()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.perAccount = newLimiter(orDuration(o.AccountInterval, time.Minute), orInt(o.AccountBurst, 5))
	s.perAddress = newLimiter(orDuration(o.AddressInterval, 6*time.Second), orInt(o.AddressBurst, 20))
	var err error
	if s.dummyHash, err = HashPassword(NewSecret(), s.params); err != nil {
		return nil, err
	}
	return s, nil
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func orInt(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// RateLimitError is returned when sign-in attempts come too fast. It unwraps to an ERATELIMIT
// *chuting.Error; Wait says when to try again (the HTTP Retry-After).
type RateLimitError struct{ Wait time.Duration }

// Error implements error.
func (e *RateLimitError) Error() string { return e.Unwrap().Error() }

// Unwrap returns the *chuting.Error the HTTP adapter answers with.
func (e *RateLimitError) Unwrap() error {
	secs := max(1, int((e.Wait+time.Second-1)/time.Second)) // rounded up, as Retry-After is
	return chuting.Errorf(chuting.ERATELIMIT, "尝试过于频繁，请 %d 秒后再试 / too many attempts, try again in %d s", secs, secs)
}

// errBadLogin is the one answer to a wrong username, a wrong password or a disabled account,
// so that a caller cannot tell which it was.
func errBadLogin() error {
	return chuting.Errorf(chuting.EUNAUTHORIZED, "用户名或密码错误 / wrong username or password")
}

// Login checks a username and password and opens a session. It returns the session, the
// cookie value (shown to the browser only; the store keeps its hash) and the user.
// EUNAUTHORIZED for bad credentials; *RateLimitError (ERATELIMIT) when the account or the
// address has tried too often.
func (s *Service) Login(ctx context.Context, username, password, remote, userAgent string) (*chuting.Session, string, *chuting.User, error) {
	now := s.now()
	if wait := s.perAddress.reserve(remote, now); wait > 0 {
		return nil, "", nil, &RateLimitError{Wait: wait}
	}
	if wait := s.perAccount.reserve(chuting.FoldUsername(username), now); wait > 0 {
		return nil, "", nil, &RateLimitError{Wait: wait}
	}
	if len(password) > MaxPasswordLength {
		return nil, "", nil, errBadLogin()
	}
	u, err := chuting.FindOne[chuting.User](ctx, s.store, chuting.IndexUsername, chuting.FoldUsername(username))
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		_, _ = CheckPassword(s.dummyHash, password)
		return nil, "", nil, errBadLogin()
	} else if err != nil {
		return nil, "", nil, err
	}
	ok, err := CheckPassword(u.PasswordHash, password)
	if err != nil || !ok || u.Disabled {
		return nil, "", nil, errBadLogin()
	}
	sess, cookie, err := s.StartSession(ctx, u, remote, userAgent)
	return sess, cookie, u, err
}

// StartSession opens a session for u without checking a password (after a password change,
// which has just checked it). It returns the session and the cookie value.
func (s *Service) StartSession(ctx context.Context, u *chuting.User, remote, userAgent string) (*chuting.Session, string, error) {
	cookie := NewSecret()
	sess := &chuting.Session{Meta: chuting.Meta{ID: HashSecret(cookie)}, UserID: u.ID, CSRF: NewSecret(),
		Expires: s.now().Add(s.ttl).UTC(), Remote: remote, UserAgent: truncate(userAgent, 200)}
	if err := chuting.Create(ctx, s.store, sess); err != nil {
		return nil, "", fmt.Errorf("create session: %w", err)
	}
	return sess, cookie, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// Logout ends the session with id. An unknown session is not an error.
func (s *Service) Logout(ctx context.Context, sessionID string) error {
	sess, err := chuting.Load[chuting.Session](ctx, s.store, sessionID)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if err := chuting.Remove(ctx, s.store, sess); chuting.ErrorCode(err) != chuting.ENOTFOUND {
		return err
	}
	return nil
}

// Session returns the principal and session of a session cookie value.
// EUNAUTHORIZED if the session is unknown, expired, or its user is gone or disabled.
func (s *Service) Session(ctx context.Context, cookie string) (*chuting.Principal, *chuting.Session, error) {
	if len(cookie) != 43 {
		return nil, nil, errSignIn()
	}
	sess, err := chuting.Load[chuting.Session](ctx, s.store, HashSecret(cookie))
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return nil, nil, errSignIn()
	} else if err != nil {
		return nil, nil, err
	}
	if !s.now().Before(sess.Expires) {
		_ = chuting.Remove(ctx, s.store, sess)
		return nil, nil, errSignIn()
	}
	p, err := s.principal(ctx, sess.UserID)
	if err != nil {
		return nil, nil, err
	}
	p.SessionID = sess.ID
	return p, sess, nil
}

// Token returns the principal of an API token secret.
// EUNAUTHORIZED if the token is unknown, expired, or its user is gone or disabled.
func (s *Service) Token(ctx context.Context, secret string) (*chuting.Principal, error) {
	if !looksLikeToken(secret) {
		return nil, chuting.Errorf(chuting.EUNAUTHORIZED, "API 令牌无效 / invalid API token")
	}
	tok, err := chuting.FindOne[chuting.APIToken](ctx, s.store, chuting.IndexHash, HashSecret(secret))
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return nil, chuting.Errorf(chuting.EUNAUTHORIZED, "API 令牌无效 / invalid API token")
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if !tok.Expires.IsZero() && !now.Before(tok.Expires) {
		return nil, chuting.Errorf(chuting.EUNAUTHORIZED, "API 令牌已过期 / API token expired")
	}
	p, err := s.principal(ctx, tok.UserID)
	if err != nil {
		return nil, err
	}
	p.TokenID = tok.ID
	// Record use at most once a minute: it is for the owner's overview, not an audit trail
	// (the audit log has every state change), and must not cost a write per request.
	if now.Sub(tok.LastUsed) > time.Minute {
		tok.LastUsed = now.UTC()
		_ = chuting.Save(ctx, s.store, tok) // a conflict means another request just did it
	}
	return p, nil
}

func errSignIn() error {
	return chuting.Errorf(chuting.EUNAUTHORIZED, "请先登录 / please sign in")
}

func (s *Service) principal(ctx context.Context, userID string) (*chuting.Principal, error) {
	u, err := chuting.Load[chuting.User](ctx, s.store, userID)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return nil, errSignIn()
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, chuting.Errorf(chuting.EUNAUTHORIZED, "账户已停用 / account disabled")
	}
	return PrincipalOf(u), nil
}

// PrincipalOf returns the principal a user acts as.
func PrincipalOf(u *chuting.User) *chuting.Principal {
	return &chuting.Principal{UserID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role,
		CourtID: u.CourtID, InstitutionID: u.InstitutionID, AppraiserID: u.AppraiserID}
}

// SetPassword checks the policy, stores a new hash for u and ends all of u's sessions, so a
// stolen session does not outlive a password change. u is saved (optimistic: ECONFLICT if it
// changed since it was read).
func (s *Service) SetPassword(ctx context.Context, u *chuting.User, password string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password, s.params)
	if err != nil {
		return err
	}
	u.PasswordHash, u.PasswordSet = hash, s.now().UTC()
	if err := chuting.Save(ctx, s.store, u); err != nil {
		return err
	}
	return s.EndSessions(ctx, u.ID)
}

// EndSessions deletes every session of a user (password change, account disabled).
func (s *Service) EndSessions(ctx context.Context, userID string) error {
	sessions, err := chuting.FindAll[chuting.Session](ctx, s.store, chuting.Equal(chuting.KindSession, chuting.IndexUser, userID))
	if err != nil {
		return err
	}
	var errs []error
	for _, sess := range sessions {
		if err := chuting.Remove(ctx, s.store, sess); err != nil && chuting.ErrorCode(err) != chuting.ENOTFOUND {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// NewUser returns a user with a hashed password, checked against the policy; the caller
// stores it.
func (s *Service) NewUser(username, name string, role chuting.Role, password string) (*chuting.User, error) {
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password, s.params)
	if err != nil {
		return nil, err
	}
	return &chuting.User{Username: strings.TrimSpace(username), Name: name, Role: role,
		PasswordHash: hash, PasswordSet: s.now().UTC()}, nil
}

// NewToken makes an API token for a user, valid for ttl (0 = until revoked), and stores it.
// It returns the token and its secret, which is not kept and cannot be shown again.
func (s *Service) NewToken(ctx context.Context, userID, name string, ttl time.Duration) (*chuting.APIToken, string, error) {
	var expires time.Time
	if ttl > 0 {
		expires = s.now().Add(ttl).UTC()
	}
	secret := TokenPrefix + NewSecret()
	tok := &chuting.APIToken{UserID: userID, Name: name, Hash: HashSecret(secret),
		Prefix: secret[:len(TokenPrefix)+6], Expires: expires}
	if err := chuting.Create(ctx, s.store, tok); err != nil {
		return nil, "", err
	}
	return tok, secret, nil
}

// Cookie names. With Secure, the __Host- prefix makes the browser refuse the cookie unless it
// was set over HTTPS (or localhost) for exactly this host and path /.
const (
	CookieName       = "__Host-chuting_session"
	CookieNameNoTLS  = "chuting_session"
	CSRFHeader       = "X-CSRF-Token"
	headerAuthPrefix = "Bearer "
)

// Credentials returns what a request carries: an API token from the Authorization header,
// else a session cookie value. Both are "" when there is neither.
func Credentials(r *http.Request) (token, cookie string) {
	if h := r.Header.Get("Authorization"); h != "" {
		t, _ := strings.CutPrefix(h, headerAuthPrefix)
		return strings.TrimSpace(t), ""
	}
	for _, name := range []string{CookieName, CookieNameNoTLS} {
		if c, err := r.Cookie(name); err == nil {
			return "", c.Value
		}
	}
	return "", ""
}

// Scope ties a new user to what its role works for, and checks that the record exists: a
// court for clerks and judges, an institution for institution admins, an appraiser record
// (and so its institution) for appraisers. The bureau works for no one in particular. Errors
// name the field at fault (court_id, institution_id, appraiser_id).
func (s *Service) Scope(ctx context.Context, u *chuting.User, courtID, institutionID, appraiserID string) error {
	switch u.Role {
	case chuting.RoleClerk, chuting.RoleJudge:
		if _, err := chuting.LoadRef[chuting.Court](ctx, s.store, "court_id", courtID); err != nil {
			return err
		}
		u.CourtID = courtID
	case chuting.RoleInstitutionAdmin:
		if _, err := chuting.LoadRef[chuting.Institution](ctx, s.store, "institution_id", institutionID); err != nil {
			return err
		}
		u.InstitutionID = institutionID
	case chuting.RoleAppraiser:
		a, err := chuting.LoadRef[chuting.Appraiser](ctx, s.store, "appraiser_id", appraiserID)
		if err != nil {
			return err
		}
		u.AppraiserID, u.InstitutionID = a.ID, a.InstitutionID
	}
	return nil
}
