package signaling

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"

	"github.com/chuting/chuting/srtpgcm"
	"github.com/chuting/chuting/transportcc"
	"github.com/pion/rtcp"
)

// rtcpIn is a subscriber connection's own RTCP input: once the connection is up on the
// server's own path (srtpout.go) with an AEAD-AES-GCM profile, the socket's reader (the
// intercept, as for publishers' RTP) takes the SRTCP packets from its remote address, opens
// them and hands each RTCP packet to what it concerns: transport-wide feedback to the
// connection's estimator, NACKs, PLIs and FIRs to the tracks they name. Through pion, each
// passed its UDP mux, ICE candidate, DTLS/SRTP mux, SRTCP session and a read stream per SSRC
// (a goroutine hand-off at each) to the track's readRTCP (docs/perf.md). What the input does
// not take (before the connection is up, other profiles, a packet that does not open) still
// goes to pion and readRTCP, which stay.
type rtcpIn struct {
	bwe    *transportcc.Estimator // the connection's
	met    *metrics
	tracks bySSRC[*downTrack]

	mu     sync.Mutex // serialises the reads and arm
	m      *media     // set by the first arm
	rx     *srtpgcm.RTCPReceiver
	buf    [mtu]byte
	addr   netip.AddrPort // where it reads from, registered with the sockets' reader
	closed bool
}

// arm makes the input read from addr (a zero address: none), with the receiver made from the
// subscriber's keys once (nil: a profile the input does not open, so pion keeps the RTCP).
func (in *rtcpIn) arm(m *media, addr netip.AddrPort, rx func() *srtpgcm.RTCPReceiver) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return
	}
	in.m = m
	if in.rx == nil && addr.IsValid() {
		if in.rx = rx(); in.rx == nil {
			addr = netip.AddrPort{}
		}
	}
	if addr != in.addr {
		moveInput(m, &m.rtcpInputs, in.addr, addr, in)
		in.addr = addr
	}
}

// disarm stops the input for good (the connection is closing).
func (in *rtcpIn) disarm() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.m != nil {
		moveInput(in.m, &in.m.rtcpInputs, in.addr, netip.AddrPort{}, in)
	}
	in.addr, in.closed = netip.AddrPort{}, true
}

// read takes the SRTCP packet b if it opens, and handles the RTCP in it; false leaves b to
// pion (or to another connection from the same address). Transport-wide feedback, most of
// what a subscriber sends, is read where it lies (transportcc.Estimator.FeedbackPacket);
// NACKs, PLIs and FIRs are parsed by pion and handled without the lock (a PLI is written to
// the publisher through pion); the rest (receiver reports, SDES, BYE) is of no use here.
func (in *rtcpIn) read(b []byte) bool {
	in.mu.Lock()
	if in.rx == nil || len(b) > len(in.buf)+srtpgcm.TagLen+4 {
		in.mu.Unlock()
		return false
	}
	out, err := in.rx.Open(in.buf[:0], b)
	if err != nil {
		in.mu.Unlock()
		// A replay is the subscriber's packet again: dropped here, since pion's SRTCP window
		// stopped when the input took over and would take it. Anything else that does not
		// open may be another connection's from the same address, or pion's.
		return errors.Is(err, srtpgcm.ErrReplayed)
	}
	var pkts []rtcp.Packet
	for len(out) >= 4 && out[0]>>6 == 2 {
		n := 4 * (int(binary.BigEndian.Uint16(out[2:4])) + 1)
		if n > len(out) {
			break // the peer's to get right; the next may be good
		}
		pkt := out[:n]
		out = out[n:]
		typ, format := rtcp.PacketType(pkt[1]), pkt[0]&0x1f
		switch {
		case typ == rtcp.TypeTransportSpecificFeedback && format == rtcp.FormatTCC:
			if in.bwe != nil {
				in.bwe.FeedbackPacket(pkt)
			}
		case typ == rtcp.TypeTransportSpecificFeedback && format == rtcp.FormatTLN,
			typ == rtcp.TypePayloadSpecificFeedback && (format == rtcp.FormatPLI || format == rtcp.FormatFIR):
			if ps, err := rtcp.Unmarshal(pkt); err == nil { // copies what it keeps
				pkts = append(pkts, ps...)
			}
		}
	}
	in.mu.Unlock()
	if len(pkts) == 0 {
		return true
	}
	tracks := in.tracks.load()
	// In the socket's reader: a PLI or FIR becomes a keyframe request written to the publisher
	// through pion here, at most one per track every keyframeInterval (upTrack.requestKeyframe).
	for _, p := range pkts {
		for _, ssrc := range p.DestinationSSRC() {
			if d := tracks[ssrc]; d != nil {
				d.handleRTCP(p)
			}
		}
	}
	return true
}

// interceptRTCP is the sockets' reader's look at an RTCP packet: one from a subscriber
// connection's address that its input opens is taken.
func (m *media) interceptRTCP(b []byte, from netip.AddrPort) bool {
	for _, in := range inputsFrom(&m.rtcpInputs, from) {
		if in.read(b) {
			if in.met != nil {
				in.met.ownSRTCPIn.Inc()
			}
			return true
		}
	}
	return false
}
