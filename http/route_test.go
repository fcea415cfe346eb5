package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chuting/chuting"
)

// Statuses, short, so the table below reads as a matrix.
const (
	ok  = http.StatusOK
	cr  = http.StatusCreated
	nc  = http.StatusNoContent
	ua  = http.StatusUnauthorized
	fb  = http.StatusForbidden
	bad = http.StatusBadRequest
	nf  = http.StatusNotFound
)

// callers, in the order of authCase.want.
var callers = []chuting.Role{chuting.RoleUnknown, chuting.RoleBureauAdmin, chuting.RoleInstitutionAdmin,
	chuting.RoleClerk, chuting.RoleJudge, chuting.RoleAppraiser}

// authCase is one route (and, for routes on one record, one target: own or other side) with
// the status each caller must get: anonymous, bureau, institution admin, clerk, judge,
// appraiser. Callers act as side 0.
type authCase struct {
	route   string
	target  string
	session bool // call with a browser session instead of an API token
	audited bool // a read that must be audited (it exports data)
	csv     bool // the body is a CSV file, not JSON
	build   func(fx *fixture, c caller) (path string, body any)
	want    [6]int
}

func get(path string) func(*fixture, caller) (string, any) {
	return func(*fixture, caller) (string, any) { return path, nil }
}

func (fx *fixture) own() *side   { return fx.sides[0] }
func (fx *fixture) other() *side { return fx.sides[1] }

// userOf is the side-0 user behind a caller (the bureau's for anonymous callers).
func (fx *fixture) userOf(c caller) *chuting.User {
	if c.role == chuting.RoleUnknown {
		return fx.own().users[chuting.RoleBureauAdmin]
	}
	return fx.own().users[c.role]
}

func (fx *fixture) version(e chuting.Entity) int64 {
	fx.t.Helper()
	rec, err := fx.store.Get(context.Background(), e.Kind(), e.RecordMeta().ID)
	fx.must(err)
	return rec.Version
}

func authCases() []authCase {
	everyone := [6]int{ok, ok, ok, ok, ok, ok}
	signedIn := [6]int{ua, ok, ok, ok, ok, ok}
	bureauOnly := func(s int) [6]int { return [6]int{ua, s, fb, fb, fb, fb} }
	admins := func(s int) [6]int { return [6]int{ua, s, s, fb, fb, fb} }
	tokenUsers := func(s int) [6]int { return [6]int{ua, s, s, s, fb, fb} }
	courtSees := [6]int{ua, ok, fb, ok, ok, fb} // other side's room, appraiser, opinion
	courtOnly := func(s int) [6]int { return [6]int{ua, fb, fb, s, s, fb} }
	appraiserOnly := func(s int) [6]int { return [6]int{ua, fb, fb, fb, fb, s} }
	// fx2 makes a fresh summons of a side in a state, and the path of one of its actions.
	fx2 := func(state chuting.SummonsState, side int, action string, body map[string]any) func(*fixture, caller) (string, any) {
		return func(fx *fixture, c caller) (string, any) {
			// Court actions get a summons of an appraiser of their own, so that the many
			// summons the matrix makes do not fill one appraiser's calendar.
			var a *chuting.Appraiser
			if action != "confirm" && action != "decline" {
				a = fx.newAppraiser(fx.sides[side])
			}
			return "/api/v1/summons/" + fx.summonsIn(fx.sides[side], state, a).ID + "/" + action, body
		}
	}

	room := func(inst *chuting.Institution) map[string]any {
		return map[string]any{"institution_id": inst.ID, "name": "作证室", "location": "二楼"}
	}
	appraiser := func(fx *fixture, inst *chuting.Institution) map[string]any {
		return map[string]any{"institution_id": inst.ID, "name": "新鉴定人", "licence_no": fx.unique("L"),
			"categories": []string{"法医临床"}}
	}
	return append([]authCase{
		{route: "GET /healthz", build: get("/healthz"), want: everyone},
		{route: "GET /readyz", build: get("/readyz"), want: everyone},
		{route: "GET /metrics", build: get("/metrics"), want: everyone},
		{route: "GET /api/v1/openapi.yaml", build: get("/api/v1/openapi.yaml"), want: everyone},
		{route: "GET /api/v1/openapi.json", build: get("/api/v1/openapi.json"), want: everyone},

		{route: "POST /api/v1/session", want: everyone, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/session", map[string]string{"username": fx.userOf(c).Username, "password": testPassword}
		}},
		{route: "GET /api/v1/session", build: get("/api/v1/session"), want: signedIn},
		{route: "DELETE /api/v1/session", session: true, build: get("/api/v1/session"), want: [6]int{ua, nc, nc, nc, nc, nc}},
		{route: "PUT /api/v1/session/password", session: true, want: signedIn, build: func(*fixture, caller) (string, any) {
			return "/api/v1/session/password", map[string]string{"current_password": testPassword, "new_password": testPassword}
		}},

		{route: "POST /api/v1/selftest/upload", want: signedIn, build: func(*fixture, caller) (string, any) {
			return "/api/v1/selftest/upload", map[string]string{"padding": strings.Repeat("x", 1000)}
		}},

		{route: "GET /api/v1/users", build: get("/api/v1/users"), want: admins(ok)},
		{route: "POST /api/v1/users", target: "own appraiser", want: admins(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/users", map[string]string{"username": fx.unique("new"), "name": "新鉴定人",
				"role": "appraiser", "appraiser_id": fx.newAppraiser(fx.own()).ID, "password": testPassword}
		}},
		{route: "POST /api/v1/users", target: "other appraiser", want: bureauOnly(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/users", map[string]string{"username": fx.unique("new"), "name": "新鉴定人",
				"role": "appraiser", "appraiser_id": fx.newAppraiser(fx.other()).ID, "password": testPassword}
		}},
		{route: "POST /api/v1/users", target: "own admin", want: bureauOnly(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/users", map[string]string{"username": fx.unique("new"), "name": "新管理员",
				"role": "institution_admin", "institution_id": fx.own().institution.ID, "password": testPassword}
		}},
		{route: "GET /api/v1/users/{id}", target: "self", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/users/" + fx.userOf(c).ID, nil
		}},
		{route: "GET /api/v1/users/{id}", target: "other", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/users/" + fx.other().users[chuting.RoleInstitutionAdmin].ID, nil
		}},
		{route: "PATCH /api/v1/users/{id}", target: "own", want: admins(ok), build: func(fx *fixture, c caller) (string, any) {
			u := fx.own().users[chuting.RoleAppraiser]
			return "/api/v1/users/" + u.ID, map[string]any{"version": fx.version(u), "name": "改名"}
		}},
		{route: "PATCH /api/v1/users/{id}", target: "other", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			u := fx.other().users[chuting.RoleAppraiser]
			return "/api/v1/users/" + u.ID, map[string]any{"version": fx.version(u), "name": "改名"}
		}},
		{route: "PATCH /api/v1/users/{id}", target: "peer admin", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			u := fx.own().peerAdmin
			return "/api/v1/users/" + u.ID, map[string]any{"version": fx.version(u), "name": "改名"}
		}},
		{route: "PUT /api/v1/users/{id}/password", target: "own", want: admins(nc), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/users/" + fx.own().users[chuting.RoleAppraiser].ID + "/password", map[string]string{"password": testPassword}
		}},
		{route: "PUT /api/v1/users/{id}/password", target: "other", want: bureauOnly(nc), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/users/" + fx.other().users[chuting.RoleAppraiser].ID + "/password", map[string]string{"password": testPassword}
		}},
		{route: "PUT /api/v1/users/{id}/password", target: "peer admin", want: bureauOnly(nc), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/users/" + fx.own().peerAdmin.ID + "/password", map[string]string{"password": testPassword}
		}},
		{route: "PUT /api/v1/users/{id}/password", target: "self", want: [6]int{ua, fb, fb, fb, fb, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/users/" + fx.userOf(c).ID + "/password", map[string]string{"password": testPassword}
		}},

		{route: "GET /api/v1/tokens", build: get("/api/v1/tokens"), want: tokenUsers(ok)},
		{route: "POST /api/v1/tokens", target: "signed in", session: true, want: tokenUsers(cr), build: func(*fixture, caller) (string, any) {
			return "/api/v1/tokens", map[string]any{"name": "案件管理系统", "expires_in_days": 30, "password": testPassword}
		}},
		{route: "POST /api/v1/tokens", target: "with a token", want: [6]int{ua, fb, fb, fb, fb, fb}, build: func(*fixture, caller) (string, any) {
			return "/api/v1/tokens", map[string]any{"name": "永久令牌", "expires_in_days": 0, "password": testPassword}
		}},
		{route: "DELETE /api/v1/tokens/{id}", target: "own", want: tokenUsers(nc), build: func(fx *fixture, c caller) (string, any) {
			tok, _, err := fx.auth.NewToken(context.Background(), fx.userOf(c).ID, "temp", 0)
			fx.must(err)
			return "/api/v1/tokens/" + tok.ID, nil
		}},
		{route: "DELETE /api/v1/tokens/{id}", target: "other", want: bureauOnly(nc), build: func(fx *fixture, c caller) (string, any) {
			tok, _, err := fx.auth.NewToken(context.Background(), fx.other().users[chuting.RoleClerk].ID, "temp", 0)
			fx.must(err)
			return "/api/v1/tokens/" + tok.ID, nil
		}},

		{route: "GET /api/v1/courts", build: get("/api/v1/courts"), want: signedIn},
		{route: "POST /api/v1/courts", want: bureauOnly(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/courts", map[string]any{"name": "新法院", "code": fx.unique("赣")}
		}},
		{route: "GET /api/v1/courts/{id}", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/courts/" + fx.other().court.ID, nil
		}},
		{route: "PUT /api/v1/courts/{id}", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			co := fx.own().court
			return "/api/v1/courts/" + co.ID, map[string]any{"version": fx.version(co), "name": "改名法院", "code": co.Code}
		}},

		{route: "GET /api/v1/institutions", build: get("/api/v1/institutions"), want: signedIn},
		{route: "POST /api/v1/institutions", want: bureauOnly(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/institutions", map[string]any{"name": "新机构", "licence_no": fx.unique("36")}
		}},
		{route: "GET /api/v1/institutions/{id}", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/institutions/" + fx.other().institution.ID, nil
		}},
		{route: "PUT /api/v1/institutions/{id}", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			in := fx.own().institution
			return "/api/v1/institutions/" + in.ID, map[string]any{"version": fx.version(in), "name": "改名机构", "licence_no": in.LicenceNo}
		}},
		// The roster import takes a CSV file (a dry run here, so the matrix changes nothing).
		{route: "POST /api/v1/institutions/{id}/roster", target: "own", want: admins(ok), csv: true, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/institutions/" + fx.own().institution.ID + "/roster?dry_run=true", "姓名,执业证号,执业类别\n张鉴定," + fx.unique("R") + ",法医临床\n"
		}},
		{route: "POST /api/v1/institutions/{id}/roster", target: "other", want: bureauOnly(ok), csv: true, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/institutions/" + fx.other().institution.ID + "/roster?dry_run=true", "姓名,执业证号,执业类别\n张鉴定," + fx.unique("R") + ",法医临床\n"
		}},

		{route: "GET /api/v1/rooms", build: get("/api/v1/rooms"), want: signedIn},
		{route: "POST /api/v1/rooms", target: "own", want: admins(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/rooms", room(fx.own().institution)
		}},
		{route: "POST /api/v1/rooms", target: "other", want: bureauOnly(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/rooms", room(fx.other().institution)
		}},
		{route: "GET /api/v1/rooms/{id}", target: "own", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/rooms/" + fx.own().room.ID, nil
		}},
		{route: "GET /api/v1/rooms/{id}", target: "other", want: courtSees, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/rooms/" + fx.other().room.ID, nil
		}},
		{route: "PUT /api/v1/rooms/{id}", target: "own", want: admins(ok), build: func(fx *fixture, c caller) (string, any) {
			body := room(fx.own().institution)
			body["version"] = fx.version(fx.own().room)
			return "/api/v1/rooms/" + fx.own().room.ID, body
		}},
		{route: "PUT /api/v1/rooms/{id}", target: "other", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			body := room(fx.other().institution)
			body["version"] = fx.version(fx.other().room)
			return "/api/v1/rooms/" + fx.other().room.ID, body
		}},

		{route: "GET /api/v1/appraisers", build: get("/api/v1/appraisers"), want: signedIn},
		{route: "POST /api/v1/appraisers", target: "own", want: admins(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/appraisers", appraiser(fx, fx.own().institution)
		}},
		{route: "POST /api/v1/appraisers", target: "other", want: bureauOnly(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/appraisers", appraiser(fx, fx.other().institution)
		}},
		{route: "GET /api/v1/appraisers/{id}", target: "own", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/appraisers/" + fx.own().appraiser.ID, nil
		}},
		{route: "GET /api/v1/appraisers/{id}", target: "other", want: courtSees, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/appraisers/" + fx.other().appraiser.ID, nil
		}},
		{route: "PUT /api/v1/appraisers/{id}", target: "own", want: admins(ok), build: func(fx *fixture, c caller) (string, any) {
			a := fx.own().appraiser
			body := appraiser(fx, fx.own().institution)
			body["version"], body["licence_no"] = fx.version(a), a.LicenceNo
			return "/api/v1/appraisers/" + a.ID, body
		}},
		{route: "PUT /api/v1/appraisers/{id}", target: "other", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			a := fx.other().appraiser
			body := appraiser(fx, fx.other().institution)
			body["version"], body["licence_no"] = fx.version(a), a.LicenceNo
			return "/api/v1/appraisers/" + a.ID, body
		}},

		{route: "GET /api/v1/appraisers/{id}/eligibility", target: "own", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/appraisers/" + fx.own().appraiser.ID + "/eligibility?category=法医临床&date=2026-12-14&parties=张三,李四", nil
		}},
		{route: "GET /api/v1/appraisers/{id}/eligibility", target: "other", want: courtSees, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/appraisers/" + fx.other().appraiser.ID + "/eligibility", nil
		}},
		{route: "GET /api/v1/opinions", build: get("/api/v1/opinions"), want: signedIn},
		{route: "GET /api/v1/opinions/{id}", target: "own", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/opinions/" + fx.own().opinion.ID, nil
		}},
		{route: "GET /api/v1/opinions/{id}", target: "other", want: courtSees, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/opinions/" + fx.other().opinion.ID, nil
		}},
		{route: "POST /api/v1/opinions", target: "own", want: admins(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/opinions", fx.opinionBody(fx.own())
		}},
		{route: "POST /api/v1/opinions", target: "other", want: bureauOnly(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/opinions", fx.opinionBody(fx.other())
		}},
		{route: "PUT /api/v1/opinions/{id}", target: "own", want: admins(ok), build: func(fx *fixture, c caller) (string, any) {
			o, body := fx.own().opinion, fx.opinionBody(fx.own())
			body["version"], body["document_no"] = fx.version(o), o.DocumentNo
			return "/api/v1/opinions/" + o.ID, body
		}},
		{route: "PUT /api/v1/opinions/{id}", target: "other", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			o, body := fx.other().opinion, fx.opinionBody(fx.other())
			body["version"], body["document_no"] = fx.version(o), o.DocumentNo
			return "/api/v1/opinions/" + o.ID, body
		}},

		{route: "GET /api/v1/summons", build: get("/api/v1/summons"), want: signedIn},
		{route: "GET /api/v1/summons/{id}", target: "own", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/summons/" + fx.own().summons.ID, nil
		}},
		{route: "GET /api/v1/summons/{id}", target: "other", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/summons/" + fx.other().summons.ID, nil
		}},

		{route: "POST /api/v1/summons", want: courtOnly(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/summons", fx.summonsRequest(fx.own())
		}},
		{route: "GET /api/v1/summons/{id}/eligibility", target: "own", want: [6]int{ua, ok, ok, ok, ok, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/summons/" + fx.own().summons.ID + "/eligibility", nil
		}},
		{route: "GET /api/v1/summons/{id}/eligibility", target: "other", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/summons/" + fx.other().summons.ID + "/eligibility", nil
		}},
		{route: "POST /api/v1/summons/{id}/acknowledge", target: "own", want: [6]int{ua, fb, ok, fb, fb, ok}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/summons/" + fx.own().summons.ID + "/acknowledge", nil
		}},
		{route: "POST /api/v1/summons/{id}/acknowledge", target: "other", want: [6]int{ua, fb, fb, fb, fb, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/summons/" + fx.other().summons.ID + "/acknowledge", nil
		}},
		{route: "POST /api/v1/summons/{id}/confirm", target: "own", want: appraiserOnly(ok), build: fx2(chuting.SummonsProposed, 0, "confirm", nil)},
		{route: "POST /api/v1/summons/{id}/confirm", target: "other", want: appraiserOnly(fb), build: fx2(chuting.SummonsProposed, 1, "confirm", nil)},
		{route: "POST /api/v1/summons/{id}/decline", target: "own", want: appraiserOnly(ok),
			build: fx2(chuting.SummonsProposed, 0, "decline", map[string]any{"reason": "住院", "evidence": "住院证明"})},
		{route: "POST /api/v1/summons/{id}/decline", target: "other", want: appraiserOnly(fb),
			build: fx2(chuting.SummonsProposed, 1, "decline", map[string]any{"reason": "住院"})},
		{route: "POST /api/v1/summons/{id}/excuse", target: "own", want: courtOnly(ok),
			build: fx2(chuting.SummonsDeclined, 0, "excuse", map[string]any{"accept": true, "reason": "有住院证明"})},
		{route: "POST /api/v1/summons/{id}/excuse", target: "other", want: courtOnly(fb),
			build: fx2(chuting.SummonsDeclined, 1, "excuse", map[string]any{"accept": true, "reason": "有住院证明"})},
		{route: "POST /api/v1/summons/{id}/reschedule", target: "own", want: courtOnly(ok),
			build: fx2(chuting.SummonsProposed, 0, "reschedule", map[string]any{"reason": "合议庭调整"})},
		{route: "POST /api/v1/summons/{id}/reschedule", target: "other", want: courtOnly(fb),
			build: fx2(chuting.SummonsProposed, 1, "reschedule", map[string]any{"reason": "合议庭调整"})},
		{route: "POST /api/v1/summons/{id}/cancel", target: "own", want: courtOnly(ok),
			build: fx2(chuting.SummonsScheduled, 0, "cancel", map[string]any{"reason": "原告撤诉"})},
		{route: "POST /api/v1/summons/{id}/cancel", target: "other", want: courtOnly(fb),
			build: fx2(chuting.SummonsScheduled, 1, "cancel", map[string]any{"reason": "原告撤诉"})},
		{route: "POST /api/v1/summons/{id}/outcome", target: "own", want: courtOnly(ok),
			build: fx2(chuting.SummonsScheduled, 0, "outcome", map[string]any{"outcome": "completed"})},
		{route: "POST /api/v1/summons/{id}/outcome", target: "other", want: courtOnly(fb),
			build: fx2(chuting.SummonsScheduled, 1, "outcome", map[string]any{"outcome": "absent", "cause": "without_cause"})},

		// A notice is its user's alone, even for the bureau (notices_test.go).
		{route: "GET /api/v1/notices", build: get("/api/v1/notices?unread=1"), want: signedIn},
		{route: "POST /api/v1/notices/{id}/read", target: "own", want: [6]int{ua, ok, ok, ok, ok, ok}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/notices/" + fx.notice(fx.userOf(c)).ID + "/read", nil
		}},
		{route: "POST /api/v1/notices/{id}/read", target: "other", want: [6]int{ua, fb, fb, fb, fb, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/notices/" + fx.notice(fx.other().users[chuting.RoleClerk]).ID + "/read", nil
		}},
		// Webhooks: a court's clerks and judges for their court, the bureau for any (webhooks_test.go).
		{route: "GET /api/v1/webhooks", build: get("/api/v1/webhooks"), want: [6]int{ua, ok, fb, ok, ok, fb}},
		{route: "POST /api/v1/webhooks", target: "own", want: [6]int{ua, cr, fb, cr, cr, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/webhooks", map[string]any{"url": "https://court.example/chuting", "court_id": fx.own().court.ID}
		}},
		{route: "POST /api/v1/webhooks", target: "other", want: [6]int{ua, cr, fb, fb, fb, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/webhooks", map[string]any{"url": "https://court.example/chuting", "court_id": fx.other().court.ID}
		}},
		{route: "DELETE /api/v1/webhooks/{id}", target: "own", want: [6]int{ua, nc, fb, nc, nc, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/webhooks/" + fx.webhook(fx.own().court).ID, nil
		}},
		{route: "DELETE /api/v1/webhooks/{id}", target: "other", want: [6]int{ua, nc, fb, fb, fb, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/webhooks/" + fx.webhook(fx.other().court).ID, nil
		}},
		{route: "GET /api/v1/webhooks/{id}/deliveries", target: "own", want: [6]int{ua, ok, fb, ok, ok, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/webhooks/" + fx.webhook(fx.own().court).ID + "/deliveries", nil
		}},
		{route: "GET /api/v1/webhooks/{id}/deliveries", target: "other", want: [6]int{ua, ok, fb, fb, fb, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/webhooks/" + fx.webhook(fx.other().court).ID + "/deliveries", nil
		}},

		{route: "GET /api/v1/hearings", build: get("/api/v1/hearings"), want: signedIn},
		{route: "GET /api/v1/hearings/{id}", target: "own", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.own().hearing.ID, nil
		}},
		{route: "GET /api/v1/hearings/{id}", target: "other", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.other().hearing.ID, nil
		}},
		{route: "GET /api/v1/hearings/{id}/ics", target: "own", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.own().hearing.ID + "/ics", nil
		}},
		{route: "GET /api/v1/hearings/{id}/ics", target: "other", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.other().hearing.ID + "/ics", nil
		}},
		{route: "POST /api/v1/calendar-feeds", target: "own", want: [6]int{ua, cr, cr, fb, fb, cr}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/calendar-feeds", map[string]string{"subject": "appraiser:" + fx.own().appraiser.ID}
		}},
		{route: "POST /api/v1/calendar-feeds", target: "other", want: [6]int{ua, cr, fb, fb, fb, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/calendar-feeds", map[string]string{"subject": "appraiser:" + fx.other().appraiser.ID}
		}},
		{route: "DELETE /api/v1/calendar-feeds/{id}", target: "own", want: [6]int{ua, nc, nc, fb, fb, nc}, build: func(fx *fixture, c caller) (string, any) {
			f, _ := fx.feed("appraiser:" + fx.own().appraiser.ID)
			return "/api/v1/calendar-feeds/" + f.ID, nil
		}},
		{route: "DELETE /api/v1/calendar-feeds/{id}", target: "other", want: [6]int{ua, nc, fb, fb, fb, fb}, build: func(fx *fixture, c caller) (string, any) {
			f, _ := fx.feed("room:" + fx.other().room.ID)
			return "/api/v1/calendar-feeds/" + f.ID, nil
		}},
		{route: "GET /calendar/{file}", want: everyone, build: func(fx *fixture, c caller) (string, any) {
			_, secret := fx.feed("room:" + fx.own().room.ID)
			return "/calendar/" + secret + ".ics", nil
		}},
		// Video rooms (hearingroom.go, room_test.go): the WebSocket is public (its join token
		// decides); tokens go to the hearing's judge, clerk and summoned appraiser; the court
		// manages personal links, which anyone holding one redeems once.
		{route: "GET /api/v1/hearings/{id}/room", want: [6]int{bad, bad, bad, bad, bad, bad}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.own().live.ID + "/room", nil // not an upgrade
		}},
		{route: "POST /api/v1/hearings/{id}/join-token", target: "own", want: [6]int{ua, fb, fb, ok, ok, ok}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.own().live.ID + "/join-token", nil
		}},
		{route: "POST /api/v1/hearings/{id}/join-token", target: "other", want: [6]int{ua, fb, fb, fb, fb, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.other().live.ID + "/join-token", nil
		}},
		{route: "GET /api/v1/hearings/{id}/links", target: "own", want: courtOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.own().live.ID + "/links", nil
		}},
		{route: "GET /api/v1/hearings/{id}/links", target: "other", want: courtOnly(fb), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.other().live.ID + "/links", nil
		}},
		{route: "POST /api/v1/hearings/{id}/links", target: "own", want: courtOnly(cr), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.own().live.ID + "/links", map[string]string{"name": "赵律师", "role": "counsel"}
		}},
		{route: "POST /api/v1/hearings/{id}/links", target: "other", want: courtOnly(fb), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.other().live.ID + "/links", map[string]string{"name": "赵律师", "role": "counsel"}
		}},
		{route: "DELETE /api/v1/links/{id}", target: "own", want: courtOnly(nc), build: func(fx *fixture, c caller) (string, any) {
			l, _ := fx.link(fx.own(), "counsel")
			return "/api/v1/links/" + l.ID, nil
		}},
		{route: "DELETE /api/v1/links/{id}", target: "other", want: courtOnly(fb), build: func(fx *fixture, c caller) (string, any) {
			l, _ := fx.link(fx.other(), "counsel")
			return "/api/v1/links/" + l.ID, nil
		}},
		{route: "POST /api/v1/links/redeem", want: everyone, build: func(fx *fixture, c caller) (string, any) {
			_, secret := fx.link(fx.own(), "counsel")
			return "/api/v1/links/redeem", map[string]string{"secret": secret}
		}},
		{route: "GET /api/v1/holidays/{year}", build: get("/api/v1/holidays/2027"), want: signedIn},
		{route: "PUT /api/v1/holidays/{year}", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/holidays/2027", map[string]any{"holidays": []string{"2027-01-01"}, "workdays": []string{},
				"source": "国务院办公厅通知"}
		}},
		{route: "POST /api/v1/schedule/optimise", want: [6]int{ua, ok, fb, ok, ok, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/schedule/optimise", map[string]string{"institution_id": fx.own().institution.ID}
		}},

		// Attendance (attendance_test.go): the log's facts are added by the hearing's court;
		// rates are scoped, not refused; refunds are the court's to close; reports are the
		// institution's and the bureau's, and every download is audited.
		{route: "GET /api/v1/hearings/{id}/attendance", target: "own", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.own().hearing.ID + "/attendance", nil
		}},
		{route: "GET /api/v1/hearings/{id}/attendance", target: "other", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.other().hearing.ID + "/attendance", nil
		}},
		{route: "POST /api/v1/hearings/{id}/attendance/in-person", target: "own", want: courtOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.own().live.ID + "/attendance/in-person", map[string]string{"appraiser_id": fx.own().appraiser.ID}
		}},
		{route: "POST /api/v1/hearings/{id}/attendance/in-person", target: "other", want: courtOnly(fb), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.other().live.ID + "/attendance/in-person", map[string]string{"appraiser_id": fx.other().appraiser.ID}
		}},
		{route: "POST /api/v1/hearings/{id}/attendance/corrections", target: "own", want: courtOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.own().live.ID + "/attendance/corrections",
				map[string]string{"appraiser_id": fx.own().appraiser.ID, "status": "excused", "reason": "法院准许请假"}
		}},
		{route: "POST /api/v1/hearings/{id}/attendance/corrections", target: "other", want: courtOnly(fb), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/hearings/" + fx.other().live.ID + "/attendance/corrections",
				map[string]string{"appraiser_id": fx.other().appraiser.ID, "status": "excused", "reason": "法院准许请假"}
		}},
		{route: "GET /api/v1/appraisers/{id}/attendance", target: "own", want: signedIn, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/appraisers/" + fx.own().appraiser.ID + "/attendance", nil
		}},
		{route: "GET /api/v1/appraisers/{id}/attendance", target: "colleague", want: [6]int{ua, ok, ok, ok, ok, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/appraisers/" + fx.newAppraiser(fx.own()).ID + "/attendance", nil
		}},
		{route: "GET /api/v1/appraisers/{id}/attendance", target: "other", want: [6]int{ua, ok, fb, ok, ok, fb}, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/appraisers/" + fx.other().appraiser.ID + "/attendance", nil
		}},
		{route: "GET /api/v1/attendance/rates", build: get("/api/v1/attendance/rates?by=court&from=2026-11-01&to=2026-12-31"), want: signedIn},
		{route: "GET /api/v1/fee-refunds", build: get("/api/v1/fee-refunds?state=open"), want: [6]int{ua, ok, ok, ok, ok, fb}},
		{route: "POST /api/v1/fee-refunds/{id}/close", target: "own", want: courtOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/fee-refunds/" + fx.refund(fx.own()).ID + "/close", map[string]string{"note": "已裁定退还鉴定费"}
		}},
		{route: "POST /api/v1/fee-refunds/{id}/close", target: "other", want: courtOnly(fb), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/fee-refunds/" + fx.refund(fx.other()).ID + "/close", map[string]string{"note": "已裁定退还鉴定费"}
		}},
		{route: "GET /api/v1/reports", build: get("/api/v1/reports"), want: admins(ok)},
		{route: "POST /api/v1/reports", want: bureauOnly(ok), build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/reports", map[string]string{"period": "2026-10"}
		}},
		{route: "GET /api/v1/reports/{id}/download", target: "own", want: admins(ok), audited: true, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/reports/" + fx.report(chuting.ReportInstitution, fx.own()).ID + "/download?format=csv", nil
		}},
		{route: "GET /api/v1/reports/{id}/download", target: "other", want: bureauOnly(ok), audited: true, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/reports/" + fx.report(chuting.ReportInstitution, fx.other()).ID + "/download", nil
		}},
		{route: "GET /api/v1/reports/{id}/download", target: "bureau", want: bureauOnly(ok), audited: true, build: func(fx *fixture, c caller) (string, any) {
			return "/api/v1/reports/" + fx.report(chuting.ReportBureau, nil).ID + "/download?format=xlsx", nil
		}},

		{route: "GET /api/v1/audit", build: get("/api/v1/audit"), want: bureauOnly(ok)},
		{route: "GET /api/v1/backup", build: get("/api/v1/backup"), want: bureauOnly(ok), audited: true},
	}, recordingAuthCases()...)
}

// TestAuthorization calls every route as every role and as nobody: anonymous → 401, wrong
// role or not the owner → 403, right role and owner → success. Every state-changing request
// must be in the audit log with its caller and outcome. The test fails if a registered route
// has no case, so a new route cannot skip the matrix.
func TestAuthorization(t *testing.T) {
	fx := newFixture(t)
	covered := map[string]bool{}
	type write struct {
		requestID, route, actorID string
		status                    int
	}
	var writes []write
	for _, tc := range authCases() {
		covered[tc.route] = true
		method, _, _ := strings.Cut(tc.route, " ")
		for i, role := range callers {
			c := fx.tokenCaller(role)
			if tc.session {
				c = fx.sessionCaller(role)
			}
			name := tc.route + " " + tc.target + " as " + c.comment
			path, body := tc.build(fx, c)
			var headers map[string]string
			if tc.csv {
				headers = map[string]string{"Content-Type": "text/csv; charset=utf-8"}
			}
			res, data := fx.doHeaders(c, method, path, body, headers)
			if res.StatusCode != tc.want[i] {
				t.Errorf("%s: status %d, want %d: %s", name, res.StatusCode, tc.want[i], data)
				continue
			}
			if res.StatusCode >= 400 {
				if e := errorOf(t, data); e.Code != map[int]string{ua: "unauthorized", fb: "forbidden", bad: "invalid", nf: "not_found"}[res.StatusCode] {
					t.Errorf("%s: error code %q for status %d", name, e.Code, res.StatusCode)
				}
			}
			if method != "GET" || tc.audited {
				actor := ""
				if role != chuting.RoleUnknown || tc.route == "POST /api/v1/session" {
					actor = fx.userOf(c).ID
				}
				writes = append(writes, write{res.Header.Get("X-Request-ID"), tc.route, actor, res.StatusCode})
			}
		}
	}
	for _, p := range fx.srv.Patterns() {
		if !covered[p] {
			t.Errorf("route %s has no case in the authorisation matrix", p)
		}
	}

	t.Run("Audit", func(t *testing.T) {
		log := fx.auditEvents()
		for _, w := range writes {
			ev, found := log[w.requestID]
			switch {
			case w.actorID == "" && w.status >= 400:
				// A refused anonymous write changed nothing and is not audited, so that
				// nobody can fill the store without an account.
				if found {
					t.Errorf("anonymous %s (status %d) was audited", w.route, w.status)
				}
			case w.actorID == "":
				// An anonymous write that changed something (a link redeemed) is audited.
				if !found || ev.ActorID != "" || ev.Action != w.route || ev.Status != w.status || ev.Target == "" {
					t.Errorf("anonymous %s (status %d): audit %+v, found %v", w.route, w.status, ev, found)
				}
			case !found:
				t.Errorf("%s (request %s, status %d) is not in the audit log", w.route, w.requestID, w.status)
			case ev.Action != w.route || ev.Status != w.status || ev.ActorID != w.actorID || ev.Remote == "" || ev.Time.IsZero():
				t.Errorf("audit of %s = %+v, want action %s, status %d, actor %q", w.route, ev, w.route, w.status, w.actorID)
			case (ev.Outcome == "ok") != (w.status < 400):
				t.Errorf("audit of %s has outcome %q for status %d", w.route, ev.Outcome, w.status)
			}
		}
	})
}

// TestListScope shows that listings hold only what the caller owns.
func TestListScope(t *testing.T) {
	fx := newFixture(t)
	own, other := fx.own(), fx.other()
	tests := []struct {
		role    chuting.Role
		path    string
		want    []string
		wantNot []string
	}{
		{chuting.RoleClerk, "/api/v1/summons", []string{own.summons.ID}, []string{other.summons.ID}},
		{chuting.RoleAppraiser, "/api/v1/summons", []string{own.summons.ID}, []string{other.summons.ID}},
		{chuting.RoleInstitutionAdmin, "/api/v1/summons", []string{own.summons.ID}, []string{other.summons.ID}},
		{chuting.RoleBureauAdmin, "/api/v1/summons", []string{own.summons.ID, other.summons.ID}, nil},
		{chuting.RoleInstitutionAdmin, "/api/v1/appraisers", []string{own.appraiser.ID}, []string{other.appraiser.ID}},
		{chuting.RoleAppraiser, "/api/v1/appraisers", []string{own.appraiser.ID}, []string{other.appraiser.ID}},
		{chuting.RoleJudge, "/api/v1/appraisers", []string{own.appraiser.ID, other.appraiser.ID}, nil},
		{chuting.RoleInstitutionAdmin, "/api/v1/rooms", []string{own.room.ID}, []string{other.room.ID}},
		{chuting.RoleAppraiser, "/api/v1/opinions", []string{own.opinion.ID}, []string{other.opinion.ID}},
		{chuting.RoleInstitutionAdmin, "/api/v1/users", []string{own.users[chuting.RoleAppraiser].ID},
			[]string{other.users[chuting.RoleAppraiser].ID, own.users[chuting.RoleClerk].ID}},
		{chuting.RoleClerk, "/api/v1/summons?court=" + other.court.ID, nil, []string{other.summons.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.role.String()+tc.path, func(t *testing.T) {
			res, data := fx.do(fx.tokenCaller(tc.role), "GET", tc.path, nil)
			if res.StatusCode != ok {
				t.Fatalf("status %d: %s", res.StatusCode, data)
			}
			for _, id := range tc.want {
				if !strings.Contains(string(data), `"`+id+`"`) {
					t.Errorf("listing lacks %s: %s", id, data)
				}
			}
			for _, id := range tc.wantNot {
				if strings.Contains(string(data), `"`+id+`"`) {
					t.Errorf("listing shows %s, which the caller does not own", id)
				}
			}
		})
	}
	t.Run("TokensAreTheCallers", func(t *testing.T) {
		res, data := fx.do(fx.tokenCaller(chuting.RoleClerk), "GET", "/api/v1/tokens", nil)
		if res.StatusCode != ok || strings.Count(string(data), `"user_id"`) != 1 ||
			!strings.Contains(string(data), own.users[chuting.RoleClerk].ID) || strings.Contains(string(data), `"hash"`) {
			t.Fatalf("clerk's token listing = %s", data)
		}
	})
	t.Run("NoSecretsShown", func(t *testing.T) {
		for _, path := range []string{"/api/v1/users", "/api/v1/users/" + own.users[chuting.RoleClerk].ID} {
			_, data := fx.do(fx.tokenCaller(chuting.RoleBureauAdmin), "GET", path, nil)
			if strings.Contains(string(data), "argon2id") || strings.Contains(string(data), "password_hash") {
				t.Fatalf("%s shows a password hash: %s", path, data)
			}
		}
	})
}
