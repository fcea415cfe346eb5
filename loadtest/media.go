package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// The media every synthetic participant publishes: real VP8 (1280x720, 30 frames a second, a
// keyframe every 2 s) and real Opus (20 ms frames), encoded once by ffmpeg from its test
// pattern and a sine tone, cached, read with pion's IVF and Ogg readers into memory and
// looped. All participants share the one read-only copy.

// clip is an encoded media loop.
type clip struct {
	video []frame // VP8 frames, one per 1/30 s
	audio [][]byte
}

type frame struct {
	data []byte
	key  bool
}

// Clip settings.
const (
	clipSeconds = 10
	frameRate   = 30
	gop         = 60 // frames between keyframes, as the ffmpeg line
	audioFrame  = 20 // ms
)

// nextKey returns the index of the first keyframe at or after i, looping.
func (c *clip) nextKey(i int) int {
	for n := range len(c.video) {
		j := (i + n) % len(c.video)
		if c.video[j].key {
			return j
		}
	}
	return 0
}

// bitrate returns the clip's video bitrate in bits/s.
func (c *clip) bitrate() int {
	n := 0
	for _, f := range c.video {
		n += len(f.data)
	}
	return n * 8 * frameRate / max(1, len(c.video))
}

// loadClip returns the clip for a video bitrate (bits/s), encoding it into cache first if it
// is not there.
func loadClip(ctx context.Context, cache string, bitrate int) (*clip, error) {
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("media cache: %w", err)
	}
	vfile := filepath.Join(cache, fmt.Sprintf("vp8-720p30-g%d-%dk-%ds.ivf", gop, bitrate/1000, clipSeconds))
	afile := filepath.Join(cache, fmt.Sprintf("opus-%dms-%ds.ogg", audioFrame, clipSeconds))
	if err := encode(ctx, vfile, "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate="+strconv.Itoa(frameRate),
		"-t", strconv.Itoa(clipSeconds), "-c:v", "libvpx", "-b:v", strconv.Itoa(bitrate),
		"-minrate", strconv.Itoa(bitrate), "-maxrate", strconv.Itoa(bitrate),
		"-deadline", "realtime", "-cpu-used", "8", "-g", strconv.Itoa(gop), "-keyint_min", strconv.Itoa(gop),
		"-auto-alt-ref", "0", "-f", "ivf"); err != nil {
		return nil, err
	}
	// One Opus packet per Ogg page (-page_duration), so that a page is a packet.
	if err := encode(ctx, afile, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(clipSeconds), "-ac", "2", "-c:a", "libopus", "-b:a", "32k",
		"-frame_duration", strconv.Itoa(audioFrame), "-page_duration", strconv.Itoa(audioFrame*1000), "-f", "ogg"); err != nil {
		return nil, err
	}
	c := &clip{}
	var err error
	if c.video, err = readIVF(vfile); err != nil {
		return nil, err
	}
	if c.audio, err = readOgg(afile); err != nil {
		return nil, err
	}
	if len(c.video) == 0 || len(c.audio) == 0 || !c.video[0].key {
		return nil, fmt.Errorf("media: %s or %s is empty or does not start with a keyframe", vfile, afile)
	}
	return c, nil
}

// encode runs ffmpeg with args, writing out, unless out exists already. It writes a temporary
// file and renames it, so that an interrupted run leaves no half file in the cache.
func encode(ctx context.Context, out string, args ...string) error {
	if _, err := os.Stat(out); err == nil {
		return nil
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return fmt.Errorf("the load tool makes its media with ffmpeg, which is not installed (apt-get install ffmpeg): %w", err)
	}
	tmp := out + ".tmp"
	args = append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...)
	cmd := exec.CommandContext(ctx, ffmpeg, append(args, tmp)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("ffmpeg %s: %w: %s", filepath.Base(out), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return os.Rename(tmp, out)
}

// readIVF reads every VP8 frame of an IVF file, marking keyframes (RFC 6386 §9.1: bit 0 of
// the first byte is 0 for a key frame).
func readIVF(file string) ([]frame, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []frame
	for {
		data, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out = append(out, frame{data: data, key: len(data) > 0 && data[0]&1 == 0})
	}
}

// readOgg reads the Opus packets of an Ogg file written one packet per page, without the
// OpusHead and OpusTags headers.
func readOgg(file string) ([][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out [][]byte
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if bytes.HasPrefix(page, []byte("OpusTags")) || bytes.HasPrefix(page, []byte("OpusHead")) {
			continue
		}
		out = append(out, page)
	}
}
