package signaling

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// TestInputsByAddress checks the table the sockets' reader looks SRTP packets up in: two
// publisher connections from one address each read their own tracks' SSRCs, an SSRC neither
// reads (and anything that is not RTP) is left to pion, and moving or dropping a connection
// leaves the other in place.
func TestInputsByAddress(t *testing.T) {
	m := &media{}
	a := netip.MustParseAddrPort("192.0.2.1:5000")
	b := netip.MustParseAddrPort("192.0.2.1:6000")
	one, two := newSRTPIn(m), newSRTPIn(m)
	one.add(&upTrack{ssrc: 1})
	two.add(&upTrack{ssrc: 2})
	m.setInput(netip.AddrPort{}, a, one)
	m.setInput(netip.AddrPort{}, a, two)
	rtpFrom := func(ssrc uint32) []byte {
		p := make([]byte, 20)
		p[0], p[1] = 0x80, 96
		binary.BigEndian.PutUint32(p[8:], ssrc)
		return p
	}
	// Without keys the inputs drop what they take (it cannot be read): taken means true.
	if !m.intercept(rtpFrom(1), a) || !m.intercept(rtpFrom(2), a) {
		t.Fatal("a connection's track not taken")
	}
	if m.intercept(rtpFrom(3), a) || m.intercept(rtpFrom(1), b) {
		t.Fatal("an SSRC no connection reads, or another address, taken")
	}
	rtcpPkt := rtpFrom(1)
	rtcpPkt[1] = 200 // a sender report
	if m.intercept(rtcpPkt, a) || m.intercept([]byte{0x16, 0xfe, 0xfd}, a) {
		t.Fatal("RTCP or DTLS taken")
	}
	m.setInput(a, b, two)
	if !m.intercept(rtpFrom(1), a) || m.intercept(rtpFrom(2), a) || !m.intercept(rtpFrom(2), b) {
		t.Fatal("after a move")
	}
	m.setInput(a, netip.AddrPort{}, one)
	if m.intercept(rtpFrom(1), a) || len(*m.inputs.Load()) != 1 {
		t.Fatalf("after a drop: %v", *m.inputs.Load())
	}
	// An IPv4-mapped source is the same address.
	if !m.intercept(rtpFrom(2), netip.AddrPortFrom(netip.MustParseAddr("::ffff:192.0.2.1"), 6000)) {
		t.Fatal("IPv4-mapped address not matched")
	}
}
