package http_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/signaling"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// recordingsFolder is the fixture server's recordings: the folder, the key that signs them,
// the archive the server reads them with, its clock, and the recordings made so far.
type recordingsFolder struct {
	dir     string
	key     ed25519.PrivateKey
	archive *recordings.Archive
	mu      sync.Mutex
	offset  time.Duration // the archive's clock runs this far ahead of the real one
	made    map[string]*recorded
}

// recorded is a hearing recorded for a test.
type recorded struct {
	hearing  *chuting.Hearing
	manifest *recordings.Manifest
}

func (fx *fixture) newArchive() *recordings.Archive {
	fx.t.Helper()
	pub, key, err := ed25519.GenerateKey(nil)
	fx.must(err)
	rf := &fx.recordings
	rf.dir, rf.key, rf.made = filepath.Join(fx.t.TempDir(), "recordings"), key, map[string]*recorded{}
	rf.archive, err = recordings.NewArchive(recordings.ArchiveConfig{Dir: rf.dir, Records: fx.store, Logs: fx.store,
		PublicKey: pub, Now: func() time.Time {
			rf.mu.Lock()
			defer rf.mu.Unlock()
			return time.Now().Add(rf.offset)
		}})
	fx.must(err)
	return rf.archive
}

// advance moves the archive's clock d ahead.
func (fx *fixture) advance(d time.Duration) {
	fx.recordings.mu.Lock()
	defer fx.recordings.mu.Unlock()
	fx.recordings.offset += d
}

// event appends an attendance event to the hearing's log, as the room does.
func (fx *fixture) event(h *chuting.Hearing, typ, reason string) {
	fx.t.Helper()
	a := chuting.AttendanceEvent{HearingID: h.ID, Type: typ, Reason: reason, Time: time.Now().UTC()}
	data, err := json.Marshal(a)
	fx.must(err)
	_, err = fx.store.Append(context.Background(), chuting.HearingStream(h.ID), chuting.Event{Time: a.Time, Type: typ, Data: data})
	fx.must(err)
}

// recording records the hearing once, with the real recorder into the server's folder: six
// seconds of the appraiser's microphone (Opus silence frames, as a browser sends when
// muted), so two segments, with a pause and its reason in the attendance log. It returns
// the hearing and its signed manifest.
func (fx *fixture) recording(h *chuting.Hearing) *recorded {
	fx.t.Helper()
	rf := &fx.recordings
	if r := rf.made[h.ID]; r != nil {
		return r
	}
	rec, err := recordings.New(recordings.Config{Dir: rf.dir, Records: fx.store, Logs: fx.store, Key: rf.key, Node: "test"})
	fx.must(err)
	fx.event(h, chuting.AttendanceHearingStarted, "")
	fx.event(h, chuting.AttendanceRecordingStarted, "")
	r, err := rec.Record(context.Background(), h)
	fx.must(err)
	tr, err := r.Track(signaling.RecordedTrack{ID: "t-audio-1", Participant: "p-1", Subject: "user-1", Name: "鉴定人0",
		Role: signaling.RoleAppraiser, Kind: webrtc.RTPCodecTypeAudio, Source: signaling.SourceMicrophone,
		Codec: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}})
	fx.must(err)
	start := time.Now()
	for i := range 300 { // 6 s of 20 ms packets
		hd := &rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(1000 + i), Timestamp: uint32(5000 + 960*i),
			SSRC: 42, Marker: i == 0}
		fx.must(tr.WriteRTP(start.Add(time.Duration(i)*20*time.Millisecond), hd, []byte{0xf8, 0xff, 0xfe}))
		if i == 100 {
			fx.event(h, chuting.AttendanceRecordingPaused, signaling.PauseRecess)
			fx.event(h, chuting.AttendanceRecordingResumed, "")
		}
	}
	fx.must(tr.Close())
	fx.event(h, chuting.AttendanceRecordingStopped, "")
	fx.must(r.Close())
	m, _, err := recordings.ReadManifest(filepath.Join(rf.dir, h.ID))
	fx.must(err)
	if len(m.Entries) < 2 {
		fx.t.Fatalf("recorded %d segments, want 2 or more", len(m.Entries))
	}
	out := &recorded{hearing: h, manifest: m}
	rf.made[h.ID] = out
	return out
}

// grant stores a grant of the hearing's recording to user, until until.
func (fx *fixture) grant(h *chuting.Hearing, user *chuting.User, until time.Time) *chuting.RecordingGrant {
	fx.t.Helper()
	g := &chuting.RecordingGrant{HearingID: h.ID, CourtID: h.CourtID, UserID: user.ID, Until: until, By: "test"}
	fx.create(g)
	return g
}

// recordingAuthCases are the recording routes' rows of TestAuthorization: the side-0
// hearing has a recording, the side-1 one too; callers of side 0 see only their court's,
// and everyone else is told there is none. The deeper matrix is TestRecordingAccess.
func recordingAuthCases() []authCase {
	seen := [6]int{ua, nf, nf, ok, ok, nf}
	hidden := [6]int{ua, nf, nf, nf, nf, nf}
	courtOnly := func(s int) [6]int { return [6]int{ua, fb, fb, s, s, fb} }
	rec := func(other bool, suffix func(*recorded) string) func(*fixture, caller) (string, any) {
		return func(fx *fixture, _ caller) (string, any) {
			s := fx.own()
			if other {
				s = fx.other()
			}
			r := fx.recording(s.hearing)
			return "/api/v1/recordings/" + r.hearing.ID + suffix(r), nil
		}
	}
	none := func(*recorded) string { return "" }
	file := func(r *recorded) string { return "/files/" + url.PathEscape(r.manifest.Entries[0].Path) }
	manifest := func(*recorded) string { return "/manifest" }
	export := func(*recorded) string { return "/export" }
	return []authCase{
		{route: "GET /api/v1/recordings", build: get("/api/v1/recordings"), want: [6]int{ua, ok, ok, ok, ok, ok}, audited: true},
		{route: "GET /api/v1/recordings/public-key", build: get("/api/v1/recordings/public-key"), want: [6]int{ok, ok, ok, ok, ok, ok}},
		{route: "GET /api/v1/recordings/{hearing_id}", target: "own", build: rec(false, none), want: seen, audited: true},
		{route: "GET /api/v1/recordings/{hearing_id}", target: "other", build: rec(true, none), want: hidden, audited: true},
		{route: "GET /api/v1/recordings/{hearing_id}/files/{name}", target: "own", build: rec(false, file), want: seen, audited: true},
		{route: "GET /api/v1/recordings/{hearing_id}/files/{name}", target: "other", build: rec(true, file), want: hidden, audited: true},
		{route: "GET /api/v1/recordings/{hearing_id}/manifest", target: "own", build: rec(false, manifest), want: seen, audited: true},
		{route: "GET /api/v1/recordings/{hearing_id}/manifest", target: "other", build: rec(true, manifest), want: hidden, audited: true},
		{route: "GET /api/v1/recordings/{hearing_id}/export", target: "own", build: rec(false, export), want: seen, audited: true},
		{route: "GET /api/v1/recordings/{hearing_id}/export", target: "other", build: rec(true, export), want: hidden, audited: true},
		{route: "GET /api/v1/recordings/{hearing_id}/grants", target: "own", build: rec(false, func(*recorded) string { return "/grants" }),
			want: courtOnly(ok), audited: true},
		{route: "POST /api/v1/recordings/{hearing_id}/grants", target: "own", want: courtOnly(cr),
			build: func(fx *fixture, _ caller) (string, any) {
				return "/api/v1/recordings/" + fx.own().hearing.ID + "/grants", map[string]string{
					"user_id": fx.other().users[chuting.RoleInstitutionAdmin].ID, "until": time.Now().Add(time.Hour).Format(time.RFC3339)}
			}},
		{route: "POST /api/v1/recordings/{hearing_id}/grants", target: "other", want: [6]int{ua, fb, fb, nf, nf, fb},
			build: func(fx *fixture, _ caller) (string, any) {
				return "/api/v1/recordings/" + fx.other().hearing.ID + "/grants", map[string]string{
					"user_id": fx.own().users[chuting.RoleClerk].ID, "until": time.Now().Add(time.Hour).Format(time.RFC3339)}
			}},
		{route: "DELETE /api/v1/recordings/{hearing_id}/grants/{id}", target: "own", want: courtOnly(nc),
			build: func(fx *fixture, _ caller) (string, any) {
				g := fx.grant(fx.own().hearing, fx.other().users[chuting.RoleJudge], time.Now().Add(time.Hour))
				return "/api/v1/recordings/" + g.HearingID + "/grants/" + g.ID, nil
			}},
		// The live hearing has no recording: its judge is told so, the others may not ask.
		{route: "POST /api/v1/recordings/{hearing_id}/deletion", target: "own, unrecorded", want: [6]int{ua, fb, fb, fb, nf, fb},
			build: func(fx *fixture, _ caller) (string, any) {
				return "/api/v1/recordings/" + fx.own().live.ID + "/deletion", map[string]string{"reason": "保存期满"}
			}},
		{route: "GET /api/v1/courts/{id}/retention", target: "own", want: [6]int{ua, ok, fb, ok, ok, fb},
			build: func(fx *fixture, _ caller) (string, any) {
				return "/api/v1/courts/" + fx.own().court.ID + "/retention", nil
			}},
		{route: "GET /api/v1/courts/{id}/retention", target: "other", want: [6]int{ua, ok, fb, fb, fb, fb},
			build: func(fx *fixture, _ caller) (string, any) {
				return "/api/v1/courts/" + fx.other().court.ID + "/retention", nil
			}},
		{route: "PUT /api/v1/courts/{id}/retention", target: "own", want: courtOnly(ok),
			build: func(fx *fixture, _ caller) (string, any) {
				return "/api/v1/courts/" + fx.own().court.ID + "/retention", map[string]int{"keep_days": 0}
			}},
		{route: "PUT /api/v1/courts/{id}/retention", target: "other", want: courtOnly(fb),
			build: func(fx *fixture, _ caller) (string, any) {
				return "/api/v1/courts/" + fx.other().court.ID + "/retention", map[string]int{"keep_days": 0}
			}},
	}
}

// accessRole is one caller of TestRecordingAccess.
type accessRole struct {
	name    string
	caller  func(fx *fixture) caller
	user    func(fx *fixture) *chuting.User // nil: anonymous
	sees    bool                            // may list, play and download the side-0 recording
	court   bool                            // a judge or clerk of the hearing's court
	judge   bool
	isToken bool
}

// TestRecordingAccess calls every recording endpoint as every kind of caller: the bureau,
// an institution admin, the appraiser who testified, the hearing's clerk and judge (with a
// browser session), a clerk of another court, a user the court granted access, nobody, and
// the clerk's API token. Only the court and the granted user see the recording; everyone
// else is answered as if there were none; every access allowed is in the audit log with
// the caller, and a file is served with range requests.
func TestRecordingAccess(t *testing.T) {
	fx := newFixture(t)
	own, other := fx.own(), fx.other()
	r := fx.recording(own.hearing)
	h := r.hearing
	grantee := other.users[chuting.RoleInstitutionAdmin] // e.g. counsel's account elsewhere; any user can be granted
	// The clerk grants access through the API.
	clerk := fx.sessionCaller(chuting.RoleClerk)
	res, body := fx.do(clerk, "POST", "/api/v1/recordings/"+h.ID+"/grants",
		map[string]string{"user_id": grantee.ID, "until": time.Now().Add(24 * time.Hour).Format(time.RFC3339), "reason": "二审调阅"})
	if res.StatusCode != cr {
		t.Fatalf("grant: %d %s", res.StatusCode, body)
	}
	var g struct {
		ID     string `json:"id"`
		Active bool   `json:"active"`
	}
	fx.must(json.Unmarshal(body, &g))
	if !g.Active {
		t.Fatalf("grant not active: %s", body)
	}

	token := func(role chuting.Role) func(*fixture) caller {
		return func(fx *fixture) caller { return fx.tokenCaller(role) }
	}
	userOf := func(s *side, role chuting.Role) func(*fixture) *chuting.User {
		return func(*fixture) *chuting.User { return s.users[role] }
	}
	roles := []accessRole{
		{name: "bureau", caller: token(chuting.RoleBureauAdmin), user: userOf(own, chuting.RoleBureauAdmin)},
		{name: "institution admin", caller: token(chuting.RoleInstitutionAdmin), user: userOf(own, chuting.RoleInstitutionAdmin)},
		{name: "appraiser who testified", caller: token(chuting.RoleAppraiser), user: userOf(own, chuting.RoleAppraiser)},
		{name: "clerk", caller: func(*fixture) caller { return clerk }, user: userOf(own, chuting.RoleClerk), sees: true, court: true},
		{name: "judge", caller: func(fx *fixture) caller { return fx.sessionCaller(chuting.RoleJudge) },
			user: userOf(own, chuting.RoleJudge), sees: true, court: true, judge: true},
		{name: "clerk of another court", caller: func(*fixture) caller {
			return caller{role: chuting.RoleClerk, token: other.tokens[chuting.RoleClerk], comment: "other clerk"}
		}, user: userOf(other, chuting.RoleClerk)},
		{name: "granted user", caller: func(*fixture) caller {
			return caller{role: chuting.RoleInstitutionAdmin, token: other.tokens[chuting.RoleInstitutionAdmin], comment: "grantee"}
		}, user: func(*fixture) *chuting.User { return grantee }, sees: true},
		{name: "anonymous", caller: func(*fixture) caller { return caller{comment: "anonymous"} }},
		{name: "API token", caller: token(chuting.RoleClerk), user: userOf(own, chuting.RoleClerk), sees: true, court: true, isToken: true},
	}

	segment := r.manifest.Entries[1]
	file, err := os.ReadFile(filepath.Join(fx.recordings.dir, h.ID, segment.Path))
	fx.must(err)
	manifest, err := os.ReadFile(filepath.Join(fx.recordings.dir, h.ID, "manifest.json"))
	fx.must(err)
	base := "/api/v1/recordings/" + h.ID

	type endpoint struct {
		name, method, route string
		build               func(fx *fixture) (path string, body any, headers map[string]string)
		want                func(a accessRole) int
		check               func(t *testing.T, a accessRole, res *http.Response, body []byte)
	}
	path := func(p string) func(*fixture) (string, any, map[string]string) {
		return func(*fixture) (string, any, map[string]string) { return p, nil, nil }
	}
	seen := func(s int) func(accessRole) int {
		return func(a accessRole) int {
			switch {
			case a.user == nil:
				return ua
			case a.sees:
				return s
			}
			return nf
		}
	}
	// Court-only routes: the role is checked first (403), then the hearing (404 for a court
	// that is not the hearing's).
	courtRoute := func(s int) func(accessRole) int {
		return func(a accessRole) int {
			switch {
			case a.user == nil:
				return ua
			case a.court:
				return s
			case a.name == "clerk of another court":
				return nf
			}
			return fb
		}
	}
	endpoints := []endpoint{
		{name: "List", method: "GET", route: "GET /api/v1/recordings", build: path("/api/v1/recordings"),
			want: func(a accessRole) int { return map[bool]int{true: ua, false: ok}[a.user == nil] },
			check: func(t *testing.T, a accessRole, res *http.Response, body []byte) {
				if got := strings.Contains(string(body), `"`+h.ID+`"`); got != a.sees {
					t.Errorf("listing shows the recording: %v, want %v: %s", got, a.sees, body)
				}
				if strings.Contains(string(body), other.hearing.ID) {
					t.Errorf("listing shows another court's recording: %s", body)
				}
			}},
		{name: "Metadata", method: "GET", route: "GET /api/v1/recordings/{hearing_id}", build: path(base), want: seen(ok),
			check: func(t *testing.T, a accessRole, res *http.Response, body []byte) {
				var v struct {
					RootHash     string `json:"root_hash"`
					Status       string `json:"status"`
					CourtName    string `json:"court_name"`
					Verification struct {
						OK bool `json:"ok"`
					} `json:"verification"`
					Files []struct {
						Name, URL, Kind, SHA256 string
					} `json:"files"`
				}
				fx.must(json.Unmarshal(body, &v))
				if v.RootHash != r.manifest.RootHash || v.Status != "complete" || !v.Verification.OK || v.CourtName != own.court.Name ||
					len(v.Files) != len(r.manifest.Entries) || v.Files[0].Kind != "audio" {
					t.Errorf("metadata = %s", body)
				}
			}},
		{name: "FileRange", method: "GET", route: "GET /api/v1/recordings/{hearing_id}/files/{name}",
			build: func(*fixture) (string, any, map[string]string) {
				return base + "/files/" + url.PathEscape(segment.Path), nil, map[string]string{"Range": "bytes=10-99"}
			},
			want: seen(http.StatusPartialContent),
			check: func(t *testing.T, a accessRole, res *http.Response, body []byte) {
				if cr := res.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes 10-99/%d", len(file)) {
					t.Errorf("Content-Range %q", cr)
				}
				if !bytes.Equal(body, file[10:100]) || res.Header.Get("Content-Type") != "audio/webm" {
					t.Errorf("range body of %d bytes, %s; want the file's bytes 10–99", len(body), res.Header.Get("Content-Type"))
				}
			}},
		{name: "FileWhole", method: "GET", route: "GET /api/v1/recordings/{hearing_id}/files/{name}",
			build: path(base + "/files/" + url.PathEscape(segment.Path)), want: seen(ok),
			check: func(t *testing.T, a accessRole, res *http.Response, body []byte) {
				if cd := res.Header.Get("Content-Disposition"); cd != `inline; filename=`+segment.Path {
					t.Errorf("Content-Disposition %q", cd)
				}
				if !bytes.Equal(body, file) || res.Header.Get("Accept-Ranges") != "bytes" {
					t.Errorf("file of %d bytes (want %d), Accept-Ranges %q", len(body), len(file), res.Header.Get("Accept-Ranges"))
				}
			}},
		{name: "Manifest", method: "GET", route: "GET /api/v1/recordings/{hearing_id}/manifest", build: path(base + "/manifest"),
			want: seen(ok),
			check: func(t *testing.T, a accessRole, res *http.Response, body []byte) {
				if !bytes.Equal(body, manifest) {
					t.Errorf("manifest differs from manifest.json")
				}
			}},
		{name: "Export", method: "GET", route: "GET /api/v1/recordings/{hearing_id}/export", build: path(base + "/export"),
			want: seen(ok),
			check: func(t *testing.T, a accessRole, res *http.Response, body []byte) {
				if ct, cd := res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"); ct != "application/zip" ||
					cd != "attachment; filename=recording-"+h.ID+".zip" {
					t.Errorf("Content-Type %q, Content-Disposition %q", ct, cd)
				}
				zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
				if err != nil {
					t.Fatalf("the package is not a zip: %v", err)
				}
				sub, _ := fs.Sub(zr, h.ID)
				rep, err := recordings.VerifyFS(sub, fx.recordings.key.Public().(ed25519.PublicKey))
				if err != nil || !rep.OK() {
					t.Errorf("the package does not verify: %+v, %v", rep, err)
				}
				if got, _ := fs.ReadFile(sub, "manifest.json"); !bytes.Equal(got, manifest) {
					t.Errorf("the package's manifest differs from manifest.json")
				}
			}},
		{name: "PublicKey", method: "GET", route: "GET /api/v1/recordings/public-key", build: path("/api/v1/recordings/public-key"),
			want: func(accessRole) int { return ok },
			check: func(t *testing.T, a accessRole, res *http.Response, body []byte) {
				want := base64.StdEncoding.EncodeToString(fx.recordings.key.Public().(ed25519.PublicKey))
				if !strings.Contains(string(body), want) || !strings.Contains(string(body), `"Ed25519"`) {
					t.Errorf("public key = %s, want %s", body, want)
				}
			}},
		{name: "Grants", method: "GET", route: "GET /api/v1/recordings/{hearing_id}/grants", build: path(base + "/grants"),
			want: courtRoute(ok)},
		{name: "Grant", method: "POST", route: "POST /api/v1/recordings/{hearing_id}/grants",
			build: func(fx *fixture) (string, any, map[string]string) {
				return base + "/grants", map[string]string{"user_id": other.users[chuting.RoleJudge].ID, "until": "2099-01-01"}, nil
			},
			want: courtRoute(bad), // a grant past a year: the caller got as far as the input
		},
		{name: "Revoke", method: "DELETE", route: "DELETE /api/v1/recordings/{hearing_id}/grants/{id}",
			build: func(fx *fixture) (string, any, map[string]string) {
				g := fx.grant(h, other.users[chuting.RoleJudge], time.Now().Add(time.Hour))
				return base + "/grants/" + g.ID, nil, nil
			},
			want: courtRoute(nc)},
		{name: "Deletion", method: "POST", route: "POST /api/v1/recordings/{hearing_id}/deletion",
			build: func(fx *fixture) (string, any, map[string]string) {
				return base + "/deletion", map[string]string{"reason": "保存期满"}, nil
			},
			// Not expired: even the judge is refused.
			want: func(a accessRole) int {
				switch {
				case a.user == nil:
					return ua
				case a.judge:
					return http.StatusConflict
				}
				return fb
			}},
		{name: "RetentionGet", method: "GET", route: "GET /api/v1/courts/{id}/retention",
			build: path("/api/v1/courts/" + own.court.ID + "/retention"),
			want: func(a accessRole) int {
				switch {
				case a.user == nil:
					return ua
				case a.court || a.name == "bureau":
					return ok
				}
				return fb
			}},
		{name: "RetentionPut", method: "PUT", route: "PUT /api/v1/courts/{id}/retention",
			build: func(*fixture) (string, any, map[string]string) {
				return "/api/v1/courts/" + own.court.ID + "/retention", map[string]int{"keep_days": 0}, nil
			},
			want: func(a accessRole) int {
				switch {
				case a.user == nil:
					return ua
				case a.court:
					return ok
				}
				return fb
			}},
	}

	type access struct {
		requestID, route, actor, via string
		status                       int
	}
	var accesses []access
	for _, ep := range endpoints {
		for _, a := range roles {
			t.Run(ep.name+"/"+a.name, func(t *testing.T) {
				c := a.caller(fx)
				p, body, headers := ep.build(fx)
				res, data := fx.doHeaders(c, ep.method, p, body, headers)
				want := ep.want(a)
				if res.StatusCode != want {
					t.Fatalf("status %d, want %d: %s", res.StatusCode, want, data)
				}
				if res.StatusCode >= 400 {
					errorOf(t, data)
				} else if ep.check != nil {
					ep.check(t, a, res, data)
				}
				if a.user != nil && (ep.method != "GET" || ep.name != "PublicKey" && ep.name != "RetentionGet") && res.StatusCode < 400 {
					via := "session"
					if c.token != "" {
						via = "token"
					}
					accesses = append(accesses, access{res.Header.Get("X-Request-ID"), ep.route, a.user(fx).ID, via, res.StatusCode})
				}
			})
		}
	}

	t.Run("Audit", func(t *testing.T) {
		log := fx.auditEvents()
		if len(accesses) < 30 {
			t.Fatalf("only %d accesses allowed", len(accesses))
		}
		for _, a := range accesses {
			ev, found := log[a.requestID]
			if !found || ev.Action != a.route || ev.ActorID != a.actor || ev.Status != a.status || ev.Via != a.via ||
				ev.Outcome != "ok" || !strings.HasPrefix(ev.Target, "recording") && !strings.HasPrefix(ev.Target, "court") {
				t.Errorf("access %+v: audit %+v (found %v)", a, ev, found)
			}
		}
	})

	t.Run("RevokedGrant", func(t *testing.T) {
		res, data := fx.do(clerk, "DELETE", base+"/grants/"+g.ID, nil)
		if res.StatusCode != nc {
			t.Fatalf("revoke: %d %s", res.StatusCode, data)
		}
		c := caller{role: chuting.RoleInstitutionAdmin, token: other.tokens[chuting.RoleInstitutionAdmin]}
		if res, _ := fx.do(c, "GET", base, nil); res.StatusCode != nf {
			t.Fatalf("after revocation the grantee gets %d, want 404", res.StatusCode)
		}
		if _, data := fx.do(c, "GET", "/api/v1/recordings", nil); strings.Contains(string(data), h.ID) {
			t.Fatalf("after revocation the grantee's listing shows it: %s", data)
		}
	})

	t.Run("ExpiredGrant", func(t *testing.T) {
		u := other.users[chuting.RoleAppraiser]
		fx.grant(h, u, time.Now().Add(-time.Minute))
		c := caller{role: chuting.RoleAppraiser, token: other.tokens[chuting.RoleAppraiser]}
		if res, _ := fx.do(c, "GET", base+"/manifest", nil); res.StatusCode != nf {
			t.Fatalf("an expired grant gets %d, want 404", res.StatusCode)
		}
	})
}

// TestRecordingFiles shows that only the files a recording lists are served, whatever the
// name, and that an unknown hearing and a hearing without a recording look the same.
func TestRecordingFiles(t *testing.T) {
	fx := newFixture(t)
	r := fx.recording(fx.own().hearing)
	clerk := fx.tokenCaller(chuting.RoleClerk)
	base := "/api/v1/recordings/" + r.hearing.ID
	undocumented := map[string]string{"X-Test-Undocumented": "1"} // malformed paths the document does not describe
	for _, name := range []string{"journal.jsonl", "events.json", "manifest.json", "..%2fmanifest.json", "..%2f..%2fchuting.db",
		"%2e%2e", url.PathEscape(r.manifest.Entries[0].Path) + ".partial", "s1-x-00001.webm"} {
		res, data := fx.doHeaders(clerk, "GET", base+"/files/"+name, nil, undocumented)
		if res.StatusCode != nf {
			t.Errorf("file %q: %d, want 404: %.200s", name, res.StatusCode, data)
		}
	}
	for _, p := range []string{"/api/v1/recordings/" + chuting.NewID(), "/api/v1/recordings/" + fx.own().live.ID,
		"/api/v1/recordings/" + fx.own().live.ID + "/manifest"} {
		res, data := fx.do(clerk, "GET", p, nil)
		if res.StatusCode != nf || errorOf(t, data).Message != errorOf(t, mustGet(t, fx, caller{role: chuting.RoleClerk,
			token: fx.other().tokens[chuting.RoleClerk]}, base)).Message {
			t.Errorf("%s: %d %s; want the answer another court gets for an existing recording", p, res.StatusCode, data)
		}
	}
	res, data := fx.doHeaders(clerk, "GET", "/api/v1/recordings/not-an-id", nil, undocumented)
	if res.StatusCode != bad || errorOf(t, data).Field != "hearing_id" {
		t.Errorf("malformed hearing ID: %d %s", res.StatusCode, data)
	}
}

func mustGet(t *testing.T, fx *fixture, c caller, path string) []byte {
	t.Helper()
	_, data := fx.do(c, "GET", path, nil)
	return data
}

// TestRecordingSearch searches the archive by case number, court, appraiser and date.
func TestRecordingSearch(t *testing.T) {
	fx := newFixture(t)
	own := fx.own()
	r := fx.recording(own.hearing)
	judge := fx.tokenCaller(chuting.RoleJudge)
	today := time.Now().In(chuting.ChinaZone()).Format(time.DateOnly)
	tomorrow := time.Now().In(chuting.ChinaZone()).AddDate(0, 0, 1).Format(time.DateOnly)
	tests := []struct {
		name  string
		query string
		found bool
	}{
		{"OKAll", "", true},
		{"OKCaseNoPart", "case_no=" + url.QueryEscape("民初1"), true},
		{"OKCaseNoOther", "case_no=" + url.QueryEscape("刑初"), false},
		{"OKCourt", "court_id=" + own.court.ID, true},
		{"OKOtherCourt", "court_id=" + fx.other().court.ID, false},
		{"OKAppraiser", "appraiser_id=" + own.appraiser.ID, true},
		{"OKOtherAppraiser", "appraiser_id=" + fx.other().appraiser.ID, false},
		{"OKToday", "from=" + today + "&to=" + today, true},
		{"OKFromTomorrow", "from=" + tomorrow, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, data := fx.do(judge, "GET", "/api/v1/recordings?"+tc.query, nil)
			if res.StatusCode != ok {
				t.Fatalf("%d %s", res.StatusCode, data)
			}
			var v struct {
				Items []struct {
					HearingID  string `json:"hearing_id"`
					CaseNo     string `json:"case_no"`
					Files      int    `json:"files"`
					Appraisers []struct{ ID, Name string }
				} `json:"items"`
			}
			fx.must(json.Unmarshal(data, &v))
			if got := len(v.Items) == 1 && v.Items[0].HearingID == r.hearing.ID; got != tc.found {
				t.Fatalf("found %v, want %v: %s", got, tc.found, data)
			}
			if tc.found && (v.Items[0].CaseNo != own.summons.CaseNo || v.Items[0].Files != len(r.manifest.Entries) ||
				len(v.Items[0].Appraisers) != 1 || v.Items[0].Appraisers[0].Name != own.appraiser.Name) {
				t.Fatalf("item = %s", data)
			}
		})
	}
	for _, tc := range []struct{ query, field string }{
		{"from=2026-13-01", "from"}, {"to=x", "to"}, {"from=2026-02-02&to=2026-02-01", "to"},
		{"court_id=x", "court_id"}, {"appraiser_id=../x", "appraiser_id"},
		{"limit=abc", "limit"}, {"limit=0", "limit"}, {"after=zzz", "after"}, {"court=" + own.court.ID, "court"},
	} {
		t.Run("ErrInvalid/"+tc.field, func(t *testing.T) {
			res, data := fx.doHeaders(judge, "GET", "/api/v1/recordings?"+tc.query, nil, map[string]string{"X-Test-Undocumented": "1"})
			if res.StatusCode != bad || errorOf(t, data).Field != tc.field {
				t.Fatalf("%s: %d %s, want 400 naming %s", tc.query, res.StatusCode, data, tc.field)
			}
		})
	}
}

// TestRecordingSearchPages: the archive search pages like every listing (limit, after, next).
func TestRecordingSearchPages(t *testing.T) {
	fx := newFixture(t)
	own := fx.own()
	want := []string{fx.recording(own.hearing).hearing.ID, fx.recording(own.live).hearing.ID}
	judge := fx.tokenCaller(chuting.RoleJudge)
	var got []string
	next := ""
	for page := 0; page < 3; page++ {
		res, data := fx.do(judge, "GET", "/api/v1/recordings?limit=1&after="+next, nil)
		if res.StatusCode != ok {
			t.Fatalf("%d %s", res.StatusCode, data)
		}
		var v struct {
			Items []struct {
				HearingID string `json:"hearing_id"`
			} `json:"items"`
			Next string `json:"next"`
		}
		fx.must(json.Unmarshal(data, &v))
		if len(v.Items) != 1 {
			t.Fatalf("page %d holds %d items, want 1: %s", page, len(v.Items), data)
		}
		got = append(got, v.Items[0].HearingID)
		if next = v.Next; next == "" {
			break
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("pages gave %v, want %v", got, want)
	}
}

// TestRecordingGrantInput checks the grant's input, field by field.
func TestRecordingGrantInput(t *testing.T) {
	fx := newFixture(t)
	h := fx.own().hearing
	clerk := fx.tokenCaller(chuting.RoleClerk)
	user := fx.other().users[chuting.RoleJudge].ID
	soon := time.Now().Add(time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		name  string
		body  map[string]string
		field string
	}{
		{"NoUser", map[string]string{"until": soon}, "user_id"},
		{"UnknownUser", map[string]string{"user_id": chuting.NewID(), "until": soon}, "user_id"},
		{"NoUntil", map[string]string{"user_id": user}, "until"},
		{"BadUntil", map[string]string{"user_id": user, "until": "next week"}, "until"},
		{"PastUntil", map[string]string{"user_id": user, "until": "2020-01-01"}, "until"},
		{"TooLong", map[string]string{"user_id": user, "until": time.Now().AddDate(2, 0, 0).Format(time.RFC3339)}, "until"},
		{"LongReason", map[string]string{"user_id": user, "until": soon, "reason": strings.Repeat("理", 501)}, "reason"},
	} {
		t.Run("ErrInvalid/"+tc.name, func(t *testing.T) {
			res, data := fx.do(clerk, "POST", "/api/v1/recordings/"+h.ID+"/grants", tc.body)
			if res.StatusCode != bad || errorOf(t, data).Field != tc.field {
				t.Fatalf("%d %s, want 400 naming %s", res.StatusCode, data, tc.field)
			}
		})
	}
	t.Run("OKDate", func(t *testing.T) {
		day := time.Now().In(chuting.ChinaZone()).AddDate(0, 0, 3)
		res, data := fx.do(clerk, "POST", "/api/v1/recordings/"+h.ID+"/grants",
			map[string]string{"user_id": user, "until": day.Format(time.DateOnly)})
		var g struct {
			Until time.Time `json:"until"`
		}
		fx.must(json.Unmarshal(data, &g))
		want := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, chuting.ChinaZone())
		if res.StatusCode != cr || !g.Until.Equal(want) {
			t.Fatalf("%d %s; want until %v (the end of the day in the court's zone)", res.StatusCode, data, want)
		}
		res, data = fx.do(clerk, "GET", "/api/v1/recordings/"+h.ID+"/grants", nil)
		if res.StatusCode != ok || !strings.Contains(string(data), user) {
			t.Fatalf("grants: %d %s", res.StatusCode, data)
		}
	})
}

// TestRecordingRetention runs the retention policy end to end: the court sets a keeping
// period, the job marks the expired recording due, a judge approves its deletion with a
// reason, and it is gone from the archive, with the approval audited.
func TestRecordingRetention(t *testing.T) {
	fx := newFixture(t)
	own := fx.own()
	r := fx.recording(own.hearing)
	ctx := context.Background()
	clerk, judge := fx.tokenCaller(chuting.RoleClerk), fx.tokenCaller(chuting.RoleJudge)
	courtPath := "/api/v1/courts/" + own.court.ID + "/retention"
	base := "/api/v1/recordings/" + r.hearing.ID

	if res, data := fx.do(clerk, "PUT", courtPath, map[string]int{"keep_days": -1}); res.StatusCode != bad || errorOf(t, data).Field != "keep_days" {
		t.Fatalf("keep_days -1: %d %s", res.StatusCode, data)
	}
	if res, data := fx.do(clerk, "PUT", courtPath, map[string]any{}); res.StatusCode != bad || errorOf(t, data).Field != "keep_days" {
		t.Fatalf("no keep_days: %d %s", res.StatusCode, data)
	}
	if res, data := fx.do(clerk, "PUT", courtPath, map[string]int{"keep_days": 30}); res.StatusCode != ok ||
		!strings.Contains(string(data), `"keep_days":30`) {
		t.Fatalf("set keep_days: %d %s", res.StatusCode, data)
	}
	// The court's own record keeps the policy through an edit of the court.
	res, data := fx.do(fx.tokenCaller(chuting.RoleBureauAdmin), "GET", "/api/v1/courts/"+own.court.ID, nil)
	if res.StatusCode != ok || !strings.Contains(string(data), `"recording_keep_days":30`) {
		t.Fatalf("court: %s", data)
	}

	// Not yet expired: the job marks nothing and the judge cannot delete it.
	if n, err := fx.recordings.archive.MarkDue(ctx); err != nil || n != 0 {
		t.Fatalf("MarkDue = %d, %v", n, err)
	}
	if res, data := fx.do(judge, "POST", base+"/deletion", map[string]string{"reason": "保存期满"}); res.StatusCode != http.StatusConflict {
		t.Fatalf("deleting a recording not expired: %d %s", res.StatusCode, data)
	}

	fx.advance(31 * 24 * time.Hour)
	if n, err := fx.recordings.archive.MarkDue(ctx); err != nil || n != 1 {
		t.Fatalf("MarkDue after 31 days = %d, %v", n, err)
	}
	res, data = fx.do(clerk, "GET", courtPath, nil)
	if res.StatusCode != ok || !strings.Contains(string(data), r.hearing.ID) || !strings.Contains(string(data), `"state":"due"`) {
		t.Fatalf("retention: %s", data)
	}
	if res, data := fx.do(clerk, "POST", base+"/deletion", map[string]string{"reason": "保存期满"}); res.StatusCode != fb {
		t.Fatalf("a clerk approving a deletion: %d %s", res.StatusCode, data)
	}
	if res, data := fx.do(judge, "POST", base+"/deletion", map[string]string{"reason": " "}); res.StatusCode != bad ||
		errorOf(t, data).Field != "reason" {
		t.Fatalf("no reason: %d %s", res.StatusCode, data)
	}
	if _, err := os.Stat(filepath.Join(fx.recordings.dir, r.hearing.ID)); err != nil {
		t.Fatalf("refused deletions deleted something: %v", err)
	}
	res, data = fx.do(judge, "POST", base+"/deletion", map[string]string{"reason": "保存期满，经审批删除"})
	if res.StatusCode != ok || !strings.Contains(string(data), `"state":"deleted"`) || !strings.Contains(string(data), r.manifest.RootHash) {
		t.Fatalf("deletion: %d %s", res.StatusCode, data)
	}
	if _, err := os.Stat(filepath.Join(fx.recordings.dir, r.hearing.ID)); !os.IsNotExist(err) {
		t.Fatalf("the folder is still there: %v", err)
	}
	res, _ = fx.do(judge, "GET", base, nil)
	if res.StatusCode != nf {
		t.Fatalf("a deleted recording: %d, want 404", res.StatusCode)
	}
	ev, found := fx.auditEvents()[res.Header.Get("X-Request-ID")]
	if !found || ev.Action != "GET /api/v1/recordings/{hearing_id}" {
		t.Fatalf("the refused read is not audited: %+v", ev)
	}
	var deletion *chuting.AuditEvent
	for _, ev := range fx.auditEvents() {
		if ev.Action == "POST /api/v1/recordings/{hearing_id}/deletion" && ev.Status == ok {
			deletion = &ev
		}
	}
	if deletion == nil || deletion.ActorID != own.users[chuting.RoleJudge].ID || deletion.Target != "recording:"+r.hearing.ID {
		t.Fatalf("the approved deletion is not audited: %+v", deletion)
	}
	d, err := chuting.FindOne[chuting.RecordingDisposal](ctx, fx.store, chuting.IndexHearing, r.hearing.ID)
	if err != nil || d.ApprovedBy != own.users[chuting.RoleJudge].ID || d.Reason != "保存期满，经审批删除" {
		t.Fatalf("disposal record = %+v, %v", d, err)
	}
}
