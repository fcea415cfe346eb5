package signaling

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// H.264 payloads as browsers packetize a keyframe: the SPS and PPS aggregated (STAP-A), then
// the IDR slice in fragments (FU-A).
var (
	stapSPSPPS = []byte{0x78, 0x00, 0x03, 0x67, 0x42, 0xe0, 0x00, 0x02, 0x68, 0xce}
	// A small keyframe (a still screen, a low layer): all three in one STAP-A.
	stapSPSPPSIDR = []byte{0x78, 0x00, 0x03, 0x67, 0x42, 0xe0, 0x00, 0x02, 0x68, 0xce, 0x00, 0x02, 0x65, 0x88}
	fuIDRStart    = []byte{0x7c, 0x85, 0x88, 0x84}
	fuIDREnd      = []byte{0x7c, 0x45, 0x21, 0x10}
	fuNonIDR      = []byte{0x7c, 0x81, 0x9a, 0x02}
)

// TestSimulcastH264SwitchPoint: a subscriber is switched to an H.264 layer where a decoder
// that has seen another layer's parameter sets can start: at an SPS when the layer sends its
// parameter sets with its keyframes, never at an IDR alone then (it would decode the new
// layer's slices with the old layer's SPS); at an IDR alone when the layer has stopped
// sending them (one keyframe later) or never sent any.
func TestSimulcastH264SwitchPoint(t *testing.T) {
	type unit [][]byte // one access unit's payloads
	keyWithSets := unit{stapSPSPPS, fuIDRStart, fuIDREnd}
	keyAlone := unit{fuIDRStart, fuIDREnd}
	keyAggregated := unit{stapSPSPPSIDR}
	delta := unit{fuNonIDR, fuIDREnd}
	tests := []struct {
		name    string
		before  []unit // sent while the subscriber is not switching yet
		after   []unit // sent once it is to switch
		startAt int    // the unit of after where it starts receiving the layer
	}{
		{"sets with every keyframe", []unit{keyWithSets, delta}, []unit{delta, keyAlone, delta, keyWithSets, delta}, 3},
		{"sets once, at the start", []unit{keyWithSets, delta}, []unit{keyAlone, delta, keyAlone, delta}, 2},
		{"sets with every keyframe, in one aggregate with it", []unit{keyAggregated, delta}, []unit{delta, keyAlone, delta, keyAggregated, delta}, 3},
		{"never any sets", []unit{keyAlone, delta}, []unit{delta, keyAlone, delta}, 1},
		// Not at the IDR alone: at the next SPS, sent last so that the wait for it is a wait
		// for everything before it.
		{"one IDR alone after one with sets", []unit{keyWithSets}, []unit{delta, keyAlone, delta, keyWithSets}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lp := newLayerPair(t, webrtc.MimeTypeH264)
			var mu sync.Mutex
			var got []uint32 // the timestamps of the packets received
			d, s := lp.subscribe(lp.low, func(h *rtp.Header, _ []byte) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, h.Timestamp)
			})
			var sn uint16
			var ts uint32
			send := func(units []unit) {
				for _, u := range units {
					ts += frameTicks
					for i, payload := range u {
						sn++
						lp.send(lp.high, sn, ts, i == len(u)-1, payload)
					}
				}
			}
			send(tc.before)
			d.target.Store(lp.high)
			first := ts + frameTicks // the timestamp of after's first unit
			send(tc.after)
			want := 0
			for _, u := range tc.after[tc.startAt:] {
				want += len(u)
			}
			// The writer sends in order: once the last unit's packets are out, so is anything
			// before them; a switch too early shows as a first packet too early.
			last := first + uint32(len(tc.after)-1)*frameTicks
			eventually(t, time.Second, "the last unit", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) > 0 && got[len(got)-1] == last && s.n.Load() >= int64(want)
			})
			mu.Lock()
			defer mu.Unlock()
			if start := first + uint32(tc.startAt)*frameTicks; got[0] != start || len(got) != want {
				t.Fatalf("started at timestamp %d (unit %d) with %d packets, want unit %d with %d",
					got[0], (got[0]-first)/frameTicks, len(got), tc.startAt, want)
			}
		})
	}
}
