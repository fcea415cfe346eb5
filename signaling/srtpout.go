package signaling

import (
	"encoding/binary"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/chuting/chuting/dtlssrtp"
	"github.com/chuting/chuting/srtpgcm"
	"github.com/chuting/chuting/udpbatch"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// srtpOverhead is the most SRTP adds to an RTP packet: the authentication tag (16 bytes for
// AEAD-AES-GCM, 10 for HMAC-SHA1-80), rounded up.
const srtpOverhead = 32

// srtpOut is a subscriber connection's own RTP output. pion's write path (its interceptors,
// SRTP session, DTLS/SRTP mux and ICE, each packet passing down them in turn) cost about a
// quarter of the server's CPU per forwarded packet (docs/perf.md). Once the connection is up
// over one of the server's UDP sockets, the writer instead encrypts each packet with the
// connection's SRTP keys (taken by dtlssrtp from the DTLS handshake) and queues it on that
// socket for the remote address of the ICE pair in use. It numbers the packets for
// transport-wide congestion control, tells the estimator and sends the sender reports itself
// (forward.go, report.go), so that both paths carry the same. A connection over ICE-TCP, on a
// socket the server cannot tell, or whose keys cannot be taken keeps pion's path.
//
// Which path a connection takes is decided once, when it comes up, and the writer sends no RTP
// before (pion would drop it until its SRTP starts, and the subscriber asks for keyframes when
// the connection is up). Each SSRC is then encrypted by one context only, from its first packet,
// so the subscriber's rollover counter starts where the server's does. No two packets may be
// sealed under one index (with AES-GCM that would give the keystream and the authentication
// key away): the writer shows each stream's sequence numbers without jumps of more than
// gapLimit (forward.go, sequence), so that the index each packet gets is the one the
// subscriber guesses, and srtpgcm refuses an index it sealed before, but for a packet sent
// again unchanged (SealAt, from the NACK history, on the stream it was first sent on). A connection on the server's own path whose ICE pair moves to one the server
// cannot send on (ICE-TCP, or a local address none of its sockets is known by) is closed, so
// that the client resumes: handing its streams back to
// pion's context, which has not seen them, would break both.
type srtpOut struct {
	capture dtlssrtp.Capture
	// mode is the path decided (undecided, ownPath or pionPath); path is where the writer
	// sends on ownPath.
	mode atomic.Int32
	path atomic.Pointer[srtpPath]

	mu sync.Mutex // serialises arm

	rtcp rtcpIn // the subscriber's RTCP, read by the server on the own path (rtcpin.go)
}

// The paths of a connection's RTP.
const (
	undecided = iota // not up yet: the writer sends nothing
	ownPath          // encrypted by the writer (path)
	pionPath         // down pion's write path, for the connection's life
)

// srtpPath is where a connection's packets go: its SRTP sealing, the server's socket and the
// remote address. The sealing is the writer's alone: srtpgcm's for the AEAD-AES-GCM profiles
// (what browsers and the server prefer), which seals in place without parsing the header
// again; pion's context for the others.
type srtpPath struct {
	gcm  *srtpgcm.Sender
	ctx  *srtp.Context // when gcm is nil
	conn *udpbatch.Conn
	addr netip.AddrPort
	peer *udpbatch.Peer // addr on conn
}

// current returns the path decided, and where the writer sends on ownPath; pionPath for no
// output (tests without connections).
func (o *srtpOut) current() (int32, *srtpPath) {
	if o == nil {
		return pionPath, nil
	}
	mode := o.mode.Load()
	if mode != ownPath {
		return mode, nil
	}
	return mode, o.path.Load()
}

// arm decides the path when pc comes up (the server's own if the ICE pair pc uses is over one
// of the server's UDP sockets in m and the keys are known, else pion's), and on the own path
// follows the pair when it changes. False means the connection, on the own path, moved to a
// pair the server cannot send on: the caller closes it. pion calls it when the connection
// comes up and when the pair changes.
func (o *srtpOut) arm(pc *webrtc.PeerConnection, m *media) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	mode := o.mode.Load()
	if mode == pionPath || mode == undecided && pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		return true // pion's for good; or a pair chosen before the connection is up: decided when it is
	}
	path := o.pathFor(pc, m)
	switch mode {
	case undecided:
		if path == nil {
			o.mode.Store(pionPath)
			return true
		}
		o.path.Store(path)
		o.mode.Store(ownPath)
	case ownPath:
		if path == nil {
			return false
		}
		o.path.Store(path)
	}
	o.rtcp.arm(m, path.addr, o.rtcpReceiver)
	return true
}

// rtcpReceiver returns the SRTCP receiver of the subscriber's keys; nil for a profile other
// than AEAD-AES-GCM (pion reads that connection's RTCP).
func (o *srtpOut) rtcpReceiver() *srtpgcm.RTCPReceiver {
	k, err := o.capture.Keys()
	if err != nil {
		return nil
	}
	rx, err := srtpgcm.NewRTCPReceiver(k.Profile, k.RemoteKey, k.RemoteSalt)
	if err != nil {
		return nil
	}
	return rx
}

func (o *srtpOut) pathFor(pc *webrtc.PeerConnection, m *media) *srtpPath {
	conn, remote := m.udpPair(pc)
	if conn == nil {
		return nil
	}
	peer := conn.Peer(remote)
	if cur := o.path.Load(); cur != nil { // a new pair: the same keys, and streams
		return &srtpPath{gcm: cur.gcm, ctx: cur.ctx, conn: conn, addr: remote, peer: peer}
	}
	k, err := o.capture.Keys()
	if err != nil {
		return nil
	}
	if gcm, err := srtpgcm.New(k.Profile, k.LocalKey, k.LocalSalt); err == nil {
		return &srtpPath{gcm: gcm, conn: conn, addr: remote, peer: peer}
	}
	ctx, err := k.Local()
	if err != nil {
		return nil
	}
	return &srtpPath{ctx: ctx, conn: conn, addr: remote, peer: peer}
}

// udpPair returns the server's socket and the remote address of the ICE pair pc uses, if pc
// is connected (ICE and DTLS) over one of the server's UDP sockets; nil otherwise.
func (m *media) udpPair(pc *webrtc.PeerConnection) (*udpbatch.Conn, netip.AddrPort) {
	dt := pc.SCTP().Transport()
	if dt.State() != webrtc.DTLSTransportStateConnected {
		return nil, netip.AddrPort{}
	}
	pair, err := dt.ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local == nil || pair.Remote == nil ||
		pair.Remote.Protocol != webrtc.ICEProtocolUDP {
		return nil, netip.AddrPort{}
	}
	conn := m.socketFor(pair.Local)
	remote, err := netip.ParseAddr(pair.Remote.Address)
	if conn == nil || err != nil {
		return nil, netip.AddrPort{}
	}
	return conn, netip.AddrPortFrom(remote.Unmap(), pair.Remote.Port)
}

// write encrypts hdr and payload into buf (of capacity udpbatch.BufferSize; scratch is the
// header pion's encryption parses) and queues the packet on the socket, which takes buf and
// gives another back (spare). st is hdr.SSRC's stream when the path seals with srtpgcm; twcc
// the ID of the transport-wide sequence number's extension, if hdr carries one. again is the
// index a packet sent again was first sealed with by srtpgcm (0 for a new packet); index is
// the one it is sealed with now (0 with pion's context, which keeps its own); size is the RTP
// packet's before the sealing.
func (p *srtpPath) write(st *srtpgcm.Stream, hdr *rtp.Header, twcc uint8, payload []byte, buf []byte, scratch *rtp.Header, again uint64) (index uint64, size int, spare []byte, err error) {
	hl, err := marshalHeader(buf[:cap(buf)], hdr, twcc)
	if err != nil {
		return 0, 0, buf, err
	}
	var sealed []byte
	switch {
	case st != nil && again != 0: // the payload is sealed from where it is, not copied first
		index = again
		sealed, err = st.SealAt(buf[:hl], payload, again)
	case st != nil:
		sealed, index, err = st.Seal(buf[:hl], payload, hdr.SequenceNumber)
	default:
		n := hl + copy(buf[hl:cap(buf)], payload)
		sealed, err = p.ctx.EncryptRTP(buf[:0], buf[:n], scratch)
	}
	if err != nil {
		return 0, 0, buf, err
	}
	spare, err = p.conn.GiveTo(sealed, p.peer)
	return index, hl + len(payload), spare, err
}

// marshalHeader writes hdr into buf as pion's Header.MarshalTo does and returns its length.
// The writers' headers carry the publisher's CSRCs and no extension but the transport-wide
// sequence number (ID twcc, in RFC 8285's one-byte form); those it writes itself (pion's
// MarshalTo, whose receiver is the header by value, copies the header twice and walks its
// extensions twice: 2 % of the server's CPU at 10×5), anything else it leaves to pion's.
func marshalHeader(buf []byte, hdr *rtp.Header, twcc uint8) (int, error) {
	var ext []byte
	if hdr.Extension {
		if hdr.ExtensionProfile != rtp.ExtensionProfileOneByte || len(hdr.Extensions) != 1 || twcc == 0 || twcc > 14 {
			return hdr.MarshalTo(buf)
		}
		if ext = hdr.GetExtension(twcc); len(ext) == 0 || len(ext) > 16 {
			return hdr.MarshalTo(buf)
		}
	}
	if len(hdr.CSRC) > 15 {
		return hdr.MarshalTo(buf)
	}
	n := 12 + 4*len(hdr.CSRC)
	size, words := n, (1+len(ext)+3)/4
	if hdr.Extension {
		size += 4 + 4*words
	}
	if len(buf) < size {
		return 0, io.ErrShortBuffer
	}
	buf[0] = hdr.Version<<6 | uint8(len(hdr.CSRC))
	if hdr.Padding {
		buf[0] |= 1 << 5
	}
	if hdr.Extension {
		buf[0] |= 1 << 4
	}
	buf[1] = hdr.PayloadType
	if hdr.Marker {
		buf[1] |= 1 << 7
	}
	binary.BigEndian.PutUint16(buf[2:], hdr.SequenceNumber)
	binary.BigEndian.PutUint32(buf[4:], hdr.Timestamp)
	binary.BigEndian.PutUint32(buf[8:], hdr.SSRC)
	for i, c := range hdr.CSRC {
		binary.BigEndian.PutUint32(buf[12+4*i:], c)
	}
	if hdr.Extension {
		binary.BigEndian.PutUint16(buf[n:], rtp.ExtensionProfileOneByte)
		binary.BigEndian.PutUint16(buf[n+2:], uint16(words)) //nolint:gosec // at most 5
		buf[n+4] = twcc<<4 | uint8(len(ext)-1)               //nolint:gosec // 1 to 16 bytes
		clear(buf[n+5+copy(buf[n+5:], ext) : size])
	}
	return size, nil
}

// The writer's buffer is the socket's: room for a packet and its SRTP tag.
var _ [udpbatch.BufferSize - mtu - srtpOverhead]struct{}
