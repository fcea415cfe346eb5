package recordings_test

import (
	"context"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/recordings/recordingstest"
)

// checkTrack checks a track's segments in the manifest: each plays cleanly (ffprobe decodes
// every frame, ffmpeg finds their timestamps in order) with the codec, they follow each other without overlap, and together last
// about want. It returns the first segment's start.
func checkTrack(t *testing.T, dir string, m *recordings.Manifest, track, codec string, want time.Duration) time.Time {
	t.Helper()
	var segs []chuting.ManifestEntry
	for _, e := range m.Entries {
		if e.Track == track && e.Status != recordings.StatusOriginal {
			segs = append(segs, e)
		}
	}
	if len(segs) == 0 {
		t.Fatalf("no segments of %s", track)
	}
	var total float64
	for i, e := range segs {
		p := recordingstest.ProbeFile(t, filepath.Join(dir, e.Path))
		// And as a player reads it: every frame in order, each later than the one before.
		if msg := recordingstest.Decode(t, filepath.Join(dir, e.Path)); msg != "" {
			t.Errorf("%s does not play cleanly: %s", e.Path, msg)
		}
		if len(p.Streams) != 1 || p.Streams[0].CodecName != codec {
			t.Fatalf("%s: streams %+v, want one %s", e.Path, p.Streams, codec)
		}
		if p.Streams[0].Frames != strconv.Itoa(e.Frames) {
			t.Errorf("%s: ffprobe decodes %s frames, the manifest lists %d", e.Path, p.Streams[0].Frames, e.Frames)
		}
		d := p.Duration()
		if d <= 0 {
			t.Fatalf("%s: no duration: %+v", e.Path, p.Format)
		}
		// Segments last about 5 s; one ended by a pause (the next starts later) may be shorter.
		if i < len(segs)-1 && (d < 3 && segs[i+1].Start.Sub(e.End) < time.Second || d > 8) {
			t.Errorf("%s: %.2f s long, want a segment of about 5 s", e.Path, d)
		}
		if got := e.End.Sub(e.Start).Seconds(); math.Abs(got-d) > 0.1 {
			t.Errorf("%s: manifest says %.3f s, the file %.3f s", e.Path, got, d)
		}
		if i > 0 && e.Start.Before(segs[i-1].End.Add(-time.Millisecond)) {
			t.Errorf("%s starts at %v, before the previous one ends at %v", e.Path, e.Start, segs[i-1].End)
		}
		total += d
	}
	if math.Abs(total-want.Seconds()) > 1 {
		t.Errorf("%s: %d segments last %.2f s in all, want %v ± 1 s", track, len(segs), total, want)
	}
	t.Logf("%s: %d segments, %.2f s", track, len(segs), total)
	return segs[0].Start
}

// TestRecordCodecs feeds 20 s of each codec's real media (made by ffmpeg) into a recording,
// as the room would, and checks the files with ffprobe, the manifest and the store's copy.
// The RTP timestamps start just before they wrap around.
func TestRecordCodecs(t *testing.T) {
	for _, tc := range []struct{ codec, probe, ext string }{
		{"vp8", "vp8", ".webm"},
		{"vp9", "vp9", ".webm"},
		{"h264", "h264", ".mkv"},
	} {
		t.Run(strings.ToUpper(tc.codec), func(t *testing.T) {
			m := recordingstest.MakeMedia(t, recordingstest.MediaOptions{Codec: tc.codec, Seconds: 20})
			e := mustEnv(t)
			h := e.hearing(t)
			rec, err := e.rec.Record(context.Background(), h)
			if err != nil {
				t.Fatal(err)
			}
			fed := recordingstest.Feed(t, rec, m, recordingstest.FeedOptions{Timestamp: math.MaxUint32 - 90000})
			e.close(t, h, rec)
			man, _, err := recordings.ReadManifest(e.dir(h))
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range man.Entries {
				ext := tc.ext
				if en.Kind == "audio" {
					ext = ".webm"
				}
				if !strings.HasSuffix(en.Path, ext) || en.Status != recordings.StatusComplete || en.Name != "李明" {
					t.Errorf("entry %+v", en)
				}
			}
			v := checkTrack(t, e.dir(h), man, fed.VideoID, tc.probe, 20*time.Second)
			a := checkTrack(t, e.dir(h), man, fed.AudioID, "opus", 20*time.Second)
			if d := v.Sub(a).Abs(); d > 100*time.Millisecond {
				t.Errorf("video starts %v after audio", d)
			}
			p := recordingstest.ProbeFile(t, filepath.Join(e.dir(h), man.Entries[0].Path))
			for _, s := range p.Streams {
				if s.CodecType == "video" && (s.Width != 320 || s.Height != 240) {
					t.Errorf("video %dx%d, want 320x240", s.Width, s.Height)
				}
			}
			if man.Interrupted || man.CaseNo != "(2026)赣07民初123号" || man.CourtID != "court-1" || len(man.Sessions) != 1 ||
				man.Events == nil || man.Events.Count != 3 {
				t.Errorf("manifest %+v", man)
			}
			rep, err := recordings.Verify(e.dir(h), e.pub)
			if err != nil || !rep.OK() {
				t.Fatalf("verify: %v %v", err, rep.Problems)
			}
			stored, err := chuting.FindOne[chuting.RecordingManifest](context.Background(), e.store, chuting.IndexHearing, h.ID)
			if err != nil || stored.RootHash != man.RootHash || len(stored.Entries) != len(man.Entries) {
				t.Fatalf("stored manifest: %v %+v", err, stored)
			}
		})
	}
}
