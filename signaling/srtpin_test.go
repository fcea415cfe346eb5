package signaling

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting/dtlssrtp"
	"github.com/chuting/chuting/srtpgcm"
	"github.com/chuting/chuting/udpbatch"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestInputsByAddress checks the table the sockets' reader looks SRTP packets up in: two
// publisher connections from one address each read their own tracks, even under one SSRC (a
// gateway: the packet goes to the connection whose keys open it); an SSRC neither reads, a
// packet neither opens, and anything that is not RTP are left to pion; moving or dropping a
// connection leaves the other in place; an IPv4-mapped source is the same address.
func TestInputsByAddress(t *testing.T) {
	met, _ := newMetrics(nil)
	m := &media{}
	a := netip.MustParseAddrPort("192.0.2.1:5000")
	b := netip.MustParseAddrPort("192.0.2.1:6000")
	type conn struct {
		in  *srtpIn
		enc *srtp.Context
		seq uint16
	}
	mk := func(key string, ssrcs ...uint32) *conn {
		c := &conn{in: newSRTPIn(m), seq: 100}
		var err error
		if c.enc, err = srtp.CreateContext([]byte(key), []byte("0123456789ab"), srtp.ProtectionProfileAeadAes128Gcm); err != nil {
			t.Fatal(err)
		}
		if c.in.ctx, err = srtp.CreateContext([]byte(key), []byte("0123456789ab"), srtp.ProtectionProfileAeadAes128Gcm); err != nil {
			t.Fatal(err)
		}
		for _, ssrc := range ssrcs {
			u := &upTrack{ssrc: ssrc, kind: webrtc.RTPCodecTypeAudio, m: met, owner: &participant{id: "p"},
				stats: newRecvStats(ssrc, 48000, false)}
			u.stats.record(99, 0, time.Now()) // began through pion
			c.in.add(u)
		}
		return c
	}
	one, two := mk("key-one-00000000", 1, 5), mk("key-two-00000000", 2, 5)
	moveInput(m, &m.inputs, netip.AddrPort{}, a, one.in)
	moveInput(m, &m.inputs, netip.AddrPort{}, a, two.in)
	sealed := func(c *conn, ssrc uint32) []byte {
		c.seq++
		raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: c.seq, SSRC: ssrc},
			Payload: make([]byte, 40)}).Marshal()
		out, err := c.enc.EncryptRTP(nil, raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	taken := func(c *conn, ssrc uint32, from netip.AddrPort) bool {
		before := testutil.ToFloat64(met.ownSRTPIn)
		ok := m.intercept(sealed(c, ssrc), from, nil)
		if ok != (testutil.ToFloat64(met.ownSRTPIn) == before+1) {
			t.Fatalf("taken %v, but the decrypted count moved otherwise", ok)
		}
		return ok
	}
	if !taken(one, 1, a) || !taken(two, 2, a) || !taken(one, 5, a) || !taken(two, 5, a) {
		t.Fatal("a connection's track not taken")
	}
	if taken(one, 3, a) || taken(one, 1, b) || taken(one, 2, a) {
		t.Fatal("an SSRC no connection reads, another address, or a packet no connection opens, taken")
	}
	rtcpPkt := sealed(one, 1)
	rtcpPkt[1] = 200 // a sender report
	if m.intercept(rtcpPkt, a, nil) || m.intercept([]byte{0x16, 0xfe, 0xfd}, a, nil) {
		t.Fatal("RTCP or DTLS taken")
	}
	moveInput(m, &m.inputs, a, b, two.in)
	if !taken(one, 1, a) || taken(two, 2, a) || !taken(two, 2, b) {
		t.Fatal("after a move")
	}
	moveInput(m, &m.inputs, a, netip.AddrPort{}, one.in)
	if taken(one, 1, a) || len(*m.inputs.Load()) != 1 {
		t.Fatalf("after a drop: %v", *m.inputs.Load())
	}
	if !taken(two, 2, netip.AddrPortFrom(netip.MustParseAddr("::ffff:192.0.2.1"), 6000)) {
		t.Fatal("IPv4-mapped address not matched")
	}
}

// TestInputSeedsRollover checks the hand-over of a track from pion's reading to the server's
// SRTP input across a wrap of the sequence numbers: the input takes nothing before the track
// began through pion, then decrypts with the rollover counter the track's statistics counted
// (1 here: pion read 65500…3), and a forged packet that comes first is left to pion without
// spoiling the counter for the good ones after it.
func TestInputSeedsRollover(t *testing.T) {
	key, salt := []byte("0123456789abcdef"), []byte("0123456789ab")
	t.Run("srtpgcm", func(t *testing.T) {
		in := newSRTPIn(&media{})
		var err error
		if in.rx, err = srtpgcm.NewReceiver(srtp.ProtectionProfileAeadAes128Gcm, key, salt); err != nil {
			t.Fatal(err)
		}
		testInputSeedsRollover(t, in, key, salt)
	})
	t.Run("pion", func(t *testing.T) {
		in := newSRTPIn(&media{})
		var err error
		if in.ctx, err = srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm,
			srtp.SRTPReplayProtection(srtpgcm.ReplayWindow)); err != nil {
			t.Fatal(err)
		}
		testInputSeedsRollover(t, in, key, salt)
	})
}

func testInputSeedsRollover(t *testing.T, in *srtpIn, key, salt []byte) {
	met, _ := newMetrics(nil)
	enc, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	u := &upTrack{ssrc: 9, kind: webrtc.RTPCodecTypeVideo, m: met, owner: &participant{id: "p-pub"},
		stats: newRecvStats(9, 90000, true)}
	in.add(u)
	sealed := map[uint16][]byte{}
	for i := range 47 { // 65500…65535, 0…10, as the publisher seals them (its ROC is 1 after the wrap)
		seq := uint16(65500 + i) //nolint:gosec // wraps on purpose
		raw, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq,
			Timestamp: uint32(i) * 3000, SSRC: 9}, Payload: make([]byte, 100)}).Marshal() //nolint:gosec // small
		if err != nil {
			t.Fatal(err)
		}
		if sealed[seq], err = enc.EncryptRTP(nil, raw, nil); err != nil {
			t.Fatal(err)
		}
	}
	if in.read(sealed[65510], nil) { // would decrypt (rollover counter 0) if it were taken
		t.Fatal("a packet taken before the track began through pion")
	}
	now := time.Now()
	for i := range 40 { // pion read 65500…3
		u.stats.record(uint16(65500+i), uint32(i)*3000, now) //nolint:gosec // wraps on purpose
	}
	// A forged packet from before the wrap seeds the counter 0, and fails: the next packet,
	// after the wrap, must seed it again (1).
	forged := slices.Clone(sealed[65530])
	forged[len(forged)-1] ^= 1
	if in.read(forged, nil) {
		t.Fatal("a forged packet taken")
	}
	if !in.read(sealed[4], nil) || !in.read(sealed[5], nil) {
		t.Fatal("the packets after the wrap not decrypted: wrong rollover counter")
	}
	if got := testutil.ToFloat64(met.ownSRTPIn); got != 2 {
		t.Fatalf("%v packets decrypted by the input, want 2", got)
	}
	// A replay is not forwarded: on srtpgcm's input it is taken and dropped (pion's window,
	// stale since the input took over, would take it); pion's context leaves it to pion.
	if taken := in.read(sealed[5], nil); taken != (in.rx != nil) || testutil.ToFloat64(met.ownSRTPIn) != 2 {
		t.Fatalf("a replayed packet: taken %v, %v forwarded", taken, testutil.ToFloat64(met.ownSRTPIn))
	}
}

// TestWriteRTCP: the input's own RTCP to a publisher is sealed with SRTCP indexes above those
// pion's context used for the same sender SSRCs (from 1) and opens with the publisher's keys;
// what does not fit one compound goes in several; a packet too large for any is refused and
// the others still leave.
func TestWriteRTCP(t *testing.T) {
	met, _ := newMetrics(nil)
	key, salt := []byte("0123456789abcdef"), []byte("0123456789ab")
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	conn := udpbatch.New(tx, 64, time.Millisecond)
	defer conn.Close()
	in := newSRTPIn(&media{})
	in.met, in.conn, in.addr = met, conn, rx.LocalAddr().(*net.UDPAddr).AddrPort()
	if in.rtcpOut, err = rtcpSender(dtlssrtp.Keys{Profile: srtp.ProtectionProfileAeadAes128Gcm, LocalKey: key, LocalSalt: salt}); err != nil {
		t.Fatal(err)
	}
	var pkts []rtcp.Packet
	for ssrc := range uint32(40) { // 40 NACKs of 36 bytes: two compounds
		pkts = append(pkts, &rtcp.TransportLayerNack{SenderSSRC: in.ssrc, MediaSSRC: ssrc + 1,
			Nacks: []rtcp.NackPair{{PacketID: 1}, {PacketID: 100}, {PacketID: 200}, {PacketID: 300}, {PacketID: 400}}})
	}
	huge := &rtcp.RawPacket{}
	*huge = append(rtcp.RawPacket{0x80, 204, 0x01, 0x2c}, make([]byte, 1200)...) // an APP packet of 1,204 bytes
	pkts = append(pkts, huge, &rtcp.ReceiverReport{SSRC: in.ssrc})
	if err := in.writeRTCP(nil, pkts); !errors.Is(err, errRTCPSize) {
		t.Fatalf("a packet larger than a compound: %v", err)
	}
	open, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	var got []rtcp.Packet
	buf := make([]byte, 1500)
	for datagrams := 0; len(got) < 41; datagrams++ {
		_ = rx.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := rx.Read(buf)
		if err != nil {
			t.Fatalf("after %d packets in %d compounds: %v", len(got), datagrams, err)
		}
		if n > maxRTCPCompound+srtpgcm.TagLen+4 {
			t.Fatalf("a compound of %d bytes", n)
		}
		// pion's context counted from 1: in a connection's life it stays far below 2^30.
		if index := binary.BigEndian.Uint32(buf[n-4:n]) &^ (1 << 31); index <= 1<<30 {
			t.Fatalf("SRTCP index %d, want above 2^30", index)
		}
		plain, err := open.DecryptRTCP(nil, buf[:n], nil)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := rtcp.Unmarshal(plain)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ps...)
	}
	if _, ok := got[40].(*rtcp.ReceiverReport); !ok || testutil.ToFloat64(met.ownSRTCPOut) != 2 {
		t.Fatalf("last packet %T, %v compounds sealed (want the report last, 2)", got[40], testutil.ToFloat64(met.ownSRTCPOut))
	}
}

// TestInPhase starts three loops 13 ms apart and checks that they tick at the same instants,
// a whole number of intervals after the epoch, and keep to them tick after tick (loops on
// tickers of their own would tick 13 ms apart, and each as late as it started).
func TestInPhase(t *testing.T) {
	const interval = 40 * time.Millisecond
	epoch := time.Now()
	done := make(chan struct{})
	var mu sync.Mutex
	ticks := make([][]time.Duration, 3)
	var wg sync.WaitGroup
	for i := range ticks {
		time.Sleep(13 * time.Millisecond)
		wg.Add(1)
		go func() {
			defer wg.Done()
			inPhase(epoch, interval, done, func(now time.Time) {
				mu.Lock()
				defer mu.Unlock()
				ticks[i] = append(ticks[i], now.Sub(epoch))
			})
		}()
	}
	time.Sleep(10 * interval)
	close(done)
	wg.Wait()
	for i, ts := range ticks {
		if len(ts) < 7 {
			t.Fatalf("loop %d ticked %d times in 10 intervals", i, len(ts))
		}
		for _, at := range ts {
			// The tick is late by the timer's latency only: well under the 13 ms between the
			// loops' starts, on a busy machine too.
			if late := at % interval; late > 8*time.Millisecond {
				t.Errorf("loop %d ticked %v after an instant in phase (ticks %v)", i, late, ts)
			}
		}
	}
}
