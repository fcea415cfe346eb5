package signaling

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chuting/chuting/dtlssrtp"
	"github.com/chuting/chuting/srtpgcm"
	"github.com/chuting/chuting/transportcc"
	"github.com/chuting/chuting/udpbatch"
	"github.com/pion/rtcp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// srtpIn is a publisher connection's own RTP input. Through pion, each packet a publisher
// sends passes from the UDP socket to pion's ICE mux, its ICE candidate, the DTLS/SRTP mux,
// the SRTP session and the track's read buffer, a goroutine hand-off and a copy at each, then
// the receive interceptors: about a third of the server's CPU per forwarded packet
// (docs/perf.md). Once the connection is up over one of the server's UDP sockets, the socket's
// reader (udpbatch's intercept, in pion's mux goroutine) instead hands each SRTP packet from
// the connection's remote address, of a track the room forwards, to the connection's own SRTP
// context, and the decrypted packet straight to the track's fan-out (upTrack.forward). The
// first packets of a track still go through pion, so that its OnTrack (and the simulcast
// layers' RTP stream IDs) work as before; so does everything that is not RTP (STUN, DTLS,
// RTCP), and everything on a connection over ICE-TCP or whose keys cannot be taken. Since
// pion's interceptors then see none of those packets, the server records their transport-wide
// arrivals (transportcc.Interceptor.Arrived) and sends the publishers' NACKs and receiver
// reports itself, for every track (receive.go, feedback).
type srtpIn struct {
	capture dtlssrtp.Capture
	twcc    *transportcc.Interceptor // the connection's arrival record; nil if none
	met     *metrics
	ssrc    uint32 // the sender SSRC of the server's RTCP
	m       *media

	// The decryption, made at the first arm that has keys: srtpgcm's for the AEAD-AES-GCM
	// profiles (what browsers and the server prefer), pion's context for the others.
	mu  sync.Mutex // serialises arm, and the use of rx and ctx; guards rtcpOut, conn and addr
	rx  *srtpgcm.Receiver
	ctx *srtp.Context
	// The server's RTCP to the publisher, sealed by the input itself (AEAD-AES-GCM) once it
	// reads the connection, and queued on conn for addr (writeRTCP), under rtcpMu.
	rtcpOut *srtpgcm.RTCPSender
	conn    *udpbatch.Conn
	rtcpMu  sync.Mutex
	rtcpBuf [maxRTCPCompound + srtpgcm.TagLen + 4]byte
	addr    netip.AddrPort
	decided bool            // the connection came up: addr is where the input reads, or none
	closed  bool            // disarmed for good
	seeded  map[uint32]bool // the SSRCs whose rollover counter ctx took from pion's reading

	tracks bySSRC[*upTrack]
}

func newSRTPIn(m *media) *srtpIn {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &srtpIn{m: m, ssrc: binary.BigEndian.Uint32(b[:])}
}

// add makes u's packets the input's to read, once the connection is armed; u reports on its
// stream from now on.
func (in *srtpIn) add(u *upTrack) { in.tracks.set(u.ssrc, u) }

// remove forgets u.
func (in *srtpIn) remove(u *upTrack) { in.tracks.remove(u.ssrc, u) }

// arm decides, when pc comes up, whether the input reads what comes from the remote address
// of the ICE pair pc uses (over one of the server's UDP sockets, the keys known) or leaves it
// all to pion, and follows the pair when it changes. False means the connection, read by the
// input, moved to a pair the input cannot read (ICE-TCP): the caller closes it, since pion's
// SRTP context, which has not seen the packets since, would take the next ones for replays or
// with the wrong rollover counter.
func (in *srtpIn) arm(pc *webrtc.PeerConnection) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed || !in.decided && pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		return true
	}
	conn, addr := in.addrFor(pc)
	switch {
	case !in.decided:
		in.decided = true
	case !in.addr.IsValid():
		return true // pion's for good
	case !addr.IsValid():
		return false
	}
	if addr != in.addr {
		moveInput(in.m, &in.m.inputs, in.addr, addr, in)
		in.addr = addr
	}
	in.conn = conn
	return true
}

// addrFor returns the server's socket and the remote address of the ICE pair pc uses, if the
// input can read it, with the decryption made at the first call that has keys.
func (in *srtpIn) addrFor(pc *webrtc.PeerConnection) (*udpbatch.Conn, netip.AddrPort) {
	conn, remote := in.m.udpPair(pc)
	if conn == nil {
		return nil, netip.AddrPort{}
	}
	if in.rx == nil && in.ctx == nil {
		k, err := in.capture.Keys()
		if err != nil {
			return nil, netip.AddrPort{}
		}
		if in.rx, err = srtpgcm.NewReceiver(k.Profile, k.RemoteKey, k.RemoteSalt); err == nil {
			// pion's context sealed the connection's RTCP until now, its indexes from 1.
			in.rtcpOut, _ = rtcpSender(k)
			return conn, remote
		}
		if in.ctx, err = k.Remote(srtp.SRTPReplayProtection(srtpgcm.ReplayWindow)); err != nil {
			return nil, netip.AddrPort{}
		}
	}
	return conn, remote
}

// rtcpFirstIndex is where the SRTCP indexes of the server's own RTCP to a publisher start:
// pion's context counted its own for the same sender SSRCs from 1 until the input took over,
// and no index may be sealed twice for an SSRC (one context would need 2^30 packets, 3 years
// of feedback at 10 a second, to reach the other's).
const rtcpFirstIndex = 1 << 30

// rtcpSender returns the SRTCP sealing of the server's RTCP to a publisher, with k's keys.
func rtcpSender(k dtlssrtp.Keys) (*srtpgcm.RTCPSender, error) {
	return srtpgcm.NewRTCPSender(k.Profile, k.LocalKey, k.LocalSalt, rtcpFirstIndex)
}

// writeRTCP sends pkts to the publisher: sealed with the input's own SRTCP and queued on the
// server's socket once the input reads the connection (AEAD-AES-GCM), in compounds of at
// most maxRTCPCompound bytes; else through pion. An error is packets lost (with the
// connection, or one too large); the next ones follow. The socket may make the write wait for
// room in its batch: it is done without in.mu, which the socket's reader takes per packet.
func (in *srtpIn) writeRTCP(pc *webrtc.PeerConnection, pkts []rtcp.Packet) error {
	in.mu.Lock()
	out, conn, addr := in.rtcpOut, in.conn, in.addr
	in.mu.Unlock()
	if out == nil || conn == nil || !addr.IsValid() {
		return pc.WriteRTCP(pkts)
	}
	in.rtcpMu.Lock()
	defer in.rtcpMu.Unlock()
	var first error
	fail := func(err error) {
		if first == nil {
			first = err
		}
	}
	buf := in.rtcpBuf[:0]
	send := func() {
		if len(buf) == 0 {
			return
		}
		sealed, err := out.Seal(buf)
		buf = in.rtcpBuf[:0]
		if err != nil {
			fail(err)
			return
		}
		if _, err := conn.WriteToAddrPort(sealed, addr); err != nil {
			fail(err)
			return
		}
		if in.met != nil {
			in.met.ownSRTCPOut.Inc()
		}
	}
	for _, p := range pkts {
		raw, err := p.Marshal()
		switch {
		case err != nil:
			fail(err)
			continue
		case len(raw) > maxRTCPCompound:
			fail(errRTCPSize)
			continue
		case len(buf)+len(raw) > maxRTCPCompound:
			send()
		}
		buf = append(buf, raw...)
	}
	send()
	return first
}

// maxRTCPCompound is the largest compound the input seals: with the tag and index, and the
// UDP and IP headers, it fits any path's MTU.
const maxRTCPCompound = 1200

// errRTCPSize is an RTCP packet larger than maxRTCPCompound (the server's are a few hundred
// bytes).
var errRTCPSize = errors.New("RTCP packet too large")

// disarm leaves everything to pion again (the connection is closing).
func (in *srtpIn) disarm() {
	in.mu.Lock()
	defer in.mu.Unlock()
	moveInput(in.m, &in.m.inputs, in.addr, netip.AddrPort{}, in)
	in.addr, in.closed = netip.AddrPort{}, true
}

// read takes the SRTP packet b if it belongs to a track the input reads, once the track has
// begun through pion: it decrypts it into a pooled packet and forwards it. False leaves b to
// pion (or another connection from the same address): also a packet that does not decrypt,
// which pion's context then refuses in turn, or takes if it was the one that could.
func (in *srtpIn) read(b []byte, wk *wakes) bool {
	u := in.tracks.load()[binary.BigEndian.Uint32(b[8:12])]
	if u == nil {
		return false
	}
	p := packets.Get().(*packet)
	in.mu.Lock()
	out, err := in.decrypt(u, b, p)
	in.mu.Unlock()
	if errors.Is(err, srtpgcm.ErrReplayed) {
		packets.Put(p)
		return true // the publisher's, replayed: dropped, not left to pion's stale window
	}
	if err != nil || len(out) == 0 || &out[0] != &p.buf[0] {
		packets.Put(p)
		return false
	}
	u.m.ownSRTPIn.Inc()
	if in.twcc != nil && u.twcc != 0 {
		in.twcc.Arrived(u.ssrc, out, u.twcc)
	}
	u.read(p, len(out), wk)
	return true
}

// decrypt decrypts b, of u, into p (its buffer and header); in.mu is held. pion read the
// track's first packets with its own context: until a packet decrypts here, each takes its
// rollover counter from what arrived so far (the track's statistics count the wraps since the
// first packet, as pion's context does). srtpgcm.ErrReplayed is a packet that authenticates
// but came before.
func (in *srtpIn) decrypt(u *upTrack, b []byte, p *packet) ([]byte, error) {
	seq := binary.BigEndian.Uint16(b[2:4])
	if in.rx != nil {
		st := u.opener
		if st == nil { // found once rather than per packet
			st = in.rx.Stream(u.ssrc)
			u.opener = st
		}
		if !st.Started() {
			if !u.stats.begun() {
				return nil, errNotBegun
			}
			st.SetROC(u.stats.rocFor(seq))
		}
		hl, err := p.hdr.Unmarshal(b)
		if err != nil {
			return nil, err
		}
		if len(b)-srtpgcm.TagLen > len(p.buf) {
			return nil, errRTPSize
		}
		return st.Open(append(p.buf[:0], b[:hl]...), b[:hl], b[hl:], seq)
	}
	if in.ctx == nil {
		return nil, errNotBegun
	}
	seeded := in.seeded[u.ssrc]
	if !seeded {
		if !u.stats.begun() {
			return nil, errNotBegun
		}
		in.ctx.SetROC(u.ssrc, u.stats.rocFor(seq))
	}
	out, err := in.ctx.DecryptRTP(p.buf[:0], b, &p.hdr)
	if err != nil {
		return nil, err
	}
	if !seeded {
		if in.seeded == nil {
			in.seeded = map[uint32]bool{}
		}
		in.seeded[u.ssrc] = true
	}
	return out, nil
}

// Packets the input leaves to pion.
var (
	errNotBegun = errors.New("track not begun through pion, or no keys")
	errRTPSize  = errors.New("RTP packet larger than the server reads")
)

// feedbackEpoch is what every publisher connection's feedback ticks are in phase with: the
// ticks of all of them fall on the same instants (inPhase), so that the runtime wakes once for
// all of them, rather than once for each (500 wake-ups a second at 10 rooms × 5).
var feedbackEpoch = time.Now()

// inPhase calls f at each instant a whole number of intervals after epoch, until done. Each
// wait is set anew to the next such instant: a ticker started from the first would be as
// late as that came, and loops started apart would drift out of phase.
func inPhase(epoch time.Time, interval time.Duration, done <-chan struct{}, f func(now time.Time)) {
	next := func() time.Duration { return interval - time.Since(epoch)%interval }
	t := time.NewTimer(next())
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			t.Reset(next())
			f(now)
		}
	}
}

// feedback sends the publisher, in one compound every nackInterval until done, the
// transport-wide feedback of what arrived since (the connection's transportcc interceptor runs
// no loop of its own), the NACKs of what did not arrive, and every second the receiver
// reports on its streams; in phase with the other connections' (feedbackEpoch).
func (in *srtpIn) feedback(pc *webrtc.PeerConnection, done <-chan struct{}) {
	n := 0
	inPhase(feedbackEpoch, nackInterval, done, func(now time.Time) {
		n++
		var pkts []rtcp.Packet
		tracks := in.tracks.load()
		if n%int(time.Second/nackInterval) == 0 {
			rr := &rtcp.ReceiverReport{SSRC: in.ssrc}
			for _, u := range tracks {
				if r, ok := u.stats.report(now); ok && len(rr.Reports) < 31 {
					rr.Reports = append(rr.Reports, r)
				}
			}
			if len(rr.Reports) > 0 {
				pkts = append(pkts, rr)
			}
		}
		if in.twcc != nil {
			pkts = append(pkts, in.twcc.Feedback()...)
		}
		for ssrc, u := range tracks {
			if seqs := u.stats.nacks(); len(seqs) > 0 {
				pkts = append(pkts, &rtcp.TransportLayerNack{SenderSSRC: in.ssrc, MediaSSRC: ssrc,
					Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)})
			}
		}
		if len(pkts) > 0 {
			_ = in.writeRTCP(pc, pkts) // lost with the connection; the next ones follow
		}
	})
}

// moveInput moves in from the address old to new in the inputs the sockets' reader looks up
// (a zero address: none): the publishers' RTP inputs, or the subscribers' RTCP inputs. Several
// connections may come from one address (a gateway with one socket for all its calls): each
// reads the SSRCs of its own tracks, or what opens with its keys. The map and its lists are
// replaced, never changed, so that the reader reads them without a lock.
func moveInput[T comparable](m *media, inputs *atomic.Pointer[map[netip.AddrPort][]T], old, new netip.AddrPort, in T) {
	m.imu.Lock()
	defer m.imu.Unlock()
	changeShared(inputs, func(next map[netip.AddrPort][]T) {
		if old.IsValid() {
			if keep := slices.DeleteFunc(slices.Clone(next[old]), func(x T) bool { return x == in }); len(keep) > 0 {
				next[old] = keep
			} else {
				delete(next, old)
			}
		}
		if new.IsValid() {
			next[new] = append(slices.Clip(next[new]), in)
		}
	})
}

// intercept is the server's UDP sockets' first look at each packet read: an SRTP packet from
// an armed publisher connection's address, of a track it reads, is taken (srtpIn.read). The
// writers it queues packets to are woken with wk, at the end of the socket's run of packets.
func (m *media) intercept(b []byte, from netip.AddrPort, wk *wakes) bool {
	// RTP or RTCP (RFC 7983: first byte 128–191); RTCP's payload types are 192–223 (RFC 5761).
	if len(b) < 12 || b[0]&0xc0 != 0x80 {
		return false
	}
	if b[1] >= 192 && b[1] <= 223 {
		return m.interceptRTCP(b, from)
	}
	for _, in := range inputsFrom(&m.inputs, from) {
		if in.read(b, wk) {
			return true
		}
	}
	return false
}

// inputsFrom returns the inputs (moveInput) that read from the address from.
func inputsFrom[T any](inputs *atomic.Pointer[map[netip.AddrPort][]T], from netip.AddrPort) []T {
	ins := inputs.Load()
	if ins == nil || len(*ins) == 0 {
		return nil
	}
	return (*ins)[netip.AddrPortFrom(from.Addr().Unmap(), from.Port())]
}
