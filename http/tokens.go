package http

import (
	"net/http"
	"strings"
	"time"

	"github.com/chuting/chuting"
)

// tokenView is an API token as listed: never its hash or secret.
type tokenView struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	UserID  string    `json:"user_id"`
	Prefix  string    `json:"prefix"`
	Expires time.Time `json:"expires,omitzero"`
	Created time.Time `json:"created"`
	// Secret is set only in the answer to POST /api/v1/tokens: it is shown once.
	Secret string `json:"secret,omitempty"`
}

func viewToken(t *chuting.APIToken) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, UserID: t.UserID, Prefix: t.Prefix, Expires: t.Expires,
		Created: t.Created}
}

// tokenInput is the body of POST /api/v1/tokens.
type tokenInput struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expires_in_days"` // 0 = never
	// Password is the caller's, asked again: a token outlives the session and a password
	// change, so a stolen session must not be able to make one.
	Password string `json:"password"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	return list[chuting.APIToken](s, w, r, nil, viewToken)
}

// createToken makes an API token acting as the caller, for a system of the caller's court or
// institution. The secret is in this answer only.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	if chuting.UserFromContext(r.Context()).TokenID != "" {
		// Else a leaked token with an expiry could mint one without.
		return chuting.Errorf(chuting.EFORBIDDEN, "API 令牌不能创建令牌，请登录后创建 / an API token cannot create tokens; sign in to make one")
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := firstError(required("name", in.Name), maxLen("name", in.Name, 100)); err != nil {
		return err
	}
	if in.ExpiresInDays < 0 || in.ExpiresInDays > 3650 {
		return chuting.FieldError("expires_in_days", "有效期须为 0（永久）到 3650 天 / expires_in_days must be 0 (never) to 3650")
	}
	p := chuting.UserFromContext(r.Context())
	if err := required("password", in.Password); err != nil {
		return err
	}
	u, err := chuting.Load[chuting.User](r.Context(), s.store, p.UserID)
	if err != nil {
		return err
	}
	if err := s.auth.ConfirmPassword(r.Context(), u, in.Password, remoteAddr(r), "password"); err != nil {
		return err
	}
	tok, secret, err := s.auth.NewToken(r.Context(), p.UserID, in.Name, time.Duration(in.ExpiresInDays)*24*time.Hour)
	if err != nil {
		return err
	}
	setTarget(r, "apitoken:"+tok.ID)
	v := viewToken(tok)
	v.Secret = secret
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	tok, err := load[chuting.APIToken](s, r)
	if err != nil {
		return err
	}
	if !canWrite(chuting.UserFromContext(r.Context()), tok) {
		return forbidden()
	}
	if err := chuting.Remove(r.Context(), s.store, tok); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
