package main

import (
	"io/fs"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/chuting/chuting/loadtest"
	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/recordings/recordingstest"
	"github.com/chuting/chuting/signaling"
)

// BenchmarkRecordingCPU measures what recording costs the server: the real binary serves the
// demo's practice hearing on loopback; the judge publishes 1.5 Mb/s VP8 (1280x720, 30 fps)
// and Opus, the clerk watches, and the judge starts the hearing. Then the judge pauses and
// resumes the recording (for a recess, #29) in turn, so that the same room, with the same
// media flowing to the clerk, runs alternately recording and not recording. The server
// process's CPU time (/proc/PID/stat) is summed over the windows of each kind. The clients
// run in the benchmark's own process and are not counted.
//
// It runs once whatever b.N (about 60 s):
//
//	CHUTING_REQUIRE_FFPROBE=1 go test ./cmd/chuting/ -run '^$' -bench RecordingCPU -benchtime 1x
//
// Metrics: server CPU in % of one core while recording and while not, their ratio, the video
// bit rate actually sent, and the recording's bytes written per second.
func BenchmarkRecordingCPU(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads the server's CPU time from /proc")
	}
	const (
		pairs  = 3               // recording, then not, this many times
		window = 8 * time.Second // each
	)
	media := recordingstest.MakeMedia(b, recordingstest.MediaOptions{Seconds: 10, Width: 1280, Height: 720,
		Bitrate: 1_500_000})
	var sent int
	for _, f := range media.Video {
		sent += len(f.Data)
	}
	kbps := float64(sent) * 8 / 1000 / float64(media.Options.Seconds)

	data := b.TempDir()
	p := startProc(b, "--data", data, "--demo", "--demo-password", demoPassword)
	hearing := practiceHearing(b, p)
	judge, clerk := joinAs(b, p, hearing, "judge"), joinAs(b, p, hearing, "clerk")
	defer clerk.Close()
	defer judge.Close()
	judge.Publish(media)
	moderate := func(action, reason string) {
		if code, err := judge.Moderate(action, reason); err != nil || code != "" {
			b.Fatalf("%s: %v %s", action, err, code)
		}
	}
	moderate(signaling.ActionStart, "")
	time.Sleep(2 * time.Second) // the first keyframes and segments

	var recording, idle time.Duration // server CPU in each kind of window
	const elapsed = pairs * window
	b.ResetTimer()
	for range pairs {
		c0 := cpuOf(b, p.cmd.Process.Pid)
		time.Sleep(window)
		c1 := cpuOf(b, p.cmd.Process.Pid)
		moderate(signaling.ActionPause, signaling.PauseRecess)
		time.Sleep(window)
		c2 := cpuOf(b, p.cmd.Process.Pid)
		moderate(signaling.ActionResume, "")
		recording += c1 - c0
		idle += c2 - c1
	}
	b.StopTimer()
	dir := filepath.Join(data, recordingsDir, hearing)
	written := dirSize(b, dir)
	moderate(signaling.ActionEnd, "") // the manifest is written when the recording closes
	var m *recordings.Manifest
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if m, _, err = recordings.ReadManifest(dir); err == nil {
			break
		} else if time.Now().After(deadline) {
			b.Fatalf("no manifest 15 s after the end: %v", err)
		}
	}
	// What the recording holds of the video: its bit rate and frame rate, against what was sent.
	var vBytes int64
	var vSecs float64
	var vFrames int
	for _, e := range m.Entries {
		if e.Kind == "video" && e.Status != recordings.StatusOriginal {
			vBytes, vSecs, vFrames = vBytes+e.Size, vSecs+e.End.Sub(e.Start).Seconds(), vFrames+e.Frames
		}
	}
	if want := 0.9 * (elapsed + 2*time.Second).Seconds(); vSecs < want {
		b.Errorf("%.1f s of video recorded, want at least %.1f: a resume did not restart it?", vSecs, want)
	}
	rec := 100 * recording.Seconds() / elapsed.Seconds()
	not := 100 * idle.Seconds() / elapsed.Seconds()
	b.ReportMetric(rec, "cpu%-recording")
	b.ReportMetric(not, "cpu%-not-recording")
	b.ReportMetric(rec/not, "ratio")
	b.ReportMetric(kbps, "video-kb/s")
	b.ReportMetric(float64(written)/1000/(elapsed.Seconds()+2), "written-kB/s")
	if vSecs > 0 {
		b.ReportMetric(float64(vBytes)*8/1000/vSecs, "recorded-video-kb/s")
		b.ReportMetric(float64(vFrames)/vSecs, "recorded-fps")
	}
	b.Logf("server CPU over %v recording: %v (%.1f%% of a core); over %v not recording: %v (%.1f%%); ratio %.2f; "+
		"video %.0f kb/s; %d bytes recorded", elapsed, recording, rec, elapsed, idle, not, rec/not, kbps, written)
}

// cpuOf returns the user and system CPU time a process has used.
func cpuOf(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	d, err := loadtest.CPUTime(pid)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// dirSize returns the bytes of the files under dir.
func dirSize(tb testing.TB, dir string) int64 {
	tb.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
