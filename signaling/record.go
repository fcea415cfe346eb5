package signaling

import (
	"context"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/chuting/chuting"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Recording (#29, #30). When the judge starts the hearing, the room starts a recording through
// the configured Recorder (package recordings implements it) and feeds it like a participant
// that never publishes: it subscribes to every published track, as judge and clerk see them
// (the highest simulcast layer), through the same forwarding path, on its own writer
// goroutine, so a slow disk drops the recorder's packets (counted) and never stalls anyone.
// The judge pauses and resumes it only for a reason the rules allow; each start, pause,
// resume, stop and failure is an attendance event with its time. It stops when the hearing
// ends or the room closes.

// Recorder starts the recordings of hearings.
type Recorder interface {
	// Record starts recording the hearing. It may take time (files are made); the room does
	// not wait for it.
	Record(ctx context.Context, h *chuting.Hearing) (Recording, error)
}

// Recording is one hearing's recording, fed by its room.
type Recording interface {
	// Track starts recording a track published in the room.
	Track(t RecordedTrack) (TrackRecorder, error)
	// Close ends the recording, after every TrackRecorder has been closed.
	Close() error
}

// RecordedTrack says what a recorded track is and whose.
type RecordedTrack struct {
	ID          string // the room's track ID
	Participant string // the publisher's participant ID in the room
	Subject     string // the publisher's user ID, or "link:<id>"
	Name        string
	Role        Role
	Kind        webrtc.RTPCodecType
	Source      string // camera, microphone or screen
	Codec       webrtc.RTPCodecCapability
	// Keyframe asks the publisher for a keyframe of the layer recorded (a video track), at
	// once. A recorder that cuts video into segments calls it, from WriteRTP or anywhere, so
	// that the next segment can start; it must ask rarely (the room's own requests are limited
	// to one per track every 500 ms, which would delay the start of a recorded video).
	Keyframe func()
}

// TrackRecorder receives one track's RTP packets, in order, each with the time it reached the
// server; the room calls it from one goroutine. After Close, WriteRTP is not called again.
type TrackRecorder interface {
	WriteRTP(at time.Time, h *rtp.Header, payload []byte) error
	Close() error
}

// Reasons the judge may give for pausing the recording (#29).
const (
	PauseRecess            = "recess"              // 休庭
	PauseNonPublicEvidence = "non_public_evidence" // evidence on state secrets, privacy, trade secrets
	PauseMediation         = "mediation"           // 调解
)

var pauseReasons = map[string]bool{PauseRecess: true, PauseNonPublicEvidence: true, PauseMediation: true}

// recorderQueue is the recorder's writer queue: deeper than a subscriber's, since a disk may
// stall for longer than a network.
const recorderQueue = 4096

// roomRecorder is a room's running recording: a stand-in participant that subscribes to every
// track, on its own loop goroutine and writer.
type roomRecorder struct {
	room  *Room
	rec   Recording
	p     *participant // never in room.parts; its receiving flag is off while paused
	w     *writer
	downs map[*upTrack]*downTrack // owned by run
	ended []*downTrack            // tracks no longer published, closed when the recording ends
	kick  chan struct{}
	fresh atomic.Bool // ask for keyframes at the next sync (after a pause)
}

// startRecordingUnlocked starts the recording when the hearing starts, if a Recorder is set.
func (r *Room) startRecordingUnlocked(actor *participant) {
	if r.s.cfg.Recorder == nil || r.rec != nil {
		return
	}
	rr := &roomRecorder{room: r, p: &participant{room: r, id: "recorder", role: RoleJudge},
		w: newWriter(recorderQueue, r.s.m), downs: make(map[*upTrack]*downTrack),
		kick: make(chan struct{}, 1)}
	rr.p.receiving.Store(true)
	r.rec = rr
	r.wg.Add(1)
	go rr.run(actor)
}

// run starts the recording, then keeps its subscriptions up to date until the room closes or
// the hearing ends; then it closes every track and the recording.
func (rr *roomRecorder) run(actor *participant) {
	r := rr.room
	defer r.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	rec, err := r.s.cfg.Recorder.Record(ctx, r.hearing)
	cancel()
	r.mu.Lock()
	if err != nil {
		r.s.log.Error("recording failed to start", "hearing", r.hearing.ID, "err", err)
		r.recordUnlocked(chuting.AttendanceRecordingFailed, nil, nil, err.Error())
		r.rec = nil
		r.broadcastUnlocked(encode(out{Type: TypeHearing, Hearing: r.hearingInfoUnlocked(false)}))
		r.mu.Unlock()
		return
	}
	rr.rec = rec
	r.recordUnlocked(chuting.AttendanceRecordingStarted, actor, nil, "")
	r.broadcastUnlocked(encode(out{Type: TypeHearing, Hearing: r.hearingInfoUnlocked(false)}))
	r.mu.Unlock()

	done := make(chan struct{})
	go func() {
		defer close(done)
		rr.w.run()
	}()
	defer func() {
		for u, d := range rr.downs {
			u.removeDown(d)
		}
		rr.w.stop()
		<-done // nothing is written after this
		for _, d := range append(rr.ended, slices.Collect(maps.Values(rr.downs))...) {
			if err := d.rec.Close(); err != nil {
				r.s.log.Error("close recorded track", "hearing", r.hearing.ID, "track", d.up.id, "err", err)
			}
		}
		if err := rec.Close(); err != nil {
			r.s.log.Error("close recording", "hearing", r.hearing.ID, "err", err)
		}
	}()
	t := time.NewTicker(adaptEvery)
	defer t.Stop()
	for {
		rr.sync()
		select {
		case <-r.quit:
			r.mu.Lock()
			r.recordUnlocked(chuting.AttendanceRecordingStopped, nil, nil, "")
			r.mu.Unlock()
			return
		case <-rr.kick:
		case <-t.C:
		}
	}
}

// poke asks run to bring the subscriptions up to date. It never blocks.
func (rr *roomRecorder) poke() {
	select {
	case rr.kick <- struct{}{}:
	default:
	}
}

// sync subscribes to the tracks published now and drops those gone, and keeps each simulcast
// video on its highest layer.
func (rr *roomRecorder) sync() {
	r := rr.room
	want := map[*upTrack]RecordedTrack{}
	r.mu.Lock()
	for _, p := range r.parts {
		for _, u := range p.ups {
			want[u] = RecordedTrack{ID: u.id, Participant: p.id, Subject: p.claims.Subject, Name: p.claims.Name,
				Role: p.role, Kind: u.kind, Source: u.source, Codec: u.codec}
		}
	}
	r.mu.Unlock()
	for u, d := range rr.downs {
		if _, ok := want[u]; !ok {
			u.removeDown(d)
			delete(rr.downs, u)
			// The writer may still hold its packets: the track is closed when the recording
			// ends, after the writer has stopped.
			rr.ended = append(rr.ended, d)
		}
	}
	for u, info := range want {
		d := rr.downs[u]
		if d == nil {
			var bound atomic.Pointer[downTrack]
			info.Keyframe = func() {
				if d := bound.Load(); d != nil {
					d.layer().keyframeNow()
				}
			}
			tr, err := rr.rec.Track(info)
			if err != nil {
				r.s.log.Error("record track", "hearing", r.hearing.ID, "track", u.id, "err", err)
				continue
			}
			d = &downTrack{up: u, sub: rr.p, w: rr.w, privileged: true, rec: tr}
			bound.Store(d)
			rr.downs[u] = d
			u.addDown(d)
			if u.group == nil {
				u.keyframeNow() // video starts on a keyframe, and with the audio
			}
		}
		if rr.fresh.Load() {
			d.layer().requestKeyframe()
		}
		if u.group != nil {
			if ranked := u.group.ranked(); len(ranked) > 0 && ranked[len(ranked)-1] != d.target.Load() {
				d.target.Store(ranked[len(ranked)-1])
				ranked[len(ranked)-1].requestKeyframe()
			} else if d.target.Load() == nil {
				d.target.Store(u)
				u.requestKeyframe()
			}
		}
	}
	rr.fresh.Store(false)
}

// keyframeNow asks the publisher for a keyframe now, past the limit requestKeyframe keeps for
// subscribers: the recorder asks rarely, and a participant's recorded video should start
// with their audio (a request swallowed by the limit would start it up to 500 ms later).
func (u *upTrack) keyframeNow() {
	if u.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	u.lastPLI.Store(time.Now().UnixNano())
	if err := u.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: u.ssrc}}); err == nil {
		u.m.plis.Inc()
	}
}
