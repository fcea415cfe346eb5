package signaling

import (
	"net/netip"
	"testing"

	"github.com/chuting/chuting/srtpgcm"
	"github.com/pion/rtcp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestRTCPInput: a subscriber connection's SRTCP from its address is opened by the server and
// each packet goes to the track it names (a NACK to that track's writer, a PLI or FIR to its
// publisher); a replay is dropped; what comes from elsewhere, under other keys, or after the
// connection closed, is left to pion.
func TestRTCPInput(t *testing.T) {
	met, _ := newMetrics(nil)
	key, salt := []byte("0123456789abcdef"), []byte("0123456789ab")
	tx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	other, err := srtp.CreateContext([]byte("fedcba9876543210"), salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{}) // a publisher's: its PLIs fail, unconnected
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close() }()
	m := &media{}
	in := &rtcpIn{met: met}
	addr := netip.MustParseAddrPort("192.0.2.7:4000")
	in.arm(m, addr, func() *srtpgcm.RTCPReceiver {
		rx, err := srtpgcm.NewRTCPReceiver(srtp.ProtectionProfileAeadAes128Gcm, key, salt)
		if err != nil {
			t.Fatal(err)
		}
		return rx
	})
	track := func(ssrc uint32) *downTrack {
		up := &upTrack{ssrc: ssrc + 1000, kind: webrtc.RTPCodecTypeVideo, m: met, pc: pc}
		d := &downTrack{up: up, w: newWriter(16, met)}
		in.tracks.set(ssrc, d)
		return d
	}
	d7, d8 := track(7), track(8)
	seal := func(ctx *srtp.Context, pkts ...rtcp.Packet) []byte {
		t.Helper()
		b, err := rtcp.Marshal(pkts)
		if err != nil {
			t.Fatal(err)
		}
		if b, err = ctx.EncryptRTCP(nil, b, nil); err != nil {
			t.Fatal(err)
		}
		return b
	}
	taken := func(b []byte, from netip.AddrPort) bool {
		t.Helper()
		before := testutil.ToFloat64(met.ownSRTCPIn)
		ok := m.intercept(b, from, nil)
		if ok != (testutil.ToFloat64(met.ownSRTCPIn) == before+1) {
			t.Fatalf("taken %v, but the count moved otherwise", ok)
		}
		return ok
	}
	rr := &rtcp.ReceiverReport{SSRC: 99, Reports: []rtcp.ReceptionReport{{SSRC: 7}, {SSRC: 8}}}
	nack := seal(tx, rr, &rtcp.TransportLayerNack{SenderSSRC: 99, MediaSSRC: 7,
		Nacks: []rtcp.NackPair{{PacketID: 10}, {PacketID: 20, LostPackets: 1}}})
	if !taken(nack, netip.AddrPortFrom(netip.MustParseAddr("::ffff:192.0.2.7"), 4000)) {
		t.Fatal("the subscriber's NACK not taken")
	}
	if d7.w.n != 2 || d8.w.n != 0 || testutil.ToFloat64(met.nacks) != 2 {
		t.Fatalf("NACK pairs queued: track 7 %d, track 8 %d (want 2, 0); %v NACK pairs counted (want 2)",
			d7.w.n, d8.w.n, testutil.ToFloat64(met.nacks))
	}
	if !taken(seal(tx, &rtcp.PictureLossIndication{SenderSSRC: 99, MediaSSRC: 8}), addr) {
		t.Fatal("the subscriber's PLI not taken")
	}
	if d8.up.lastPLI.Load() == 0 || d7.up.lastPLI.Load() != 0 {
		t.Fatal("the PLI did not reach track 8's publisher alone")
	}
	// A replay is taken (pion's SRTCP window stopped when the input took over: it would
	// take it) and not acted on.
	if !taken(nack, addr) || d7.w.n != 2 {
		t.Fatalf("a replay not dropped, or acted on (%d NACK pairs queued)", d7.w.n)
	}
	if !taken(seal(tx, &rtcp.FullIntraRequest{SenderSSRC: 99, FIR: []rtcp.FIREntry{{SSRC: 7}}}), addr) ||
		d7.up.lastPLI.Load() == 0 {
		t.Fatal("the subscriber's FIR did not reach track 7's publisher")
	}
	if taken(seal(tx, rr), netip.MustParseAddrPort("192.0.2.7:4001")) {
		t.Fatal("RTCP from another address taken")
	}
	if taken(seal(other, rr), addr) {
		t.Fatal("RTCP under other keys taken (it is another connection's, or pion's)")
	}
	in.disarm()
	if taken(seal(tx, rr), addr) || len(*m.rtcpInputs.Load()) != 0 {
		t.Fatal("RTCP taken after the connection closed")
	}
}
