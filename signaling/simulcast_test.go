package signaling

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// policer is the receiving end of a weak link: a PacketConn that drops what arrives beyond
// rate bytes a second (a token bucket holding burst bytes), as a congested access line does.
type policer struct {
	net.PacketConn
	rate, burst float64

	mu      sync.Mutex
	tokens  float64
	last    time.Time
	dropped atomic.Int64
}

func (p *policer) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := p.PacketConn.ReadFrom(b)
		if err != nil || p.admit(n) {
			return n, addr, err
		}
		p.dropped.Add(1)
	}
}

func (p *policer) admit(n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !p.last.IsZero() {
		p.tokens = min(p.burst, p.tokens+now.Sub(p.last).Seconds()*p.rate)
	} else {
		p.tokens = p.burst
	}
	p.last = now
	if p.tokens < float64(n) {
		return false
	}
	p.tokens -= float64(n)
	return true
}

// weakAPI returns a client API whose media all arrives through a policer of kbps.
func weakAPI(t *testing.T, kbps int) (*webrtc.API, *policer) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pol := &policer{PacketConn: conn, rate: float64(kbps) * 1000 / 8, burst: 8000}
	mux := webrtc.NewICEUDPMux(pionLogs{slog.New(slog.NewTextHandler(io.Discard, nil))}.NewLogger("udpmux"), pol)
	t.Cleanup(func() { _ = mux.Close() })
	return clientAPIWith(t, func(se *webrtc.SettingEngine) { se.SetICEUDPMux(mux) }), pol
}

// simulcastLayer is one encoding a test publisher sends: its RTP stream ID and bytes a frame
// (25 frames a second), in packets of at most 1000 bytes.
type simulcastLayer struct {
	rid   string
	frame int
}

// publishSimulcast makes c publish a camera as simulcast, each layer a VP8 stream whose
// payload names the layer in its seventh byte, with a keyframe every half second. Each layer
// numbers its frames (the descriptor's 15-bit picture ID and TL0PICIDX) from its own start,
// thousands apart, as independent encoders do.
func publishSimulcast(c *client, ls []simulcastLayer) {
	c.tb.Helper()
	pub := c.newPub()
	var tracks []*webrtc.TrackLocalStaticRTP
	var sender *webrtc.RTPSender
	for i, l := range ls {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
			ClockRate: 90000}, "cam-"+c.name, "s-"+c.name, webrtc.WithRTPStreamID(l.rid))
		if err != nil {
			c.tb.Fatal(err)
		}
		if i == 0 {
			sender, err = pub.AddTrack(tr)
		} else {
			err = sender.AddEncoding(tr)
		}
		if err != nil {
			c.tb.Fatal(err)
		}
		tracks = append(tracks, tr)
	}
	offer, err := pub.CreateOffer(nil)
	if err == nil {
		err = pub.SetLocalDescription(offer)
	}
	if err != nil {
		c.tb.Fatal(err)
	}
	c.send(Message{Type: TypeOffer, PC: PCPub, SDP: offer.SDP, Sources: map[string]string{tracks[0].ID(): SourceCamera}})
	c.wg.Go(func() {
		t := time.NewTicker(40 * time.Millisecond)
		defer t.Stop()
		pkts := make([]rtp.Packet, len(ls))
		buf := make([]byte, 1000)
		var midID, ridID uint8 // pion sends what it is given: the packets carry MID and RID
		var mid string
		for frame := 0; ; frame++ {
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
			if midID == 0 || ridID == 0 {
				for _, x := range sender.GetParameters().HeaderExtensions {
					switch x.URI {
					case sdp.SDESMidURI:
						midID = uint8(x.ID)
					case sdp.SDESRTPStreamIDURI:
						ridID = uint8(x.ID)
					}
				}
				for _, tr := range pub.GetTransceivers() {
					if tr.Sender() == sender {
						mid = tr.Mid()
					}
				}
				continue
			}
			for i, l := range ls {
				p := &pkts[i]
				p.Version = 2
				p.Timestamp += 3600
				p.Extension, p.Extensions = false, nil
				_ = p.SetExtension(midID, []byte(mid))
				_ = p.SetExtension(ridID, []byte(l.rid))
				for left := l.frame; left > 0; left -= len(buf) {
					n := min(left, len(buf))
					clear(buf[:n])
					pic := uint16(1000+9000*i+frame) & 0x7fff
					buf[0], buf[1] = 0x80, 0xc0 // X; I (picture ID) and L (TL0PICIDX)
					buf[2], buf[3], buf[4] = 0x80|byte(pic>>8), byte(pic), byte(50*i+frame)
					if left == l.frame {
						buf[0] |= 0x10 // S: the start of the frame's first partition
						if frame%12 != 0 {
							buf[5] = 0x01 // P: a delta frame; keyframes every 12 frames
						}
					}
					buf[6] = l.rid[0]
					p.SequenceNumber++
					p.Marker = left <= len(buf)
					p.Payload = buf[:n]
					_ = tracks[i].WriteRTP(p)
				}
			}
		}
	})
}

// layerTally counts, by the layer named in the payload, the video packets a subscriber
// received in the measured period, and checks that sequence numbers, timestamps and VP8
// picture IDs run on across layer switches.
type layerTally struct {
	mu        sync.Mutex
	measuring bool
	by        map[byte]int
	lastSN    uint16
	lastTS    uint32
	seen      bool
	backwards int // sequence numbers that went far back, or timestamps back as they went on
	jumps     int // sequence numbers that skipped more than 100
	lastPic   uint16
	pictures  int           // frames received in order
	picJumps  int           // picture IDs that did not follow the last one within 100 frames
	layers    map[byte]bool // every layer received, measured or not
}

func (l *layerTally) inspect(t *webrtc.TrackRemote, b []byte) {
	if t.Kind() != webrtc.RTPCodecTypeVideo {
		return
	}
	var p rtp.Packet
	if p.Unmarshal(b) != nil || len(p.Payload) < 7 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen {
		// Retransmissions arrive late, so small steps back are normal on a lossy link; a
		// stream stitched wrongly from two layers jumps by thousands.
		switch d := int16(p.SequenceNumber - l.lastSN); {
		case d < -100 || d > 0 && int32(p.Timestamp-l.lastTS) < 0:
			l.backwards++
		case d > 100:
			l.jumps++
		}
	}
	if !l.seen || int16(p.SequenceNumber-l.lastSN) > 0 {
		if d := parseVP8(p.Payload); d.pic != 0 && d.wide {
			if pic := d.picture(p.Payload); !l.seen || pic != l.lastPic {
				if step := (pic - l.lastPic) & 0x7fff; l.seen && step > 100 {
					l.picJumps++
				}
				l.lastPic = pic
				l.pictures++
			}
		}
		l.seen, l.lastSN, l.lastTS = true, p.SequenceNumber, p.Timestamp
	}
	if l.layers == nil {
		l.layers = make(map[byte]bool)
	}
	l.layers[p.Payload[6]] = true
	if l.measuring {
		l.by[p.Payload[6]]++
	}
}

func (l *layerTally) measure(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.measuring = on
}

// picturesSeen returns the frames received in order, the picture IDs among them that did not
// follow on, and how many layers they came from.
func (l *layerTally) picturesSeen() (frames, jumps, layers int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pictures, l.picJumps, len(l.layers)
}

func (l *layerTally) counts() (by map[byte]int, total, backwards, jumps int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	by = make(map[byte]int)
	for k, v := range l.by {
		by[k] = v
		total += v
	}
	return by, total, l.backwards, l.jumps
}

// TestSimulcastAdaptation: a judge publishes three layers (about 50, 175 and 450 kbit/s); a
// clerk on a clear link and counsel behind a 120 kbit/s line both watch. The server estimates
// each link (GCC on their congestion feedback) and sends each the layer it carries: the clerk
// the full picture, counsel the small one; each sees one continuous stream across switches.
func TestSimulcastAdaptation(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 20 s")
	}
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	publishSimulcast(judge, []simulcastLayer{{"q", 250}, {"h", 875}, {"f", 2250}})
	time.Sleep(2 * time.Second) // the layers are measured before the others subscribe

	good, weak := &layerTally{by: map[byte]int{}}, &layerTally{by: map[byte]int{}}
	joinWith(t, e, "clerk", e.token(t, "clerk-user", "书记员", RoleClerk), clientOpts{inspect: good.inspect})
	api, pol := weakAPI(t, 120)
	joinWith(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel), clientOpts{api: api, inspect: weak.inspect})

	time.Sleep(8 * time.Second) // estimates settle; the weak link's probes up fail
	good.measure(true)
	weak.measure(true)
	// The weak link is probed one layer up now and then (adapt.go): each probe spends a few
	// seconds on the middle layer before it fails. 10 s cover at least one whole probe cycle,
	// so the share measured does not hang on where in the cycle the window starts.
	time.Sleep(10 * time.Second)
	good.measure(false)
	weak.measure(false)

	gby, gn, gback, gjumps := good.counts()
	wby, wn, wback, wjumps := weak.counts()
	t.Logf("clear link: %d packets %v; weak link: %d packets %v, %d dropped by the line; %v switches; %v NACKed, %v resent",
		gn, gby, wn, wby, pol.dropped.Load(), testutil.ToFloat64(e.srv.m.switches),
		testutil.ToFloat64(e.srv.m.nacks), testutil.ToFloat64(e.srv.m.resent))
	// A loaded machine delays loopback packets too, which the estimator reads as congestion:
	// the clear link may step down for a while, but must spend most of its time on top.
	if gn == 0 || float64(gby['f']) < 0.5*float64(gn) {
		t.Errorf("the clear link got %v, want mostly the full layer", gby)
	}
	if wn == 0 || float64(wby['q']) < 0.6*float64(wn) || wby['f'] > wn/10 {
		t.Errorf("the weak link got %v, want mostly the small layer", wby)
	}
	if gback > 0 || gjumps > 0 {
		t.Errorf("the clear link's stream went back %d times and jumped %d times", gback, gjumps)
	}
	if testutil.ToFloat64(e.srv.m.resent) == 0 {
		t.Errorf("nothing resent to the weak link, which lost %d packets", pol.dropped.Load())
	}
	// The subscribers' feedback and NACKs came through the server's own RTCP input (rtcpin.go).
	if testutil.ToFloat64(e.srv.m.ownSRTCPIn) == 0 {
		t.Error("no subscriber RTCP read by the server itself")
	}
	if wback > 0 || wjumps > 0 {
		t.Errorf("the weak link's stream went back %d times and jumped %d times", wback, wjumps)
	}
	// Each link saw one series of VP8 picture IDs, although the layers number their frames
	// 9000 apart. The weak link switched layers (it starts above what its line carries, steps
	// down, and is probed up and back), so its series crossed from one numbering to another.
	for _, l := range []struct {
		name string
		t    *layerTally
	}{{"clear", good}, {"weak", weak}} {
		frames, jumps, layers := l.t.picturesSeen()
		if frames < 100 || jumps > 0 {
			t.Errorf("the %s link's VP8 picture IDs: %d frames, %d did not follow the last", l.name, frames, jumps)
		}
		if l.t == weak && layers < 2 {
			t.Errorf("the weak link received %d layer(s): no switch, so its series shows nothing", layers)
		}
	}
}
