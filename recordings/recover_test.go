package recordings_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/recordings/recordingstest"
)

// TestRecover takes the folder of a recording as a crash leaves it 13 s into the hearing: the
// open segments partial, the last frame of one cut off mid-write, and the journal's last line
// too. Recover keeps the partial files as found, makes them playable, and signs a manifest
// that says the recording was interrupted where its media ends. A second Recover does
// nothing; a new recording of the hearing is a second session, and the manifest covers both.
func TestRecover(t *testing.T) {
	m := recordingstest.MakeMedia(t, recordingstest.MediaOptions{Seconds: 20})
	e := mustEnv(t)
	h := e.hearing(t)
	ctx := context.Background()
	start := time.Now()
	crash := 13 * time.Second
	crashed, fed := e.crashedAt(t, h, m, start, crash)

	var partials []string
	for _, name := range files(t, crashed) {
		if strings.HasSuffix(name, ".partial") {
			partials = append(partials, name)
		}
	}
	if len(partials) != 2 {
		t.Fatalf("files after the crash: %v, want a partial segment of each track", files(t, crashed))
	}
	// A write cut off in the middle: the last frame of the video is incomplete.
	cut := filepath.Join(crashed, partials[1])
	fi, _ := os.Stat(cut)
	if err := os.Truncate(cut, fi.Size()-7); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(filepath.Join(crashed, "journal.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.WriteString(`{"type":"segment","session":1,"entry":{"path":"s1-`)
	_ = f.Close()

	cfg := e.cfg
	cfg.Dir = filepath.Dir(crashed)
	got, err := recordings.Recover(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].HearingID != h.ID || len(got[0].Recovered) != 2 || len(got[0].Kept) != 2 ||
		!slices.Equal(got[0].Interrupted, []int{1}) {
		t.Fatalf("recovered %+v", got)
	}
	t.Logf("recovered %+v", got[0])
	man, _, err := recordings.ReadManifest(crashed)
	if err != nil {
		t.Fatal(err)
	}
	if !man.Interrupted || man.InterruptedAt.Sub(start) < crash-time.Second || man.InterruptedAt.Sub(start) > crash+time.Second ||
		len(man.Sessions) != 1 || !man.Sessions[0].Interrupted {
		t.Fatalf("manifest: interrupted %v at %v (%v into the recording), sessions %+v", man.Interrupted,
			man.InterruptedAt, man.InterruptedAt.Sub(start), man.Sessions)
	}
	for _, p := range partials {
		i := slices.IndexFunc(man.Entries, func(en chuting.ManifestEntry) bool { return en.Path == p+".orig" })
		if i < 0 || man.Entries[i].Status != recordings.StatusOriginal {
			t.Errorf("the partial file %s is not kept as an original in the manifest", p)
		}
		j := slices.IndexFunc(man.Entries, func(en chuting.ManifestEntry) bool { return en.Path == strings.TrimSuffix(p, ".partial") })
		if j < 0 || man.Entries[j].Status != recordings.StatusRecovered {
			t.Errorf("no recovered segment from %s", p)
		}
	}
	for _, track := range []struct{ id, codec string }{{fed.VideoID, "vp8"}, {fed.AudioID, "opus"}} {
		checkTrack(t, crashed, man, track.id, track.codec, crash)
	}
	rep, err := recordings.Verify(crashed, e.pub)
	if err != nil || !rep.OK() || !rep.Interrupted || !rep.InterruptedAt.Equal(man.InterruptedAt) {
		t.Fatalf("verify: %v %v; interrupted %v at %v, want at %v", err, rep.Problems, rep.Interrupted,
			rep.InterruptedAt, man.InterruptedAt)
	}
	stored, err := chuting.FindOne[chuting.RecordingManifest](ctx, e.store, chuting.IndexHearing, h.ID)
	if err != nil || !stored.Interrupted || stored.RootHash != man.RootHash {
		t.Fatalf("stored %v %+v", err, stored)
	}

	t.Run("Again", func(t *testing.T) {
		again, err := recordings.Recover(ctx, cfg)
		if err != nil || len(again) != 0 {
			t.Fatalf("second recover: %v %+v", err, again)
		}
	})

	t.Run("NextSession", func(t *testing.T) {
		r2, err := recordings.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r2.Record(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		recordingstest.Feed(t, rec, m, recordingstest.FeedOptions{Participant: "p-2", Duration: 6 * time.Second})
		e.close(t, h, rec)
		man, _, err := recordings.ReadManifest(crashed)
		if err != nil {
			t.Fatal(err)
		}
		if len(man.Sessions) != 2 || man.Sessions[1].Interrupted || !man.Interrupted || man.Entries[len(man.Entries)-1].Session != 2 {
			t.Fatalf("sessions %+v, interrupted %v", man.Sessions, man.Interrupted)
		}
		e.mustVerify(t, crashed, "after the second crash")
	})
}

// TestSegments checks where segments are cut: a pause of the recording (no packets for a
// while; the publisher's sequence numbers go on) ends one and the next starts after it, also
// when more packets were skipped than the sample builder holds (1.5 Mb/s video, 8 s); and
// video whose encoder makes a keyframe only every 10 s is still cut every 5 s or so, since
// the recorder asks for keyframes.
func TestSegments(t *testing.T) {
	for _, tc := range []struct {
		name     string
		media    recordingstest.MediaOptions
		from, of time.Duration // the pause
	}{
		{"Gap", recordingstest.MediaOptions{Seconds: 20}, 7 * time.Second, 3 * time.Second},
		{"LongGapHighRate", recordingstest.MediaOptions{Seconds: 10, Width: 1280, Height: 720, Bitrate: 1_500_000},
			5 * time.Second, 8 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := recordingstest.MakeMedia(t, tc.media)
			e := mustEnv(t)
			h := e.hearing(t)
			rec, err := e.rec.Record(context.Background(), h)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			const length = 20 * time.Second
			fed := recordingstest.Feed(t, rec, m, recordingstest.FeedOptions{Start: start, Duration: length,
				Gaps: map[time.Duration]time.Duration{tc.from: tc.of}})
			e.close(t, h, rec)
			man, _, err := recordings.ReadManifest(e.dir(h))
			if err != nil {
				t.Fatal(err)
			}
			for _, track := range []string{fed.VideoID, fed.AudioID} {
				for _, en := range man.Entries {
					if en.Track == track && en.Start.Sub(start) < tc.from+time.Second && en.End.Sub(start) > tc.from+tc.of-time.Second {
						t.Errorf("%s spans the pause: %v to %v", en.Path, en.Start.Sub(start), en.End.Sub(start))
					}
				}
			}
			checkTrack(t, e.dir(h), man, fed.VideoID, "vp8", length-tc.of)
			checkTrack(t, e.dir(h), man, fed.AudioID, "opus", length-tc.of)
		})
	}
	t.Run("KeyframeRequests", func(t *testing.T) {
		m := recordingstest.MakeMedia(t, recordingstest.MediaOptions{Seconds: 20, KeyEvery: 300})
		e := mustEnv(t)
		h := e.hearing(t)
		rec, err := e.rec.Record(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		fed := recordingstest.Feed(t, rec, m, recordingstest.FeedOptions{NoAudio: true})
		e.close(t, h, rec)
		man, _, err := recordings.ReadManifest(e.dir(h))
		if err != nil {
			t.Fatal(err)
		}
		if fed.Keyframes < 2 {
			t.Errorf("%d keyframe requests honoured, want some", fed.Keyframes)
		}
		checkTrack(t, e.dir(h), man, fed.VideoID, "vp8", 20*time.Second)
	})
}
