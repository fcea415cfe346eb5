package recordingstest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/chuting/chuting/signaling"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// FeedOptions say how Feed plays media into a recording.
type FeedOptions struct {
	Participant string         // "p-feed"
	Name        string         // "李明"
	Role        signaling.Role // appraiser
	Duration    time.Duration  // how much media; Media's length
	Start       time.Time      // the arrival time of the first packets; time.Now()
	// Gaps are silences: from each key (media time) for its value, nothing arrives (a paused
	// recording); the RTP timestamps go on, as a browser's encoder's do.
	Gaps map[time.Duration]time.Duration
	// Timestamp is the first RTP timestamp of both tracks (near 1<<32 tests the wrap); 0 is
	// random.
	Timestamp uint32
	// NoAudio and NoVideo leave a track out.
	NoAudio, NoVideo bool
	// Stop, when set, is checked before each packet: Feed returns when it holds, without
	// closing the tracks (a crash).
	Stop func(media time.Duration) bool
}

// Fed is what Feed did.
type Fed struct {
	Video, Audio signaling.TrackRecorder
	VideoID      string
	AudioID      string
	Keyframes    int // keyframe requests the video honoured by skipping ahead
}

// Feed plays m into rec as the room would feed it, but as fast as it can: a camera track
// and a microphone track, packetized as a browser does, each packet with an arrival time on a
// simulated clock, honouring keyframe requests like an encoder (the next keyframe is sent
// next). Unless Stop ends it early, the tracks are closed at the end.
func Feed(tb testing.TB, rec signaling.Recording, m *Media, o FeedOptions) Fed {
	tb.Helper()
	if o.Participant == "" {
		o.Participant = "p-feed"
	}
	if o.Name == "" {
		o.Name = "李明"
	}
	if o.Role == "" {
		o.Role = signaling.RoleAppraiser
	}
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	if o.Duration <= 0 {
		o.Duration = time.Duration(m.Options.Seconds) * time.Second
	}
	mime, payloader := webrtc.MimeTypeVP8, rtp.Payloader(&codecs.VP8Payloader{EnablePictureID: true})
	switch m.Options.Codec {
	case "vp9":
		mime, payloader = webrtc.MimeTypeVP9, &codecs.VP9Payloader{}
	case "h264":
		mime, payloader = webrtc.MimeTypeH264, &codecs.H264Payloader{}
	}
	var asked atomic.Bool
	f := Fed{VideoID: "t-video-" + o.Participant, AudioID: "t-audio-" + o.Participant}
	var err error
	opts := func(ts uint32) []rtp.PacketizerOption {
		if o.Timestamp != 0 {
			return []rtp.PacketizerOption{rtp.WithTimestamp(ts), rtp.WithSSRC(ts)}
		}
		return nil
	}
	var vp, ap rtp.Packetizer
	if !o.NoVideo {
		f.Video, err = rec.Track(signaling.RecordedTrack{ID: f.VideoID, Participant: o.Participant, Subject: "user-1",
			Name: o.Name, Role: o.Role, Kind: webrtc.RTPCodecTypeVideo, Source: signaling.SourceCamera,
			Codec:    webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000},
			Keyframe: func() { asked.Store(true) }})
		if err != nil {
			tb.Fatal(err)
		}
		vp = rtp.NewPacketizerWithOptions(1200, payloader, rtp.NewRandomSequencer(), 90000, opts(o.Timestamp)...)
	}
	if !o.NoAudio {
		f.Audio, err = rec.Track(signaling.RecordedTrack{ID: f.AudioID, Participant: o.Participant, Subject: "user-1",
			Name: o.Name, Role: o.Role, Kind: webrtc.RTPCodecTypeAudio, Source: signaling.SourceMicrophone,
			Codec: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}})
		if err != nil {
			tb.Fatal(err)
		}
		ap = rtp.NewPacketizerWithOptions(1200, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), 48000,
			opts(o.Timestamp+12345)...)
	}
	frame := time.Second / time.Duration(m.Options.FPS)
	silent := func(t time.Duration) bool {
		for from, d := range o.Gaps {
			if t >= from && t < from+d {
				return true
			}
		}
		return false
	}
	write := func(tr signaling.TrackRecorder, t time.Duration, pkts []*rtp.Packet) {
		for _, p := range pkts {
			if err := tr.WriteRTP(o.Start.Add(t), &p.Header, p.Payload); err != nil {
				tb.Errorf("write RTP at %v: %v", t, err)
			}
		}
	}
	vi, ai := 0, 0
	var vt, at time.Duration // media time of the next video frame and audio packet
	if o.NoVideo {
		vt = o.Duration
	}
	if o.NoAudio {
		at = o.Duration
	}
	for vt < o.Duration || at < o.Duration {
		video := vt < o.Duration && (vt <= at || at >= o.Duration)
		t := at
		if video {
			t = vt
		}
		if o.Stop != nil && o.Stop(t) {
			return f
		}
		if video {
			if asked.Swap(false) && !m.Video[vi].Key {
				for vi = (vi + 1) % len(m.Video); !m.Video[vi].Key; vi = (vi + 1) % len(m.Video) {
				}
				f.Keyframes++
			}
			pkts := vp.Packetize(m.Video[vi].Data, uint32(90000/m.Options.FPS))
			if !silent(vt) {
				write(f.Video, vt, pkts)
			}
			vi = (vi + 1) % len(m.Video)
			vt += frame
			continue
		}
		pkts := ap.Packetize(m.Audio[ai], 960)
		if !silent(at) {
			write(f.Audio, at, pkts)
		}
		ai = (ai + 1) % len(m.Audio)
		at += 20 * time.Millisecond
	}
	for _, tr := range []signaling.TrackRecorder{f.Video, f.Audio} {
		if tr != nil {
			if err := tr.Close(); err != nil {
				tb.Error(err)
			}
		}
	}
	return f
}
