package signaling

import (
	"strings"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// layerPair is a simulcast video of two layers, low (the group's primary) and high, with
// subscribers writing to sinks, without peer connections.
type layerPair struct {
	tb        testing.TB
	m         *metrics
	low, high *upTrack
}

func newLayerPair(tb testing.TB, mime string) *layerPair {
	tb.Helper()
	m, _ := newMetrics(nil)
	owner := &participant{id: "p-pub"}
	codec := webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000}
	lp := &layerPair{tb: tb, m: m}
	g := &layers{}
	for _, rid := range []string{"q", "f"} {
		u := &upTrack{kind: webrtc.RTPCodecTypeVideo, source: SourceCamera, codec: codec, m: m, owner: owner,
			rid: rid, group: g, vp8: strings.EqualFold(mime, webrtc.MimeTypeVP8),
			h264: strings.EqualFold(mime, webrtc.MimeTypeH264)}
		u.public.Store(true)
		g.add(u)
	}
	lp.low, lp.high = (*g.all.Load())[0], (*g.all.Load())[1]
	g.primary = lp.low
	return lp
}

// subscribe adds a subscriber that starts on layer u; seen gets each packet it is sent, on
// its writer's goroutine.
func (lp *layerPair) subscribe(u *upTrack, seen func(h *rtp.Header, payload []byte)) (*downTrack, *sink) {
	sub := &participant{id: "p-sub"}
	sub.receiving.Store(true)
	w := newWriter(512, lp.m)
	s := newSink(0)
	s.seen = seen
	d := &downTrack{up: lp.low, sub: sub, w: w, rs: &resender{writers: map[uint32]interceptor.RTPWriter{1234: s.w}}}
	d.bound.Store(&binding{ssrc: 1234, pt: 96, nack: true, stream: s})
	d.current.Store(u)
	d.target.Store(u)
	lp.low.addDown(d)
	done := make(chan struct{})
	go func() { defer close(done); w.run() }()
	lp.tb.Cleanup(func() { w.stop(); <-done })
	return d, s
}

// send forwards one RTP packet of layer u "from the publisher".
func (lp *layerPair) send(u *upTrack, sn uint16, ts uint32, marker bool, payload []byte) {
	lp.tb.Helper()
	raw, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: sn,
		Timestamp: ts, SSRC: 7, Marker: marker}, Payload: payload}).Marshal()
	if err != nil {
		lp.tb.Fatal(err)
	}
	p := packets.Get().(*packet)
	u.forward(p, copy(p.buf[:], raw))
}
