package http

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/chuting/chuting"
)

// userView is a user as the API shows it: never the password hash.
type userView struct {
	ID            string       `json:"id"`
	Version       int64        `json:"version"`
	Username      string       `json:"username"`
	Name          string       `json:"name"`
	Role          chuting.Role `json:"role"`
	CourtID       string       `json:"court_id,omitempty"`
	InstitutionID string       `json:"institution_id,omitempty"`
	AppraiserID   string       `json:"appraiser_id,omitempty"`
	Disabled      bool         `json:"disabled"`
	PasswordSet   time.Time    `json:"password_set"`
	Created       time.Time    `json:"created"`
	Updated       time.Time    `json:"updated"`
}

func viewUser(u *chuting.User) userView {
	return userView{ID: u.ID, Version: u.Version, Username: u.Username, Name: u.Name, Role: u.Role,
		CourtID: u.CourtID, InstitutionID: u.InstitutionID, AppraiserID: u.AppraiserID, Disabled: u.Disabled,
		PasswordSet: u.PasswordSet, Created: u.Created, Updated: u.Updated}
}

// usernamePattern keeps usernames to what is easy to type on any keyboard and safe in logs.
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// userInput is the body of POST /api/v1/users.
type userInput struct {
	Username      string `json:"username"`
	Name          string `json:"name"`
	Role          string `json:"role"`
	CourtID       string `json:"court_id"`
	InstitutionID string `json:"institution_id"`
	AppraiserID   string `json:"appraiser_id"`
	Password      string `json:"password"`
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	return list[chuting.User](s, w, r, map[string]string{"court": chuting.IndexCourt,
		"institution": chuting.IndexInstitution}, viewUser)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	return show[chuting.User](s, w, r, viewUser)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	in.Username = chuting.FoldUsername(in.Username)
	if !usernamePattern.MatchString(in.Username) {
		return chuting.FieldError("username", "用户名须为 2–32 个小写字母、数字或 ._- / username must be 2–32 of a-z 0-9 . _ -")
	}
	if err := firstError(required("name", in.Name), maxLen("name", in.Name, 50)); err != nil {
		return err
	}
	role, err := chuting.ParseRole(in.Role)
	if err != nil || role == chuting.RoleUnknown {
		return chuting.FieldError("role", "角色无效 / role must be one of bureau_admin, institution_admin, clerk, judge, appraiser")
	}
	u, err := s.auth.NewUser(r.Context(), in.Username, strings.TrimSpace(in.Name), role, in.Password)
	if err != nil {
		return err
	}
	if err := s.auth.Scope(r.Context(), u, in.CourtID, in.InstitutionID, in.AppraiserID); err != nil {
		return err
	}
	err = create(s, w, r, u, func(u *chuting.User) any { return viewUser(u) })
	if chuting.ErrorCode(err) == chuting.ECONFLICT && chuting.ErrorField(err) == chuting.IndexAppraiser {
		return &chuting.Error{Code: chuting.ECONFLICT, Field: "appraiser_id", Message: "该鉴定人已有账户 / this appraiser already has an account"}
	}
	return err
}

// userPatch is the body of PATCH /api/v1/users/{id}: only the fields present change.
type userPatch struct {
	Version  int64   `json:"version"`
	Name     *string `json:"name"`
	Disabled *bool   `json:"disabled"`
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	var in userPatch
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	p := chuting.UserFromContext(r.Context())
	var disabled bool
	err := update[chuting.User](s, w, r, in.Version, func(u *chuting.User) error {
		if in.Name != nil {
			name := strings.TrimSpace(*in.Name)
			if err := firstError(required("name", name), maxLen("name", name, 50)); err != nil {
				return err
			}
			u.Name = name
		}
		if in.Disabled != nil {
			if *in.Disabled && u.ID == p.UserID {
				return chuting.FieldError("disabled", "不能停用自己的账户 / you cannot disable your own account")
			}
			u.Disabled, disabled = *in.Disabled, *in.Disabled
		}
		return nil
	}, func(u *chuting.User) any { return viewUser(u) })
	if err == nil && disabled {
		// A disabled account is refused at every request anyway; ending its sessions also
		// removes them from the store.
		if id, _ := pathID(r); id != "" {
			if err := s.auth.EndSessions(r.Context(), id); err != nil {
				s.logger.WarnContext(r.Context(), "end sessions of disabled user", "user", id, "err", err)
			}
		}
	}
	return err
}

// passwordReset is the body of PUT /api/v1/users/{id}/password.
type passwordReset struct {
	Password string `json:"password"`
}

// resetPassword lets an administrator set another user's password (a forgotten password). It
// ends the user's sessions.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordReset
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	u, err := load[chuting.User](s, r)
	if err != nil {
		return err
	}
	p := chuting.UserFromContext(r.Context())
	if u.ID == p.UserID {
		return chuting.Errorf(chuting.EFORBIDDEN, "修改自己的密码请用 PUT /api/v1/session/password / change your own password with PUT /api/v1/session/password, which asks for the current one")
	}
	if !canWrite(p, u) {
		return forbidden()
	}
	if err := s.auth.SetPassword(r.Context(), u, in.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
