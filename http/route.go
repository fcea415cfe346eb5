package http

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
)

// roleSet is a set of roles, plus a bit for anonymous callers.
type roleSet uint16

func (s roleSet) has(r chuting.Role) bool { return s&(1<<r) != 0 }

// Who may call what. Ownership (which court, institution or appraiser a record belongs to) is
// checked after the role, by canRead and canWrite in authz.go.
const (
	anonymous roleSet = 1 // bit 0: RoleUnknown, never a user's role
	bureau    roleSet = 1 << chuting.RoleBureauAdmin
	instAdmin roleSet = 1 << chuting.RoleInstitutionAdmin
	clerk     roleSet = 1 << chuting.RoleClerk
	judge     roleSet = 1 << chuting.RoleJudge
	appraiser roleSet = 1 << chuting.RoleAppraiser
	signedIn          = bureau | instAdmin | clerk | judge | appraiser
	public            = anonymous | signedIn
	admins            = bureau | instAdmin
	court             = clerk | judge
	tokenUser         = bureau | instAdmin | clerk // the roles whose systems call the API
)

// route is one row of the authorisation table: a method and path pattern, the roles allowed,
// and the handler.
type route struct {
	method string
	path   string
	roles  roleSet
	handle func(http.ResponseWriter, *http.Request) error
	audit  bool // audit even though the method is safe (reads that export data)
}

// table is the authorisation table: every API route and who may call it. It is the only
// place a route is registered, so no route can exist without a decision here; the route ×
// role test in route_test.go walks it.
func (s *Server) table() []route {
	return []route{
		{"GET", "/healthz", public, s.healthz, false},
		{"GET", "/readyz", public, s.readyz, false},
		{"GET", "/api/v1/openapi.yaml", public, s.openAPIYAML, false},
		{"GET", "/api/v1/openapi.json", public, s.openAPIJSON, false},

		{"POST", "/api/v1/session", public, s.login, false},
		{"GET", "/api/v1/session", signedIn, s.getSession, false},
		{"DELETE", "/api/v1/session", signedIn, s.logout, false},
		{"PUT", "/api/v1/session/password", signedIn, s.changePassword, false},
		{"POST", "/api/v1/selftest/upload", signedIn, s.selfTestUpload, false},

		{"GET", "/api/v1/users", admins, s.listUsers, false},
		{"POST", "/api/v1/users", admins, s.createUser, false},
		{"GET", "/api/v1/users/{id}", signedIn, s.getUser, false},
		{"PATCH", "/api/v1/users/{id}", admins, s.updateUser, false},
		{"PUT", "/api/v1/users/{id}/password", admins, s.resetPassword, false},

		{"GET", "/api/v1/tokens", tokenUser, s.listTokens, false},
		{"POST", "/api/v1/tokens", tokenUser, s.createToken, false},
		{"DELETE", "/api/v1/tokens/{id}", tokenUser, s.deleteToken, false},

		{"GET", "/api/v1/courts", signedIn, s.listCourts, false},
		{"POST", "/api/v1/courts", bureau, s.createCourt, false},
		{"GET", "/api/v1/courts/{id}", signedIn, s.getCourt, false},
		{"PUT", "/api/v1/courts/{id}", bureau, s.updateCourt, false},

		{"GET", "/api/v1/institutions", signedIn, s.listInstitutions, false},
		{"POST", "/api/v1/institutions", bureau, s.createInstitution, false},
		{"GET", "/api/v1/institutions/{id}", signedIn, s.getInstitution, false},
		{"PUT", "/api/v1/institutions/{id}", bureau, s.updateInstitution, false},
		{"POST", "/api/v1/institutions/{id}/roster", admins, s.importRoster, false},

		{"GET", "/api/v1/rooms", signedIn, s.listRooms, false},
		{"POST", "/api/v1/rooms", admins, s.createRoom, false},
		{"GET", "/api/v1/rooms/{id}", signedIn, s.getRoom, false},
		{"PUT", "/api/v1/rooms/{id}", admins, s.updateRoom, false},

		{"GET", "/api/v1/appraisers", signedIn, s.listAppraisers, false},
		{"POST", "/api/v1/appraisers", admins, s.createAppraiser, false},
		{"GET", "/api/v1/appraisers/{id}", signedIn, s.getAppraiser, false},
		{"GET", "/api/v1/appraisers/{id}/eligibility", signedIn, s.appraiserEligibility, false},
		{"GET", "/api/v1/appraisers/{id}/attendance", signedIn, s.appraiserAttendance, false},
		{"PUT", "/api/v1/appraisers/{id}", admins, s.updateAppraiser, false},

		{"GET", "/api/v1/opinions", signedIn, s.listOpinions, false},
		{"GET", "/api/v1/opinions/{id}", signedIn, s.getOpinion, false},
		{"POST", "/api/v1/opinions", admins, s.createOpinion, false},
		{"PUT", "/api/v1/opinions/{id}", admins, s.updateOpinion, false},

		{"GET", "/api/v1/summons", signedIn, s.listSummons, false},
		{"POST", "/api/v1/summons", court, s.idempotent(s.createSummons), false},
		{"GET", "/api/v1/summons/{id}", signedIn, s.getSummons, false},
		{"GET", "/api/v1/summons/{id}/eligibility", court | instAdmin | bureau, s.summonsEligibility, false},
		{"POST", "/api/v1/summons/{id}/acknowledge", instAdmin | appraiser, s.acknowledgeSummons, false},
		{"POST", "/api/v1/summons/{id}/confirm", appraiser, s.confirmSummons, false},
		{"POST", "/api/v1/summons/{id}/decline", appraiser, s.declineSummons, false},
		{"POST", "/api/v1/summons/{id}/excuse", court, s.decideExcuse, false},
		{"POST", "/api/v1/summons/{id}/reschedule", court, s.rescheduleSummons, false},
		{"POST", "/api/v1/summons/{id}/cancel", court, s.cancelSummons, false},
		{"POST", "/api/v1/summons/{id}/outcome", court, s.recordOutcome, false},

		{"GET", "/api/v1/notices", signedIn, s.listNotices, false},
		{"POST", "/api/v1/notices/{id}/read", signedIn, s.readNotice, false},
		{"GET", "/api/v1/webhooks", court | bureau, s.listWebhooks, false},
		{"POST", "/api/v1/webhooks", court | bureau, s.createWebhook, false},
		{"DELETE", "/api/v1/webhooks/{id}", court | bureau, s.deleteWebhook, false},
		{"GET", "/api/v1/webhooks/{id}/deliveries", court | bureau, s.listDeliveries, false},

		{"GET", "/api/v1/hearings", signedIn, s.listHearings, false},
		{"GET", "/api/v1/hearings/{id}", signedIn, s.getHearing, false},
		{"GET", "/api/v1/hearings/{id}/ics", signedIn, s.hearingInvitation, false},
		{"GET", "/api/v1/hearings/{id}/attendance", signedIn, s.hearingAttendance, false},
		{"POST", "/api/v1/hearings/{id}/attendance/in-person", court, s.markInPerson, false},
		{"POST", "/api/v1/hearings/{id}/attendance/corrections", court, s.correctAttendance, false},
		{"GET", "/api/v1/hearings/{id}/room", public, s.hearingRoom, false},
		{"POST", "/api/v1/hearings/{id}/join-token", signedIn, s.joinToken, false},
		{"GET", "/api/v1/hearings/{id}/links", court, s.listLinks, false},
		{"POST", "/api/v1/hearings/{id}/links", court, s.createLink, false},
		{"DELETE", "/api/v1/links/{id}", court, s.revokeLink, false},
		{"POST", "/api/v1/links/redeem", public, s.redeemLink, false},
		{"POST", "/api/v1/calendar-feeds", bureau | instAdmin | appraiser, s.createFeed, false},
		{"DELETE", "/api/v1/calendar-feeds/{id}", bureau | instAdmin | appraiser, s.deleteFeed, false},
		{"GET", "/calendar/{file}", public, s.calendarFeed, false},
		{"GET", "/api/v1/holidays/{year}", signedIn, s.getHolidays, false},
		{"PUT", "/api/v1/holidays/{year}", bureau, s.putHolidays, false},
		{"POST", "/api/v1/schedule/optimise", bureau | court, s.optimise, false},

		{"GET", "/api/v1/attendance/rates", signedIn, s.rates, false},
		{"GET", "/api/v1/fee-refunds", bureau | court | instAdmin, s.listRefunds, false},
		{"POST", "/api/v1/fee-refunds/{id}/close", court, s.closeRefund, false},
		{"GET", "/api/v1/reports", admins, s.listReports, false},
		{"POST", "/api/v1/reports", bureau, s.generateReports, false},
		{"GET", "/api/v1/reports/{id}/download", admins, s.downloadReport, true},

		{"GET", "/api/v1/recordings", signedIn, s.listRecordings, true},
		{"GET", "/api/v1/recordings/public-key", public, s.recordingPublicKey, false},
		{"GET", "/api/v1/recordings/{hearing_id}", signedIn, s.getRecording, true},
		{"GET", "/api/v1/recordings/{hearing_id}/files/{name}", signedIn, s.recordingFile, true},
		{"GET", "/api/v1/recordings/{hearing_id}/manifest", signedIn, s.recordingManifest, true},
		{"GET", "/api/v1/recordings/{hearing_id}/export", signedIn, s.recordingExport, true},
		{"GET", "/api/v1/recordings/{hearing_id}/grants", court, s.listGrants, true},
		{"POST", "/api/v1/recordings/{hearing_id}/grants", court, s.createGrant, false},
		{"DELETE", "/api/v1/recordings/{hearing_id}/grants/{id}", court, s.revokeGrant, false},
		{"POST", "/api/v1/recordings/{hearing_id}/deletion", judge, s.deleteRecording, false},
		{"GET", "/api/v1/courts/{id}/retention", court | bureau, s.getRetention, false},
		{"PUT", "/api/v1/courts/{id}/retention", court, s.putRetention, false},

		{"GET", "/api/v1/audit", bureau, s.listAudit, false},
		{"GET", "/api/v1/backup", bureau, s.backup, true},
	}
}

// safe reports whether a method changes nothing (and needs neither CSRF nor audit).
func safe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// wrap applies the route's row of the table: it authenticates, checks the role, checks CSRF for
// cookie-authenticated writes, runs the handler, and writes the audit event of a write.
func (s *Server) wrap(rt route) http.Handler {
	pattern := rt.method + " " + rt.path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := noteOf(r)
		n.route = pattern
		if sw, _ := w.(*statusWriter); sw != nil && (!safe(r.Method) || rt.audit) {
			defer s.audit(r, n, sw)
		}
		p, sess, err := s.authenticate(r, rt.roles&anonymous != 0)
		if err == nil {
			n.principal = p
			err = s.authorize(r, rt.roles, p, sess)
		}
		if err == nil {
			if p != nil {
				ctx := chuting.NewContextWithUser(r.Context(), p)
				r = r.WithContext(context.WithValue(ctx, sessionKey{}, sess))
			}
			err = rt.handle(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

type sessionKey struct{}

// authenticate resolves the request's credentials. On public routes bad credentials are
// ignored (a stale cookie must not block signing in again); elsewhere they are an error.
func (s *Server) authenticate(r *http.Request, public bool) (*chuting.Principal, *chuting.Session, error) {
	token, cookie := auth.Credentials(r, !s.insecureCookie)
	var (
		p    *chuting.Principal
		sess *chuting.Session
		err  error
	)
	switch {
	case token != "":
		p, err = s.auth.Token(r.Context(), token)
	case cookie != "":
		p, sess, err = s.auth.Session(r.Context(), cookie)
	default:
		return nil, nil, nil
	}
	if err != nil && public && chuting.ErrorCode(err) == chuting.EUNAUTHORIZED {
		return nil, nil, nil
	}
	return p, sess, err
}

// authorize checks the role against the route's row, and the CSRF token of a write made
// with a session cookie.
func (s *Server) authorize(r *http.Request, roles roleSet, p *chuting.Principal, sess *chuting.Session) error {
	switch {
	case p == nil && roles&anonymous == 0:
		return chuting.Errorf(chuting.EUNAUTHORIZED, "请先登录 / please sign in")
	case p != nil && !roles.has(p.Role) && roles&anonymous == 0:
		return chuting.Errorf(chuting.EFORBIDDEN, "%s 角色无权执行此操作 / the %s role may not do this", p.Role, p.Role)
	case sess != nil && !safe(r.Method) && roles&anonymous == 0:
		// Public routes (signing in) need no CSRF token: they act for no session, and a
		// stale cookie must not stop a user from signing in again.
		got := r.Header.Get(auth.CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
			return chuting.Errorf(chuting.EFORBIDDEN, "缺少或错误的 CSRF 令牌 / missing or wrong %s header", auth.CSRFHeader)
		}
	}
	return nil
}

func sessionOf(r *http.Request) *chuting.Session {
	s, _ := r.Context().Value(sessionKey{}).(*chuting.Session)
	return s
}

// audit appends the audit event of a state-changing request, whatever its outcome. It runs
// after the answer; a client that hangs up does not cancel it.
func (s *Server) audit(r *http.Request, n *note, sw *statusWriter) {
	// Anonymous calls are audited when they sign in (or fail to), or change something (a
	// personal link redeemed); a refused one changed nothing, and is not kept, so that nobody
	// can fill the store without an account.
	if n.principal == nil && n.route != "POST /api/v1/session" && (sw.status >= 400 || r.Method == http.MethodGet) {
		return
	}
	ev := chuting.AuditEvent{Time: s.now().UTC(), Action: n.route, Target: n.target, Remote: remoteAddr(r),
		Status: sw.status, Outcome: "ok", RequestID: n.requestID}
	if n.code != "" {
		ev.Outcome = n.code
	}
	if p := n.principal; p != nil {
		ev.ActorID, ev.ActorName, ev.ActorRole = p.UserID, p.Username, p.Role
		ev.Via = "session"
		if p.TokenID != "" {
			ev.Via = "token"
		}
	}
	data, err := json.Marshal(ev)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		_, err = s.store.Append(ctx, chuting.AuditStream, chuting.Event{Time: ev.Time, Type: n.route, Data: data})
	}
	if err != nil {
		s.auditErr.Inc()
		s.logger.ErrorContext(r.Context(), "audit write failed", "action", n.route, "target", n.target, "err", err)
	}
}
