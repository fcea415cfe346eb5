package http

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
	"github.com/chuting/chuting/signaling"
	"github.com/gorilla/websocket"
)

// A hearing's video room: the WebSocket of the signaling protocol (docs/signaling.md), the
// short-lived join tokens that signed-in users get, and the single-use personal links a court
// gives to those without an account (#49). There is no shared host link.

// roomView tells a client how to join: the token for the first message, and where.
type roomView struct {
	Token   string    `json:"token"`
	Room    string    `json:"room"` // the WebSocket path
	Role    string    `json:"role"`
	Name    string    `json:"name"`
	Hearing string    `json:"hearing_id"`
	Expires time.Time `json:"expires"`
	// What the hearing is, for those who join without an account and see nothing else.
	CaseNo string    `json:"case_no,omitempty"`
	Court  string    `json:"court,omitempty"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

// describe fills in what the hearing is: its case number, court and time.
func (s *Server) describe(r *http.Request, v *roomView, h *chuting.Hearing) {
	v.Start, v.End = h.Start.UTC(), h.End.UTC()
	if sm, err := chuting.Load[chuting.Summons](r.Context(), s.store, h.SummonsID); err == nil {
		v.CaseNo = sm.CaseNo
	}
	if c, err := chuting.Load[chuting.Court](r.Context(), s.store, h.CourtID); err == nil {
		v.Court = c.Name
	}
}

func (s *Server) roomsEnabled() error {
	if s.rooms == nil {
		return chuting.Errorf(chuting.ENOTIMPL, "本服务器未开启视频庭审 / video rooms are not enabled on this server")
	}
	return nil
}

// hearingRoom upgrades to the room's WebSocket. It is a public route: who may join, and as
// what, is decided by the join token in the protocol's first message.
func (s *Server) hearingRoom(w http.ResponseWriter, r *http.Request) error {
	if err := s.roomsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if !websocket.IsWebSocketUpgrade(r) {
		return chuting.Errorf(chuting.EINVALID, "请用 WebSocket 连接庭审房间 / the room is a WebSocket: send an upgrade request")
	}
	if _, err := chuting.Load[chuting.Hearing](r.Context(), s.store, id); err != nil {
		return err
	}
	setTarget(r, "hearing:"+id)
	s.rooms.ServeHTTP(w, r)
	return nil
}

// roomRole is the role a signed-in user joins a hearing's room as: the court's judge or
// clerk, or a summoned appraiser. Others have no place in it through an account.
func roomRole(p *chuting.Principal, h *chuting.Hearing) (signaling.Role, bool) {
	switch {
	case p.Role == chuting.RoleJudge && p.CourtID == h.CourtID:
		return signaling.RoleJudge, true
	case p.Role == chuting.RoleClerk && p.CourtID == h.CourtID:
		return signaling.RoleClerk, true
	case p.Role == chuting.RoleAppraiser && slices.Contains(h.AppraiserIDs, p.AppraiserID):
		return signaling.RoleAppraiser, true
	}
	return "", false
}

// joinToken issues the caller a short-lived token to join the hearing's room in their role.
func (s *Server) joinToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.roomsEnabled(); err != nil {
		return err
	}
	h, err := load[chuting.Hearing](s, r)
	if err != nil {
		return err
	}
	p := chuting.UserFromContext(r.Context())
	role, ok := roomRole(p, h)
	if !ok {
		return chuting.Errorf(chuting.EFORBIDDEN, "您不是本庭审的法官、书记员或出庭鉴定人 / you are not this hearing's judge, clerk or summoned appraiser")
	}
	token, err := s.rooms.JoinToken(r.Context(), h.ID, p.UserID, p.Name, role)
	if err != nil {
		return err
	}
	v := roomView{Token: token, Room: roomPath(h.ID), Role: string(role), Name: p.Name,
		Hearing: h.ID, Expires: s.tokenExpiry(h)}
	s.describe(r, &v, h)
	writeJSON(w, http.StatusOK, v)
	return nil
}

func roomPath(hearingID string) string { return "/api/v1/hearings/" + hearingID + "/room" }

// linkRoles are the roles a personal link may carry: those of people without an account.
var linkRoles = []signaling.Role{signaling.RoleCounsel, signaling.RoleParty, signaling.RoleExpert,
	signaling.RoleInterpreter, signaling.RoleObserver}

// linkInput is the body of POST /api/v1/hearings/{id}/links.
type linkInput struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// linkView is a personal link; URL, which holds its secret, is shown only when it is made.
type linkView struct {
	ID      string    `json:"id"`
	Hearing string    `json:"hearing_id"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	URL     string    `json:"url,omitempty"`
	Used    time.Time `json:"used,omitzero"`
	Revoked bool      `json:"revoked"`
	Created time.Time `json:"created"`
}

func viewLink(l *chuting.JoinLink) linkView {
	return linkView{ID: l.ID, Hearing: l.HearingID, Name: l.Name, Role: l.Role, Used: l.Used, Revoked: l.Revoked, Created: l.Created}
}

// createLink makes a single-use personal link into the room for someone without an account.
func (s *Server) createLink(w http.ResponseWriter, r *http.Request) error {
	var in linkInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	h, p, err := loadCourtHearing(s, r)
	if err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := firstError(required("name", in.Name), maxLen("name", in.Name, 50)); err != nil {
		return err
	}
	if !slices.Contains(linkRoles, signaling.Role(in.Role)) {
		return chuting.FieldError("role", "角色应为 counsel、party、expert、interpreter 或 observer / role must be counsel, party, expert, interpreter or observer")
	}
	secret := auth.NewSecret()
	l := &chuting.JoinLink{HearingID: h.ID, Name: in.Name, Role: in.Role, Hash: auth.HashSecret(secret), CreatedBy: p.UserID}
	if err := chuting.Create(r.Context(), s.store, l); err != nil {
		return err
	}
	setTarget(r, "link:"+l.ID)
	v := viewLink(l)
	v.URL = "/join#" + secret // the secret in the fragment stays out of request logs
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// listLinks lists a hearing's personal links (never their secrets).
func (s *Server) listLinks(w http.ResponseWriter, r *http.Request) error {
	h, _, err := loadCourtHearing(s, r)
	if err != nil {
		return err
	}
	links, err := chuting.FindAll[chuting.JoinLink](r.Context(), s.store, chuting.Equal(chuting.KindLink, chuting.IndexHearing, h.ID))
	if err != nil {
		return err
	}
	out := List[linkView]{Items: []linkView{}}
	for _, l := range links {
		out.Items = append(out.Items, viewLink(l))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// revokeLink makes a personal link unusable.
func (s *Server) revokeLink(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	setTarget(r, "link:"+id)
	l, err := chuting.Load[chuting.JoinLink](r.Context(), s.store, id)
	if err != nil {
		return err
	}
	h, err := chuting.Load[chuting.Hearing](r.Context(), s.store, l.HearingID)
	if err != nil {
		return err
	}
	if err := courtOf(chuting.UserFromContext(r.Context()), h); err != nil {
		return err
	}
	l.Revoked = true
	if err := chuting.Save(r.Context(), s.store, l); err != nil {
		return err
	}
	// Its holder may be in the room already: revoked, they must not stay (#49).
	if s.rooms != nil {
		s.rooms.Remove(h.ID, "link:"+l.ID, signaling.RevokedReason)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// redeemInput is the body of POST /api/v1/links/redeem: the secret from the link, sent in a
// body so that it stays out of logs.
type redeemInput struct {
	Secret string `json:"secret"`
}

// redeemLink uses a personal link up and answers a join token for its holder. It works once,
// and only while the room is open: redeemed before, the link is still good.
func (s *Server) redeemLink(w http.ResponseWriter, r *http.Request) error {
	if err := s.roomsEnabled(); err != nil {
		return err
	}
	var in redeemInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	gone := chuting.Errorf(chuting.ENOTFOUND, "链接无效、已使用或已撤销 / the link is unknown, used or revoked")
	if len(in.Secret) != 43 {
		return gone
	}
	l, err := chuting.FindOne[chuting.JoinLink](r.Context(), s.store, chuting.IndexHash, auth.HashSecret(in.Secret))
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return gone
	} else if err != nil {
		return err
	}
	setTarget(r, "link:"+l.ID)
	if l.Revoked || !l.Used.IsZero() {
		return gone
	}
	token, err := s.rooms.JoinToken(r.Context(), l.HearingID, "link:"+l.ID, l.Name, signaling.Role(l.Role))
	if err != nil {
		return err // the room is not open: the link stays good for later
	}
	l.Used = s.now().UTC()
	if err := chuting.Save(r.Context(), s.store, l); err != nil {
		if chuting.ErrorCode(err) == chuting.ECONFLICT {
			return gone // redeemed at the same moment by someone else
		}
		return err
	}
	h, err := chuting.Load[chuting.Hearing](r.Context(), s.store, l.HearingID)
	if err != nil {
		return err
	}
	v := roomView{Token: token, Room: roomPath(l.HearingID), Role: l.Role, Name: l.Name,
		Hearing: l.HearingID, Expires: s.tokenExpiry(h)}
	s.describe(r, &v, h)
	writeJSON(w, http.StatusOK, v)
	return nil
}

// tokenExpiry is when a join token issued now stops working: after TokenTTL, or when the
// room closes if sooner.
func (s *Server) tokenExpiry(h *chuting.Hearing) time.Time {
	exp, end := s.now().Add(signaling.TokenTTL), s.rooms.Window(h).End
	if end.Before(exp) {
		exp = end
	}
	return exp.UTC()
}
