// Package testpattern makes real encoded media from ffmpeg's test pattern (testsrc2) and a
// 440 Hz tone: VP8, VP9 or H.264 video and Opus audio in 20 ms packets, encoded once into a
// cache folder and read back with pion's IVF, H.264 and Ogg readers. The load tool publishes
// it; tests publish it into rooms and record it.
//
// It needs ffmpeg (apt-get install --no-install-recommends ffmpeg).
package testpattern

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// Options say what media to make. Zero fields take the defaults in brackets.
type Options struct {
	Codec    string // "vp8" [default], "vp9" or "h264"
	Seconds  int    // [10]
	Width    int    // [320]
	Height   int    // [240]
	FPS      int    // [30]
	Bitrate  int    // video bits a second [300,000]
	KeyEvery int    // frames between keyframes [FPS: one a second]
	// CBR holds the video bitrate constant (ffmpeg's -minrate and -maxrate), as a load
	// wants; otherwise the encoder may spend less on the easy picture.
	CBR bool
}

func (o *Options) defaults() {
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

// Media is encoded video and Opus audio of the same length.
type Media struct {
	Options Options
	Video   []Frame
	Audio   [][]byte // Opus packets of 20 ms, stereo, 48 kHz
}

// Bitrate returns the video's bitrate as encoded, in bits/s.
func (m *Media) Bitrate() int {
	n := 0
	for _, f := range m.Video {
		n += len(f.Data)
	}
	return n * 8 * m.Options.FPS / max(1, len(m.Video))
}

// Make returns the media for o, encoding it with ffmpeg into a folder of cache (named for the
// options) unless an earlier run made it there.
func Make(ctx context.Context, cache string, o Options) (*Media, error) {
	o.defaults()
	ext, ok := map[string]string{"vp8": "ivf", "vp9": "ivf", "h264": "h264"}[o.Codec]
	if !ok {
		return nil, fmt.Errorf("codec %q: want vp8, vp9 or h264", o.Codec)
	}
	key := fmt.Sprintf("%s-%ds-%dx%d-%dfps-%db-%dk-cbr%v", o.Codec, o.Seconds, o.Width, o.Height, o.FPS, o.Bitrate, o.KeyEvery, o.CBR)
	sum := sha256.Sum256([]byte(key))
	dir := filepath.Join(cache, "testpattern-"+hex.EncodeToString(sum[:6]))
	video, audio := filepath.Join(dir, "video."+ext), filepath.Join(dir, "audio.ogg")
	if _, err := os.Stat(filepath.Join(dir, "done")); err != nil {
		if err := encode(ctx, o, dir, filepath.Base(video)); err != nil {
			return nil, err
		}
	}
	m := &Media{Options: o}
	var err error
	if o.Codec == "h264" {
		m.Video, err = ReadH264(video)
	} else {
		m.Video, err = ReadIVF(video)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", video, err)
	}
	if m.Audio, err = ReadOgg(audio); err != nil {
		return nil, fmt.Errorf("read %s: %w", audio, err)
	}
	if len(m.Video) < o.Seconds*o.FPS*9/10 || len(m.Audio) < o.Seconds*50*9/10 || !m.Video[0].Key {
		return nil, fmt.Errorf("made %d video frames (first key %v) and %d audio packets, want about %d and %d",
			len(m.Video), len(m.Video) > 0 && m.Video[0].Key, len(m.Audio), o.Seconds*o.FPS, o.Seconds*50)
	}
	return m, nil
}

// encode runs ffmpeg into a new folder and renames it into place, so that a cut-off run
// leaves nothing half made under the cache's name.
func encode(ctx context.Context, o Options, dir, video string) error {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return fmt.Errorf("test media are made with ffmpeg, which is not installed (apt-get install ffmpeg): %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".testpattern-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	src := fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", o.Width, o.Height, o.FPS)
	br := strconv.Itoa(o.Bitrate)
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", src, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(o.Seconds), "-map", "0:v", "-pix_fmt", "yuv420p", "-g", strconv.Itoa(o.KeyEvery),
		"-keyint_min", strconv.Itoa(o.KeyEvery), "-b:v", br}
	if o.CBR {
		args = append(args, "-minrate", br, "-maxrate", br)
	}
	switch o.Codec {
	case "vp8", "vp9":
		c := map[string]string{"vp8": "libvpx", "vp9": "libvpx-vp9"}[o.Codec]
		args = append(args, "-c:v", c, "-deadline", "realtime", "-cpu-used", "8", "-auto-alt-ref", "0",
			"-lag-in-frames", "0", "-error-resilient", "1", "-f", "ivf", filepath.Join(tmp, video))
	case "h264":
		args = append(args, "-c:v", "libx264", "-profile:v", "baseline", "-preset", "veryfast", "-tune", "zerolatency",
			"-x264-params", "sliced-threads=0:repeat-headers=1", "-bsf:v", "h264_mp4toannexb", "-f", "h264",
			filepath.Join(tmp, video))
	}
	// One Opus packet per Ogg page (-page_duration), so that a page is a packet.
	args = append(args, "-map", "1:a", "-t", strconv.Itoa(o.Seconds), "-c:a", "libopus", "-b:a", "32k", "-ac", "2",
		"-frame_duration", "20", "-page_duration", "20000", "-f", "ogg", filepath.Join(tmp, "audio.ogg"))
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ffmpeg %v: %w\n%s", args, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := os.WriteFile(filepath.Join(tmp, "done"), nil, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "done")); statErr == nil {
			return nil // another process made it first
		}
		return err
	}
	return nil
}

// ReadIVF reads every frame of a VP8 or VP9 IVF file, marking keyframes (VP8: RFC 6386 §9.1,
// bit 0 of the first byte is 0; VP9: the uncompressed header's frame_type).
func ReadIVF(file string) ([]Frame, error) {
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

// ReadH264 groups the NAL units of an Annex B stream into access units: the parameter sets
// and SEI before a slice go with it, and each slice ends one (the encoder makes one slice a
// frame).
func ReadH264(file string) ([]Frame, error) {
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

// ReadOgg reads the Opus packets of an Ogg file written one packet per page, without the
// OpusHead and OpusTags headers.
func ReadOgg(file string) ([][]byte, error) {
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
		if len(b) == 0 || bytes.HasPrefix(b, []byte("OpusTags")) || bytes.HasPrefix(b, []byte("OpusHead")) {
			continue
		}
		out = append(out, b)
	}
}
