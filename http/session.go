package http

import (
	"net/http"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
)

// loginInput is the body of POST /api/v1/session.
type loginInput struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// sessionView is what GET and POST /api/v1/session answer: who the caller is and, for a
// browser session, the CSRF token to echo in the X-CSRF-Token header of every write.
type sessionView struct {
	User      userView  `json:"user"`
	Via       string    `json:"via"` // session or token
	CSRFToken string    `json:"csrf_token,omitempty"`
	Expires   time.Time `json:"expires,omitzero"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in loginInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	if err := firstError(required("username", in.Username), required("password", in.Password)); err != nil {
		return err
	}
	setTarget(r, "username:"+truncate(in.Username, 64))
	sess, cookie, u, err := s.auth.Login(r.Context(), in.Username, in.Password, remoteAddr(r), r.UserAgent())
	if err != nil {
		return err
	}
	noteOf(r).principal = auth.PrincipalOf(u)
	s.setCookie(w, cookie, sess.Expires)
	writeJSON(w, http.StatusOK, sessionView{User: viewUser(u), Via: "session", CSRFToken: sess.CSRF, Expires: sess.Expires})
	return nil
}

// setCookie sets the session cookie: HttpOnly (no script reads it), Secure with the __Host-
// prefix unless configured off, and SameSite=Lax, which with the CSRF header keeps other
// sites from acting as the user.
func (s *Server) setCookie(w http.ResponseWriter, value string, expires time.Time) {
	c := &http.Cookie{Name: auth.CookieName, Value: value, Path: "/", Expires: expires,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
	if s.insecureCookie {
		c.Name, c.Secure = auth.CookieNameNoTLS, false
	}
	if value == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	p := chuting.UserFromContext(r.Context())
	u, err := chuting.Load[chuting.User](r.Context(), s.store, p.UserID)
	if err != nil {
		return err
	}
	v := sessionView{User: viewUser(u), Via: "token"}
	if sess := sessionOf(r); sess != nil {
		v.Via, v.CSRFToken, v.Expires = "session", sess.CSRF, sess.Expires
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	sess := sessionOf(r)
	if sess == nil {
		return chuting.Errorf(chuting.EINVALID, "API 令牌没有会话可退出；请删除令牌 / an API token has no session to end; delete the token instead")
	}
	setTarget(r, "session")
	if err := s.auth.Logout(r.Context(), sess.ID); err != nil {
		return err
	}
	s.setCookie(w, "", time.Time{})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// passwordChange is the body of PUT /api/v1/session/password.
type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword sets the caller's own password. It ends every session of the user, then
// opens a new one for this browser, so a stolen session dies with the old password.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordChange
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	p := chuting.UserFromContext(r.Context())
	setTarget(r, "user:"+p.UserID)
	u, err := chuting.Load[chuting.User](r.Context(), s.store, p.UserID)
	if err != nil {
		return err
	}
	if err := s.auth.ChangePassword(r.Context(), u, in.CurrentPassword, in.NewPassword, remoteAddr(r)); err != nil {
		return err
	}
	if sessionOf(r) == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	sess, cookie, err := s.auth.StartSession(r.Context(), u, remoteAddr(r), r.UserAgent())
	if err != nil {
		return err
	}
	s.setCookie(w, cookie, sess.Expires)
	writeJSON(w, http.StatusOK, sessionView{User: viewUser(u), Via: "session", CSRFToken: sess.CSRF, Expires: sess.Expires})
	return nil
}
