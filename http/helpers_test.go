package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
	"github.com/chuting/chuting/bbolt"
	chutinghttp "github.com/chuting/chuting/http"
	"github.com/chuting/chuting/signaling"
)

// testPassword is the password of every fixture user.
const testPassword = "correct horse battery"

// cheap are argon2id parameters for tests: the cost is not what is under test.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

// side is one of two parallel worlds in the fixture: a court, an institution with a room, an
// appraiser, an opinion and a summons, and a user of every role tied to them. Tests act as
// side 0 ("own") on records of side 0 and side 1 ("other").
type side struct {
	court       *chuting.Court
	institution *chuting.Institution
	room        *chuting.TestimonyRoom
	appraiser   *chuting.Appraiser
	opinion     *chuting.Opinion
	summons     *chuting.Summons
	users       map[chuting.Role]*chuting.User
	tokens      map[chuting.Role]string // API token secrets of users
	peerAdmin   *chuting.User           // a second institution admin of the institution
	hearing     *chuting.Hearing        // of summons
	live        *chuting.Hearing        // of summons, starting in ten minutes: its room is open
}

type fixture struct {
	t     *testing.T
	store chuting.Store
	auth  *auth.Service
	srv   *chutinghttp.Server
	ts    *httptest.Server
	sides [2]*side
	seq   atomic.Int64
	spec  *specChecker // when set, every answer is checked against openapi.yaml
	// recordings is the server's recordings folder and its signing key (recordings_test.go).
	recordings recordingsFolder
}

// newFixture starts a server over a real embedded store in a temp dir, with two sides.
func newFixture(t *testing.T, opts ...func(*auth.Options)) *fixture {
	t.Helper()
	store, err := bbolt.Open(filepath.Join(t.TempDir(), "chuting.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	o := auth.Options{Params: cheap, AccountBurst: 1000, AddressBurst: 1000}
	for _, f := range opts {
		f(&o)
	}
	svc, err := auth.New(store, o)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, store: store, auth: svc}
	rooms, err := signaling.New(signaling.Config{Records: store, Logs: store, Tokens: signaling.NewTokens(roomKey, nil),
		WebRTC: signaling.LoopbackOnly(), Node: "test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rooms.Close() })
	fx.srv = chutinghttp.New(chutinghttp.Config{Store: store, Auth: svc, MaxBody: 64 << 10, Rooms: rooms,
		Recordings: fx.newArchive()})
	fx.ts = httptest.NewServer(fx.srv)
	t.Cleanup(fx.ts.Close)
	for i := range fx.sides {
		fx.sides[i] = fx.newSide(i)
	}
	fx.spec = sharedSpec(t, fx)
	return fx
}

func (fx *fixture) must(err error) {
	fx.t.Helper()
	if err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *fixture) create(e chuting.Entity) {
	fx.t.Helper()
	fx.must(chuting.Create(context.Background(), fx.store, e))
}

// unique returns a string no other call returns.
func (fx *fixture) unique(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, fx.seq.Add(1))
}

func (fx *fixture) newSide(i int) *side {
	s := &side{users: map[chuting.Role]*chuting.User{}, tokens: map[chuting.Role]string{}}
	s.court = &chuting.Court{Name: fmt.Sprintf("法院%d", i), Code: fmt.Sprintf("赣0%d", i), TimeZone: "Asia/Shanghai", NoticeDays: 3}
	fx.create(s.court)
	s.institution = &chuting.Institution{Name: fmt.Sprintf("鉴定机构%d", i), LicenceNo: fmt.Sprintf("36000%d", i)}
	fx.create(s.institution)
	s.room = &chuting.TestimonyRoom{InstitutionID: s.institution.ID, Name: "作证室", Location: "301"}
	fx.create(s.room)
	s.appraiser = &chuting.Appraiser{InstitutionID: s.institution.ID, Name: fmt.Sprintf("鉴定人%d", i),
		LicenceNo: fmt.Sprintf("lic-%d", i), Categories: []string{"法医临床"}}
	fx.create(s.appraiser)
	s.opinion = &chuting.Opinion{DocumentNo: fmt.Sprintf("doc-%d", i), InstitutionID: s.institution.ID,
		Signatories: []string{s.appraiser.ID}}
	fx.create(s.opinion)
	start := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	s.summons = &chuting.Summons{CourtID: s.court.ID, InstitutionID: s.institution.ID,
		AppraiserIDs: []string{s.appraiser.ID}, CaseNo: fmt.Sprintf("(2026)赣0%d民初1号", i),
		CaseType: chuting.CaseTypeCivil, Mode: chuting.ModeRemote, DurationMinutes: 60,
		Windows: []chuting.Interval{{Start: start, End: start.Add(3 * time.Hour)}}, State: chuting.SummonsProposed}
	fx.create(s.summons)
	for _, role := range chuting.Roles() {
		u := fx.newUser(role, s)
		s.users[role] = u
		_, secret, err := fx.auth.NewToken(context.Background(), u.ID, "test", 0)
		fx.must(err)
		s.tokens[role] = secret
	}
	s.peerAdmin = fx.newUser(chuting.RoleInstitutionAdmin, s)
	s.hearing = &chuting.Hearing{SummonsID: s.summons.ID, CourtID: s.court.ID, InstitutionID: s.institution.ID,
		RoomID: s.room.ID, AppraiserIDs: []string{s.appraiser.ID}, Mode: chuting.ModeRemote,
		Start: start.Add(time.Hour), End: start.Add(2 * time.Hour)}
	fx.create(s.hearing)
	soon := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	s.live = &chuting.Hearing{SummonsID: s.summons.ID, CourtID: s.court.ID, InstitutionID: s.institution.ID,
		RoomID: s.room.ID, AppraiserIDs: []string{s.appraiser.ID}, Mode: chuting.ModeRemote,
		Start: soon, End: soon.Add(time.Hour)}
	fx.create(s.live)
	return s
}

// roomKey signs the fixture's join tokens.
var roomKey = []byte("chuting test room key, 32+ bytes!")

// link stores a personal link into the side's live hearing and returns it and its secret.
func (fx *fixture) link(s *side, role string) (*chuting.JoinLink, string) {
	fx.t.Helper()
	secret := auth.NewSecret()
	l := &chuting.JoinLink{HearingID: s.live.ID, Name: "赵律师", Role: role, Hash: auth.HashSecret(secret),
		CreatedBy: s.users[chuting.RoleClerk].ID}
	fx.create(l)
	return l, secret
}

// feed stores a calendar feed of the subject and returns it and the secret of its address.
func (fx *fixture) feed(subject string) (*chuting.CalendarFeed, string) {
	secret := auth.NewSecret()
	f := &chuting.CalendarFeed{Subject: subject, Hash: auth.HashSecret(secret)}
	if old, err := chuting.FindOne[chuting.CalendarFeed](context.Background(), fx.store, chuting.IndexSubject, subject); err == nil {
		fx.must(chuting.Remove(context.Background(), fx.store, old))
	}
	fx.create(f)
	return f, secret
}

// windowsAhead are the acceptable windows of test summons: the working days of the week after
// next, far enough for any notice period.
func windowsAhead() []chuting.Interval {
	cst := time.FixedZone("CST", 8*3600)
	day := time.Now().In(cst).AddDate(0, 0, 14)
	start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, cst)
	return []chuting.Interval{{Start: start.UTC(), End: start.AddDate(0, 0, 7).UTC()}}
}

// summonsRequest is a valid remote civil summons of the side's court for its appraiser.
func (fx *fixture) summonsRequest(s *side) map[string]any {
	w := windowsAhead()[0]
	return map[string]any{"case_no": fmt.Sprintf("(2026)%s民初%d号", s.court.Code, fx.seq.Add(1)),
		"opinion_id": s.opinion.ID, "appraiser_ids": []string{s.appraiser.ID}, "mode": "remote",
		"remote_ground": "distance", "duration_minutes": 60,
		"windows": []map[string]string{{"start": w.Start.Format(time.RFC3339), "end": w.End.Format(time.RFC3339)}},
		"parties": []map[string]string{{"name": "张三", "role": "原告"}},
		"reason":  "当事人对鉴定意见有异议",
		"contact": map[string]string{"name": "周书记员", "phone": "0797-8999001"},
	}
}

// summonsIn stores a summons of the side in state, with a slot for appraiser (the side's
// own when nil) and the side's room.
func (fx *fixture) summonsIn(s *side, state chuting.SummonsState, appraiser *chuting.Appraiser) *chuting.Summons {
	fx.t.Helper()
	if appraiser == nil {
		appraiser = s.appraiser
	}
	w := windowsAhead()
	start := w[0].Start.Add(time.Duration(fx.seq.Add(1)%40) * 24 * time.Hour / 5).Truncate(time.Hour)
	sm := &chuting.Summons{CourtID: s.court.ID, InstitutionID: s.institution.ID, OpinionID: s.opinion.ID,
		AppraiserIDs: []string{appraiser.ID}, CaseNo: fmt.Sprintf("(2026)%s民初%d号", s.court.Code, fx.seq.Add(1)),
		CaseType: chuting.CaseTypeCivil, Mode: chuting.ModeRemote, DurationMinutes: 60, Windows: w, State: state,
		Parties: []chuting.Party{{Name: "张三", Role: "原告"}},
		Slot:    &chuting.Slot{Start: start, End: start.Add(time.Hour), RoomID: s.room.ID, AppraiserIDs: []string{appraiser.ID}}}
	if state == chuting.SummonsDeclined {
		sm.Responses = []chuting.Response{{AppraiserID: appraiser.ID, Reason: "住院"}}
	}
	if state == chuting.SummonsScheduled {
		sm.Responses = []chuting.Response{{AppraiserID: appraiser.ID, Confirmed: true}}
		sm.HearingID = chuting.NewID()
	}
	fx.create(sm)
	return sm
}

// newAppraiser registers another appraiser at the side's institution, without an account.
func (fx *fixture) newAppraiser(s *side) *chuting.Appraiser {
	fx.t.Helper()
	a := &chuting.Appraiser{InstitutionID: s.institution.ID, Name: "鉴定人", LicenceNo: fx.unique("lic"),
		Categories: []string{"法医临床"}}
	fx.create(a)
	return a
}

// newUser makes a user of role tied to side s. Appraiser users need an appraiser record of
// their own (one account per appraiser), so the side's appraiser gets the first one.
func (fx *fixture) newUser(role chuting.Role, s *side) *chuting.User {
	fx.t.Helper()
	u, err := fx.auth.NewUser(context.Background(), fx.unique("u"), "用户", role, testPassword)
	fx.must(err)
	switch role {
	case chuting.RoleClerk, chuting.RoleJudge:
		u.CourtID = s.court.ID
	case chuting.RoleInstitutionAdmin:
		u.InstitutionID = s.institution.ID
	case chuting.RoleAppraiser:
		a := s.appraiser
		if s.users[chuting.RoleAppraiser] != nil {
			a = fx.newAppraiser(s)
		}
		u.AppraiserID, u.InstitutionID = a.ID, a.InstitutionID
	}
	fx.create(u)
	return u
}

// caller is who makes a request: a role of side 0 with its API token, with a fresh browser
// session (cookie and CSRF token), or nobody.
type caller struct {
	role    chuting.Role // RoleUnknown = anonymous
	token   string
	cookie  *http.Cookie
	csrf    string
	comment string
}

func (fx *fixture) tokenCaller(role chuting.Role) caller {
	if role == chuting.RoleUnknown {
		return caller{comment: "anonymous"}
	}
	return caller{role: role, token: fx.sides[0].tokens[role], comment: role.String()}
}

// sessionCaller signs in as the side-0 user of role and returns the browser's credentials.
func (fx *fixture) sessionCaller(role chuting.Role) caller {
	fx.t.Helper()
	if role == chuting.RoleUnknown {
		return caller{comment: "anonymous"}
	}
	u := fx.sides[0].users[role]
	res, body := fx.do(caller{}, "POST", "/api/v1/session", map[string]string{"username": u.Username, "password": testPassword})
	if res.StatusCode != http.StatusOK {
		fx.t.Fatalf("sign in as %s: %d %s", u.Username, res.StatusCode, body)
	}
	var v struct {
		CSRFToken string `json:"csrf_token"`
	}
	fx.must(json.Unmarshal(body, &v))
	for _, c := range res.Cookies() {
		if c.Name == auth.CookieName {
			return caller{role: role, cookie: c, csrf: v.CSRFToken, comment: role.String() + " (session)"}
		}
	}
	fx.t.Fatalf("sign in set no %s cookie", auth.CookieName)
	return caller{}
}

// do sends a request; body is JSON-encoded unless it is a string or []byte, sent as is.
func (fx *fixture) do(c caller, method, path string, body any) (*http.Response, []byte) {
	fx.t.Helper()
	return fx.doHeaders(c, method, path, body, nil)
}

func (fx *fixture) doHeaders(c caller, method, path string, body any, headers map[string]string) (*http.Response, []byte) {
	fx.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		fx.must(err)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, fx.ts.URL+path, r)
	fx.must(err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
		req.Header.Set(auth.CSRFHeader, c.csrf)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := fx.ts.Client().Do(req)
	fx.must(err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	fx.must(err)
	if fx.spec != nil && headers["X-Test-Undocumented"] == "" {
		fx.spec.check(fx.t, req, res, data)
	}
	return res, data
}

// errorOf decodes an error answer, failing the test if it does not have the error shape.
func errorOf(t *testing.T, body []byte) chutinghttp.ErrorDetail {
	t.Helper()
	var e chutinghttp.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("answer is not the error shape: %s (%v)", body, err)
	}
	return e.Error
}

// snapshot returns every record of every kind, to show that a refused request changed nothing.
func (fx *fixture) snapshot() map[string]string {
	fx.t.Helper()
	out := map[string]string{}
	for _, kind := range chuting.Kinds() {
		q := chuting.Query{Kind: kind}
		for {
			page, err := fx.store.List(context.Background(), q)
			fx.must(err)
			for _, r := range page.Records {
				out[string(kind)+"/"+r.ID] = fmt.Sprintf("%d %s", r.Version, r.Data)
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
	}
	return out
}

// auditEvents returns the audit log by request ID.
func (fx *fixture) auditEvents() map[string]chuting.AuditEvent {
	fx.t.Helper()
	out := map[string]chuting.AuditEvent{}
	for after := uint64(0); ; {
		evs, err := fx.store.Events(context.Background(), chuting.AuditStream, after, chuting.MaxLimit)
		fx.must(err)
		if len(evs) == 0 {
			return out
		}
		for _, e := range evs {
			var a chuting.AuditEvent
			fx.must(json.Unmarshal(e.Data, &a))
			out[a.RequestID] = a
		}
		after = evs[len(evs)-1].Seq
	}
}

// doChunked sends body with chunked transfer encoding (no Content-Length), as a streaming
// client would, so the server cannot refuse it by its declared length.
func (fx *fixture) doChunked(c caller, method, path string, body []byte) (*http.Response, []byte) {
	fx.t.Helper()
	req, err := http.NewRequest(method, fx.ts.URL+path, io.MultiReader(bytes.NewReader(body)))
	fx.must(err)
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := fx.ts.Client().Do(req)
	fx.must(err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	fx.must(err)
	return res, data
}
