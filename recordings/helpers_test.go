package recordings_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/bbolt"
	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/recordings/recordingstest"
	"github.com/chuting/chuting/signaling"
)

// env is a Recorder over a real bbolt store in a temporary folder.
type env struct {
	cfg   recordings.Config
	store *bbolt.Store
	rec   *recordings.Recorder
	pub   ed25519.PublicKey
}

func mustEnv(tb testing.TB) *env {
	tb.Helper()
	s, err := bbolt.Open(filepath.Join(tb.TempDir(), "chuting.db"), bbolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := recordings.Config{Dir: filepath.Join(tb.TempDir(), "recordings"), Records: s, Logs: s, Key: key,
		Node: "node-1", Logger: slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	rec, err := recordings.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{cfg: cfg, store: s, rec: rec, pub: pub}
}

// hearing stores a hearing with its summons, and the attendance events of its start.
func (e *env) hearing(tb testing.TB) *chuting.Hearing {
	tb.Helper()
	ctx := context.Background()
	sm := &chuting.Summons{CourtID: "court-1", CaseNo: "(2026)赣07民初123号", CaseType: chuting.CaseTypeCivil,
		Mode: chuting.ModeRemote, State: chuting.SummonsScheduled}
	if err := chuting.Create(ctx, e.store, sm); err != nil {
		tb.Fatal(err)
	}
	start := time.Now().Truncate(time.Second)
	h := &chuting.Hearing{SummonsID: sm.ID, CourtID: "court-1", Mode: chuting.ModeRemote, Start: start,
		End: start.Add(time.Hour)}
	if err := chuting.Create(ctx, e.store, h); err != nil {
		tb.Fatal(err)
	}
	e.event(tb, h, chuting.AttendanceHearingStarted, "")
	e.event(tb, h, chuting.AttendanceRecordingStarted, "")
	return h
}

// event appends an attendance event to the hearing's log, as the room does.
func (e *env) event(tb testing.TB, h *chuting.Hearing, typ, reason string) {
	tb.Helper()
	a := chuting.AttendanceEvent{HearingID: h.ID, Type: typ, Reason: reason, Time: time.Now().UTC()}
	data, err := json.Marshal(a)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := e.store.Append(context.Background(), chuting.HearingStream(h.ID), chuting.Event{Time: a.Time,
		Type: typ, Data: data}); err != nil {
		tb.Fatal(err)
	}
}

// close ends a recording as the room does: the stop in the attendance log, then Close.
func (e *env) close(tb testing.TB, h *chuting.Hearing, rec signaling.Recording) {
	tb.Helper()
	e.event(tb, h, chuting.AttendanceRecordingStopped, "")
	if err := rec.Close(); err != nil {
		tb.Fatal(err)
	}
}

// dir is the hearing's recording folder.
func (e *env) dir(h *chuting.Hearing) string { return filepath.Join(e.cfg.Dir, h.ID) }

// crashedAt records h from m, the feed's first packets arriving at start (zero: now), until
// stop into the media, and returns the hearing's folder copied as a kill -9 then leaves it,
// and the feed; the live recording is then finished and the manifest that finishing stored
// forgotten (crashCopy).
func (e *env) crashedAt(tb testing.TB, h *chuting.Hearing, m *recordingstest.Media, start time.Time,
	stop time.Duration) (string, recordingstest.Fed) {
	tb.Helper()
	rec, err := e.rec.Record(context.Background(), h)
	if err != nil {
		tb.Fatal(err)
	}
	fed := recordingstest.Feed(tb, rec, m, recordingstest.FeedOptions{Start: start,
		Stop: func(d time.Duration) bool { return d >= stop }})
	time.Sleep(50 * time.Millisecond) // let ebml-go write the last frames it was handed
	crashed := copyDir(tb, e.dir(h))
	_ = fed.Video.Close() // finish the live recording, so that nothing is left running
	_ = fed.Audio.Close()
	e.crashCopy(tb, h, rec)
	return crashed, fed
}

// mustVerify fails the test unless the recording folder dir verifies with the env's key;
// when names the moment in the message.
func (e *env) mustVerify(tb testing.TB, dir, when string) {
	tb.Helper()
	rep, err := recordings.Verify(dir, e.pub)
	if err != nil {
		tb.Fatal(err)
	}
	if !rep.OK() {
		tb.Fatalf("%s: %v", when, rep.Problems)
	}
}

// crashCopy finishes a live recording whose folder was copied to crashed mid-recording (what
// a kill -9 leaves), and forgets the manifest that finishing stored: the copy is the one
// whose recording was cut off, which no manifest in the store has covered yet.
func (e *env) crashCopy(tb testing.TB, h *chuting.Hearing, rec signaling.Recording) {
	tb.Helper()
	e.close(tb, h, rec)
	m, err := chuting.FindOne[chuting.RecordingManifest](context.Background(), e.store, chuting.IndexHearing, h.ID)
	if err != nil {
		tb.Fatal(err)
	}
	if err := chuting.Remove(context.Background(), e.store, m); err != nil {
		tb.Fatal(err)
	}
}

// files lists the names in dir, sorted.
func files(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// copyDir copies a folder's files (one level) to a new temporary folder named like it.
func copyDir(tb testing.TB, src string) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), filepath.Base(src))
	if err := os.MkdirAll(dst, 0o700); err != nil {
		tb.Fatal(err)
	}
	for _, name := range files(tb, src) {
		in, err := os.Open(filepath.Join(src, name))
		if err != nil {
			tb.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, name))
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			tb.Fatal(err)
		}
		_ = in.Close()
		if err := out.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return dst
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
