// Package recordingstest helps test recordings with real media: it makes short VP8, VP9 or
// H.264 video and Opus audio with ffmpeg (package testpattern), checks files with ffprobe, and
// publishes media into a hearing room as a pion client does.
//
// Tests that need ffmpeg skip without it, unless CHUTING_REQUIRE_FFPROBE is set, when they
// fail (the test command sets it).
package recordingstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chuting/chuting/testpattern"
)

// RequireFFmpeg skips tb when ffmpeg or ffprobe is missing, or fails it when
// CHUTING_REQUIRE_FFPROBE is set.
func RequireFFmpeg(tb testing.TB) {
	tb.Helper()
	for _, exe := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(exe); err != nil {
			if os.Getenv("CHUTING_REQUIRE_FFPROBE") != "" {
				tb.Fatalf("CHUTING_REQUIRE_FFPROBE is set but %s is missing (apt-get install ffmpeg)", exe)
			}
			tb.Skipf("no %s (apt-get install --no-install-recommends ffmpeg); set CHUTING_REQUIRE_FFPROBE=1 to fail instead", exe)
		}
	}
}

// MediaOptions say what media to make: package testpattern's options.
type MediaOptions = testpattern.Options

// Media is encoded video and Opus audio of the same length: a test pattern and a tone.
type Media = testpattern.Media

// MakeMedia encodes media with ffmpeg (package testpattern), or takes it from a cache in the
// temporary folder that later runs share (keyed by the options). It skips or fails tb as
// RequireFFmpeg does when ffmpeg is missing, and fails tb if the media cannot be made.
func MakeMedia(tb testing.TB, o MediaOptions) *Media {
	tb.Helper()
	RequireFFmpeg(tb)
	m, err := testpattern.Make(context.Background(), os.TempDir(), o)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// Probe is what ffprobe says of a file.
type Probe struct {
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
		StartTime  string `json:"start_time"`
	} `json:"format"`
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
		Frames    string `json:"nb_read_frames"`
	} `json:"streams"`
}

// Duration is the file's duration in seconds.
func (p *Probe) Duration() float64 {
	d, _ := strconv.ParseFloat(p.Format.Duration, 64)
	return d
}

// ProbeFile runs ffprobe on file, decoding every frame (-count_frames), and fails tb if it
// reports an error.
func ProbeFile(tb testing.TB, file string) *Probe {
	tb.Helper()
	p, err := probe(file)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func probe(file string) (*Probe, error) {
	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_format", "-show_streams", "-of", "json", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		return nil, fmt.Errorf("ffprobe %s: %v\n%s", filepath.Base(file), err, stderr.String())
	}
	var p Probe
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, fmt.Errorf("ffprobe %s: %v", filepath.Base(file), err)
	}
	return &p, nil
}

// Decode decodes every frame of file with ffmpeg and returns what it reported as errors
// (empty: the file plays cleanly). Frames are passed on in the file's own time base (1 ms in
// Matroska), so a frame not later than the one before is reported, and two frames closer
// than ffmpeg's guess of the frame rate are not (a keyframe sent at once on request).
func Decode(tb testing.TB, file string) string {
	tb.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-v", "error", "-i", file, "-enc_time_base", "-1", "-f", "null",
		"-").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%v: %s", err, out)
	}
	return string(out)
}
