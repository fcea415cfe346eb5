// Package recordingstest helps test recordings with real media: it makes short VP8, VP9 or
// H.264 video and Opus audio with ffmpeg, checks files with ffprobe, and publishes media into
// a hearing room as a pion client does.
//
// Tests that need ffmpeg skip without it, unless CHUTING_REQUIRE_FFPROBE is set, when they
// fail (the test command sets it).
package recordingstest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
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

// MediaOptions say what media to make.
type MediaOptions struct {
	Codec    string // "vp8" (default), "vp9" or "h264"
	Seconds  int    // 10
	Width    int    // 320
	Height   int    // 240
	FPS      int    // 30
	Bitrate  int    // video bits a second; 300_000
	KeyEvery int    // frames between keyframes; FPS (one a second)
}

func (o *MediaOptions) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Codec == "" {
		o.Codec = "vp8"
	}
	def(&o.Seconds, 10)
	def(&o.Width, 320)
	def(&o.Height, 240)
	def(&o.FPS, 30)
	def(&o.Bitrate, 300_000)
	def(&o.KeyEvery, o.FPS)
}

// Frame is one encoded video frame (for H.264, an access unit in Annex B form).
type Frame struct {
	Data []byte
	Key  bool
}

// Media is encoded video and Opus audio of the same length: a test pattern and a tone.
type Media struct {
	Options MediaOptions
	Video   []Frame
	Audio   [][]byte // Opus packets of 20 ms, stereo, 48 kHz
}

// MakeMedia encodes media with ffmpeg, or takes it from a cache in the temporary folder that
// later runs share (keyed by the options).
func MakeMedia(tb testing.TB, o MediaOptions) *Media {
	tb.Helper()
	RequireFFmpeg(tb)
	o.defaults()
	key := fmt.Sprintf("%s-%ds-%dx%d-%dfps-%db-%dk", o.Codec, o.Seconds, o.Width, o.Height, o.FPS, o.Bitrate, o.KeyEvery)
	sum := sha256.Sum256([]byte(key))
	dir := filepath.Join(os.TempDir(), "chuting-testmedia-"+hex.EncodeToString(sum[:6]))
	video := filepath.Join(dir, "video."+map[string]string{"vp8": "ivf", "vp9": "ivf", "h264": "h264"}[o.Codec])
	audio := filepath.Join(dir, "audio.ogg")
	if _, err := os.Stat(filepath.Join(dir, "done")); err != nil {
		if err := encode(o, dir, video, audio); err != nil {
			tb.Fatal(err)
		}
	}
	m := &Media{Options: o}
	var err error
	if o.Codec == "h264" {
		m.Video, err = readH264(video)
	} else {
		m.Video, err = readIVF(video)
	}
	if err != nil {
		tb.Fatalf("read %s: %v", video, err)
	}
	if m.Audio, err = readOgg(audio); err != nil {
		tb.Fatalf("read %s: %v", audio, err)
	}
	if len(m.Video) < o.Seconds*o.FPS*9/10 || len(m.Audio) < o.Seconds*50*9/10 || !m.Video[0].Key {
		tb.Fatalf("made %d video frames (first key %v) and %d audio packets, want about %d and %d",
			len(m.Video), len(m.Video) > 0 && m.Video[0].Key, len(m.Audio), o.Seconds*o.FPS, o.Seconds*50)
	}
	return m
}

// encode runs ffmpeg into a new folder and renames it into place, so that a cut-off run
// leaves nothing half made under the cache's name.
func encode(o MediaOptions, dir, video, audio string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".chuting-testmedia-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	size := fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", o.Width, o.Height, o.FPS)
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", size, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(o.Seconds), "-map", "0:v", "-pix_fmt", "yuv420p", "-g", strconv.Itoa(o.KeyEvery),
		"-keyint_min", strconv.Itoa(o.KeyEvery), "-b:v", strconv.Itoa(o.Bitrate)}
	switch o.Codec {
	case "vp8", "vp9":
		c := map[string]string{"vp8": "libvpx", "vp9": "libvpx-vp9"}[o.Codec]
		args = append(args, "-c:v", c, "-deadline", "realtime", "-cpu-used", "8", "-auto-alt-ref", "0",
			"-lag-in-frames", "0", "-error-resilient", "1", "-f", "ivf", filepath.Join(tmp, filepath.Base(video)))
	case "h264":
		args = append(args, "-c:v", "libx264", "-profile:v", "baseline", "-preset", "veryfast", "-tune", "zerolatency",
			"-x264-params", "sliced-threads=0:repeat-headers=1", "-bsf:v", "h264_mp4toannexb", "-f", "h264",
			filepath.Join(tmp, filepath.Base(video)))
	default:
		return fmt.Errorf("codec %q: want vp8, vp9 or h264", o.Codec)
	}
	args = append(args, "-map", "1:a", "-t", strconv.Itoa(o.Seconds), "-c:a", "libopus", "-b:a", "32k", "-ac", "2",
		"-frame_duration", "20", "-page_duration", "20000", "-f", "ogg", filepath.Join(tmp, "audio.ogg"))
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg %v: %v\n%s", args, err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, "done"), nil, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "done")); statErr == nil {
			return nil // another test process made it first
		}
		return err
	}
	return nil
}

func readIVF(file string) ([]Frame, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, hdr, err := ivfreader.NewWith(f)
	if err != nil {
		return nil, err
	}
	vp9 := string(hdr.FourCC[:]) == "VP90"
	var out []Frame
	for {
		b, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		key := len(b) > 0 && b[0]&1 == 0
		if vp9 { // frame_marker, profile (2 bits for 0/1), show_existing_frame, frame_type
			key = len(b) > 0 && b[0]&0xc0 == 0x80 && b[0]&0x08 == 0 && b[0]&0x04 == 0
		}
		out = append(out, Frame{Data: b, Key: key})
	}
}

// readH264 groups the NAL units of an Annex B stream into access units: the parameter sets and
// SEI before a slice go with it, and each slice ends one (the encoder makes one slice a
// frame).
func readH264(file string) ([]Frame, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		return nil, err
	}
	var out []Frame
	var cur bytes.Buffer
	key := false
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		cur.Write([]byte{0, 0, 0, 1})
		cur.Write(nal.Data)
		switch nal.UnitType {
		case h264reader.NalUnitTypeCodedSliceIdr:
			key = true
			fallthrough
		case h264reader.NalUnitTypeCodedSliceNonIdr:
			out = append(out, Frame{Data: bytes.Clone(cur.Bytes()), Key: key})
			cur.Reset()
			key = false
		}
	}
}

func readOgg(file string) ([][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for {
		b, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(b, []byte("OpusTags")) || len(b) == 0 {
			continue
		}
		out = append(out, b)
	}
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
