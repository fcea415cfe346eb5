package recordingstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chuting/chuting/signaling"
	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// Publisher is a participant of a hearing room, speaking the protocol of docs/signaling.md
// over a real WebSocket and publishing Media from two real pion peer connections, at its real
// pace. Like a browser's encoder it answers a keyframe request (PLI) with a keyframe: it skips
// ahead to the next keyframe of its video. Media stays on loopback (../shared/TESTING.md).
type Publisher struct {
	tb     testing.TB
	ws     *websocket.Conn
	wmu    sync.Mutex
	api    *webrtc.API
	pub    *webrtc.PeerConnection
	sub    *webrtc.PeerConnection
	joined chan string // the participant ID

	mu         sync.Mutex
	answers    map[string]chan string // request ID → error code ("" for ok)
	pubPending []webrtc.ICECandidateInit
	subPending []webrtc.ICECandidateInit
	recording  bool
	id         string

	// Started is when the first audio packet and the first video frame were sent.
	audioAt, videoAt atomic.Int64
	keyframes        atomic.Int64 // keyframe requests answered
	stop             chan struct{}
	stopOnce         sync.Once
	wg               sync.WaitGroup
	done             chan struct{}
}

// API returns a pion API with default codecs and interceptors, gathering loopback UDP
// candidates only, without mDNS.
func API() *webrtc.API {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		panic(err) // the defaults always register
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		panic(err)
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// Join opens the room WebSocket at url (ws://…/api/v1/hearings/{id}/room), joins with token
// and waits for joined. The test's end closes it.
func Join(tb testing.TB, url, token string) *Publisher {
	tb.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	p := &Publisher{tb: tb, ws: ws, api: API(), joined: make(chan string, 1), answers: map[string]chan string{},
		stop: make(chan struct{}), done: make(chan struct{})}
	if p.sub, err = p.api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		tb.Fatal(err)
	}
	p.sub.OnICECandidate(func(c *webrtc.ICECandidate) { p.candidate(signaling.PCSub, c) })
	p.sub.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		buf := make([]byte, 1500)
		for {
			if _, _, err := t.Read(buf); err != nil {
				return
			}
		}
	})
	tb.Cleanup(p.Close)
	go p.read()
	p.send(signaling.Message{Type: signaling.TypeJoin, Token: token})
	select {
	case p.id = <-p.joined:
	case <-p.done:
		tb.Fatal("the room closed the connection instead of joining")
	case <-time.After(10 * time.Second):
		tb.Fatal("not joined within 10 s")
	}
	return p
}

// ID is the participant ID the room gave.
func (p *Publisher) ID() string { return p.id }

func (p *Publisher) send(m signaling.Message) {
	m.V = signaling.Version
	b, _ := json.Marshal(m)
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_ = p.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = p.ws.WriteMessage(websocket.TextMessage, b)
}

func (p *Publisher) candidate(pc string, c *webrtc.ICECandidate) {
	if c == nil {
		return
	}
	init := c.ToJSON()
	p.send(signaling.Message{Type: signaling.TypeCandidate, PC: pc, Candidate: &signaling.Candidate{
		Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex}})
}

// msg is a server message, as far as the publisher reads it.
type msg struct {
	Type        string               `json:"type"`
	Ref         string               `json:"ref"`
	Code        string               `json:"code"`
	Participant json.RawMessage      `json:"participant"`
	PC          string               `json:"pc"`
	SDP         string               `json:"sdp"`
	Candidate   *signaling.Candidate `json:"candidate"`
	Hearing     *struct {
		Recording bool `json:"recording"`
	} `json:"hearing"`
}

func (p *Publisher) read() {
	defer close(p.done)
	for {
		_, data, err := p.ws.ReadMessage()
		if err != nil {
			return
		}
		var m msg
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch m.Type {
		case signaling.TypeJoined:
			var id string
			_ = json.Unmarshal(m.Participant, &id)
			p.joined <- id
		case signaling.TypeOffer:
			p.answerSub(m.SDP)
		case signaling.TypeAnswer:
			p.mu.Lock()
			pub := p.pub
			p.mu.Unlock()
			if pub != nil && pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}) == nil {
				p.flush(pub, &p.pubPending)
			}
		case signaling.TypeCandidate:
			if m.Candidate != nil && m.Candidate.Candidate != "" {
				p.addCandidate(m.PC, webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid,
					SDPMLineIndex: m.Candidate.SDPMLineIndex})
			}
		case signaling.TypeHearing:
			if m.Hearing != nil {
				p.mu.Lock()
				p.recording = m.Hearing.Recording
				p.mu.Unlock()
			}
		case signaling.TypeOK, signaling.TypeError:
			p.mu.Lock()
			ch := p.answers[m.Ref]
			delete(p.answers, m.Ref)
			p.mu.Unlock()
			if ch != nil {
				ch <- m.Code
			}
		}
	}
}

func (p *Publisher) answerSub(sdp string) {
	if err := p.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return
	}
	p.flush(p.sub, &p.subPending)
	answer, err := p.sub.CreateAnswer(nil)
	if err == nil {
		err = p.sub.SetLocalDescription(answer)
	}
	if err == nil {
		p.send(signaling.Message{Type: signaling.TypeAnswer, PC: signaling.PCSub, SDP: answer.SDP})
	}
}

func (p *Publisher) addCandidate(pc string, c webrtc.ICECandidateInit) {
	p.mu.Lock()
	conn, pending := p.sub, &p.subPending
	if pc == signaling.PCPub {
		conn, pending = p.pub, &p.pubPending
	}
	if conn == nil || conn.RemoteDescription() == nil {
		*pending = append(*pending, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	_ = conn.AddICECandidate(c)
}

func (p *Publisher) flush(pc *webrtc.PeerConnection, pending *[]webrtc.ICECandidateInit) {
	p.mu.Lock()
	cands := *pending
	*pending = nil
	p.mu.Unlock()
	for _, c := range cands {
		_ = pc.AddICECandidate(c)
	}
}

// Publish sends the media's video (camera) and audio (microphone) from the moment the pub
// connection is up, looping, until Close; it returns once media flows.
func (p *Publisher) Publish(m *Media) {
	p.tb.Helper()
	pub, err := p.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		p.tb.Fatal(err)
	}
	p.mu.Lock()
	p.pub = pub
	p.mu.Unlock()
	pub.OnICECandidate(func(c *webrtc.ICECandidate) { p.candidate(signaling.PCPub, c) })
	mime := map[string]string{"vp8": webrtc.MimeTypeVP8, "vp9": webrtc.MimeTypeVP9, "h264": webrtc.MimeTypeH264}[m.Options.Codec]
	capability := webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000}
	if mime == webrtc.MimeTypeH264 {
		capability.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	}
	video, err := webrtc.NewTrackLocalStaticRTP(capability, "camera", "stream")
	if err != nil {
		p.tb.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, "microphone", "stream")
	if err != nil {
		p.tb.Fatal(err)
	}
	vs, err := pub.AddTrack(video)
	if err != nil {
		p.tb.Fatal(err)
	}
	as, err := pub.AddTrack(audio)
	if err != nil {
		p.tb.Fatal(err)
	}
	connected := make(chan struct{})
	var once sync.Once
	pub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	offer, err := pub.CreateOffer(nil)
	if err == nil {
		err = pub.SetLocalDescription(offer)
	}
	if err != nil {
		p.tb.Fatal(err)
	}
	p.send(signaling.Message{Type: signaling.TypeOffer, PC: signaling.PCPub, SDP: offer.SDP,
		Sources: map[string]string{video.ID(): signaling.SourceCamera, audio.ID(): signaling.SourceMicrophone}})
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		p.tb.Fatal("pub connection not up within 10 s")
	}
	pli := make(chan struct{}, 1)
	p.wg.Go(func() {
		for {
			pkts, _, err := vs.ReadRTCP()
			if err != nil {
				return
			}
			for _, pk := range pkts {
				switch pk.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					select {
					case pli <- struct{}{}:
					default:
					}
				}
			}
		}
	})
	p.wg.Go(func() {
		for {
			if _, _, err := as.ReadRTCP(); err != nil {
				return
			}
		}
	})
	start := time.Now()
	p.wg.Go(func() { p.sendVideo(video, m, pli, start) })
	p.wg.Go(func() { p.sendAudio(audio, m, start) })
	deadline := time.Now().Add(5 * time.Second)
	for p.audioAt.Load() == 0 || p.videoAt.Load() == 0 {
		if time.Now().After(deadline) {
			p.tb.Fatal("media did not start within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clocked packetizes frames with RTP timestamps from the time they are sent, as a browser
// stamps them with their capture time.
type clocked struct {
	pk    rtp.Packetizer
	rate  float64
	start time.Time
	ticks uint32 // the packetizer's timestamp, from its first
}

func newClocked(payloader rtp.Payloader, rate uint32, start time.Time) *clocked {
	return &clocked{pk: rtp.NewPacketizer(1200, 0, 0, payloader, rtp.NewRandomSequencer(), rate), rate: float64(rate),
		start: start}
}

func (c *clocked) packets(frame []byte) []*rtp.Packet {
	want := uint32(time.Since(c.start).Seconds() * c.rate)
	c.pk.SkipSamples(want - c.ticks)
	c.ticks = want
	return c.pk.Packetize(frame, 0)
}

func write(t *webrtc.TrackLocalStaticRTP, pkts []*rtp.Packet) error {
	for _, pk := range pkts {
		if err := t.WriteRTP(pk); err != nil {
			return err
		}
	}
	return nil
}

// sendVideo sends a frame every 1/FPS s; when a keyframe is asked for, it sends the next
// keyframe of the media at once, as an encoder that makes one on request.
func (p *Publisher) sendVideo(t *webrtc.TrackLocalStaticRTP, m *Media, pli chan struct{}, start time.Time) {
	frame := time.Second / time.Duration(m.Options.FPS)
	payloader := map[string]rtp.Payloader{"vp8": &codecs.VP8Payloader{EnablePictureID: true}, "vp9": &codecs.VP9Payloader{},
		"h264": &codecs.H264Payloader{}}[m.Options.Codec]
	c := newClocked(payloader, 90000, start)
	i := 0
	next := start
	for {
		asked := false
		select {
		case <-p.stop:
			return
		case <-pli:
			asked = true
		case <-time.After(time.Until(next)):
			next = next.Add(frame)
		}
		if asked {
			if m.Video[i].Key {
				continue // the next frame is one anyway
			}
			for i = (i + 1) % len(m.Video); !m.Video[i].Key; i = (i + 1) % len(m.Video) {
			}
			p.keyframes.Add(1)
		}
		if err := write(t, c.packets(m.Video[i].Data)); err != nil {
			return
		}
		p.videoAt.CompareAndSwap(0, time.Now().UnixNano())
		i = (i + 1) % len(m.Video)
	}
}

// sendAudio sends an Opus packet every 20 ms.
func (p *Publisher) sendAudio(t *webrtc.TrackLocalStaticRTP, m *Media, start time.Time) {
	c := newClocked(&codecs.OpusPayloader{}, 48000, start)
	for n := 0; ; n++ {
		if !p.sleepUntil(start.Add(time.Duration(n) * 20 * time.Millisecond)) {
			return
		}
		if err := write(t, c.packets(m.Audio[n%len(m.Audio)])); err != nil {
			return
		}
		p.audioAt.CompareAndSwap(0, time.Now().UnixNano())
	}
}

func (p *Publisher) sleepUntil(t time.Time) bool {
	select {
	case <-p.stop:
		return false
	case <-time.After(time.Until(t)):
		return true
	}
}

// Keyframes returns how many keyframe requests the publisher answered.
func (p *Publisher) Keyframes() int64 { return p.keyframes.Load() }

// Recording reports whether the last hearing message said the hearing is being recorded.
func (p *Publisher) Recording() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.recording
}

// Moderate sends a moderation command and waits for its answer: "" for ok, else the error
// code.
func (p *Publisher) Moderate(action, reason string) (string, error) {
	id := fmt.Sprintf("%s-%d", action, time.Now().UnixNano())
	ch := make(chan string, 1)
	p.mu.Lock()
	p.answers[id] = ch
	p.mu.Unlock()
	p.send(signaling.Message{Type: signaling.TypeModerate, ID: id, Action: action, Reason: reason})
	select {
	case code := <-ch:
		return code, nil
	case <-p.done:
		return "", errors.New("connection closed")
	case <-time.After(10 * time.Second):
		return "", errors.New("no answer within 10 s")
	}
}

// Close stops the media and closes the connections.
func (p *Publisher) Close() {
	p.stopOnce.Do(func() {
		close(p.stop)
		p.wmu.Lock()
		_ = p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
			time.Now().Add(time.Second))
		p.wmu.Unlock()
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
		}
		_ = p.ws.Close()
		<-p.done
		p.mu.Lock()
		pcs := []*webrtc.PeerConnection{p.pub, p.sub}
		p.mu.Unlock()
		for _, pc := range pcs {
			if pc != nil {
				_ = pc.GracefulClose()
			}
		}
		p.wg.Wait()
	})
}
