package main

import (
	"archive/zip"
	"context"
	"crypto/ed25519"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/recordings/recordingstest"
)

// recordHearing records 11 s of real VP8 and Opus of one participant through the server's own
// recorder (the one `chuting serve` wires into the rooms), as the room feeds it, and closes the
// recording. It returns the hearing's recording folder.
func recordHearing(t *testing.T, m *Main) string {
	t.Helper()
	media := recordingstest.MakeMedia(t, recordingstest.MediaOptions{Seconds: 10})
	ctx := context.Background()
	start := time.Now().Truncate(time.Second)
	h := &chuting.Hearing{SummonsID: "none", CourtID: "c", Mode: chuting.ModeRemote, Start: start, End: start.Add(time.Hour)}
	if err := chuting.Create(ctx, m.Store, h); err != nil {
		t.Fatal(err)
	}
	rec, err := m.media.recorder.Record(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	recordingstest.Feed(t, rec, media, recordingstest.FeedOptions{Duration: 11 * time.Second})
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(m.Config.Data, "recordings", h.ID)
}

// copyFolder copies a hearing folder's files to a new temporary folder of the same name, away
// from the data folder (so no public key is found beside it).
func copyFolder(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	names, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		in, err := os.Open(filepath.Join(src, n.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, n.Name()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(out, in)
		_ = in.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestVerifyCommand runs `chuting verify` (through run, as main does) on a recording the
// server made: untouched it passes with the root hash; altered, truncated, removed, added
// files and a foreign key each fail with exit 1 naming the file; a bad command line is exit 2.
func TestVerifyCommand(t *testing.T) {
	data := t.TempDir()
	m := startMain(t, "--data", data)
	dir := recordHearing(t, m)
	man, _, err := recordings.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Entries) < 4 {
		t.Fatalf("%d segments, want at least 4", len(man.Entries))
	}
	seg := man.Entries[1].Path
	pubFile := filepath.Join(data, "keys", "recording.ed25519.pub")
	otherPub, _, _ := ed25519.GenerateKey(nil)
	otherFile := filepath.Join(t.TempDir(), "other.pub")
	notKey := filepath.Join(t.TempDir(), "not.pub")
	if err := os.WriteFile(otherFile, recordings.EncodePublicKey(otherPub), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(notKey, []byte("not a key\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		args    func(t *testing.T) []string // after "verify"
		code    int
		out     []string // each in stdout
		errOut  []string // each in stderr
		noInErr string   // not in stderr
	}{
		// The key beside the data folder is used, with a note that it is only as good as that file.
		{"OK", func(t *testing.T) []string { return []string{dir} }, 0,
			[]string{"OK", man.RootHash, pubFile, "integrity check value"}, []string{"NOTE", "--key"}, "WARNING"},
		{"OKKeyFlagAfterDir", func(t *testing.T) []string { return []string{copyFolder(t, dir), "--key", pubFile} }, 0,
			[]string{"OK", man.RootHash}, nil, "NOTE"},
		{"OKEmbeddedKeyWarns", func(t *testing.T) []string { return []string{copyFolder(t, dir)} }, 0,
			[]string{"OK", man.RootHash, "self-consistency only"}, []string{"WARNING", "--key"}, ""},
		{"ErrAltered", func(t *testing.T) []string {
			c := copyFolder(t, dir)
			flipByte(t, filepath.Join(c, seg))
			return []string{"--key", pubFile, c}
		}, 1, []string{"FAILED", "altered: " + seg}, nil, ""},
		{"ErrTruncated", func(t *testing.T) []string {
			c := copyFolder(t, dir)
			if err := os.Truncate(filepath.Join(c, seg), man.Entries[1].Size/2); err != nil {
				t.Fatal(err)
			}
			return []string{"--key", pubFile, c}
		}, 1, []string{"FAILED", "truncated: " + seg}, nil, ""},
		{"ErrMissing", func(t *testing.T) []string {
			c := copyFolder(t, dir)
			if err := os.Remove(filepath.Join(c, seg)); err != nil {
				t.Fatal(err)
			}
			return []string{"--key", pubFile, c}
		}, 1, []string{"FAILED", "missing: " + seg}, nil, ""},
		{"ErrAdded", func(t *testing.T) []string {
			c := copyFolder(t, dir)
			if err := os.WriteFile(filepath.Join(c, "s1-extra-00001.webm"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{"--key", pubFile, c}
		}, 1, []string{"FAILED", "added: s1-extra-00001.webm"}, nil, ""},
		{"ErrForeignKey", func(t *testing.T) []string { return []string{"--key", otherFile, dir} }, 1,
			[]string{"FAILED", "manifest: manifest.json", "not the court's key"}, nil, ""},
		{"ErrNoManifest", func(t *testing.T) []string {
			c := copyFolder(t, dir)
			if err := os.Remove(filepath.Join(c, "manifest.json")); err != nil {
				t.Fatal(err)
			}
			return []string{"--key", pubFile, c}
		}, 1, []string{"FAILED", "manifest"}, nil, ""},
		{"OKPackage", func(t *testing.T) []string { return []string{"--key", pubFile, zipFolder(t, dir, nil)} }, 0,
			[]string{"OK", man.RootHash}, nil, "WARNING"},
		{"OKPackageNoKeyWarns", func(t *testing.T) []string { return []string{zipFolder(t, dir, nil)} }, 0,
			[]string{"OK", man.RootHash, "self-consistency only"}, []string{"WARNING", "a package carries none"}, ""},
		{"ErrPackageAltered", func(t *testing.T) []string {
			return []string{"--key", pubFile, zipFolder(t, dir, func(name string, b []byte) {
				if name == seg {
					b[len(b)/2] ^= 0xff
				}
			})}
		}, 1, []string{"FAILED", "altered: " + seg}, nil, ""},
		{"UsageNotAPackage", func(t *testing.T) []string { return []string{filepath.Join(dir, seg)} }, 2, nil,
			[]string{"not a recording package"}, ""},
		{"UsageNoDir", func(t *testing.T) []string { return nil }, 2, nil, []string{"usage: chuting verify"}, ""},
		{"UsageTwoDirs", func(t *testing.T) []string { return []string{dir, dir} }, 2, nil, []string{"want one hearing folder or package"}, ""},
		{"UsageNotAFolder", func(t *testing.T) []string { return []string{filepath.Join(dir, "nothing")} }, 2, nil,
			[]string{"not a folder"}, ""},
		{"UsageBadFlag", func(t *testing.T) []string { return []string{"--nope", dir} }, 2, nil, []string{"-nope"}, ""},
		{"UsageNotAKey", func(t *testing.T) []string { return []string{"--key", notKey, dir} }, 2, nil,
			[]string{"not an Ed25519 public key"}, ""},
		{"UsageNoKeyFile", func(t *testing.T) []string { return []string{"--key", notKey + ".missing", dir} }, 2, nil,
			[]string{"no such file"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"verify"}, tc.args(t)...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			for _, s := range tc.out {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q", s)
				}
			}
			for _, s := range tc.errOut {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q", s)
				}
			}
			if tc.noInErr != "" && strings.Contains(errOut, tc.noInErr) {
				t.Errorf("stderr has %q", tc.noInErr)
			}
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
			}
		})
	}
}

// zipFolder packs dir as the archive's export does (its files in a folder named after it) into
// a new zip, letting change edit each file's bytes on the way, and returns the zip's path.
func zipFolder(t *testing.T, dir string, change func(name string, b []byte)) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "recording-"+filepath.Base(dir)+".zip")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "journal.jsonl" {
			continue // not evidence; the archive's package leaves it out
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if change != nil {
			change(e.Name(), b)
		}
		w, err := zw.Create(filepath.Base(dir) + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// flipByte inverts one byte in the middle of file.
func flipByte(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
