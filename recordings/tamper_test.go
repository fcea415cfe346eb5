package recordings_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/recordings/recordingstest"
)

// An attacker with the folder (not the key) can rewrite the journal: its chain of hashes
// needs no key. These tests do so, as the attacker would, and check that the server does not
// sign the result at its next start (Recover), so that verification still names the change.

// rewriteJournal rewrites the journal of dir, passing each segment entry through edit (false
// drops it) and recomputing the chain as the recorder does.
func rewriteJournal(t *testing.T, dir, hearingID string, edit func(e *chuting.ManifestEntry) bool) {
	t.Helper()
	p := filepath.Join(dir, "journal.jsonl")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	start := sha256.Sum256([]byte("chuting-recording/1\x00" + hearingID))
	chain := start[:]
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if raw, ok := l["entry"]; ok {
			var e chuting.ManifestEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			if !edit(&e) {
				continue
			}
			e.Chain, e.Start, e.End = "", e.Start.UTC(), e.End.UTC()
			body, _ := json.Marshal(e)
			h := sha256.New()
			h.Write(chain)
			h.Write(body)
			chain = h.Sum(nil)
			e.Chain = hex.EncodeToString(chain)
			l["entry"], _ = json.Marshal(e)
		}
		line, _ := json.Marshal(l)
		out.Write(append(line, '\n'))
	}
	if err := os.WriteFile(p, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestNotSignedAgain: after a recording is signed, a file altered, removed or added, with the
// journal edited to match, is not signed anew at the next start: the server logs it, leaves
// the signed manifest, and verification names the change.
func TestNotSignedAgain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, dir string, h *chuting.Hearing, man *recordings.Manifest)
		want   string
	}{
		{"Altered", func(t *testing.T, dir string, h *chuting.Hearing, man *recordings.Manifest) {
			victim := filepath.Join(dir, man.Entries[1].Path)
			b, _ := os.ReadFile(victim)
			b[len(b)/2] ^= 0xff
			if err := os.WriteFile(victim, b, 0o600); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			rewriteJournal(t, dir, h.ID, func(e *chuting.ManifestEntry) bool {
				if e.Path == man.Entries[1].Path {
					e.SHA256 = hex.EncodeToString(sum[:])
				}
				return true
			})
		}, "altered: " + "%s"},
		{"Removed", func(t *testing.T, dir string, h *chuting.Hearing, man *recordings.Manifest) {
			if err := os.Remove(filepath.Join(dir, man.Entries[1].Path)); err != nil {
				t.Fatal(err)
			}
			rewriteJournal(t, dir, h.ID, func(e *chuting.ManifestEntry) bool { return e.Path != man.Entries[1].Path })
		}, "missing: " + "%s"},
		{"Added", func(t *testing.T, dir string, h *chuting.Hearing, man *recordings.Manifest) {
			b, _ := os.ReadFile(filepath.Join(dir, man.Entries[0].Path))
			if err := os.WriteFile(filepath.Join(dir, "s1-t-video-forged-00001.webm"), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "added: s1-t-video-forged-00001.webm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustEnv(t)
			h := e.courtHearing(t, 0)
			man := e.record(t, h)
			dir := e.dir(h)
			tc.tamper(t, dir, h, man)
			_, _ = recordings.Recover(context.Background(), e.cfg) // the next start
			rep, err := recordings.Verify(dir, e.pub)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if strings.Contains(want, "%s") {
				want = strings.ReplaceAll(want, "%s", man.Entries[1].Path)
			}
			var found bool
			for _, p := range rep.Problems {
				found = found || strings.HasPrefix(p.String(), want)
			}
			if rep.OK() || !found || rep.RootHash != man.RootHash {
				t.Fatalf("after the next start: problems %v, root %s (signed %s); want %q and the signed manifest kept",
					rep.Problems, rep.RootHash, man.RootHash, want)
			}
		})
	}
}

// TestRecoverUnjournalled: a crash after a segment was closed and renamed but before its
// journal line leaves a complete file the journal does not list; recovery journals it with
// its hash and size, and the manifest verifies.
func TestRecoverUnjournalled(t *testing.T) {
	m := recordingstest.MakeMedia(t, recordingstest.MediaOptions{Seconds: 12})
	e := mustEnv(t)
	h := e.courtHearing(t, 0)
	ctx := context.Background()
	crashed, _ := e.crashedAt(t, h, m, time.Time{}, 11*time.Second)
	jp := filepath.Join(crashed, "journal.jsonl")
	jb, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(jb), "\n"), "\n")
	dropped := ""
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], `"type":"segment"`) {
			dropped, lines = lines[i], append(lines[:i], lines[i+1:]...)
			break
		}
	}
	if dropped == "" {
		t.Fatal("no segment line to drop")
	}
	if err := os.WriteFile(jp, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.Dir = filepath.Dir(crashed)
	got, err := recordings.Recover(ctx, cfg)
	if err != nil || len(got) != 1 || len(got[0].Journalled) != 1 {
		t.Fatalf("recovered %+v, %v; want the unjournalled segment journalled", got, err)
	}
	e.mustVerify(t, crashed, "after recovery")
}

// TestRecoverRemovesTemps: a crash while the manifest was being written leaves its temporary
// file; the next start removes it and writes the manifest, which verifies (the leftover was
// named by every verification as a file the manifest does not list).
func TestRecoverRemovesTemps(t *testing.T) {
	e := mustEnv(t)
	h := e.courtHearing(t, 0)
	e.record(t, h)
	dir := e.dir(h)
	if err := os.Remove(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".manifest.json.123456789"), []byte(`{"format":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := recordings.Recover(context.Background(), e.cfg); err != nil {
		t.Fatal(err)
	}
	e.mustVerify(t, dir, "after the next start")
}

// TestVerifyFSForgedSize: a package whose manifest declares an enormous size (a 158-byte
// zip) is refused with an error; it made `chuting verify` allocate the declared size and
// crash.
func TestVerifyFSForgedSize(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "h/manifest.json", Method: zip.Store,
		CompressedSize64: 2, UncompressedSize64: 1 << 62})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("{}"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(zr, "h")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := recordings.VerifyFS(sub, nil); err == nil {
		t.Fatal("a manifest declaring 2^62 bytes was read")
	}
}

// TestArchiveVerifyBeyondTheFolder: the server's verification also catches what the folder
// cannot say of itself: another hearing's folder put in its place, and an older signed
// manifest put back with the files it listed (a later session removed); and a segment
// rewritten with its modification time put back is not taken from the cache as intact.
func TestArchiveVerifyBeyondTheFolder(t *testing.T) {
	e := mustEnv(t)
	ha, hb := e.courtHearing(t, 0), e.courtHearing(t, 0)
	man := e.record(t, ha)
	e.record(t, hb)
	a := e.archive(t, nil)
	ok := func(h *chuting.Hearing) (bool, []recordings.Problem) {
		t.Helper()
		c, err := a.Verify(context.Background(), h.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.Report.OK(), c.Report.Problems
	}
	if good, problems := ok(ha); !good {
		t.Fatalf("untouched: %v", problems)
	}

	// Cached, then a segment rewritten with its time put back.
	p := filepath.Join(e.dir(ha), man.Entries[1].Path)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if good, _ := ok(ha); good {
		t.Fatal("a segment rewritten with its modification time put back was taken from the cache as intact")
	}

	// Another hearing's folder in B's place.
	if err := os.RemoveAll(e.dir(hb)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(copyDir(t, e.dir(ha)), e.dir(hb)); err != nil {
		t.Fatal(err)
	}
	if good, problems := ok(hb); good || !strings.Contains(fmt.Sprint(problems), "swapped") {
		t.Fatalf("hearing B holding A's folder: OK %v, %v", good, problems)
	}

	// An older manifest put back: B recorded again (session 2), then its session-1 folder
	// restored.
	hc := e.courtHearing(t, 0)
	e.record(t, hc)
	snap := copyDir(t, e.dir(hc))
	e.record(t, hc)
	if err := os.RemoveAll(e.dir(hc)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(snap, e.dir(hc)); err != nil {
		t.Fatal(err)
	}
	if good, problems := ok(hc); good || !strings.Contains(fmt.Sprint(problems), "older manifest") {
		t.Fatalf("session 1's folder put back after session 2: OK %v, %v", good, problems)
	}
}

// TestRecoverUnreadablePartial: a crash just after a segment file was made, before its header
// reached the disk, leaves an empty partial file; recovery keeps it as found, lists it, and
// finishes the folder, and the hearing can be recorded again (it failed for good before).
func TestRecoverUnreadablePartial(t *testing.T) {
	m := recordingstest.MakeMedia(t, recordingstest.MediaOptions{Seconds: 6})
	e := mustEnv(t)
	h := e.courtHearing(t, 0)
	ctx := context.Background()
	crashed, _ := e.crashedAt(t, h, m, time.Time{}, 4*time.Second)
	var partial string
	for _, n := range files(t, crashed) {
		if strings.HasSuffix(n, ".partial") {
			partial = n
		}
	}
	if partial == "" {
		t.Fatal("no partial segment in the crashed folder")
	}
	if err := os.Truncate(filepath.Join(crashed, partial), 0); err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.Dir = filepath.Dir(crashed)
	if _, err := recordings.Recover(ctx, cfg); err != nil {
		t.Fatalf("recover: %v", err)
	}
	e.mustVerify(t, crashed, "after recovery")
	r2, err := recordings.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r2.Record(ctx, h)
	if err != nil {
		t.Fatalf("recording the hearing again: %v", err)
	}
	e.close(t, h, again)
}
