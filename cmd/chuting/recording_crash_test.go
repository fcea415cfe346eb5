package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/recordings/recordingstest"
	"github.com/chuting/chuting/signaling"
)

// TestRecordingCrash is the crash test of #30 on the real binary: `chuting serve --demo` on
// loopback, the judge and the clerk of the demo's practice hearing join its room as pion
// clients publishing real VP8 and Opus, the judge starts the hearing (and so its recording),
// and 15 s later the server is killed with SIGKILL. Restarted on the same data folder, it
// recovers the recording before it listens: every segment plays (ffprobe decodes every
// frame), each participant's video and audio cover at least the first 12 s, the manifest
// says interrupted and when, nothing was deleted, and the real `chuting verify` passes on the
// folder with the data folder's public key.
func TestRecordingCrash(t *testing.T) {
	media := recordingstest.MakeMedia(t, recordingstest.MediaOptions{Seconds: 10})
	data := t.TempDir()
	args := []string{"--data", data, "--demo", "--demo-password", demoPassword}
	p := startProc(t, args...)
	hearing := practiceHearing(t, p)

	// The judge and the clerk join with tokens from the API, and publish.
	judge, clerk := joinAs(t, p, hearing, "judge"), joinAs(t, p, hearing, "clerk")
	judge.Publish(media)
	clerk.Publish(media)
	if code, err := judge.Moderate(signaling.ActionStart, ""); err != nil || code != "" {
		t.Fatalf("start: %v %s", err, code)
	}
	started := time.Now()
	time.Sleep(15 * time.Second)
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL, by PID, mid-recording
		t.Fatal(err)
	}
	killed := time.Now()
	_ = p.wait(t, 10*time.Second)
	judge.Close()
	clerk.Close()

	// The restart recovers before it listens.
	dir := filepath.Join(data, "recordings", hearing)
	before := files(t, dir)
	p2 := startProc(t, args...)
	if !strings.Contains(p2.log.String(), "recording interrupted by a crash") ||
		!strings.Contains(p2.log.String(), hearing) {
		t.Fatalf("the restart logged no recovery of %s:\n%s", hearing, p2.log)
	}
	man, _, err := recordings.ReadManifest(dir)
	if err != nil {
		t.Fatalf("%v; files %v", err, files(t, dir))
	}
	// The restarted server is the same node (its data folder's node-id): the judge joins the
	// room again at once, without waiting for the killed process's hold on it to lapse.
	joinAs(t, p2, hearing, "judge").Close()

	// Nothing found after the crash was deleted (#30): partial files are kept, renamed.
	after := map[string]bool{}
	for _, f := range files(t, dir) {
		after[f] = true
	}
	for _, f := range before {
		if !after[f] && !after[f+".orig"] {
			t.Errorf("%s, there after the crash, is gone after the recovery", f)
		}
	}

	if !man.Interrupted || man.InterruptedAt.IsZero() || len(man.Sessions) != 1 || !man.Sessions[0].Interrupted {
		t.Fatalf("manifest: interrupted %v at %v, sessions %+v; want interrupted, with its time", man.Interrupted,
			man.InterruptedAt, man.Sessions)
	}
	if at := man.InterruptedAt; at.Before(started.Add(12*time.Second)) || at.After(killed.Add(time.Second)) {
		t.Errorf("interrupted at %v: %v after the start, want between 12 s and the kill (%v)", at,
			at.Sub(started).Round(time.Millisecond), killed.Sub(started).Round(time.Millisecond))
	}

	// Every segment plays; each participant's video and audio cover the first 12 s.
	type track struct{ participant, kind string }
	cover := map[track]float64{}
	first := map[track]time.Time{}
	originals := 0
	for _, e := range man.Entries {
		if e.Status == recordings.StatusOriginal {
			originals++ // the bytes as found: evidence, not meant to play; their copy is "recovered"
			continue
		}
		file := filepath.Join(dir, e.Path)
		pr := recordingstest.ProbeFile(t, file)
		if msg := recordingstest.Decode(t, file); msg != "" {
			t.Errorf("%s does not play cleanly: %s", e.Path, msg)
		}
		if len(pr.Streams) != 1 || pr.Duration() <= 0 {
			t.Errorf("%s: %d streams, %.3f s", e.Path, len(pr.Streams), pr.Duration())
		}
		k := track{e.Participant, e.Kind}
		cover[k] += pr.Duration()
		if first[k].IsZero() || e.Start.Before(first[k]) {
			first[k] = e.Start
		}
	}
	for _, pub := range []*recordingstest.Publisher{judge, clerk} {
		for _, kind := range []string{"video", "audio"} {
			k := track{pub.ID(), kind}
			t.Logf("%s %s: %.2f s playable from %v after the start", k.participant, kind, cover[k],
				first[k].Sub(started).Round(time.Millisecond))
			if cover[k] < 12 {
				t.Errorf("%s's %s covers %.2f s, want at least 12 s of the 15 s before the crash", k.participant, kind, cover[k])
			}
			if d := first[k].Sub(started); d > 2*time.Second {
				t.Errorf("%s's %s starts %v after the start, want the first seconds kept", k.participant, kind, d)
			}
		}
	}
	if originals == 0 {
		t.Errorf("no partial segment kept as found: the crash cut nothing off?")
	}

	// The real `chuting verify`, with the public key beside the data, passes and says it.
	out, err := exec.Command(binary, "verify", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") || !strings.Contains(string(out), man.RootHash) ||
		!strings.Contains(string(out), "interrupted") || strings.Contains(string(out), "WARNING") {
		t.Fatalf("chuting verify %s: %v\n%s", dir, err, out)
	}
	t.Logf("chuting verify:\n%s", out)
}

// joinAs signs in as username, gets a join token of the hearing from the API, and joins its
// room as a pion client.
func joinAs(tb testing.TB, p *proc, hearing, username string) *recordingstest.Publisher {
	tb.Helper()
	c := newClient(tb, p.addr)
	c.login(username, demoPassword)
	code, body := c.do("POST", "/api/v1/hearings/"+hearing+"/join-token", nil)
	if code != http.StatusOK {
		tb.Fatalf("join token of %s: %d %s", username, code, body)
	}
	var v struct{ Token, Room string }
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Fatal(err)
	}
	return recordingstest.Join(tb, "ws://"+p.addr+v.Room, v.Token)
}

// practiceHearing returns the ID of the demo's practice hearing, as the server logged it.
func practiceHearing(t testing.TB, p *proc) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(p.log.String()))
	for sc.Scan() {
		var v struct{ Msg, Path string }
		if json.Unmarshal(sc.Bytes(), &v) == nil && strings.HasPrefix(v.Msg, "demo practice hearing") {
			return strings.TrimPrefix(v.Path, "/room/")
		}
	}
	t.Fatalf("no practice hearing in the log:\n%s", p.log)
	return ""
}

// files lists the names in dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
