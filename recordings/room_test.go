package recordings_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/recordings/recordingstest"
	"github.com/chuting/chuting/signaling"
)

// room is a real signaling.Server with the env's Recorder, on an httptest server.
type room struct {
	srv  *signaling.Server
	http *httptest.Server
}

func mustRoom(tb testing.TB, e *env, recorder signaling.Recorder) *room {
	tb.Helper()
	cfg := signaling.Config{Records: e.store, Logs: e.store,
		Tokens: signaling.NewTokens([]byte("0123456789abcdef0123456789abcdef"), nil),
		WebRTC: signaling.LoopbackOnly(), Node: "node-1", Recorder: recorder,
		Logger: slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	srv, err := signaling.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/hearings/{id}/room", srv)
	hs := httptest.NewServer(mux)
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Errorf("close the rooms: %v", err)
		}
		hs.Close()
	})
	return &room{srv: srv, http: hs}
}

// openHearing stores a hearing whose room is open now (it starts in 10 minutes).
func (e *env) openHearing(tb testing.TB) *chuting.Hearing {
	tb.Helper()
	start := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	h := &chuting.Hearing{SummonsID: "none", CourtID: "court-1", Mode: chuting.ModeRemote, Start: start, End: start.Add(time.Hour)}
	if err := chuting.Create(context.Background(), e.store, h); err != nil {
		tb.Fatal(err)
	}
	return h
}

// join joins the hearing's room as name with role.
func (r *room) join(tb testing.TB, h *chuting.Hearing, subject, name string, role signaling.Role) *recordingstest.Publisher {
	tb.Helper()
	tok, err := r.srv.JoinToken(context.Background(), h.ID, subject, name, role)
	if err != nil {
		tb.Fatal(err)
	}
	url := "ws" + strings.TrimPrefix(r.http.URL, "http") + "/api/v1/hearings/" + h.ID + "/room"
	return recordingstest.Join(tb, url, tok)
}

// TestRoomRecording runs a real room over a real store: a judge and a clerk (pion clients)
// publish real VP8 and Opus media; the judge starts the hearing, which starts the recording,
// and ends it 20 s later. Each participant's audio and video segments play (ffprobe decodes
// every frame) and last 20 s ± 1 s in all; each participant's audio and video start within
// 100 ms of each other on the hearing clock; the manifest verifies and its events file has
// the recording's start and stop.
func TestRoomRecording(t *testing.T) {
	recordingstest.CheckLeaks(t)
	m := recordingstest.MakeMedia(t, recordingstest.MediaOptions{Seconds: 10})
	e := mustEnv(t)
	h := e.openHearing(t)
	r := mustRoom(t, e, e.rec)
	judge := r.join(t, h, "judge-1", "王法官", signaling.RoleJudge)
	clerk := r.join(t, h, "clerk-1", "书记员", signaling.RoleClerk)
	judge.Publish(m)
	clerk.Publish(m)
	if code, err := judge.Moderate(signaling.ActionStart, ""); err != nil || code != "" {
		t.Fatalf("start: %v %s", err, code)
	}
	started := time.Now()
	time.Sleep(20 * time.Second)
	if code, err := judge.Moderate(signaling.ActionEnd, ""); err != nil || code != "" {
		t.Fatalf("end: %v %s", err, code)
	}
	ended := time.Now()
	dir := e.dir(h)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no manifest 15 s after the end: %v", files(t, dir))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("recording closed %v after the end", time.Since(ended).Round(time.Millisecond))
	man, _, err := recordings.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]map[string]string{} // participant → kind → track
	for _, en := range man.Entries {
		if parts[en.Participant] == nil {
			parts[en.Participant] = map[string]string{}
		}
		parts[en.Participant][en.Kind] = en.Track
	}
	if len(parts) != 2 || parts[judge.ID()] == nil || parts[clerk.ID()] == nil {
		t.Fatalf("recorded participants %v, want the judge %s and the clerk %s", parts, judge.ID(), clerk.ID())
	}
	for p, kinds := range parts {
		v := checkTrack(t, dir, man, kinds["video"], "vp8", 20*time.Second)
		a := checkTrack(t, dir, man, kinds["audio"], "opus", 20*time.Second)
		d := v.Sub(a)
		t.Logf("%s: audio starts %v after the start, video %v after the audio", p, a.Sub(started).Round(time.Millisecond),
			d.Round(time.Millisecond))
		if d.Abs() > 100*time.Millisecond {
			t.Errorf("%s: audio and video start %v apart on the hearing clock, want within 100 ms", p, d)
		}
	}
	rep, err := recordings.Verify(dir, e.pub)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
	events, err := os.ReadFile(filepath.Join(dir, "events.json"))
	if err != nil || !bytes.Contains(events, []byte(chuting.AttendanceRecordingStarted)) ||
		!bytes.Contains(events, []byte(chuting.AttendanceRecordingStopped)) {
		t.Fatalf("events.json lacks the recording's start or stop: %v %s", err, events)
	}
	t.Logf("%d files, root hash %s; keyframes asked of the judge %d, of the clerk %d", rep.Files, rep.RootHash,
		judge.Keyframes(), clerk.Keyframes())
}
