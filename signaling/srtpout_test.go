package signaling

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestOwnSRTP checks what a subscriber receives when the server encrypts its RTP itself
// (srtpout.go): every packet forwarded took that path and decrypts with the keys of the
// client's DTLS handshake; each carries a transport-wide sequence number, and the numbers of
// the connection's audio and video together count up without a gap or a repeat; each stream
// gets sender reports whose counts and RTP time match what arrived, and whose wall clock is
// now.
func TestOwnSRTP(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	judge.publish(true)

	type stream struct {
		packets int
		lastTS  uint32
		clock   uint32
		sr      *rtcp.SenderReport
		srAt    time.Time
	}
	var (
		mu      sync.Mutex
		seqs    = map[uint16]int{}
		streams = map[uint32]*stream{}
		bad     []string
	)
	get := func(t *webrtc.TrackRemote) *stream {
		s := streams[uint32(t.SSRC())]
		if s == nil {
			s = &stream{clock: t.Codec().ClockRate}
			streams[uint32(t.SSRC())] = s
		}
		return s
	}
	inspect := func(tr *webrtc.TrackRemote, b []byte) {
		var h rtp.Header
		if _, err := h.Unmarshal(b); err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		// The publisher's extensions are not forwarded: the one extension is the server's
		// transport-wide sequence number.
		ids := h.GetExtensionIDs()
		if len(ids) != 1 || len(h.GetExtension(ids[0])) != 2 {
			bad = append(bad, "extensions")
			return
		}
		ext := h.GetExtension(ids[0])
		seqs[uint16(ext[0])<<8|uint16(ext[1])]++
		s := get(tr)
		s.packets++
		s.lastTS = h.Timestamp
	}
	onRTCP := func(tr *webrtc.TrackRemote, pkts []rtcp.Packet) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == uint32(tr.SSRC()) {
				s := get(tr)
				s.sr, s.srAt = sr, time.Now()
			}
		}
	}
	joinWith(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel),
		clientOpts{inspect: inspect, rtcp: onRTCP})
	// Reports come every second; two, so that one was made after many packets.
	eventually(t, 10*time.Second, "two sender reports on audio and video", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, s := range streams {
			if s.sr != nil && s.sr.PacketCount > 10 {
				n++
			}
		}
		return n == 2
	})
	judge.close() // no more packets: what arrived can be compared with what was counted
	time.Sleep(200 * time.Millisecond)

	m := e.srv.m
	if own, all := testutil.ToFloat64(m.ownSRTP), testutil.ToFloat64(m.packets); own == 0 || own != all {
		t.Errorf("%v of %v packets forwarded were encrypted by the server", own, all)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("%d packets without the transport-wide sequence number alone", len(bad))
	}
	lo, hi, total := uint16(0), uint16(0), 0
	first := true
	for sq, n := range seqs {
		if n != 1 {
			t.Errorf("transport-wide sequence number %d came %d times", sq, n)
		}
		total += n
		if first || int16(sq-lo) < 0 {
			lo = sq
		}
		if first || int16(sq-hi) > 0 {
			hi = sq
		}
		first = false
	}
	if int(hi-lo)+1 != len(seqs) {
		t.Errorf("transport-wide sequence numbers %d–%d, %d of them: a gap", lo, hi, len(seqs))
	}
	for ssrc, s := range streams {
		sr := s.sr
		if sr.PacketCount == 0 || int(sr.PacketCount) > s.packets {
			t.Errorf("SSRC %d: report counts %d packets, %d arrived", ssrc, sr.PacketCount, s.packets)
		}
		if sr.OctetCount < sr.PacketCount {
			t.Errorf("SSRC %d: report counts %d bytes in %d packets", ssrc, sr.OctetCount, sr.PacketCount)
		}
		// The report's RTP time is that of its wall-clock time; the last packet came at most
		// ~200 ms of RTP time before or after it.
		if d := int32(sr.RTPTime - s.lastTS); d > int32(s.clock) || d < -int32(s.clock) {
			t.Errorf("SSRC %d: report's RTP time %d, last packet's %d (clock %d)", ssrc, sr.RTPTime, s.lastTS, s.clock)
		}
		ntp := time.Unix(int64(sr.NTPTime>>32)-2208988800, int64((sr.NTPTime&0xffffffff)*1e9>>32))
		if d := s.srAt.Sub(ntp); d < -time.Second || d > time.Second {
			t.Errorf("SSRC %d: report's wall clock %v, received at %v", ssrc, ntp, s.srAt)
		}
	}
	if total == 0 || len(streams) != 2 {
		t.Fatalf("%d packets on %d streams", total, len(streams))
	}
}

// TestOwnSRTPInput checks the server's own reading of a publisher (srtpin.go): the packets of
// its tracks are decrypted by the server and reach a subscriber, and the publisher gets the
// server's receiver reports on each of its streams, with the highest sequence number it sent,
// no loss, and the time of its last sender report (which the server read), in SRTCP the server
// sealed itself. (This client sends no transport-wide sequence numbers: the load tool's
// publishers do, and its test checks that their feedback leaves the same way.)
func TestOwnSRTPInput(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	judge.publish(true)
	type got struct {
		rr    rtcp.ReceptionReport
		n     int
		lsr   bool
		video bool
	}
	var (
		mu      sync.Mutex
		reports = map[uint32]*got{}
	)
	judge.mu.Lock()
	pub := judge.pub
	judge.mu.Unlock()
	for _, s := range pub.GetSenders() {
		ssrc := uint32(s.GetParameters().Encodings[0].SSRC)
		mu.Lock()
		reports[ssrc] = &got{video: s.Track().Kind() == webrtc.RTPCodecTypeVideo}
		mu.Unlock()
		go func() {
			for {
				pkts, _, err := s.ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					rr, ok := p.(*rtcp.ReceiverReport)
					if !ok {
						continue
					}
					for _, r := range rr.Reports {
						if r.SSRC == ssrc {
							mu.Lock()
							g := reports[ssrc]
							g.rr, g.n = r, g.n+1
							g.lsr = g.lsr || r.LastSenderReport != 0
							mu.Unlock()
						}
					}
				}
			}
		}()
	}
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	eventually(t, 10*time.Second, "the judge's media at counsel, read by the server itself", func() bool {
		a, v := counsel.got(judge.id())
		return a > 10 && v > 5 && testutil.ToFloat64(e.srv.m.ownSRTPIn) > 20
	})
	eventually(t, 10*time.Second, "receiver reports with the last sender report on both streams", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, g := range reports {
			if g.n < 2 || !g.lsr {
				return false
			}
		}
		return len(reports) == 2
	})
	if n := testutil.ToFloat64(e.srv.m.ownSRTCPOut); n < 2 {
		t.Fatalf("%v SRTCP packets sealed by the server, want the reports", n)
	}
	// The publisher stops; the next reports give the last sequence numbers it sent.
	judge.stopOnce.Do(func() { close(judge.stop) })
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	for _, g := range reports {
		g.n = 0
	}
	mu.Unlock()
	eventually(t, 5*time.Second, "reports after the last packets", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, g := range reports {
			if g.n < 2 {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	for ssrc, g := range reports {
		sent := judge.sentAudio.Load()
		if g.video {
			sent = judge.sentVideo.Load()
		}
		if g.rr.TotalLost != 0 || g.rr.FractionLost != 0 || g.rr.LastSequenceNumber != sent {
			t.Errorf("SSRC %d: report %+v, want no loss and the last sequence number sent, %d", ssrc, g.rr, sent)
		}
	}
}

// TestPionPathWhereTheServerIsNotDTLSServer checks the connections the server cannot key
// itself: a publisher that offers to be the DTLS server (setup:passive) and a subscriber that
// answers so, which make the server the DTLS client, whose key log shows no ServerHello of its
// own. Their media go through pion's SRTP both ways (none through the server's), and still
// reach the subscriber with the server's transport-wide numbers and sender reports.
func TestPionPathWhereTheServerIsNotDTLSServer(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	judge.offerSDP = func(s string) string { return strings.ReplaceAll(s, "a=setup:actpass", "a=setup:passive") }
	judge.publish(true)
	var (
		mu       sync.Mutex
		twcc, sr int
	)
	inspect := func(_ *webrtc.TrackRemote, b []byte) {
		var h rtp.Header
		if _, err := h.Unmarshal(b); err == nil && len(h.GetExtensionIDs()) == 1 &&
			len(h.GetExtension(h.GetExtensionIDs()[0])) == 2 {
			mu.Lock()
			twcc++
			mu.Unlock()
		}
	}
	onRTCP := func(_ *webrtc.TrackRemote, pkts []rtcp.Packet) {
		for _, p := range pkts {
			if _, ok := p.(*rtcp.SenderReport); ok {
				mu.Lock()
				sr++
				mu.Unlock()
			}
		}
	}
	api := clientAPIWith(t, func(se *webrtc.SettingEngine) {
		if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
			t.Fatal(err)
		}
	})
	counsel := joinWith(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel),
		clientOpts{api: api, inspect: inspect, rtcp: onRTCP})
	eventually(t, 10*time.Second, "the judge's media at counsel through pion, numbered and reported", func() bool {
		a, v := counsel.got(judge.id())
		mu.Lock()
		defer mu.Unlock()
		return a > 20 && v > 5 && twcc > 20 && sr >= 2
	})
	m := e.srv.m
	if own, in := testutil.ToFloat64(m.ownSRTP), testutil.ToFloat64(m.ownSRTPIn); own != 0 || in != 0 {
		t.Fatalf("the server encrypted %v and decrypted %v packets itself as the DTLS client", own, in)
	}
	if testutil.ToFloat64(m.packets) == 0 {
		t.Fatal("nothing forwarded")
	}
}

// TestMarshalHeader checks the writers' header marshalling byte for byte against pion's, for
// the headers they send (CSRCs, the transport-wide sequence number in every length the
// one-byte form allows, padding, marker) and for those it leaves to pion's (two-byte form,
// more extensions); and that a short buffer is refused.
func TestMarshalHeader(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var own, pions int
	for i := range 2000 {
		h := rtp.Header{Version: 2, Padding: rng.IntN(4) == 0, Marker: rng.IntN(2) == 0,
			PayloadType: uint8(rng.IntN(128)), SequenceNumber: uint16(rng.Uint32()),
			Timestamp: rng.Uint32(), SSRC: rng.Uint32()}
		for range rng.IntN(4) {
			h.CSRC = append(h.CSRC, rng.Uint32())
		}
		id := uint8(1 + rng.IntN(14))
		switch rng.IntN(4) {
		case 0: // no extension
		case 1: // two-byte form: pion's
			h.Extension, h.ExtensionProfile = true, rtp.ExtensionProfileTwoByte
			must(t, h.SetExtension(id, []byte{1, 2}))
		case 2: // two extensions: pion's
			must(t, h.SetExtension(id, []byte{1, 2}))
			must(t, h.SetExtension(id%14+1, []byte{3}))
		default:
			ext := make([]byte, 1+rng.IntN(16))
			for j := range ext {
				ext[j] = byte(rng.Uint32())
			}
			must(t, h.SetExtension(id, ext))
		}
		if !h.Extension || len(h.Extensions) == 1 && h.ExtensionProfile == rtp.ExtensionProfileOneByte {
			own++
		} else {
			pions++
		}
		want, err := h.Marshal()
		must(t, err)
		buf := make([]byte, 100)
		for j := range buf {
			buf[j] = 0xee // what the pad must overwrite
		}
		n, err := marshalHeader(buf, &h, id)
		if err != nil || !bytes.Equal(buf[:n], want) {
			t.Fatalf("header %d %+v: %x, %v; pion's %x", i, h, buf[:n], err, want)
		}
		if _, err := marshalHeader(buf[:len(want)-1], &h, id); err == nil {
			t.Fatalf("header %d: a buffer one byte short taken", i)
		}
	}
	if own < 400 || pions < 400 {
		t.Fatalf("%d headers written by the writers' marshalling and %d by pion's", own, pions)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
