package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/chuting/chuting"
)

// Options configure a Service.
type Options struct {
	SessionTTL time.Duration    // how long a session lasts from sign-in; 0 = 12 h
	Params     Params           // argon2id cost; zero = DefaultParams()
	Now        func() time.Time // clock; nil = time.Now
	// Password attempts allowed: a burst, then one per interval.
	//  - Per address, every attempt counts (AddressBurst, AddressInterval; 0 = 20 and 6 s).
	//  - Per account and address, failed attempts count (AccountBurst, AccountInterval;
	//    0 = 5 and 1 min): one guesser is slowed on one account.
	//  - Per account from anywhere, failed attempts count with ten times the burst at ten
	//    times the rate: many addresses guessing together are slowed too, while a single
	//    stranger cannot lock the owner out.
	AccountBurst, AddressBurst       int
	AccountInterval, AddressInterval time.Duration
}

// Service signs users in and out and resolves credentials to principals.
type Service struct {
	store      chuting.Records
	ttl        time.Duration
	params     Params
	now        func() time.Time
	perAddress *limiter // every attempt
	perPair    *limiter // failures, per account and address
	perAccount *limiter // failures, per account
	hashing    chan struct{}
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
	every, burst := orDuration(o.AccountInterval, time.Minute), orInt(o.AccountBurst, 5)
	s.perPair = newLimiter(every, burst)
	s.perAccount = newLimiter(every/10, 10*burst)
	s.perAddress = newLimiter(orDuration(o.AddressInterval, 6*time.Second), orInt(o.AddressBurst, 20))
	// argon2id takes 19 MiB and ~25 ms a hash: at most two per core at once, so a burst of
	// sign-ins queues instead of exhausting memory.
	s.hashing = make(chan struct{}, 2*runtime.GOMAXPROCS(0))
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

// Seconds returns Wait in whole seconds, rounded up and at least 1: the HTTP Retry-After.
func (e *RateLimitError) Seconds() int { return max(1, int((e.Wait+time.Second-1)/time.Second)) }

// Unwrap returns the *chuting.Error the HTTP adapter answers with.
func (e *RateLimitError) Unwrap() error {
	secs := e.Seconds()
	return chuting.Errorf(chuting.ERATELIMIT, "尝试过于频繁，请 %d 秒后再试 / too many attempts, try again in %d s", secs, secs)
}

// errBadLogin is the one answer to a wrong username, a wrong password or a disabled account,
// so that a caller cannot tell which it was.
func errBadLogin() error {
	return chuting.Errorf(chuting.EUNAUTHORIZED, "用户名或密码错误 / wrong username or password")
}

// Login checks a username and password and opens a session. It returns the session, the
// cookie value (shown to the browser only; the store keeps its hash) and the user.
// EUNAUTHORIZED for bad credentials; *RateLimitError (ERATELIMIT) when the address, or
// failures on the account, came too fast.
func (s *Service) Login(ctx context.Context, username, password, remote, userAgent string) (*chuting.Session, string, *chuting.User, error) {
	from := addressKey(remote)
	if err := s.perAddress.attempt(from, s.now()); err != nil {
		return nil, "", nil, err
	}
	if len(username) > maxUsernameLength { // no account has one: refuse before keeping anything of it
		return nil, "", nil, errBadLogin()
	}
	account := chuting.FoldUsername(username)
	// The attempt is charged to the account's budgets before the password is checked, and
	// given back if it is right: charged only after, concurrent guesses would all pass the
	// check before the first failure counted.
	refund, err := s.charge(account, from)
	if err != nil {
		return nil, "", nil, err
	}
	if len(password) > MaxPasswordLength { // no password is this long: refuse before any work
		return nil, "", nil, errBadLogin()
	}
	u, err := chuting.FindOne[chuting.User](ctx, s.store, chuting.IndexUsername, account)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		_, _ = s.checkPassword(ctx, s.dummyHash, password)
		return nil, "", nil, errBadLogin()
	} else if err != nil {
		refund()
		return nil, "", nil, err
	}
	if ok, err := s.checkPassword(ctx, u.PasswordHash, password); err != nil || !ok || u.Disabled {
		if ctx.Err() != nil {
			refund()
			return nil, "", nil, ctx.Err()
		}
		return nil, "", nil, errBadLogin()
	}
	refund()
	sess, cookie, err := s.StartSession(ctx, u, remote, userAgent)
	return sess, cookie, u, err
}

// maxUsernameLength is the longest username an account can have (http: 2–32 characters).
const maxUsernameLength = 32

// charge takes one attempt from the account's budgets (the account from this address, and
// the account from anywhere), and returns how to give it back (a right password); a
// *RateLimitError, taking nothing, when either is spent.
func (s *Service) charge(account, remote string) (refund func(), err error) {
	now := s.now()
	pair, wait := s.perPair.take(account+"\x00"+remote, now)
	if wait > 0 {
		return nil, &RateLimitError{Wait: wait}
	}
	acct, wait := s.perAccount.take(account, now)
	if wait > 0 {
		pair.CancelAt(now)
		return nil, &RateLimitError{Wait: wait}
	}
	return func() {
		// At the time of the reservation: x/time/rate gives back nothing for a reservation
		// whose time to act has passed.
		pair.CancelAt(now)
		acct.CancelAt(now)
	}, nil
}

// addressKey is the key of a client address in the rate limits: an IPv6 address stands for
// its /64, which one host or network holds whole (one client could otherwise lock an account
// out from 2^64 addresses); an IPv4 address for itself.
func addressKey(remote string) string {
	a, err := netip.ParseAddr(remote)
	if err != nil || a.Is4() || a.Is4In6() {
		return remote
	}
	p, err := a.Prefix(64)
	if err != nil {
		return remote
	}
	return p.String()
}

// checkPassword is CheckPassword, waiting its turn for the hashing budget. A password over
// the length limit is refused without hashing it.
func (s *Service) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	if len(password) > MaxPasswordLength {
		return false, nil
	}
	select {
	case s.hashing <- struct{}{}:
		defer func() { <-s.hashing }()
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return CheckPassword(hash, password)
}

// hashPassword is HashPassword, waiting its turn for the hashing budget.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	select {
	case s.hashing <- struct{}{}:
		defer func() { <-s.hashing }()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return HashPassword(password, s.params)
}

// ConfirmPassword checks u's password again before an act a stolen session must not do on its
// own (making an API token, which outlives the session and a password change); it counts as
// a sign-in attempt for the rate limits. The error names field.
func (s *Service) ConfirmPassword(ctx context.Context, u *chuting.User, password, remote, field string) error {
	account, from := chuting.FoldUsername(u.Username), addressKey(remote)
	if err := s.perAddress.attempt(from, s.now()); err != nil {
		return err
	}
	refund, err := s.charge(account, from)
	if err != nil {
		return err
	}
	if ok, err := s.checkPassword(ctx, u.PasswordHash, password); err != nil || !ok {
		if ctx.Err() != nil {
			refund()
			return ctx.Err()
		}
		return chuting.FieldError(field, "密码错误 / the password is wrong")
	}
	refund()
	return nil
}

// ChangePassword sets u's password after checking the current one, which counts as a sign-in
// attempt for the rate limits (a stolen session must not become a password oracle). Errors
// name current_password or new_password. All of u's sessions end; see SetPassword.
func (s *Service) ChangePassword(ctx context.Context, u *chuting.User, current, next, remote string) error {
	if err := s.ConfirmPassword(ctx, u, current, remote, "current_password"); err != nil {
		return err
	}
	if err := ValidatePassword(next); err != nil {
		return chuting.FieldError("new_password", "%s", chuting.ErrorMessage(err))
	}
	return s.SetPassword(ctx, u, next)
}

// StartSession opens a session for u without checking a password (after a password change,
// which has just checked it). It returns the session and the cookie value.
func (s *Service) StartSession(ctx context.Context, u *chuting.User, remote, userAgent string) (*chuting.Session, string, error) {
	cookie := NewSecret()
	sess := &chuting.Session{Meta: chuting.Meta{ID: HashSecret(cookie)}, UserID: u.ID, CSRF: NewSecret(),
		Expires: s.now().Add(s.ttl).UTC(), Remote: remote,
		UserAgent: strings.ToValidUTF8(userAgent[:min(len(userAgent), 200)], "")}
	if err := chuting.Create(ctx, s.store, sess); err != nil {
		return nil, "", fmt.Errorf("create session: %w", err)
	}
	return sess, cookie, nil
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
	// Use is not recorded on the token: a read must not write (nor bump the version a
	// concurrent revocation expects). What a token changed is in the audit log.
	p.TokenID = tok.ID
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
	p := PrincipalOf(u)
	if u.Role == chuting.RoleAppraiser {
		// The appraiser record says where the appraiser practises now (they may have moved);
		// the copy on the account is only for listing accounts by institution.
		a, err := chuting.Load[chuting.Appraiser](ctx, s.store, u.AppraiserID)
		if chuting.ErrorCode(err) == chuting.ENOTFOUND {
			return nil, chuting.Errorf(chuting.EUNAUTHORIZED, "鉴定人记录已删除 / the appraiser record is gone")
		} else if err != nil {
			return nil, err
		}
		p.InstitutionID = a.InstitutionID
	}
	return p, nil
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
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	u.PasswordHash, u.PasswordSet = hash, s.now().UTC()
	if err := chuting.Save(ctx, s.store, u); err != nil {
		return err
	}
	return s.EndSessions(ctx, u.ID)
}

// SweepSessions deletes the sessions that expired before now and returns how many. Expired
// sessions are refused anyway; this keeps the store from growing with them.
func (s *Service) SweepSessions(ctx context.Context) (int, error) {
	q := chuting.Query{Kind: chuting.KindSession, Index: chuting.IndexExpires, To: chuting.TimeKey(s.now())}
	n := 0
	for {
		expired, next, err := chuting.Find[chuting.Session](ctx, s.store, q)
		if err != nil {
			return n, err
		}
		for _, sess := range expired {
			if err := chuting.Remove(ctx, s.store, sess); err != nil && chuting.ErrorCode(err) != chuting.ENOTFOUND {
				return n, err
			}
			n++
		}
		if next == "" {
			return n, nil
		}
		q.After = next
	}
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
func (s *Service) NewUser(ctx context.Context, username, name string, role chuting.Role, password string) (*chuting.User, error) {
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ctx, password)
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
// else the value of the session cookie the server sets: CookieName when its cookies are
// Secure, CookieNameNoTLS when not (plain HTTP on loopback). The other name is not read: a
// cookie without the __Host- prefix can be planted over plain HTTP or by a sibling subdomain,
// which would sign the browser into the planter's account. Both are "" when there is neither.
func Credentials(r *http.Request, secure bool) (token, cookie string) {
	if h := r.Header.Get("Authorization"); h != "" {
		t, _ := strings.CutPrefix(h, headerAuthPrefix)
		return strings.TrimSpace(t), ""
	}
	name := CookieName
	if !secure {
		name = CookieNameNoTLS
	}
	if c, err := r.Cookie(name); err == nil {
		return "", c.Value
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
