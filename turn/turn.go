// Package turn runs the embedded TURN relay (RFC 8656, pion/turn/v5) for participants whose
// networks allow no direct path to the media server: a court behind a firewall that only lets
// out a few ports, over UDP or TCP. Credentials are time-limited (the TURN REST scheme: the
// username is "expiry:user", the password an HMAC of it with the server's secret), so a
// leaked one stops working soon, and the relay only relays to the media server itself, so it
// cannot be used to reach anything else (no open relay).
package turn

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	pionturn "github.com/pion/turn/v5"
)

// Config configures a Server.
type Config struct {
	// UDPAddr and TCPAddr are where the relay listens ("0.0.0.0:3478"); either may be empty,
	// not both.
	UDPAddr, TCPAddr string
	// RelayIP is the address the relay announces for its relayed sockets: the server's
	// public IP (or 127.0.0.1 on loopback). RelayBind is where those sockets are bound
	// ("0.0.0.0" when empty).
	RelayIP   netip.Addr
	RelayBind string
	// Peers are the addresses the relay may forward to: the media server's own. Empty means
	// RelayIP only.
	Peers  []netip.Prefix
	Realm  string // "chuting" when empty
	Secret []byte // the HMAC key of the credentials; required
	Logger *slog.Logger
}

// Server is a running TURN relay.
type Server struct {
	srv    *pionturn.Server
	cfg    Config
	udp    net.Addr
	tcp    net.Addr
	logger *slog.Logger
}

// Start starts the relay on the configured addresses.
func Start(cfg Config) (*Server, error) {
	switch {
	case len(cfg.Secret) < 16:
		return nil, errors.New("turn: the secret must have at least 16 bytes")
	case cfg.UDPAddr == "" && cfg.TCPAddr == "":
		return nil, errors.New("turn: no address to listen on")
	case !cfg.RelayIP.IsValid():
		return nil, errors.New("turn: no relay IP")
	}
	if cfg.Realm == "" {
		cfg.Realm = "chuting"
	}
	if cfg.RelayBind == "" {
		cfg.RelayBind = "0.0.0.0"
	}
	if len(cfg.Peers) == 0 {
		cfg.Peers = []netip.Prefix{netip.PrefixFrom(cfg.RelayIP, cfg.RelayIP.BitLen())}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, logger: cfg.Logger}
	relay := &pionturn.RelayAddressGeneratorStatic{RelayAddress: net.IP(cfg.RelayIP.AsSlice()), Address: cfg.RelayBind}
	sc := pionturn.ServerConfig{Realm: cfg.Realm,
		AuthHandler: pionturn.LongTermTURNRESTAuthHandler(string(cfg.Secret), nil)}
	var closers []func() error
	fail := func(err error) (*Server, error) {
		for _, c := range closers {
			_ = c()
		}
		return nil, err
	}
	if cfg.UDPAddr != "" {
		pc, err := net.ListenPacket("udp4", cfg.UDPAddr)
		if err != nil {
			return fail(fmt.Errorf("turn: listen udp %s: %w", cfg.UDPAddr, err))
		}
		closers = append(closers, pc.Close)
		s.udp = pc.LocalAddr()
		sc.PacketConnConfigs = append(sc.PacketConnConfigs, pionturn.PacketConnConfig{PacketConn: pc,
			RelayAddressGenerator: relay, PermissionHandler: s.permit})
	}
	if cfg.TCPAddr != "" {
		l, err := net.Listen("tcp4", cfg.TCPAddr)
		if err != nil {
			return fail(fmt.Errorf("turn: listen tcp %s: %w", cfg.TCPAddr, err))
		}
		closers = append(closers, l.Close)
		s.tcp = l.Addr()
		sc.ListenerConfigs = append(sc.ListenerConfigs, pionturn.ListenerConfig{Listener: l,
			RelayAddressGenerator: relay, PermissionHandler: s.permit})
	}
	srv, err := pionturn.NewServer(sc)
	if err != nil {
		return fail(fmt.Errorf("turn: %w", err))
	}
	s.srv = srv
	return s, nil
}

// permit lets a client relay only to the media server's own addresses.
func (s *Server) permit(client net.Addr, peer net.IP) bool {
	ip, ok := netip.AddrFromSlice(peer)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range s.cfg.Peers {
		if p.Contains(ip) {
			return true
		}
	}
	s.logger.Warn("turn: relay to a foreign address refused", "client", client.String(), "peer", ip)
	return false
}

// Credentials returns a username and password for user, valid for ttl from now.
func (s *Server) Credentials(user string, ttl time.Duration) (username, password string, err error) {
	return pionturn.GenerateLongTermTURNRESTCredentials(string(s.cfg.Secret), user, ttl)
}

// URLs returns the relay's addresses as ICE server URLs for clients that reach the server at
// host: turn:host:port?transport=udp and …tcp.
func (s *Server) URLs(host string) []string {
	var out []string
	if s.udp != nil {
		out = append(out, "turn:"+net.JoinHostPort(host, port(s.udp))+"?transport=udp")
	}
	if s.tcp != nil {
		out = append(out, "turn:"+net.JoinHostPort(host, port(s.tcp))+"?transport=tcp")
	}
	return out
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// Allocations returns how many relayed allocations are open.
func (s *Server) Allocations() int { return s.srv.AllocationCount() }

// Close stops the relay and its allocations.
func (s *Server) Close() error { return s.srv.Close() }
