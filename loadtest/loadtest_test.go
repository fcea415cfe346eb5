package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// needFFmpeg skips a test without ffmpeg, or fails it when CHUTING_REQUIRE_FFPROBE=1 (the
// test command installs ffmpeg and sets it, so that CI cannot skip silently).
func needFFmpeg(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CHUTING_REQUIRE_FFPROBE") == "1" {
			tb.Fatal("ffmpeg is not installed and CHUTING_REQUIRE_FFPROBE=1")
		}
		tb.Skip("ffmpeg is not installed")
	}
}

// MustBinary builds the chuting binary into a temporary folder: the short run loads the real
// server as a separate process, as `chuting loadtest --spawn` does, so that its CPU time and
// RSS are the server's alone.
func MustBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "chuting")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/chuting/chuting/cmd/chuting")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestShortRun is the short run of the issue: one room of three (judge, clerk, appraiser),
// 5 s measured, through the command line as people run it: `chuting loadtest --spawn`, which
// starts its own executable as the server (the default --binary).
func TestShortRun(t *testing.T) {
	needFFmpeg(t)
	bin := MustBinary(t)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "loadtest", "--spawn", "--rooms", "1", "--per-room", "3",
		"--duration", "5s", "--tracks")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("stderr:\n%s", stderr.String())
	t.Logf("stdout:\n%s", stdout.String())
	if err != nil {
		t.Fatalf("chuting loadtest: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var r Result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("the last line is not the JSON result: %v", err)
	}
	if !strings.Contains(stdout.String(), "join → first video packet") {
		t.Error("no table before the JSON line")
	}
	switch {
	case r.Joined != 3 || len(r.Errors) > 0:
		t.Errorf("joined %d of 3; errors %q", r.Joined, r.Errors)
	case len(r.Tracks) != 6:
		t.Errorf("%d tracks, want 6 (3 publishers, audio and video)", len(r.Tracks))
	case r.Window < 4.5:
		t.Errorf("window %.1f s, want 5", r.Window)
	case r.Video.Expected < 2*2*100 || r.Audio.Expected < 2*2*200:
		t.Errorf("expected only %d video and %d audio packets in 5 s", r.Video.Expected, r.Audio.Expected)
	case r.Leaked != 0:
		t.Errorf("%d packets of held-back audio arrived", r.Leaked)
	case r.JoinToVideo.Missing > 0 || r.JoinToVideo.N != 6:
		t.Errorf("join to first video: %+v", r.JoinToVideo)
	case r.ForwardedPPS <= 0 || r.ServerCPU <= 0 || r.ServerPeakRSS <= 0 || r.CPUPerPacket <= 0 || r.ToolCPU <= 0:
		t.Errorf("figures missing: %+v", r)
	case r.UDPDatagrams <= 0 || r.UDPDatagrams >= 1 || r.UDPSegmented <= 0:
		t.Errorf("server's UDP sends: %.2f datagrams per packet, %.2f segmented; want frames in fewer datagrams",
			r.UDPDatagrams, r.UDPSegmented)
	case r.OwnSRTP < 0.99: // every subscriber connection is up over UDP during the window
		t.Errorf("the server encrypted %.1f %% of the packets it forwarded, want all", 100*r.OwnSRTP)
	case r.OwnSRTPReadPPS < 0.9*r.ForwardedPPS/2: // each packet read goes to the two others
		t.Errorf("the server decrypted %.0f packets/s itself, forwarded %.0f/s to two subscribers each",
			r.OwnSRTPReadPPS, r.ForwardedPPS)
	case r.OwnSRTCPReadPPS < 3*10: // three subscribers' transport-wide feedback, 10 a second each
		t.Errorf("the server decrypted %.1f of its subscribers' RTCP packets/s itself", r.OwnSRTCPReadPPS)
	case r.OwnSRTCPSentPPS < 3*8: // the feedback to three publishers, 10 a second each (receiver reports: 1)
		t.Errorf("the server encrypted %.1f RTCP packets/s to its publishers itself", r.OwnSRTCPSentPPS)
	case r.ServerProcs[0] < 1 || r.ServerProcs[1] < 1 || r.ServerProcs[1] > runtime.NumCPU():
		t.Errorf("the server ran on %v processors, on a machine of %d CPUs", r.ServerProcs, runtime.NumCPU())
	}
	// Loss is measured on a machine that other tests share: only gross loss fails.
	if r.Total.Loss > 5 {
		t.Errorf("loss %.2f %% in a room of three", r.Total.Loss)
	}
	for _, tr := range r.Tracks {
		if tr.Subscribers != 2 || !tr.Forwarded || tr.Expected == 0 {
			t.Errorf("track %+v", tr)
		}
	}
}

func TestSeed(t *testing.T) {
	dir := t.TempDir()
	w, err := Seed(context.Background(), dir, 3, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Seed(context.Background(), dir, 1, time.Now().Add(time.Second)); err != nil {
		t.Fatalf("a second world in the same store: %v", err)
	}
	r, err := ReadWorld(filepath.Join(dir, WorldFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Hearings) != 3 || len(r.Hearings) != 1 {
		t.Fatalf("hearings %d and %d, want 3 and 1", len(w.Hearings), len(r.Hearings))
	}
	for _, h := range w.Hearings {
		if h.ID == "" || !strings.HasPrefix(h.JudgeToken, "cht_") || !strings.HasPrefix(h.ClerkToken, "cht_") ||
			!strings.HasPrefix(h.AppraiserToken, "cht_") || time.Until(h.Start) > 30*time.Minute {
			t.Errorf("hearing %+v", h)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, WorldFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("world file: %v %v", fi.Mode(), err)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"OK", Config{Spawn: true}, true},
		{"Server", Config{Server: "http://127.0.0.1:8080", WorldFile: "w.json"}, true},
		{"Localhost", Config{Server: "http://localhost:8080", WorldFile: "w.json"}, true},
		{"ErrNotLoopback", Config{Server: "http://192.0.2.1:8080", WorldFile: "w.json"}, false},
		{"ErrName", Config{Server: "http://court.example", WorldFile: "w.json"}, false},
		{"ErrNoWorld", Config{Server: "http://127.0.0.1:8080"}, false},
		{"ErrBoth", Config{Spawn: true, Server: "http://127.0.0.1:8080", WorldFile: "w.json"}, false},
		{"ErrNeither", Config{}, false},
		{"ErrOneParticipant", Config{Spawn: true, PerRoom: 1}, false},
		{"ErrBitrate", Config{Spawn: true, Bitrate: 50}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.defaults()
			if (err == nil) != tc.ok {
				t.Fatalf("defaults() = %v, want ok %v", err, tc.ok)
			}
		})
	}
	if _, err := Run(context.Background(), Config{Spawn: true, Duration: time.Hour}); err == nil {
		t.Error("an hour-long run at 1.5 Mb/s overflows the sequence numbers; want an error")
	}
}

func TestParseBitrate(t *testing.T) {
	for in, want := range map[string]int{"1.5M": 1_500_000, "800k": 800_000, "2000000": 2_000_000, "1m": 1_000_000} {
		if got, err := ParseBitrate(in); err != nil || got != want {
			t.Errorf("ParseBitrate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "-1M", "M"} {
		if _, err := ParseBitrate(in); err == nil {
			t.Errorf("ParseBitrate(%q): want an error", in)
		}
	}
}

func TestRoles(t *testing.T) {
	want := []string{roleJudge, roleClerk, roleAppraiser, roleCounsel, roleParty, roleExpert, roleCounsel}
	for i, w := range want {
		if got := roleOf(i); got != w {
			t.Errorf("roleOf(%d) = %s, want %s", i, got, w)
		}
	}
	if !audioForwarded(3) || audioForwarded(4) || audioForwarded(6) {
		t.Error("only the first counsel holds the floor")
	}
}
