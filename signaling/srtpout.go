package signaling

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/chuting/chuting/dtlssrtp"
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
// socket the server cannot tell, or whose keys cannot be taken keeps pion's path; so does each
// packet until the connection is up.
//
// The server encrypts each SSRC's packets with one context from the first packet its writer
// sends on the socket, and pion never encrypts RTP on that connection after (all of its RTP
// comes from the writer). Packets sent down pion's path before that have lower sequence
// numbers, so the two contexts never seal different packets under one index.
type srtpOut struct {
	capture dtlssrtp.Capture
	// path is where the writer sends now; nil while it sends down pion's path.
	path atomic.Pointer[srtpPath]

	mu  sync.Mutex    // serialises arm
	ctx *srtp.Context // made at the first arm that has keys; the writer's alone to use
}

// srtpPath is where a connection's packets go: its SRTP context, the server's socket and the
// remote address.
type srtpPath struct {
	ctx  *srtp.Context // the writer's alone
	conn *udpbatch.Conn
	addr netip.AddrPort
}

// current returns where o's writer sends now, nil for pion's path (and for no output).
func (o *srtpOut) current() *srtpPath {
	if o == nil {
		return nil
	}
	return o.path.Load()
}

// arm points o at the ICE pair pc uses now, if it is over one of the server's UDP sockets in
// m; or back at pion's path. pion calls it when the connection comes up and when the pair
// changes.
func (o *srtpOut) arm(pc *webrtc.PeerConnection, m *media) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.path.Store(o.pathFor(pc, m))
}

func (o *srtpOut) pathFor(pc *webrtc.PeerConnection, m *media) *srtpPath {
	conn, remote := m.udpPair(pc)
	if conn == nil {
		return nil
	}
	if o.ctx == nil {
		k, err := o.capture.Keys()
		if err != nil {
			return nil
		}
		if o.ctx, err = k.Local(); err != nil {
			return nil
		}
	}
	return &srtpPath{ctx: o.ctx, conn: conn, addr: remote}
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

// write encrypts hdr and payload into buf (at least mtu+srtpOverhead bytes; scratch is the
// header the encryption parses) and queues the packet on the socket.
func (p *srtpPath) write(hdr *rtp.Header, payload []byte, buf []byte, scratch *rtp.Header) error {
	n, err := hdr.MarshalTo(buf)
	if err != nil {
		return err
	}
	n += copy(buf[n:], payload)
	sealed, err := p.ctx.EncryptRTP(buf[:0], buf[:n], scratch)
	if err != nil {
		return err
	}
	_, err = p.conn.WriteToAddrPort(sealed, p.addr)
	return err
}
