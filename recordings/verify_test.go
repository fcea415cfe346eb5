package recordings_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/recordings/recordingstest"
)

// TestVerify alters a signed recording folder in each way the rules guard against (#31) and
// checks that Verify reports it, naming the file or entry; an untouched folder passes.
func TestVerify(t *testing.T) {
	m := recordingstest.MakeMedia(t, recordingstest.MediaOptions{Seconds: 10})
	e := mustEnv(t)
	h := e.hearing(t)
	rec, err := e.rec.Record(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	e.event(t, h, chuting.AttendanceRecordingPaused, "recess")
	recordingstest.Feed(t, rec, m, recordingstest.FeedOptions{Duration: 11 * time.Second})
	e.close(t, h, rec)
	man, _, err := recordings.ReadManifest(e.dir(h))
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Entries) < 4 {
		t.Fatalf("%d segments, want at least 4", len(man.Entries))
	}
	seg := man.Entries[1].Path // a segment in the middle of the chain
	edit := func(t *testing.T, dir string, change func(*recordings.Manifest)) {
		t.Helper()
		m, b, err := recordings.ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		change(m)
		out, err := m.Encode()
		if err != nil || bytes.Equal(b, out) {
			t.Fatal("the edit changed nothing")
		}
		if err := os.WriteFile(filepath.Join(dir, "manifest.json"), out, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, otherKey, _ := ed25519.GenerateKey(nil)

	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   []string // problem lines the report must hold (prefixes)
	}{
		{"OK", func(*testing.T, string) {}, nil},
		{"FlipByte", func(t *testing.T, dir string) {
			p := filepath.Join(dir, seg)
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0x01
			_ = os.WriteFile(p, b, 0o600)
		}, []string{"altered: " + seg}},
		{"Truncate", func(t *testing.T, dir string) {
			p := filepath.Join(dir, seg)
			fi, _ := os.Stat(p)
			_ = os.Truncate(p, fi.Size()-100)
		}, []string{"truncated: " + seg}},
		{"Remove", func(t *testing.T, dir string) {
			_ = os.Remove(filepath.Join(dir, seg))
		}, []string{"missing: " + seg}},
		{"Add", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, seg))
			_ = os.WriteFile(filepath.Join(dir, "s1-t-extra-00001.webm"), b, 0o600)
		}, []string{"added: s1-t-extra-00001.webm"}},
		{"EditEvents", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "events.json")
			b, _ := os.ReadFile(p)
			_ = os.WriteFile(p, bytes.Replace(b, []byte("recess"), []byte("lunch!"), 1), 0o600)
		}, []string{"altered: events.json"}},
		{"EditManifestEntry", func(t *testing.T, dir string) {
			// A file swapped for another and its hash changed to match: the chain names the entry.
			edit(t, dir, func(m *recordings.Manifest) { m.Entries[1].SHA256 = strings.Repeat("0", 64) })
		}, []string{"manifest: " + seg + ": entry 2", "manifest: manifest.json: contents changed", "altered: " + seg}},
		{"EditManifestTime", func(t *testing.T, dir string) {
			edit(t, dir, func(m *recordings.Manifest) { m.Entries[1].Start = m.Entries[1].Start.Add(time.Second) })
		}, []string{"manifest: " + seg + ": entry 2"}},
		{"EditManifestInterrupted", func(t *testing.T, dir string) {
			edit(t, dir, func(m *recordings.Manifest) { m.Interrupted = true })
		}, []string{"manifest: manifest.json: contents changed", "manifest: manifest.json: signature does not hold"}},
		{"ManifestResigned", func(t *testing.T, dir string) {
			// Rebuilt and signed again with a key that is not the court's.
			edit(t, dir, func(m *recordings.Manifest) {
				m.Entries = m.Entries[:1]
				m.ChainHead = m.Entries[0].Chain
				if err := m.Sign(otherKey); err != nil {
					t.Fatal(err)
				}
			})
		}, []string{"manifest: manifest.json: signed with key", "added: "}},
		{"ManifestWhitespace", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "manifest.json")
			b, _ := os.ReadFile(p)
			_ = os.WriteFile(p, append(b, '\n'), 0o600)
		}, []string{"manifest: manifest.json: not as written"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, e.dir(h))
			tc.tamper(t, dir)
			rep, err := recordings.Verify(dir, e.pub)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, p := range rep.Problems {
				lines = append(lines, p.String())
			}
			if tc.want == nil {
				if !rep.OK() || rep.RootHash != man.RootHash {
					t.Fatalf("untouched folder: %v (root %s)", lines, rep.RootHash)
				}
				return
			}
			if rep.OK() {
				t.Fatal("tampering not found")
			}
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					found = found || strings.HasPrefix(l, w)
				}
				if !found {
					t.Errorf("no problem %q in:\n%s", w, strings.Join(lines, "\n"))
				}
			}
			t.Logf("%s:\n%s", tc.name, strings.Join(lines, "\n"))
		})
	}

	t.Run("EmbeddedKey", func(t *testing.T) {
		rep, err := recordings.Verify(e.dir(h), nil)
		if err != nil || !rep.OK() || rep.KeyChecked {
			t.Fatalf("%v %+v", err, rep)
		}
	})
	t.Run("NoManifest", func(t *testing.T) {
		if _, err := recordings.Verify(t.TempDir(), e.pub); err == nil {
			t.Fatal("a folder without a manifest verified")
		}
	})
}
