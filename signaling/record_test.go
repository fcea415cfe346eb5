package signaling

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/pion/rtp"
)

// memRecorder is a Recorder that keeps what the room feeds it in memory: the room's side of
// recording is under test here; package recordings tests the files.
type memRecorder struct {
	mu      sync.Mutex
	started []string // hearing IDs
	tracks  []*memTrack
	closed  bool
}

type memTrack struct {
	info    RecordedTrack
	mu      sync.Mutex
	packets int
	last    time.Time
	closed  bool
	late    bool // written after Close
}

func (m *memRecorder) Record(_ context.Context, h *chuting.Hearing) (Recording, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.started = append(m.started, h.ID)
	return m, nil
}

func (m *memRecorder) Track(t RecordedTrack) (TrackRecorder, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tr := &memTrack{info: t}
	m.tracks = append(m.tracks, tr)
	return tr, nil
}

func (m *memRecorder) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func (t *memTrack) WriteRTP(at time.Time, _ *rtp.Header, _ []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		t.late = true
	}
	t.packets++
	t.last = at
	return nil
}

func (t *memTrack) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	return nil
}

// counts returns the packets recorded so far, by participant name and track kind.
func (m *memRecorder) counts() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for _, t := range m.tracks {
		t.mu.Lock()
		out[t.info.Name+"/"+t.info.Kind.String()] += t.packets
		t.mu.Unlock()
	}
	return out
}

// TestRecording checks the room's side of recording (#29): nothing before the judge starts
// the hearing; then every participant's audio and video, the judge's too; a pause only for
// an allowed reason, during which nothing is recorded; resume; and at the end every track and
// the recording closed, with each step in the attendance log.
func TestRecording(t *testing.T) {
	rec := &memRecorder{}
	e := MustEnv(t, func(c *Config) { c.Recorder = rec })
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	judge.publish(true)
	counsel.publish(true)
	eventually(t, 5*time.Second, "counsel to get the judge's video", func() bool {
		_, v := counsel.got(judge.id())
		return v > 0
	})
	if n := len(rec.counts()); n != 0 || len(rec.started) != 0 {
		t.Fatalf("recorded before the hearing started: %v", rec.counts())
	}

	if code := judge.moderate(ActionStart, ""); code != "" {
		t.Fatal(code)
	}
	// Counsel speaks with leave (#20): the record has what the hearing hears.
	if code := judge.moderate(ActionGrantFloor, counsel.id()); code != "" {
		t.Fatal(code)
	}
	want := []string{"王法官/audio", "王法官/video", "赵律师/audio", "赵律师/video"}
	eventually(t, 5*time.Second, "every track recorded", func() bool {
		c := rec.counts()
		for _, k := range want {
			if c[k] < 5 {
				return false
			}
		}
		return true
	})
	judge.wait(TypeHearing, func(m srvMsg) bool { return m.Hearing != nil && m.Hearing.Recording })

	id := "pause-" + randomID(4)
	judge.send(Message{Type: TypeModerate, ID: id, Action: ActionPause, Reason: "lunch"})
	if code := judge.result(id); code != CodeBadField {
		t.Fatalf("pause for a reason the rules do not allow: %q, want %s", code, CodeBadField)
	}
	id = "pause-" + randomID(4)
	counsel.send(Message{Type: TypeModerate, ID: id, Action: ActionPause, Reason: PauseRecess})
	if code := counsel.result(id); code != CodeForbidden {
		t.Fatalf("counsel paused the recording: %q", code)
	}
	id = "pause-" + randomID(4)
	judge.send(Message{Type: TypeModerate, ID: id, Action: ActionPause, Reason: PauseRecess})
	if code := judge.result(id); code != "" {
		t.Fatal(code)
	}
	judge.wait(TypeHearing, func(m srvMsg) bool { return m.Hearing != nil && m.Hearing.Paused == PauseRecess })
	time.Sleep(200 * time.Millisecond) // packets already queued drain
	paused := rec.counts()
	time.Sleep(time.Second)
	if after := rec.counts(); !maps.Equal(after, paused) {
		t.Fatalf("recorded while paused: %v, then %v", paused, after)
	}
	if code := judge.moderate(ActionResume, ""); code != "" {
		t.Fatal(code)
	}
	eventually(t, 5*time.Second, "recording to resume", func() bool {
		c := rec.counts()
		return c["赵律师/video"] > paused["赵律师/video"] && c["王法官/audio"] > paused["王法官/audio"]
	})

	if code := judge.moderate(ActionEnd, ""); code != "" {
		t.Fatal(code)
	}
	eventually(t, 5*time.Second, "the recording to close", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.closed
	})
	rec.mu.Lock()
	for _, tr := range rec.tracks {
		if !tr.closed || tr.late {
			t.Errorf("track %+v: closed %v, written after close %v", tr.info, tr.closed, tr.late)
		}
	}
	rec.mu.Unlock()
	wantLog := []string{chuting.AttendanceRecordingStarted + ":", chuting.AttendanceRecordingPaused + ":" + PauseRecess,
		chuting.AttendanceRecordingResumed + ":", chuting.AttendanceRecordingStopped + ":"}
	var types []string
	eventually(t, 5*time.Second, "the log written out", func() bool {
		types = nil
		for _, a := range e.attendance(t) {
			if strings.HasPrefix(a.Type, "recording_") {
				types = append(types, a.Type+":"+a.Reason)
			}
		}
		return len(types) >= len(wantLog)
	})
	if !slices.Equal(types, wantLog) {
		t.Fatalf("log %v, want %v", types, wantLog)
	}
}
