package testpattern

import (
	"context"
	"os"
	"os/exec"
	"testing"
)

func TestMake(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CHUTING_REQUIRE_FFPROBE") != "" {
			t.Fatal("ffmpeg is not installed and CHUTING_REQUIRE_FFPROBE is set")
		}
		t.Skip("ffmpeg is not installed")
	}
	cache := t.TempDir()
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"VP8", Options{Seconds: 2, Width: 160, Height: 120}},
		{"VP8CBR", Options{Seconds: 2, Width: 160, Height: 120, Bitrate: 200_000, CBR: true, KeyEvery: 15}},
		{"VP9", Options{Codec: "vp9", Seconds: 2, Width: 160, Height: 120}},
		{"H264", Options{Codec: "h264", Seconds: 2, Width: 160, Height: 120}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Make(context.Background(), cache, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			keys := 0
			for _, f := range m.Video {
				if f.Key {
					keys++
				}
			}
			if want := len(m.Video) / m.Options.KeyEvery; keys < want {
				t.Errorf("%d keyframes in %d frames, want %d", keys, len(m.Video), want)
			}
			again, err := Make(context.Background(), cache, tc.o)
			if err != nil || len(again.Video) != len(m.Video) || len(again.Audio) != len(m.Audio) {
				t.Errorf("from the cache: %d frames, %d packets, %v; want %d and %d", len(again.Video),
					len(again.Audio), err, len(m.Video), len(m.Audio))
			}
		})
	}
	if _, err := Make(context.Background(), cache, Options{Codec: "av1"}); err == nil {
		t.Error("codec av1: want an error")
	}
}
