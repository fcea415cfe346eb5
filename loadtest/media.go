package loadtest

import (
	"context"
	"fmt"

	"github.com/chuting/chuting/testpattern"
)

// The media every synthetic participant publishes: real VP8 (1280x720, 30 frames a second, a
// keyframe every 2 s, constant bitrate) and real Opus (20 ms frames), encoded once by ffmpeg
// from its test pattern and a tone (package testpattern), cached, and looped. All
// participants share the one read-only copy.

// Clip settings.
const (
	clipSeconds = 10
	frameRate   = 30
	gop         = 60 // frames between keyframes
	audioFrame  = 20 // ms
)

// clip is an encoded media loop.
type clip struct {
	*testpattern.Media
}

// nextKey returns the index of the first keyframe at or after i, looping.
func (c *clip) nextKey(i int) int {
	for n := range len(c.Video) {
		j := (i + n) % len(c.Video)
		if c.Video[j].Key {
			return j
		}
	}
	return 0
}

// loadClip returns the clip for a video bitrate (bits/s), encoding it into cache first if it
// is not there.
func loadClip(ctx context.Context, cache string, bitrate int) (*clip, error) {
	m, err := testpattern.Make(ctx, cache, testpattern.Options{Codec: "vp8", Seconds: clipSeconds,
		Width: 1280, Height: 720, FPS: frameRate, Bitrate: bitrate, KeyEvery: gop, CBR: true})
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	return &clip{m}, nil
}
