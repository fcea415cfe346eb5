package recordings

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// A track's RTP packets become frames in a sample builder (which waits a little for late and
// retransmitted packets and puts them back in order), and the frames go into segments as they
// come, untouched.
//
// The hearing clock: each track's first packet is placed at the time it reached the server,
// and every frame after it at that time plus its RTP timestamp's distance from the first
// packet's. So all tracks share the server's wall clock, and within a track the publisher's
// own timing is kept. Since one packet may have been held up on its way, the track's place
// is taken from the least delayed of its packets in its first half second (their frames
// wait until then), so that a participant's audio and video line up within the network's
// jitter. Where a track's timestamps stop agreeing with the arrival times by more than a few
// seconds (a publisher that restarted its clock), the track is placed anew.

const (
	// gapCut is a silence in a track (a pause of the recording, a muted microphone, a lost
	// connection) after which its next frame starts a new segment.
	gapCut = 2 * time.Second
	// jump is how far a frame's place on the hearing clock may stray from the arrival of the
	// packets before the track is placed anew.
	jump = 3 * time.Second
	// calibration is how long a track's first packets are watched for the least delayed one,
	// which places the track on the hearing clock.
	calibration = 500 * time.Millisecond
	// keyEvery is the least time between two keyframe requests of the recorder, and
	// keyStart while it waits for the keyframe that starts a track's video.
	keyEvery = time.Second
	keyStart = 250 * time.Millisecond
	// logEvery is the least time between two logged failures of one track.
	logEvery = 10 * time.Second
)

// trackRecorder records one track: it implements signaling.TrackRecorder.
type trackRecorder struct {
	rec      *Recording
	info     trackInfo
	c        *codec
	channels uint16
	keyframe func() // asks the publisher for a keyframe; may be nil
	segment  time.Duration
	log      *slog.Logger

	mu   sync.Mutex // WriteRTP and Close come from one goroutine; held against a late Close
	sb   *samplebuilder.SampleBuilder
	free []*rtp.Packet // packets the sample builder has let go of, for reuse

	anchored   bool
	anchorAt   time.Time       // the hearing-clock time of RTP time refU 0
	calibUntil time.Time       // until then the track's place is being found
	pending    []*media.Sample // frames waiting for it
	ref        uint32          // the last RTP timestamp seen, and its distance from the anchor
	refU       int64
	lastAt     time.Time // when the latest packet arrived
	lastSN     uint16    // the highest sequence number pushed (once anchored)

	p        params
	seg      *segmentWriter
	segN     int
	lastEnd  time.Time // where the last frame written ends, on the hearing clock
	keyAsked time.Time
	retryAt  time.Time // after a file could not be made, not before this
	loggedAt time.Time
	closed   bool
}

func newTrackRecorder(rec *Recording, info trackInfo, c *codec, channels uint16, keyframe func()) *trackRecorder {
	t := &trackRecorder{rec: rec, info: info, c: c, channels: channels, keyframe: keyframe, segment: rec.cfg.Segment,
		log: rec.cfg.Logger.With("hearing", rec.hearing.ID, "track", info.ID, "participant", info.Participant)}
	t.sb = t.newSampleBuilder()
	return t
}

// newSampleBuilder returns an empty sample builder for the track's codec.
func (t *trackRecorder) newSampleBuilder() *samplebuilder.SampleBuilder {
	// Late packets are waited for by count (maxLate), not by time: the builder's time limit
	// makes its Flush scan its whole 64 K ring over and over.
	return samplebuilder.New(t.c.maxLate, t.c.depack(), t.c.clock,
		samplebuilder.WithPacketReleaseHandler(func(p *rtp.Packet) { t.free = append(t.free, p) }))
}

// WriteRTP implements signaling.TrackRecorder. The header and payload are the room's and are
// copied.
func (t *trackRecorder) WriteRTP(at time.Time, h *rtp.Header, payload []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errClosed
	}
	// A stream that starts again with its sequence numbers far on (the publisher went on
	// sending while the recording was paused, or a burst was lost) goes to a new sample
	// builder, as one after a long gap does: pion's waits for the skipped packets as if late,
	// building no frame until it holds maxLate more, and once flushed may never build one again
	// (1.5 Mb/s video paused for 8 s in a real room was not recorded after the resume;
	// TestSegments/LongGapHighRate).
	d := h.SequenceNumber - t.lastSN
	if !t.anchored {
		t.anchored, t.anchorAt, t.ref, t.refU, t.calibUntil = true, at, h.Timestamp, 0, at.Add(calibration)
		d = 0                // the first packet: lastSN is set below
		t.askKeyUnlocked(at) // at once, rather than when the first frame is found not to be one
	} else if gap := at.Sub(t.lastAt) > gapCut; gap || d > t.c.maxLate && d < 1<<15 {
		t.flushUnlocked()
		if gap {
			t.cutUnlocked()
		}
		t.sb = t.newSampleBuilder()
	}
	if d < 1<<15 {
		t.lastSN = h.SequenceNumber
	}
	t.lastAt = at
	if at.Before(t.calibUntil) {
		u := t.refU + int64(int32(h.Timestamp-t.ref))
		if c := at.Add(-t.ticks(u)); c.Before(t.anchorAt) {
			t.anchorAt = c // a packet less delayed than the first
		}
	}
	var p *rtp.Packet
	if n := len(t.free); n > 0 {
		p, t.free = t.free[n-1], t.free[:n-1]
	} else {
		p = &rtp.Packet{Payload: make([]byte, 0, 1500)}
	}
	buf := p.Payload[:0]
	p.Header = *h
	p.Header.CSRC, p.Header.Extensions, p.Header.Extension = nil, nil, false
	p.Payload = append(buf, payload...)
	t.sb.Push(p)
	var err error
	for s := t.sb.Pop(); s != nil; s = t.sb.Pop() {
		if e := t.emitUnlocked(s); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// emitUnlocked writes a frame, or keeps it while the track's place on the clock is found.
func (t *trackRecorder) emitUnlocked(s *media.Sample) error {
	if t.lastAt.Before(t.calibUntil) {
		t.pending = append(t.pending, s)
		return nil
	}
	var err error
	for _, p := range t.pending {
		if e := t.frameUnlocked(p); e != nil && err == nil {
			err = e
		}
	}
	t.pending = nil
	if e := t.frameUnlocked(s); e != nil && err == nil {
		err = e
	}
	return err
}

// flushUnlocked writes out the frames the sample builder still holds, and those waiting.
func (t *trackRecorder) flushUnlocked() {
	t.sb.Flush()
	t.calibUntil = time.Time{}
	for s := t.sb.Pop(); s != nil; s = t.sb.Pop() {
		_ = t.emitUnlocked(s)
	}
	for _, p := range t.pending {
		_ = t.frameUnlocked(p)
	}
	t.pending = nil
}

// ticks converts RTP clock ticks to a duration without overflowing.
func (t *trackRecorder) ticks(u int64) time.Duration {
	c := int64(t.c.clock)
	return time.Duration(u/c)*time.Second + time.Duration(u%c*int64(time.Second)/c)
}

// frameUnlocked places one frame on the hearing clock and writes it, starting and ending
// segments.
func (t *trackRecorder) frameUnlocked(s *media.Sample) error {
	u := t.refU + int64(int32(s.PacketTimestamp-t.ref))
	t.ref, t.refU = s.PacketTimestamp, u
	at := t.anchorAt.Add(t.ticks(u))
	if d := at.Sub(t.lastAt); d > jump || d < -jump {
		t.cutUnlocked()
		t.anchorAt, t.refU, at = t.lastAt, 0, t.lastAt
	}
	key := t.c.keyframe(s.Data, &t.p)
	if s.PrevDroppedPackets > 0 && !key {
		t.askKeyUnlocked(at) // lost packets: the picture is broken until a keyframe
	}
	if t.seg != nil {
		elapsed := at.Sub(t.seg.start)
		switch {
		case !t.c.video && elapsed >= t.segment:
			t.cutUnlocked()
		case t.c.video && key && elapsed >= t.segment:
			t.cutUnlocked()
		case t.c.video && elapsed >= t.segment:
			t.askKeyUnlocked(at) // for the next segment to start with (a keyframe before would be lost on it)
		}
	}
	if t.seg == nil {
		if !key {
			t.askKeyUnlocked(at) // video starts at a keyframe
			return nil
		}
		if at.Before(t.retryAt) {
			return nil
		}
		if err := t.openUnlocked(at); err != nil {
			if errors.Is(err, errNotReady) {
				t.askKeyUnlocked(at)
				return nil
			}
			t.retryAt = at.Add(t.segment)
			t.failedUnlocked("start a segment", err)
			return err
		}
	}
	dur := s.Duration
	if dur <= 0 || dur > time.Second {
		dur = t.ticks(t.c.frameTime)
	}
	if err := t.seg.write(key, at.Sub(t.seg.start).Milliseconds(), s.Data); err != nil {
		t.failedUnlocked("write a segment", err)
		t.cutUnlocked()
		t.retryAt = at.Add(t.segment)
		return err
	}
	t.lastEnd = at.Add(dur)
	return nil
}

func (t *trackRecorder) askKeyUnlocked(at time.Time) {
	every := keyEvery
	if t.seg == nil {
		every = keyStart
	}
	if t.keyframe == nil || !t.c.video || at.Sub(t.keyAsked) < every && !at.Before(t.keyAsked) {
		return
	}
	t.keyAsked = at
	t.keyframe()
}

// openUnlocked starts the next segment with a frame at hearing-clock time at.
func (t *trackRecorder) openUnlocked(at time.Time) error {
	name := strings.TrimSpace(t.info.Name + " " + t.info.Source)
	entry, err := t.c.entry(t.info.ID, name, t.channels, t.p)
	if err != nil {
		return err
	}
	t.segN++
	path := filepath.Join(t.rec.dir, segmentName(t.rec.session, t.info.ID, t.segN, t.c.ext))
	seg, err := createSegment(path, t.c.docType, entry, at)
	if err != nil {
		return err
	}
	t.seg = seg
	return nil
}

// cutUnlocked closes the open segment, if any, and journals it. A segment that fails to close
// stays as a partial file, which the recording's Close (or Recover) makes playable.
func (t *trackRecorder) cutUnlocked() {
	if t.seg == nil {
		return
	}
	seg := t.seg
	t.seg = nil
	f, err := seg.close(t.lastEnd)
	if err == nil {
		err = t.rec.finish(t.info, f, StatusComplete)
	}
	if err != nil {
		t.failedUnlocked("close a segment", err)
	}
}

// failedUnlocked logs a failure, at most once per logEvery.
func (t *trackRecorder) failedUnlocked(what string, err error) {
	if now := time.Now(); now.Sub(t.loggedAt) >= logEvery {
		t.loggedAt = now
		t.log.Error("recording: "+what, "err", err)
	}
}

// Close implements signaling.TrackRecorder: the frames still held are written and the open
// segment closed.
func (t *trackRecorder) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	t.flushUnlocked()
	t.cutUnlocked()
	t.rec.trackClosed(t)
	return nil
}
