package turn

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	pionturn "github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

func startTest(t *testing.T) *Server {
	t.Helper()
	s, err := Start(Config{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", RelayIP: netip.MustParseAddr("127.0.0.1"),
		RelayBind: "127.0.0.1", Secret: []byte("a test secret of enough bytes")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// loopbackAPI is a webrtc API that gathers and connects on loopback only (TESTING.md).
func loopbackAPI() *webrtc.API {
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

// TestRelay connects a client that may only use the relay (as behind a strict firewall) to a
// peer standing for the media server, over TURN on UDP and on TCP, and passes a message.
func TestRelay(t *testing.T) {
	s := startTest(t)
	for _, url := range s.URLs("127.0.0.1") {
		t.Run(url, func(t *testing.T) {
			user, pass, err := s.Credentials("appraiser-1", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			api := loopbackAPI()
			client, err := api.NewPeerConnection(webrtc.Configuration{ICETransportPolicy: webrtc.ICETransportPolicyRelay,
				ICEServers: []webrtc.ICEServer{{URLs: []string{url}, Username: user, Credential: pass}}})
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			media, err := api.NewPeerConnection(webrtc.Configuration{})
			if err != nil {
				t.Fatal(err)
			}
			defer media.Close()
			got := make(chan string, 1)
			media.OnDataChannel(func(dc *webrtc.DataChannel) {
				dc.OnMessage(func(m webrtc.DataChannelMessage) { got <- string(m.Data) })
			})
			dc, err := client.CreateDataChannel("test", nil)
			if err != nil {
				t.Fatal(err)
			}
			dc.OnOpen(func() { _ = dc.SendText("出庭") })
			relayed := make(chan bool, 1)
			client.OnICECandidate(func(c *webrtc.ICECandidate) {
				if c != nil && c.Typ == webrtc.ICECandidateTypeRelay {
					select {
					case relayed <- true:
					default:
					}
				}
			})
			// Each side's description carries all its candidates (gathering complete), so that
			// none is lost to an AddICECandidate made before the other side has a remote
			// description (which made this test fail about once in six under -race).
			offer, _ := client.CreateOffer(nil)
			gathered := webrtc.GatheringCompletePromise(client)
			if err := client.SetLocalDescription(offer); err != nil {
				t.Fatal(err)
			}
			<-gathered
			if err := media.SetRemoteDescription(*client.LocalDescription()); err != nil {
				t.Fatal(err)
			}
			answer, _ := media.CreateAnswer(nil)
			gathered = webrtc.GatheringCompletePromise(media)
			if err := media.SetLocalDescription(answer); err != nil {
				t.Fatal(err)
			}
			<-gathered
			if err := client.SetRemoteDescription(*media.LocalDescription()); err != nil {
				t.Fatal(err)
			}
			select {
			case msg := <-got:
				if msg != "出庭" {
					t.Fatalf("got %q", msg)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("no message through the relay in 15 s")
			}
			select {
			case <-relayed:
			default:
				t.Fatal("the client gathered no relay candidate")
			}
			if s.Allocations() == 0 {
				t.Fatal("the relay holds no allocation")
			}
		})
	}
}

// TestCredentials: an expired credential or a wrong password gets no allocation.
func TestCredentials(t *testing.T) {
	s := startTest(t)
	allocate := func(user, pass string) error {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		addr := s.udp.String()
		c, err := pionturn.NewClient(&pionturn.ClientConfig{TURNServerAddr: addr, STUNServerAddr: addr, Username: user,
			Password: pass, Realm: "chuting", Conn: conn, RTO: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Listen(); err != nil {
			t.Fatal(err)
		}
		relay, err := c.Allocate()
		if err == nil {
			_ = relay.Close()
		}
		return err
	}
	user, pass, _ := s.Credentials("u", time.Minute)
	if err := allocate(user, pass); err != nil {
		t.Fatalf("a fresh credential: %v", err)
	}
	old, oldPass, _ := s.Credentials("u", -time.Minute)
	if err := allocate(old, oldPass); err == nil {
		t.Fatal("an expired credential got an allocation")
	}
	if err := allocate(user, "not the password"); err == nil {
		t.Fatal("a wrong password got an allocation")
	}
}

// TestNoOpenRelay: the relay forwards to the media server's addresses only.
func TestNoOpenRelay(t *testing.T) {
	s := startTest(t)
	if !s.permit(&net.UDPAddr{}, net.ParseIP("127.0.0.1")) {
		t.Fatal("the media server's own address refused")
	}
	for _, ip := range []string{"127.0.0.2", "10.0.0.1", "169.254.169.254", "8.8.8.8"} {
		if s.permit(&net.UDPAddr{}, net.ParseIP(ip)) {
			t.Errorf("relay to %s permitted", ip)
		}
	}
}
