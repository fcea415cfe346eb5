package signaling

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// vp8Payload is a VP8 RTP payload of n bytes with a descriptor carrying a 15-bit picture ID
// and TL0PICIDX; start marks the first packet of a frame, key a keyframe's.
func vp8Payload(n int, pic uint16, tl0 uint8, start, key bool) []byte {
	b := make([]byte, n)
	b[0], b[1] = 0x80, 0xc0 // X; I and L
	if start {
		b[0] |= 0x10 // S, partition 0
	}
	b[2], b[3], b[4] = 0x80|byte(pic>>8), byte(pic), tl0
	if !key {
		b[5] = 0x01 // the frame header's inverse keyframe flag: a delta frame
	}
	return b
}

// TestParseVP8 checks the descriptor reader against pion's VP8 depacketizer, and that a
// rewritten picture ID and TL0PICIDX read back through it.
func TestParseVP8(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		pic  bool
		tl0  bool
	}{
		{"15-bit picture ID and TL0PICIDX", []byte{0x90, 0xc0, 0x85, 0x39, 0x17, 0x00}, true, true},
		{"7-bit picture ID", []byte{0x90, 0x80, 0x45, 0x00}, true, false},
		{"TL0PICIDX and TID", []byte{0x90, 0x60, 0x17, 0x40, 0x00}, false, true},
		{"no extension", []byte{0x10, 0x00, 0x00}, false, false},
		{"cut inside the picture ID", []byte{0x90, 0x80, 0x85}, false, false},
	}
	for _, c := range cases {
		d := parseVP8(c.b)
		if d.pic != 0 != c.pic || d.tl0 != 0 != c.tl0 {
			t.Errorf("%s: picture ID at %d, TL0PICIDX at %d; want present %v, %v", c.name, d.pic, d.tl0, c.pic, c.tl0)
			continue
		}
		var want codecs.VP8Packet
		if _, err := want.Unmarshal(c.b); err != nil {
			continue
		}
		if d.pic != 0 && d.picture(c.b) != want.PictureID&d.picMask() {
			t.Errorf("%s: picture ID %d, pion reads %d", c.name, d.picture(c.b), want.PictureID)
		}
		if d.tl0 != 0 && c.b[d.tl0] != want.TL0PICIDX {
			t.Errorf("%s: TL0PICIDX %d, pion reads %d", c.name, c.b[d.tl0], want.TL0PICIDX)
		}
		if d.pic == 0 {
			continue
		}
		b := append([]byte(nil), c.b...)
		d.setPicture(b, 0x7ffe+3) // wraps past the field's range
		var got codecs.VP8Packet
		if _, err := got.Unmarshal(b); err != nil {
			t.Fatalf("%s: rewritten: %v", c.name, err)
		}
		if got.PictureID != 1 {
			t.Errorf("%s: picture ID 0x7ffe+3 reads back as %d, want 1", c.name, got.PictureID)
		}
	}
}

// FuzzParseVP8 checks that wherever pion's depacketizer reads a descriptor, parseVP8 finds the
// same picture ID and TL0PICIDX, and never reads past the payload.
func FuzzParseVP8(f *testing.F) {
	f.Add([]byte{0x90, 0xc0, 0x85, 0x39, 0x17, 0x00})
	f.Add([]byte{0x90, 0x80, 0x45, 0x00})
	f.Add([]byte{0x80, 0xf0, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := parseVP8(b)
		if d.pic != 0 {
			_ = d.picture(b)
		}
		if d.tl0 != 0 {
			_ = b[d.tl0]
		}
		var want codecs.VP8Packet
		if _, err := want.Unmarshal(b); err != nil {
			return
		}
		if (want.I == 1) != (d.pic != 0) || (want.L == 1) != (d.tl0 != 0) {
			t.Fatalf("% x: parseVP8 %+v, pion I=%d L=%d", b, d, want.I, want.L)
		}
		if d.pic != 0 && d.picture(b) != want.PictureID&d.picMask() {
			t.Fatalf("% x: picture ID %d, pion %d", b, d.picture(b), want.PictureID)
		}
		if d.tl0 != 0 && b[d.tl0] != want.TL0PICIDX {
			t.Fatalf("% x: TL0PICIDX %d, pion %d", b, b[d.tl0], want.TL0PICIDX)
		}
	})
}

// sentVP8 is a packet a test subscriber received: its sequence number and VP8 fields.
type sentVP8 struct {
	sn  uint16
	pic uint16
	tl0 uint8
}

// TestSimulcastVP8Series: a subscriber switched from one simulcast layer to another receives
// one series of picture IDs and TL0PICIDX (each frame the next), though the layers' encoders
// number their frames far apart; a NACKed packet is resent with the values it was first sent
// with; and the publisher's packets, which other subscribers share, are left as they came.
func TestSimulcastVP8Series(t *testing.T) {
	lp := newLayerPair(t, webrtc.MimeTypeVP8)
	low, high := lp.low, lp.high
	// A subscriber of the pair, starting on layer u, and what it receives.
	var mu sync.Mutex
	type subscriber struct {
		d    *downTrack
		s    *sink
		sent []sentVP8
	}
	subscribe := func(u *upTrack) *subscriber {
		r := &subscriber{}
		r.d, r.s = lp.subscribe(u, func(h *rtp.Header, payload []byte) {
			d := parseVP8(payload)
			mu.Lock()
			defer mu.Unlock()
			r.sent = append(r.sent, sentVP8{h.SequenceNumber, d.picture(payload), payload[d.tl0]})
		})
		return r
	}
	switched, stays := subscribe(low), subscribe(high)
	d, s := switched.d, switched.s

	var lowSN, highSN uint16 = 100, 40000
	var lowTS, highTS uint32 = 0, 1 << 30
	frame := func(u *upTrack, sn *uint16, ts *uint32, pic uint16, tl0 uint8, key bool) {
		*ts += frameTicks
		for i := range 3 {
			*sn++
			lp.send(u, *sn, *ts, i == 2, vp8Payload(300, pic, tl0, i == 0, key))
		}
	}
	// Six frames of the low layer (pictures 0x7ff9 to 0x7ffe, TL0PICIDX 250 to 255), then the
	// switch to the high layer at its keyframe (its pictures from 20000, TL0PICIDX from 200):
	// the series goes on through both fields' wrap (0x7fff, 0, 1…; 0, 1…); the low layer's
	// frames after the switch are not sent.
	const firstPic, firstTL0 = 0x7ff9, 250
	lowFrame := 0
	lowNext := func(key bool) {
		frame(low, &lowSN, &lowTS, (firstPic+uint16(lowFrame))&0x7fff, firstTL0+uint8(lowFrame), key)
		lowFrame++
	}
	for i := range 6 {
		lowNext(i == 0)
	}
	eventually(t, time.Second, "the low layer's frames", func() bool { return s.n.Load() == 18 })
	d.target.Store(high)
	for i := range 5 {
		frame(high, &highSN, &highTS, 20000+uint16(i), 200+uint8(i), i == 0)
		lowNext(false)
	}
	eventually(t, time.Second, "the high layer's frames", func() bool { return s.n.Load() == 33 })
	// Back to the low layer: a delta frame (not where to switch), then its keyframe, which
	// goes on from the last frame sent although the low layer has numbered 12 frames since.
	d.target.Store(low)
	lowNext(false)
	lowNext(true)
	eventually(t, time.Second, "the low layer's keyframe", func() bool { return s.n.Load() == 36 })

	eventually(t, time.Second, "the high layer's frames, unchanged", func() bool { return stays.s.n.Load() == 15 })
	mu.Lock()
	sent := append([]sentVP8(nil), switched.sent...)
	other := append([]sentVP8(nil), stays.sent...)
	mu.Unlock()
	for i, p := range other {
		if p.pic != uint16(20000+i/3) || p.tl0 != uint8(200+i/3) {
			t.Fatalf("the subscriber that stayed on the high layer got packet %d as %+v, want picture ID %d, TL0PICIDX %d: the shared packets were changed",
				i, p, 20000+i/3, 200+i/3)
		}
	}
	for i, p := range sent {
		if want := uint16(firstPic+i/3) & 0x7fff; p.pic != want {
			t.Fatalf("packet %d (sequence number %d) has picture ID %d, want %d: %+v", i, p.sn, p.pic, want, sent)
		}
		if want := uint8(firstTL0 + i/3); p.tl0 != want {
			t.Fatalf("packet %d (sequence number %d) has TL0PICIDX %d, want %d", i, p.sn, p.tl0, want)
		}
	}

	// The first packet of the high layer's second frame (picture 0 as sent, the layer's
	// 20001) is resent as it was sent, with the high layer's offsets, not the low layer's now.
	lost := sent[21]
	time.Sleep(resendInterval)
	d.w.enqueueNACK(d, rtcp.NackPair{PacketID: lost.sn}, 0)
	eventually(t, time.Second, "the resend", func() bool { return s.n.Load() == 37 })
	mu.Lock()
	resent := switched.sent[len(switched.sent)-1]
	mu.Unlock()
	if resent != lost {
		t.Fatalf("resent %+v, want %+v as first sent", resent, lost)
	}
	if lost.pic != 0 || lost.tl0 != 1 {
		t.Fatalf("the packet resent has picture ID %d and TL0PICIDX %d, want 0 and 1", lost.pic, lost.tl0)
	}
}
