package main

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/signaling"
	"github.com/chuting/chuting/turn"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// The hearings' video rooms: the SFU (signaling.Server), its ICE ports, and the embedded TURN
// relay, configured from the --rtc-* and --turn-* flags.

// loopbackOnly reports whether the server listens on loopback only: then nobody off this
// machine can reach it, and media stays on loopback too (the demo, the tests).
func (c *Config) loopbackOnly() bool {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// publicIPs parses --rtc-public-ip.
func (c *Config) publicIPs() ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range strings.Split(c.RTCPublicIP, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--rtc-public-ip %q: want IP addresses such as 203.0.113.7", s)
		}
		out = append(out, ip)
	}
	return out, nil
}

// validateRooms checks the --rtc-* and --turn-* flags.
func (c *Config) validateRooms() error {
	if _, err := c.publicIPs(); err != nil {
		return err
	}
	for name, p := range map[string]int{"--rtc-udp-port": c.RTCUDPPort, "--rtc-tcp-port": c.RTCTCPPort} {
		if p < -1 || p > 65535 {
			return fmt.Errorf("%s %d: want a port, 0 (any free port) or -1 (off)", name, p)
		}
	}
	if c.RTCMaxParticipants < 0 {
		return fmt.Errorf("--rtc-max-participants %d: want a number of participants, or 0 (no bound)", c.RTCMaxParticipants)
	}
	for name, a := range map[string]string{"--turn-udp": c.TURNUDP, "--turn-tcp": c.TURNTCP} {
		if a == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("%s %q: want host:port such as 0.0.0.0:3478", name, a)
		}
	}
	for _, o := range c.allowedOrigins() {
		if !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
			return fmt.Errorf("--allowed-origins %q: want origins such as https://court.example", o)
		}
	}
	return nil
}

func (c *Config) allowedOrigins() []string {
	var out []string
	for _, s := range strings.Split(c.AllowedOrigins, ",") {
		if s = strings.TrimRight(strings.TrimSpace(s), "/"); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// rooms is what the video rooms run on.
type rooms struct {
	sfu      *signaling.Server
	relay    *turn.Server         // nil without --turn-udp and --turn-tcp
	recorder *recordings.Recorder // records every hearing from the judge's start (recording.go)
}

func (r *rooms) close() error {
	var errs []error
	if r.sfu != nil {
		errs = append(errs, r.sfu.Close())
	}
	if r.relay != nil {
		errs = append(errs, r.relay.Close())
	}
	return errors.Join(errs...)
}

// turnTTL is how long the relay credentials given with a join stay good: a hearing's length
// and then some, since a client uses them again when its network changes.
const turnTTL = 8 * time.Hour

// startRooms opens the ICE ports and the relay, and the SFU over them.
func (m *Main) startRooms(reg prometheus.Registerer, rc recordings.Config) (*rooms, error) {
	c := &m.Config
	roomKey, err := readKey(filepath.Join(c.Data, "keys", "room.key"), 32)
	if err != nil {
		return nil, err
	}
	public, _ := c.publicIPs()
	rtc := signaling.WebRTCConfig{UDPPort: c.RTCUDPPort, TCPPort: c.RTCTCPPort}
	if c.loopbackOnly() {
		udp, tcp := rtc.UDPPort, rtc.TCPPort
		rtc = signaling.LoopbackOnly()
		rtc.UDPPort, rtc.TCPPort = udp, tcp
	}
	for _, ip := range public {
		rtc.PublicIPs = append(rtc.PublicIPs, ip.String())
	}
	r := &rooms{}
	// Before the rooms open: what a crash left is recovered before any hearing records again.
	if r.recorder, err = m.startRecorder(rc); err != nil {
		return nil, err
	}
	if c.TURNUDP != "" || c.TURNTCP != "" {
		secret, err := readKey(filepath.Join(c.Data, "keys", "turn.key"), 32)
		if err != nil {
			return nil, err
		}
		relayIP := netip.MustParseAddr("127.0.0.1")
		if len(public) > 0 {
			relayIP = public[0]
		} else if !c.loopbackOnly() {
			return nil, errors.New("--turn-udp/--turn-tcp need --rtc-public-ip: the address clients reach the relay and the media server at")
		}
		peers := []netip.Prefix{netip.PrefixFrom(relayIP, relayIP.BitLen())}
		if !c.loopbackOnly() {
			// The relay forwards to the media server's own local addresses too.
			peers = append(peers, localPrefixes()...)
		}
		if r.relay, err = turn.Start(turn.Config{UDPAddr: c.TURNUDP, TCPAddr: c.TURNTCP, RelayIP: relayIP,
			Peers: peers, Secret: secret, Logger: m.Logger}); err != nil {
			return nil, err
		}
	}
	cfg := signaling.Config{Records: m.Store, Logs: m.Store, Tokens: signaling.NewTokens(roomKey, m.clock()),
		WebRTC: rtc, AllowedOrigins: c.allowedOrigins(), Logger: m.Logger, Registerer: reg, Node: rc.Node, Now: m.clock(),
		Recorder: r.recorder, MaxParticipants: c.RTCMaxParticipants}
	if r.relay != nil {
		host := "127.0.0.1"
		if len(public) > 0 {
			host = public[0].String()
		}
		urls := r.relay.URLs(host)
		cfg.ICEServers = func(subject string) []webrtc.ICEServer {
			user, pass, err := r.relay.Credentials(subject, turnTTL)
			if err != nil {
				m.Logger.Error("turn credentials", "err", err)
				return nil
			}
			return []webrtc.ICEServer{{URLs: urls, Username: user, Credential: pass}}
		}
	}
	if r.sfu, err = signaling.New(cfg); err != nil {
		_ = r.close()
		return nil, err
	}
	return r, nil
}

// localPrefixes are this machine's own interface addresses, as single-address prefixes.
func localPrefixes() []netip.Prefix {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				ip = ip.Unmap()
				out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
			}
		}
	}
	return out
}

// nodeName names this process: the holder of the periodic jobs' leases.
func nodeName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// nodeIDFile, in the data folder, names the node whose folder it is: the node that holds a
// hearing's video room (Hearing.Node) and the recordings in its folder (the manifest's node).
// It is made on first start and kept across restarts, so that a node restarted after a crash
// reopens the rooms it held at once, instead of waiting for its hold to lapse as another
// node must. Nodes sharing a store must not share it (copy a data folder without it).
const nodeIDFile = "node-id"

// nodeID returns the node's name from data/node-id, making it (the host name and 8 random
// characters) on first use.
func nodeID(data string) (string, error) {
	b, err := readOrMake(filepath.Join(data, nodeIDFile), 0o644, func(b []byte) error {
		if len(bytes.TrimSpace(b)) == 0 {
			return errors.New("it is empty: remove it, and a new node id is made")
		}
		return nil
	}, func() ([]byte, error) {
		host, _ := os.Hostname()
		return []byte(cmp.Or(host, "node") + "-" + strings.ToLower(rand.Text()[:8]) + "\n"), nil
	})
	return string(bytes.TrimSpace(b)), err
}

// readKey returns the secret key in file, making it (n random bytes, mode 0600, in a 0700
// folder) on first use. Nodes sharing a store must share their keys folder.
func readKey(file string, n int) ([]byte, error) {
	return readOrMake(file, 0o600, func(b []byte) error {
		if len(b) < n {
			return fmt.Errorf("it holds %d bytes, want at least %d", len(b), n)
		}
		return nil
	}, func() ([]byte, error) {
		b := make([]byte, n)
		_, err := rand.Read(b)
		return b, err
	})
}

// readOrMake returns what file holds, checked by valid; or, when there is no file, makes it
// (its folder 0700, the file perm) with what mk returns. Of processes starting at once, the
// first to create the file wins and the others read it.
func readOrMake(file string, perm os.FileMode, valid func([]byte) error, mk func() ([]byte, error)) ([]byte, error) {
	b, err := os.ReadFile(file)
	switch {
	case err == nil:
		if err := valid(b); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return b, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, err
	}
	if b, err = mk(); err != nil {
		return nil, err
	}
	if err := createOnce(file, b, perm); errors.Is(err, fs.ErrExist) {
		return readOrMake(file, perm, valid, mk) // another process made it first
	} else if err != nil {
		return nil, err
	}
	return b, nil
}

// createOnce writes b to file with mode perm unless file exists (then an error wrapping
// fs.ErrExist). It is written whole and fsynced under a temporary name, then linked into
// place: a process starting at the same moment never reads half of it, and the first link wins.
func createOnce(file string, b []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(file), ".new-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Link(f.Name(), file)
}
