package signaling

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Bandwidth adaptation. A publisher may send its camera as simulcast: two or three encodings
// of the same picture at different sizes and bitrates (RTP stream IDs, RFC 8851). The server
// receives every layer and sends each subscriber one, chosen from what the subscriber's link
// carries: a court on a weak line gets the small picture, the others the full one.
//
// What a link carries comes from a send-side bandwidth estimator per subscriber connection
// (Google Congestion Control, transportcc.Estimator, fed by the subscriber's transport-wide
// congestion control feedback): it falls on loss and on growing queueing delay. Each second a
// subscriber's loop gives each simulcast video its share of the estimate and picks the layer:
//
//   - down at once, to the best layer that fits, when the estimate falls below what the
//     current layer sends, or has not caught up with it within upGrace of a step up;
//   - up one layer at a time, when the estimate is not falling and the layer has held for the
//     subscriber's probe interval; a step up that fails (down again within probeFailed)
//     doubles that interval, up to maxHold, so that a weak link is not probed over and over.
//
// The switch happens in the forwarding path at the next keyframe of the new layer (asked for
// with a PLI), and the subscriber's writer rewrites sequence numbers and timestamps so that the
// subscriber sees one continuous stream. Single-layer video is forwarded as it comes.

// Adaptation settings.
const (
	adaptEvery     = time.Second
	audioShare     = 48_000 // bits/s set aside per audio track before video is shared out
	initialBitrate = 1_000_000
	baseHold       = 4 * time.Second  // least time on a layer before probing the next one up
	maxHold        = 64 * time.Second // most time between probes after failed ones
	upGrace        = 6 * time.Second  // time the estimate has to catch up after a step up
	probeFailed    = 10 * time.Second // down within this of a step up: the probe failed
)

// layers are the simulcast encodings of one published video, all forwarded under the room
// track ID of the first one to arrive (the group's primary).
type layers struct {
	primary *upTrack
	mu      sync.Mutex                 // serialises changes to all: layers come and go on their own goroutines
	all     atomic.Pointer[[]*upTrack] // every layer, the primary included
}

// add makes u a layer of the group.
func (g *layers) add(u *upTrack) {
	g.mu.Lock()
	defer g.mu.Unlock()
	appendShared(&g.all, u)
}

// remove takes u out of the group.
func (g *layers) remove(u *upTrack) {
	g.mu.Lock()
	defer g.mu.Unlock()
	removeShared(&g.all, u)
}

// ranked returns the layers that are sending, from the lowest bitrate to the highest.
func (g *layers) ranked() []*upTrack {
	cur := g.all.Load()
	if cur == nil {
		return nil
	}
	out := make([]*upTrack, 0, len(*cur))
	for _, u := range *cur {
		if u.bps.Load() > 0 {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b *upTrack) int { return int(a.bps.Load() - b.bps.Load()) })
	return out
}

// measureRate updates u's bitrate from the bytes it received since the last call, dt ago,
// smoothed over a few seconds. The room's janitor calls it.
func (u *upTrack) measureRate(dt time.Duration) {
	if dt <= 0 {
		return
	}
	n := u.received.Swap(0)
	if n == 0 { // a layer the publisher stopped (a browser drops its top layers on a weak uplink)
		u.bps.Store(0)
		return
	}
	rate := float64(n*8) / dt.Seconds()
	old := float64(u.bps.Load())
	if old == 0 {
		u.bps.Store(int64(rate))
		return
	}
	u.bps.Store(int64(0.6*old + 0.4*rate))
}

// adaptState is one subscriber's layer choice for one simulcast video; owned by the
// subscriber's loop.
type adaptState struct {
	switched time.Time     // the last switch asked for
	up       bool          // it was a step up
	hold     time.Duration // the probe interval now
	lastEst  int           // the share at the last look
}

// estimate returns the bandwidth estimate of p's sub connection in bits/s, 0 if unknown.
func (p *participant) estimate() int {
	if p.sub == nil || p.sub.bwe == nil {
		return 0
	}
	return p.sub.bwe.GetTargetBitrate()
}

// adapt picks the layer of each simulcast video p receives. Loop only.
func (p *participant) adapt(now time.Time) {
	est := p.estimate()
	if est <= 0 {
		return
	}
	var videos []*downTrack
	audio := 0
	for _, d := range p.downs {
		switch {
		case !d.allowed():
		case d.up.kind == webrtc.RTPCodecTypeAudio:
			audio++
		case d.up.group != nil:
			videos = append(videos, d)
		default:
			est -= int(d.up.bps.Load()) // single-layer video takes what it takes
		}
	}
	if len(videos) == 0 {
		return
	}
	share := (est - audio*audioShare) / len(videos)
	for _, d := range videos {
		d.adapt(now, share)
	}
}

// adapt moves d to the layer that fits share (bits/s), by the rules at the top of this file.
func (d *downTrack) adapt(now time.Time, share int) {
	s := &d.ad
	if s.hold == 0 {
		s.hold = baseHold
	}
	falling := s.lastEst > 0 && float64(share) < 0.97*float64(s.lastEst)
	s.lastEst = share
	ranked := d.up.group.ranked()
	if len(ranked) < 2 {
		return
	}
	cur := slices.Index(ranked, d.target.Load())
	if cur < 0 { // the layer stopped sending: the best that fits
		d.switchTo(ranked[fit(ranked, share)], now, false)
		return
	}
	rate := int(ranked[cur].bps.Load())
	since := now.Sub(s.switched)
	switch {
	case cur > 0 && share < rate && (falling || !s.up || since >= upGrace):
		if s.up && since < probeFailed {
			s.hold = min(2*s.hold, maxHold)
		}
		d.switchTo(ranked[min(fit(ranked, share), cur-1)], now, false)
	case cur+1 < len(ranked) && !falling && share >= rate && since >= s.hold:
		if s.up && since >= probeFailed {
			s.hold = baseHold // the last step up held
		}
		d.switchTo(ranked[cur+1], now, true)
	}
}

// fit returns the index of the best layer in ranked whose bitrate is within share, or 0.
func fit(ranked []*upTrack, share int) int {
	best := 0
	for i, u := range ranked {
		if int(u.bps.Load()) <= share {
			best = i
		}
	}
	return best
}

// switchTo asks for a switch to layer u; the forwarding path makes it at u's next keyframe,
// which it asks for now.
func (d *downTrack) switchTo(u *upTrack, now time.Time, up bool) {
	if u == d.target.Load() {
		return
	}
	d.ad.switched, d.ad.up = now, up
	d.target.Store(u)
	d.up.m.switches.Inc()
	u.requestKeyframe()
}

// byConn holds what the interceptor chain made for a peer connection (its transport-wide
// arrival record, transportcc.Interceptor) from the connection's creation until its peer
// takes it, by the connection's ID.
type byConn[T any] struct{ m sync.Map }

func (b *byConn[T]) put(id string, v T) { b.m.Store(id, v) }

// take returns what id's connection was given and forgets it; the zero value if nothing.
func (b *byConn[T]) take(id string) (v T) {
	if x, ok := b.m.LoadAndDelete(id); ok {
		v = x.(T)
	}
	return v
}
