package signaling

import (
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
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
	d := &downTrack{up: lp.low, sub: sub, w: w, bwe: s.est}
	d.bound.Store(&binding{ssrc: 1234, pt: 96, nack: true, twcc: 5, stream: s})
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
	u.forward(p, copy(p.buf[:], raw), nil)
}

// TestSimulcastForwardAllocs checks that forwarding a simulcast layer's packets allocates
// nothing either: for VP8, to a subscriber switched from the other layer (its picture IDs
// rewritten into the writer's scratch); for H.264, with the parameter sets noted per packet.
func TestSimulcastForwardAllocs(t *testing.T) {
	for _, tc := range []struct {
		mime       string
		key, delta []byte
	}{
		{webrtc.MimeTypeVP8, vp8Payload(1000, 20000, 200, true, true), vp8Payload(1000, 20001, 201, true, false)},
		{webrtc.MimeTypeH264, h264Key(900), append(append([]byte(nil), fuNonIDR...), make([]byte, 900)...)},
	} {
		t.Run(tc.mime, func(t *testing.T) {
			lp := newLayerPair(t, tc.mime)
			d, s := lp.subscribe(lp.low, nil)
			var sn uint16
			var ts uint32
			marshal := func(payload []byte) []byte {
				ts += frameTicks
				raw, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: sn,
					Timestamp: ts, SSRC: 7, Marker: true}, Payload: payload}).Marshal()
				if err != nil {
					t.Fatal(err)
				}
				return raw
			}
			send := func(raw []byte) { // as the next packet: a packet seen again is not forwarded
				p := packets.Get().(*packet)
				n := copy(p.buf[:], raw)
				sn++
				binary.BigEndian.PutUint16(p.buf[2:4], sn)
				lp.high.forward(p, n, nil)
			}
			// The subscriber starts on the low layer, has a frame from it, then switches.
			lp.send(lp.low, 100, 9000, true, vp8Payload(1000, 5, 9, true, true))
			eventually(t, time.Second, "the low layer's frame", func() bool { return s.n.Load() == 1 })
			d.target.Store(lp.high)
			send(marshal(tc.key))
			delta := marshal(tc.delta)
			runtime.GC()
			for range nackHistory + 100 {
				send(delta)
			}
			allocs := testing.AllocsPerRun(1000, func() { send(delta) })
			eventually(t, 5*time.Second, "the writer to drain", func() bool {
				return s.n.Load()+int64(testutil.ToFloat64(lp.m.dropped)) >= 1103+nackHistory
			})
			if d.current.Load() != lp.high {
				t.Fatal("the subscriber was not switched to the high layer")
			}
			t.Logf("%.2f allocations per packet", allocs)
			if raceEnabled {
				t.Skip("the race detector's sync.Pool drops items on purpose: run without -race to check")
			}
			if allocs != 0 {
				t.Fatalf("forwarding a %s layer allocates %.2f times per packet", tc.mime, allocs)
			}
		})
	}
}

// h264Key is a keyframe in one STAP-A: SPS, PPS, and an IDR slice of n bytes.
func h264Key(n int) []byte {
	b := append([]byte(nil), stapSPSPPS...)
	b = append(b, byte(n>>8), byte(n), 0x65)
	return append(b, make([]byte, n-1)...)
}
