package signaling

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chuting/chuting/dtlssrtp"
	"github.com/chuting/chuting/transportcc"
	"github.com/chuting/chuting/udpbatch"
	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// WebRTCConfig says how the server's peer connections reach clients. The zero value gathers
// on every interface over UDP and TCP, IPv4 and IPv6, with mDNS off, one UDP port and one TCP
// port picked by the system. Production sets UDPPort and TCPPort to the ports the court's
// firewall opens, and PublicIPs behind NAT; tests and the demo use LoopbackOnly.
type WebRTCConfig struct {
	// NetworkTypes to gather candidates for; empty means UDP4, UDP6, TCP4 and TCP6.
	NetworkTypes []webrtc.NetworkType
	// Interfaces are the names of the interfaces to gather on; empty means all.
	Interfaces []string
	// IPFilter, when set, keeps only the local addresses it returns true for.
	IPFilter func(net.IP) bool
	// IncludeLoopback gathers loopback addresses too (pion leaves them out by default).
	IncludeLoopback bool
	// MDNS is the multicast DNS mode; zero means ice.MulticastDNSModeDisabled, as a server's
	// candidates must carry real addresses.
	MDNS ice.MulticastDNSMode
	// PublicIPs are the addresses announced instead of the local ones, for a server behind a
	// 1:1 NAT.
	PublicIPs []string
	// ListenIP is the address the ICE ports bind to; empty means every address (one socket per
	// interface address that the filters keep).
	ListenIP string
	// UDPPort is the one UDP port all ICE traffic uses (pion's UDP mux); 0 picks a free port,
	// -1 gives each connection its own ephemeral ports instead.
	UDPPort int
	// TCPPort is the one port for ICE over TCP (RFC 6544 passive candidates), for networks that
	// block UDP; 0 picks a free port, -1 turns ICE over TCP off.
	TCPPort int
	// ICEServers are the STUN and TURN servers sent to clients in joined; the server itself
	// uses none.
	ICEServers []webrtc.ICEServer
}

// LoopbackOnly returns the settings that keep all media on the loopback interface: IPv4 over
// UDP and TCP, loopback candidates only, mDNS off, the ports bound to 127.0.0.1. Tests, the
// load tool and the demo on loopback use it (../shared/TESTING.md).
func LoopbackOnly() WebRTCConfig {
	return WebRTCConfig{
		NetworkTypes:    []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4},
		Interfaces:      []string{"lo"},
		IPFilter:        func(ip net.IP) bool { return ip.IsLoopback() },
		IncludeLoopback: true,
		MDNS:            ice.MulticastDNSModeDisabled,
		ListenIP:        "127.0.0.1",
	}
}

// media is what the server's peer connections are built from, and the sockets it owns.
type media struct {
	// batched are the ICE UDP sockets, whose writes udpbatch batches.
	batched []*udpbatch.Conn
	// readBuf and writeBuf are the buffers the kernel granted the ICE UDP port (bytes, as the
	// kernel reports them; 0 when unknown).
	readBuf, writeBuf int

	// What each connection's API is made of (capturingAPI): each has its own key capture
	// (srtpout.go, srtpin.go).
	me   *webrtc.MediaEngine
	ir   *interceptor.Registry
	se   webrtc.SettingEngine
	twcc byConn[*transportcc.Interceptor] // each connection's arrival record
	// The publishers' connections whose RTP the server reads itself, by remote address
	// (srtpin.go): replaced, never changed, under imu.
	inputs atomic.Pointer[map[netip.AddrPort][]*srtpIn]
	// The subscribers' connections whose RTCP the server reads itself (rtcpin.go), likewise.
	rtcpInputs atomic.Pointer[map[netip.AddrPort][]*rtcpIn]
	imu        sync.Mutex
	udp        ice.UDPMux
	tcp        ice.TCPMux
	tcpL       net.Listener
}

func (m *media) close() error {
	var errs []error
	if m.udp != nil {
		errs = append(errs, m.udp.Close())
	}
	if m.tcp != nil {
		errs = append(errs, m.tcp.Close())
	}
	if m.tcpL != nil {
		if err := m.tcpL.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// newMediaEngine registers the codecs and feedback the rooms negotiate: Opus; VP8 and H.264
// (constrained baseline 42e01f, packetization-mode 1, which court hardware prefers); NACK,
// PLI, FIR, REMB and transport-wide congestion control; and the audio level extension for
// active-speaker detection (RFC 6464).
func newMediaEngine() (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	video := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
		{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "transport-cc"}}
	codecs := []struct {
		c    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}}}}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: video}}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{PayloadType: 102, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
			RTCPFeedback: video}}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.c, c.kind); err != nil {
			return nil, fmt.Errorf("register %s: %w", c.c.MimeType, err)
		}
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI},
		webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register audio level: %w", err)
	}
	return m, nil
}

// newInterceptors adds the simulcast header extensions (MID, RTP stream ID) and the TWCC
// feedback for what the server receives. What the server sends to subscribers its writers
// number for TWCC, report on, resend and tell the connection's bandwidth estimator of
// themselves (forward.go, report.go), whether they encrypt it (srtpout.go) or pass it down
// pion's path, and the subscribers' RTCP feeds the estimator (downTrack.readRTCP): no
// interceptor acts on what the server sends.
func newInterceptors(m *webrtc.MediaEngine, arrivals *byConn[*transportcc.Interceptor]) (*interceptor.Registry, error) {
	r := &interceptor.Registry{}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return nil, err
	}
	// NACKs and receiver reports towards publishers are the server's (receive.go, srtpin.go),
	// as pion's interceptors would not see the packets its SRTP input reads; subscribers'
	// NACKs are answered by their writers from the packets they hold (forward.go), instead of
	// by pion's responder, which copied every packet sent to every subscriber (docs/perf.md).
	// The codecs (newMediaEngine) carry the nack feedback.
	//
	// Transport-wide congestion-control feedback to publishers, without pion's goroutine
	// switch per packet received (transportcc); the SRTP input records its packets' arrivals,
	// and sends the feedback with its NACKs and receiver reports (srtpIn.feedback), so the
	// interceptors run no loop of their own (a ticker per connection, also on subscribers'
	// connections, which receive no media).
	if err := transportcc.ConfigureWith(m, r, transportcc.Factory{OnNew: arrivals.put}); err != nil {
		return nil, err
	}
	return r, nil
}

// settingEngine applies the connectivity settings that a server and a loopback test client
// share.
func (c WebRTCConfig) settingEngine() webrtc.SettingEngine {
	var se webrtc.SettingEngine
	types := c.NetworkTypes
	if len(types) == 0 {
		types = []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6,
			webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6}
	}
	se.SetNetworkTypes(types)
	if f := c.interfaceFilter(); f != nil {
		se.SetInterfaceFilter(f)
	}
	if c.IPFilter != nil {
		se.SetIPFilter(c.IPFilter)
	}
	se.SetIncludeLoopbackCandidate(c.IncludeLoopback)
	mode := c.MDNS
	if mode == 0 {
		mode = ice.MulticastDNSModeDisabled
	}
	se.SetICEMulticastDNSMode(mode)
	return se
}

func (c WebRTCConfig) interfaceFilter() func(string) bool {
	if len(c.Interfaces) == 0 {
		return nil
	}
	names := append([]string(nil), c.Interfaces...)
	return func(name string) bool {
		for _, n := range names {
			if n == name {
				return true
			}
		}
		return false
	}
}

func (c WebRTCConfig) hasNetwork(want ...webrtc.NetworkType) bool {
	if len(c.NetworkTypes) == 0 {
		return true
	}
	for _, t := range c.NetworkTypes {
		for _, w := range want {
			if t == w {
				return true
			}
		}
	}
	return false
}

// udpBuffer is the receive and send buffer asked for on the ICE UDP port. All media of the
// node arrives on that one socket: 50 publishers send ~10,000 packets a second, which fill
// Linux's default 208 KiB (about 90 packets of loopback's accounting, ~2 KiB each) in about
// 10 ms, so a GC pause or a busy core would drop packets. 8 MiB holds ~400 ms. The kernel caps
// it at net.core.rmem_max / wmem_max: raise those to 8388608 on a media node (docs/perf.md).
const udpBuffer = 8 << 20

// newMedia builds the server's webrtc.API from c, opening the single UDP and TCP ports.
func newMedia(c WebRTCConfig, lf logging.LoggerFactory) (*media, error) {
	me, err := newMediaEngine()
	if err != nil {
		return nil, err
	}
	se := c.settingEngine()
	if lf != nil {
		se.LoggerFactory = lf
	} else {
		lf = logging.NewDefaultLoggerFactory()
	}
	// AEAD-AES-128-GCM first: one pass of AES-GCM (AES-NI and carry-less multiply) costs about
	// 0.8 µs for a 1.1 KB packet here, AES-CM with HMAC-SHA1 about 3.7 µs, and the server
	// encrypts every packet once per subscriber. AES-256-GCM is left out, so that the client
	// cannot choose it when it is the DTLS server (the server answers pub); AES-CM stays for
	// clients without GCM.
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	m := &media{}
	ir, err := newInterceptors(me, &m.twcc)
	if err != nil {
		return nil, err
	}
	if len(c.PublicIPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: c.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost}); err != nil {
			return nil, fmt.Errorf("public IPs: %w", err)
		}
	}
	if c.UDPPort >= 0 && c.hasNetwork(webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6) {
		if c.ListenIP != "" {
			la, err := net.ResolveUDPAddr("udp", net.JoinHostPort(c.ListenIP, strconv.Itoa(c.UDPPort)))
			if err != nil {
				return nil, fmt.Errorf("ICE UDP port: %w", err)
			}
			uc, err := net.ListenUDP("udp", la)
			if err != nil {
				return nil, fmt.Errorf("ICE UDP port: %w", err)
			}
			_ = uc.SetReadBuffer(udpBuffer)
			_ = uc.SetWriteBuffer(udpBuffer)
			m.readBuf, m.writeBuf = socketBuffers(uc)
			m.udp = webrtc.NewICEUDPMux(lf.NewLogger("udpmux"), m.batching(uc))
		} else {
			sn, err := stdnet.NewNet()
			if err != nil {
				return nil, fmt.Errorf("ICE UDP port: %w", err)
			}
			opts := []ice.UDPMuxFromPortOption{ice.UDPMuxFromPortWithLogger(lf.NewLogger("udpmux")),
				ice.UDPMuxFromPortWithNet(batchingNet{sn, m}),
				ice.UDPMuxFromPortWithReadBufferSize(udpBuffer), ice.UDPMuxFromPortWithWriteBufferSize(udpBuffer)}
			if f := c.interfaceFilter(); f != nil {
				opts = append(opts, ice.UDPMuxFromPortWithInterfaceFilter(f))
			}
			if c.IPFilter != nil {
				opts = append(opts, ice.UDPMuxFromPortWithIPFilter(c.IPFilter))
			}
			if c.IncludeLoopback {
				opts = append(opts, ice.UDPMuxFromPortWithLoopback())
			}
			mux, err := ice.NewMultiUDPMuxFromPort(c.UDPPort, opts...)
			if err != nil {
				return nil, fmt.Errorf("ICE UDP port: %w", err)
			}
			m.udp = mux
		}
		se.SetICEUDPMux(m.udp)
	}
	if c.TCPPort >= 0 && c.hasNetwork(webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6) {
		l, err := net.Listen("tcp", net.JoinHostPort(c.ListenIP, strconv.Itoa(c.TCPPort)))
		if err != nil {
			_ = m.close()
			return nil, fmt.Errorf("ICE TCP port: %w", err)
		}
		m.tcpL = l
		m.tcp = webrtc.NewICETCPMux(lf.NewLogger("tcpmux"), l, 8)
		se.SetICETCPMux(m.tcp)
	}
	m.me, m.ir, m.se = me, ir, se
	return m, nil
}

// capturingAPI returns the API of a connection whose key log and ServerHello go to c. With
// answerAsServer the server answers an offer as the DTLS server (setup:passive), so that it
// sends the ServerHello there too; pion then takes that role whatever the offer says, so it
// is only for offers that leave the choice to the answerer (actpass).
func (m *media) capturingAPI(c *dtlssrtp.Capture, answerAsServer bool) *webrtc.API {
	se := m.se
	se.SetDTLSKeyLogWriter(c)
	se.SetDTLSServerHelloMessageHook(c.ServerHello)
	if answerAsServer {
		_ = se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer) // a valid role: no error
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m.me), webrtc.WithInterceptorRegistry(m.ir),
		webrtc.WithSettingEngine(se))
}

// socketFor returns the server's UDP socket that the local candidate c is on, nil if none
// is known to be (TCP, or an address rewritten for NAT on a node with several sockets).
func (m *media) socketFor(c *webrtc.ICECandidate) *udpbatch.Conn {
	if c.Protocol != webrtc.ICEProtocolUDP || c.Typ == webrtc.ICECandidateTypeRelay {
		return nil
	}
	addr, p := c.Address, c.Port
	if c.Typ != webrtc.ICECandidateTypeHost && c.RelatedAddress != "" {
		addr, p = c.RelatedAddress, c.RelatedPort // a reflexive candidate: its base is the socket
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return nil
	}
	var port *udpbatch.Conn
	n := 0
	for _, b := range m.batched {
		la, ok := b.LocalAddr().(*net.UDPAddr)
		if !ok || la.Port != int(p) {
			continue
		}
		if a := la.AddrPort().Addr().Unmap(); a == ip.Unmap() {
			return b
		}
		port = b
		n++
	}
	if n == 1 && len(m.batched) == 1 {
		return port // one socket: the candidate's address may be a public one (NAT)
	}
	return nil
}

// Batched writes on the ICE UDP ports: each batch (up to batchSize packets, sent at the latest
// batchInterval after its first) leaves in one system call, and the packets of a frame to one
// subscriber as one segmented datagram (udpbatch, docs/perf.md).
const (
	batchSize     = 64
	batchInterval = time.Millisecond
)

// batching wraps an ICE UDP socket.
func (m *media) batching(uc *net.UDPConn) *udpbatch.Conn {
	c := udpbatch.New(uc, batchSize, batchInterval)
	wk := new(wakes) // the socket's reader's
	c.SetIntercept(func(b []byte, from netip.AddrPort) bool { return m.intercept(b, from, wk) }, wk.flush)
	m.batched = append(m.batched, c)
	return c
}

// batchingNet is the network of ICE UDP ports opened on every address: its sockets batch
// their writes.
type batchingNet struct {
	*stdnet.Net
	m *media
}

// ListenUDP implements transport.Net.
func (n batchingNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	uc, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	if c, ok := uc.(*net.UDPConn); ok {
		return n.m.batching(c), nil
	}
	return uc, nil
}

// Addrs returns the addresses of the ICE UDP and TCP ports (nil when off).
func (m *media) addrs() (udp []net.Addr, tcp net.Addr) {
	if m.udp != nil {
		udp = m.udp.GetListenAddresses()
	}
	if m.tcpL != nil {
		tcp = m.tcpL.Addr()
	}
	return udp, tcp
}
