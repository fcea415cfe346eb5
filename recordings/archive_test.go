package recordings_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/recordings/recordingstest"
	"github.com/chuting/chuting/signaling"
)

// courtHearing stores a court keeping recordings keepDays, and a hearing of it like
// env.hearing's.
func (e *env) courtHearing(tb testing.TB, keepDays int) *chuting.Hearing {
	tb.Helper()
	ctx := context.Background()
	c := &chuting.Court{Name: "赣州市中级人民法院", Code: chuting.NewID(), TimeZone: "Asia/Shanghai", NoticeDays: 3,
		RecordingKeepDays: keepDays}
	if err := chuting.Create(ctx, e.store, c); err != nil {
		tb.Fatal(err)
	}
	sm := &chuting.Summons{CourtID: c.ID, CaseNo: "(2026)赣07民初9号", CaseType: chuting.CaseTypeCivil,
		Mode: chuting.ModeRemote, State: chuting.SummonsScheduled}
	if err := chuting.Create(ctx, e.store, sm); err != nil {
		tb.Fatal(err)
	}
	start := time.Now().Truncate(time.Second)
	h := &chuting.Hearing{SummonsID: sm.ID, CourtID: c.ID, Mode: chuting.ModeRemote, Start: start, End: start.Add(time.Hour)}
	if err := chuting.Create(ctx, e.store, h); err != nil {
		tb.Fatal(err)
	}
	e.event(tb, h, chuting.AttendanceHearingStarted, "")
	e.event(tb, h, chuting.AttendanceRecordingStarted, "")
	return h
}

// underWay starts recording the hearing and feeds it 6 s of media of one participant; the
// recording stays open.
func (e *env) underWay(tb testing.TB, h *chuting.Hearing) signaling.Recording {
	tb.Helper()
	m := recordingstest.MakeMedia(tb, recordingstest.MediaOptions{Seconds: 6})
	rec, err := e.rec.Record(context.Background(), h)
	if err != nil {
		tb.Fatal(err)
	}
	recordingstest.Feed(tb, rec, m, recordingstest.FeedOptions{})
	return rec
}

// record records 6 s of media of one participant into the hearing, paused once with a
// reason, and closes it.
func (e *env) record(tb testing.TB, h *chuting.Hearing) *recordings.Manifest {
	tb.Helper()
	m := recordingstest.MakeMedia(tb, recordingstest.MediaOptions{Seconds: 6})
	rec, err := e.rec.Record(context.Background(), h)
	if err != nil {
		tb.Fatal(err)
	}
	e.event(tb, h, chuting.AttendanceRecordingPaused, "休庭 / recess")
	e.event(tb, h, chuting.AttendanceRecordingResumed, "")
	recordingstest.Feed(tb, rec, m, recordingstest.FeedOptions{})
	e.close(tb, h, rec)
	man, _, err := recordings.ReadManifest(e.dir(h))
	if err != nil {
		tb.Fatal(err)
	}
	return man
}

func (e *env) archive(tb testing.TB, now func() time.Time) *recordings.Archive {
	tb.Helper()
	a, err := recordings.NewArchive(recordings.ArchiveConfig{Dir: e.cfg.Dir, Records: e.store, Logs: e.store,
		PublicKey: e.pub, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// TestArchive records a hearing and reads it back through the archive: the listing, the
// playback view, the manifest as stored, its files (and nothing else), and verification with
// its cache.
func TestArchive(t *testing.T) {
	e := mustEnv(t)
	h := e.courtHearing(t, 0)
	man := e.record(t, h)
	a := e.archive(t, nil)
	ctx := context.Background()

	t.Run("List", func(t *testing.T) {
		list, err := a.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("listed %d recordings, want 1: %+v", len(list), list)
		}
		s := list[0]
		var size int64
		for _, en := range man.Entries {
			size += en.Size
		}
		if s.HearingID != h.ID || s.CourtID != h.CourtID || s.CaseNo != "(2026)赣07民初9号" || s.State != recordings.StateComplete ||
			s.RootHash != man.RootHash || s.Files != len(man.Entries) || s.Bytes != size || !s.Local ||
			s.Start.IsZero() || !s.End.After(s.Start) {
			t.Fatalf("summary = %+v, manifest root %s with %d entries of %d bytes", s, man.RootHash, len(man.Entries), size)
		}
	})

	t.Run("Playback", func(t *testing.T) {
		p, err := a.Playback(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Files) != len(man.Entries) || p.Manifest == nil || p.Manifest.RootHash != man.RootHash || len(p.Sessions) != 1 {
			t.Fatalf("playback has %d files, manifest %v, sessions %+v", len(p.Files), p.Manifest != nil, p.Sessions)
		}
		var types []string
		for _, ev := range p.Timeline {
			types = append(types, ev.Type)
		}
		want := []string{chuting.AttendanceHearingStarted, chuting.AttendanceRecordingStarted, chuting.AttendanceRecordingPaused,
			chuting.AttendanceRecordingResumed, chuting.AttendanceRecordingStopped}
		if !slices.Equal(types, want) {
			t.Fatalf("timeline %v, want %v", types, want)
		}
		if len(p.Pauses) != 1 || p.Pauses[0].Reason != "休庭 / recess" || p.Pauses[0].Until.Before(p.Pauses[0].At) ||
			p.Pauses[0].Until.IsZero() {
			t.Fatalf("pauses = %+v", p.Pauses)
		}
	})

	t.Run("ManifestAsStored", func(t *testing.T) {
		got, err := a.Manifest(h.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(e.dir(h), "manifest.json"))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("manifest differs from manifest.json (%v)", err)
		}
	})

	t.Run("OpenListed", func(t *testing.T) {
		en := man.Entries[0]
		f, err := a.Open(h.ID, en.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		want, _ := os.ReadFile(filepath.Join(e.dir(h), en.Path))
		if err != nil || !bytes.Equal(b, want) || f.Size != en.Size || f.Entry.SHA256 != en.SHA256 {
			t.Fatalf("read %d bytes (%v), want %d", len(b), err, len(want))
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		outside := filepath.Join(filepath.Dir(e.cfg.Dir), "secret.txt")
		if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"journal.jsonl", "manifest.json", "events.json", "../secret.txt", "/etc/passwd",
			"", ".", "..", "x/../" + man.Entries[0].Path, man.Entries[0].Path + ".partial", "s1-unknown-00001.webm"} {
			if f, err := a.Open(h.ID, name); chuting.ErrorCode(err) != chuting.ENOTFOUND {
				if f != nil {
					_ = f.Close()
				}
				t.Errorf("Open(%q) = %v, want not found", name, err)
			}
		}
		for _, id := range []string{"../" + filepath.Base(e.cfg.Dir), "..", chuting.NewID()} {
			if _, err := a.Open(id, man.Entries[0].Path); chuting.ErrorCode(err) != chuting.ENOTFOUND {
				t.Errorf("Open in hearing %q = %v, want not found", id, err)
			}
			if _, err := a.Playback(ctx, id); chuting.ErrorCode(err) != chuting.ENOTFOUND {
				t.Errorf("Playback(%q) = %v, want not found", id, err)
			}
		}
	})

	t.Run("Verify", func(t *testing.T) {
		c, err := a.Verify(context.Background(), h.ID)
		if err != nil || !c.Report.OK() || c.Current || !c.Report.KeyChecked || c.Report.RootHash != man.RootHash {
			t.Fatalf("first check = %+v, %v", c, err)
		}
		again, err := a.Verify(context.Background(), h.ID)
		if err != nil || !again.Current || !again.At.Equal(c.At) {
			t.Fatalf("second check of the unchanged folder = %+v, %v; want the cached one", again, err)
		}
		// One byte flipped in place, same size: the modification time changes, so the
		// cache does not hide it.
		p := filepath.Join(e.dir(h), man.Entries[1].Path)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		future := time.Now().Add(time.Minute)
		if err := os.Chtimes(p, future, future); err != nil {
			t.Fatal(err)
		}
		bad, err := a.Verify(context.Background(), h.ID)
		if err != nil || bad.Current || bad.Report.OK() || bad.Report.Problems[0].Path != man.Entries[1].Path ||
			bad.Report.Problems[0].Kind != recordings.ProblemAltered {
			t.Fatalf("check after tampering = %+v (%v)", bad.Report, err)
		}
	})

	t.Run("OtherNode", func(t *testing.T) {
		// Another node's archive, over the same store: it knows the recording from the
		// store's copy of the manifest, and has none of its files.
		other, err := recordings.NewArchive(recordings.ArchiveConfig{Dir: t.TempDir(), Records: e.store, Logs: e.store,
			PublicKey: e.pub})
		if err != nil {
			t.Fatal(err)
		}
		list, err := other.List(ctx)
		if err != nil || len(list) != 1 || list[0].Local || list[0].Node != "node-1" || list[0].RootHash != man.RootHash ||
			list[0].Files != len(man.Entries) || list[0].State != recordings.StateComplete {
			t.Fatalf("list on another node = %+v, %v", list, err)
		}
		p, err := other.Playback(ctx, h.ID)
		if err != nil || p.Local || p.Manifest != nil || len(p.Files) != len(man.Entries) || len(p.Pauses) != 1 || len(p.Timeline) != 5 {
			t.Fatalf("playback on another node = %+v, %v", p, err)
		}
		if _, err := other.Open(h.ID, man.Entries[0].Path); chuting.ErrorCode(err) != chuting.ENOTFOUND {
			t.Fatalf("open on another node: %v, want not found", err)
		}
	})

	t.Run("SymlinkOut", func(t *testing.T) {
		// A listed name replaced by a link out of the folder is not followed.
		p := filepath.Join(e.dir(h), man.Entries[2].Path)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/etc/hostname", p); err != nil {
			t.Fatal(err)
		}
		f, err := a.Open(h.ID, man.Entries[2].Path)
		if err == nil {
			_ = f.Close()
			t.Fatal("opened a symbolic link out of the folder")
		}
	})
}

// TestArchiveRecording shows a hearing being recorded: listed as recording, with its
// segments so far and the live attendance log, and no manifest yet.
func TestArchiveRecording(t *testing.T) {
	e := mustEnv(t)
	h := e.courtHearing(t, 0)
	rec := e.underWay(t, h)
	t.Cleanup(func() {
		e.event(t, h, chuting.AttendanceRecordingStopped, "")
		_ = rec.Close()
	})
	a := e.archive(t, nil)
	list, err := a.List(context.Background())
	if err != nil || len(list) != 1 || list[0].State != recordings.StateRecording || list[0].Files == 0 ||
		list[0].RootHash != "" || list[0].CourtID != h.CourtID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	p, err := a.Playback(context.Background(), h.ID)
	if err != nil || p.Manifest != nil || len(p.Files) != list[0].Files || len(p.Timeline) != 2 {
		t.Fatalf("playback = %+v, %v", p, err)
	}
	if _, err := a.Manifest(h.ID); chuting.ErrorCode(err) != chuting.ENOTFOUND {
		t.Fatalf("manifest of a recording under way: %v, want not found", err)
	}
	if f, err := a.Open(h.ID, p.Files[0].Path); err != nil {
		t.Fatalf("open a closed segment of a recording under way: %v", err)
	} else {
		_ = f.Close()
	}
	if _, err := a.Dispose(context.Background(), h.ID, "judge", "test"); chuting.ErrorCode(err) != chuting.ECONFLICT {
		t.Fatalf("dispose of a recording under way: %v, want a conflict", err)
	}
}

// TestRetention runs the retention job and the approved deletion against the clock.
func TestRetention(t *testing.T) {
	e := mustEnv(t)
	ctx := context.Background()
	kept := e.courtHearing(t, 0)  // kept for ever
	short := e.courtHearing(t, 1) // kept a day
	e.record(t, kept)
	e.record(t, short)
	now := time.Now()
	clock := func() time.Time { return now }
	a := e.archive(t, func() time.Time { return clock() })

	t.Run("ErrNotExpired", func(t *testing.T) {
		n, err := a.MarkDue(ctx)
		if err != nil || n != 0 {
			t.Fatalf("MarkDue today = %d, %v; want 0", n, err)
		}
		for _, h := range []*chuting.Hearing{kept, short} {
			if _, err := a.Dispose(ctx, h.ID, "judge", "到期"); chuting.ErrorCode(err) != chuting.ECONFLICT {
				t.Fatalf("dispose of a recording not expired: %v, want a conflict", err)
			}
		}
	})

	t.Run("OK", func(t *testing.T) {
		clock = func() time.Time { return now.AddDate(0, 0, 2) }
		n, err := a.MarkDue(ctx)
		if err != nil || n != 1 {
			t.Fatalf("MarkDue in two days = %d, %v; want 1", n, err)
		}
		if n, err := a.MarkDue(ctx); err != nil || n != 0 {
			t.Fatalf("MarkDue again = %d, %v; want 0", n, err)
		}
		if _, err := a.Dispose(ctx, kept.ID, "judge", "到期"); chuting.ErrorCode(err) != chuting.ECONFLICT {
			t.Fatalf("dispose of a recording kept for ever: %v, want a conflict", err)
		}
		d, err := a.Dispose(ctx, short.ID, "judge-1", "保存期满 / kept its term")
		if err != nil {
			t.Fatal(err)
		}
		if d.State != chuting.DisposalDeleted || d.ApprovedBy != "judge-1" || d.Reason != "保存期满 / kept its term" ||
			d.Files == 0 || d.Bytes == 0 || d.RootHash == "" {
			t.Fatalf("disposal = %+v", d)
		}
		if _, err := os.Stat(e.dir(short)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("the folder is still there: %v", err)
		}
		if _, err := os.Stat(e.dir(kept)); err != nil {
			t.Fatalf("the recording kept for ever is gone: %v", err)
		}
		list, err := a.List(ctx)
		if err != nil || len(list) != 1 || list[0].HearingID != kept.ID {
			t.Fatalf("list after deletion = %+v, %v", list, err)
		}
		if _, err := a.Dispose(ctx, short.ID, "judge", "again"); chuting.ErrorCode(err) != chuting.ENOTFOUND {
			t.Fatalf("second deletion: %v, want not found", err)
		}
		// The store keeps its copy of the manifest: what was deleted stays known.
		if _, err := chuting.FindOne[chuting.RecordingManifest](ctx, e.store, chuting.IndexHearing, short.ID); err != nil {
			t.Fatalf("the manifest's copy is gone: %v", err)
		}
	})

	t.Run("PolicyLengthened", func(t *testing.T) {
		h := e.courtHearing(t, 1)
		e.record(t, h)
		clock = func() time.Time { return now.AddDate(0, 0, 2) }
		if n, err := a.MarkDue(ctx); err != nil || n != 1 {
			t.Fatalf("MarkDue = %d, %v; want 1", n, err)
		}
		c, err := chuting.Load[chuting.Court](ctx, e.store, h.CourtID)
		if err != nil {
			t.Fatal(err)
		}
		c.RecordingKeepDays = 3650
		if err := chuting.Save(ctx, e.store, c); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Dispose(ctx, h.ID, "judge", "到期"); chuting.ErrorCode(err) != chuting.ECONFLICT {
			t.Fatalf("dispose after the court lengthened its policy: %v, want a conflict", err)
		}
		if _, err := a.MarkDue(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := chuting.FindOne[chuting.RecordingDisposal](ctx, e.store, chuting.IndexHearing, h.ID); chuting.ErrorCode(err) != chuting.ENOTFOUND {
			t.Fatalf("still marked due after the policy was lengthened: %v", err)
		}
	})
}

func TestExpires(t *testing.T) {
	end := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		keep int
		want time.Time
	}{
		{0, time.Time{}},
		{-1, time.Time{}},
		{30, time.Date(2026, 3, 31, 8, 0, 0, 0, time.UTC)},
	} {
		if got := recordings.Expires(end, tc.keep); !got.Equal(tc.want) {
			t.Errorf("Expires(%v, %d) = %v, want %v", end, tc.keep, got, tc.want)
		}
	}
}

// TestExport: the package of a recording holds its signed manifest and every file it lists,
// in a folder named after the hearing, and verifies as the folder does; a package with a
// segment changed does not. A recording under way has no package yet.
func TestExport(t *testing.T) {
	e := mustEnv(t)
	h := e.courtHearing(t, 0)
	rec := e.underWay(t, h)
	a := e.archive(t, nil)
	if err := a.Export(io.Discard, h.ID); chuting.ErrorCode(err) != chuting.ENOTFOUND {
		t.Fatalf("export of a recording under way: %v, want not found", err)
	}
	e.close(t, h, rec)
	var pkg bytes.Buffer
	if err := a.Export(&pkg, h.ID); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(pkg.Bytes()), int64(pkg.Len()))
	if err != nil {
		t.Fatal(err)
	}
	man, _, err := recordings.ReadManifest(e.dir(h))
	if err != nil {
		t.Fatal(err)
	}
	if want := len(man.Entries) + 2; len(zr.File) != want { // the segments, events.json, manifest.json
		t.Fatalf("%d files in the package, want %d", len(zr.File), want)
	}
	sub, err := fs.Sub(zr, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := recordings.VerifyFS(sub, e.pub)
	if err != nil || !rep.OK() || rep.RootHash != man.RootHash {
		t.Fatalf("verify the package: %+v, %v", rep, err)
	}

	// The same package with one byte of a segment changed.
	seg := man.Entries[len(man.Entries)/2].Path
	var bad bytes.Buffer
	zw := zip.NewWriter(&bad)
	for _, f := range zr.File {
		b, err := fs.ReadFile(zr, f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == h.ID+"/"+seg {
			b[len(b)/2] ^= 1
		}
		w, _ := zw.Create(f.Name)
		_, _ = w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr2, _ := zip.NewReader(bytes.NewReader(bad.Bytes()), int64(bad.Len()))
	sub2, _ := fs.Sub(zr2, h.ID)
	rep, err = recordings.VerifyFS(sub2, e.pub)
	if err != nil || rep.OK() || rep.Problems[0].Kind != recordings.ProblemAltered || rep.Problems[0].Path != seg {
		t.Fatalf("verify the changed package: %+v, %v", rep, err)
	}
}
