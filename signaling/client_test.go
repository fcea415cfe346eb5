package signaling

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

func httptestMux(srv *Server) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/hearings/{id}/room", srv)
	return mux
}

// srvMsg is any message from the server, as a test client reads it.
type srvMsg struct {
	Type         string            `json:"type"`
	Ref          string            `json:"ref"`
	Participant  json.RawMessage   `json:"participant"`
	Participants []ParticipantInfo `json:"participants"`
	Role         Role              `json:"role"`
	State        State             `json:"state"`
	Resume       string            `json:"resume"`
	ICEServers   []iceServer       `json:"ice_servers"`
	Hearing      *HearingInfo      `json:"hearing"`
	PC           string            `json:"pc"`
	SDP          string            `json:"sdp"`
	Candidate    *Candidate        `json:"candidate"`
	Why          string            `json:"why"`
	Code         string            `json:"code"`
	Message      string            `json:"message"`
}

// id returns the participant ID of a joined, left or speaker message.
func (m srvMsg) id() string {
	var s string
	_ = json.Unmarshal(m.Participant, &s)
	return s
}

// info returns the participant of a participant message.
func (m srvMsg) info() ParticipantInfo {
	var p ParticipantInfo
	_ = json.Unmarshal(m.Participant, &p)
	return p
}

// received counts what a client received from one publisher.
type received struct {
	audio, video atomic.Int64
}

// client is a test participant: the protocol over a real WebSocket and two real pion peer
// connections with the loopback-only settings of ../shared/TESTING.md, publishing generated
// VP8 and Opus RTP at a steady low rate.
type client struct {
	tb     testing.TB
	name   string
	ws     *websocket.Conn
	wmu    sync.Mutex // serialises WebSocket writes
	api    *webrtc.API
	joined srvMsg

	mu          sync.Mutex
	pub, sub    *webrtc.PeerConnection
	subPending  []webrtc.ICECandidateInit
	pubPending  []webrtc.ICECandidateInit
	msgs        []srvMsg // not yet taken by wait or result
	all         []srvMsg // every message
	offerTracks []int    // tracks sent in each sub offer
	from        map[string]*received
	byTrack     map[string]*atomic.Int64 // packets by the room's track ID
	tracks      int
	screen      bool // publish a shared screen too
	inspect     func(t *webrtc.TrackRemote, b []byte)
	rtcp        func(t *webrtc.TrackRemote, pkts []rtcp.Packet)

	packets   atomic.Int64 // RTP packets received on sub
	firstRTP  atomic.Int64 // UnixNano of the first one
	closeCode atomic.Int64
	done      chan struct{} // the reader ended
	stop      chan struct{}
	stopOnce  sync.Once
	wg        sync.WaitGroup

	// The sequence numbers of the last audio and video packets published.
	sentAudio, sentVideo atomic.Uint32
	// offerSDP, if set, changes the pub offer before it is sent.
	offerSDP func(string) string
}

func clientAPI(tb testing.TB) *webrtc.API {
	tb.Helper()
	return clientAPIWith(tb, nil)
}

// clientAPIWith is clientAPI with the settings changed by tweak (nil: none).
func clientAPIWith(tb testing.TB, tweak func(*webrtc.SettingEngine)) *webrtc.API {
	tb.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		tb.Fatal(err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI},
		webrtc.RTPCodecTypeAudio); err != nil {
		tb.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		tb.Fatal(err)
	}
	cfg := LoopbackOnly()
	cfg.NetworkTypes = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	se := cfg.settingEngine()
	se.LoggerFactory = pionLogs{slog.New(slog.NewTextHandler(io.Discard, nil))}
	if tweak != nil {
		tweak(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// clientOpts change how a test client is made.
type clientOpts struct {
	api     *webrtc.API                           // nil: clientAPI
	inspect func(t *webrtc.TrackRemote, b []byte) // sees every RTP packet received on sub
	// rtcp, if set, sees the RTCP that comes for each track received on sub.
	rtcp func(t *webrtc.TrackRemote, pkts []rtcp.Packet)
}

// dial opens the room WebSocket and sends join; it does not wait for the answer.
func dial(tb testing.TB, e *env, hearingID string, join Message) *client {
	tb.Helper()
	return dialWith(tb, e, hearingID, join, clientOpts{})
}

// dialWith is dial with options.
func dialWith(tb testing.TB, e *env, hearingID string, join Message, o clientOpts) *client {
	tb.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(e.url(hearingID), nil)
	if err != nil {
		tb.Fatalf("dial: %v (%v)", err, resp)
	}
	if o.api == nil {
		o.api = clientAPI(tb)
	}
	c := &client{tb: tb, ws: ws, api: o.api, inspect: o.inspect, rtcp: o.rtcp, from: make(map[string]*received),
		byTrack: make(map[string]*atomic.Int64),
		done:    make(chan struct{}), stop: make(chan struct{})}
	sub, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	c.sub = sub
	sub.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			c.send(Message{Type: TypeCandidate, PC: PCSub, Candidate: candidateOf(cand.ToJSON())})
		}
	})
	sub.OnTrack(c.onTrack)
	tb.Cleanup(c.close)
	go c.read()
	join.Type = TypeJoin
	c.send(join)
	return c
}

// join dials and waits for joined.
func join(tb testing.TB, e *env, name, token string) *client {
	tb.Helper()
	return joinWith(tb, e, name, token, clientOpts{})
}

// joinWith is join with options.
func joinWith(tb testing.TB, e *env, name, token string, o clientOpts) *client {
	tb.Helper()
	c := dialWith(tb, e, e.hearing.ID, Message{Token: token}, o)
	c.name = name
	c.joined = c.wait(TypeJoined, nil)
	return c
}

func (c *client) id() string { return c.joined.id() }

func (c *client) send(m Message) {
	m.V = Version
	b, _ := json.Marshal(m)
	c.sendRaw(b)
}

func (c *client) sendRaw(b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = c.ws.WriteMessage(websocket.TextMessage, b)
}

// read handles signaling and records every other message.
func (c *client) read() {
	defer close(c.done)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.closeCode.Store(int64(ce.Code))
			} else {
				c.closeCode.CompareAndSwap(0, -1)
			}
			return
		}
		var m srvMsg
		if err := json.Unmarshal(data, &m); err != nil {
			c.tb.Errorf("%s: bad message %s", c.name, data)
			continue
		}
		switch {
		case m.Type == TypeOffer && m.PC == PCSub:
			c.onOffer(m.SDP)
		case m.Type == TypeAnswer && m.PC == PCPub:
			c.mu.Lock()
			pub := c.pub
			c.mu.Unlock()
			if err := pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
				c.fail("%s: pub answer: %v", c.name, err)
			}
			c.flush(pub, &c.pubPending)
		case m.Type == TypeCandidate:
			c.onCandidate(m)
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		c.all = append(c.all, m)
		c.mu.Unlock()
	}
}

// stopping reports whether the test is done with c: errors from its peer connections, which
// the server may be closing, no longer count.
func (c *client) stopping() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// fail reports an error unless c is stopping.
func (c *client) fail(format string, args ...any) {
	if !c.stopping() {
		c.tb.Errorf(format, args...)
	}
}

func (c *client) onOffer(s string) {
	var parsed sdp.SessionDescription
	if err := parsed.UnmarshalString(s); err != nil {
		c.fail("%s: sub offer: %v", c.name, err)
		return
	}
	n := 0
	for _, md := range parsed.MediaDescriptions {
		if _, ok := md.Attribute("sendonly"); ok {
			n++
		} else if _, ok := md.Attribute("sendrecv"); ok {
			n++
		}
	}
	c.mu.Lock()
	c.offerTracks = append(c.offerTracks, n)
	sub := c.sub
	c.mu.Unlock()
	if err := sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: s}); err != nil {
		c.fail("%s: sub offer: %v", c.name, err)
		return
	}
	c.flush(sub, &c.subPending)
	answer, err := sub.CreateAnswer(nil)
	if err == nil {
		err = sub.SetLocalDescription(answer)
	}
	if err != nil {
		c.fail("%s: sub answer: %v", c.name, err)
		return
	}
	c.send(Message{Type: TypeAnswer, PC: PCSub, SDP: answer.SDP})
}

func (c *client) onCandidate(m srvMsg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pc, pending := c.sub, &c.subPending
	if m.PC == PCPub {
		pc, pending = c.pub, &c.pubPending
	}
	if pc == nil || pc.RemoteDescription() == nil {
		*pending = append(*pending, m.Candidate.init())
		return
	}
	_ = pc.AddICECandidate(m.Candidate.init())
}

func (c *client) flush(pc *webrtc.PeerConnection, pending *[]webrtc.ICECandidateInit) {
	c.mu.Lock()
	cands := *pending
	*pending = nil
	c.mu.Unlock()
	for _, cand := range cands {
		_ = pc.AddICECandidate(cand)
	}
}

// onTrack counts the packets of each received track by publisher (the stream ID).
func (c *client) onTrack(t *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	if c.rtcp != nil {
		go func() {
			for {
				pkts, _, err := receiver.ReadRTCP()
				if err != nil {
					return
				}
				c.rtcp(t, pkts)
			}
		}()
	}
	c.mu.Lock()
	c.tracks++
	r := c.from[t.StreamID()]
	if r == nil {
		r = &received{}
		c.from[t.StreamID()] = r
	}
	c.mu.Unlock()
	count := &r.video
	if t.Kind() == webrtc.RTPCodecTypeAudio {
		count = &r.audio
	}
	c.mu.Lock()
	byTrack := c.byTrack[t.ID()]
	if byTrack == nil {
		byTrack = new(atomic.Int64)
		c.byTrack[t.ID()] = byTrack
	}
	c.mu.Unlock()
	buf := make([]byte, 1500)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		if c.inspect != nil {
			c.inspect(t, buf[:n])
		}
		byTrack.Add(1)
		count.Add(1)
		c.firstRTP.CompareAndSwap(0, time.Now().UnixNano())
		c.packets.Add(1)
	}
}

// gotTrack returns the packets c received of the room's track id.
func (c *client) gotTrack(id string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.byTrack[id]; n != nil {
		return n.Load()
	}
	return 0
}

// got returns what c received from the participant with ID id so far.
func (c *client) got(id string) (audio, video int64) {
	c.mu.Lock()
	r := c.from[id]
	c.mu.Unlock()
	if r == nil {
		return 0, 0
	}
	return r.audio.Load(), r.video.Load()
}

// wait returns the next message of type typ (after those already returned by wait) that
// match accepts, or fails after 10 s.
func (c *client) wait(typ string, match func(srvMsg) bool) srvMsg {
	c.tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	ended := false
	for {
		c.mu.Lock()
		for i, m := range c.msgs {
			if m.Type == typ && (match == nil || match(m)) {
				c.msgs = append(c.msgs[:i:i], c.msgs[i+1:]...)
				c.mu.Unlock()
				return m
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			c.tb.Fatalf("%s: no %s message within 10 s", c.name, typ)
		}
		if ended {
			c.tb.Fatalf("%s: connection closed (%d) waiting for %s", c.name, c.closeCode.Load(), typ)
		}
		select {
		case <-c.done:
			ended = true
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// moderate sends a command and waits for its ok (or returns the error code).
func (c *client) moderate(action, target string) string {
	c.tb.Helper()
	id := action + "-" + randomID(4)
	c.send(Message{Type: TypeModerate, ID: id, Action: action, Target: target})
	return c.result(id)
}

func (c *client) mark(target, item string) string {
	c.tb.Helper()
	id := item + "-" + randomID(4)
	c.send(Message{Type: TypeMark, ID: id, Target: target, Item: item})
	return c.result(id)
}

// result waits for the ok or error answering the request id: "" for ok, else the code.
func (c *client) result(id string) string {
	c.tb.Helper()
	return c.answer(id).Code
}

// answer waits for the ok or error answering the request id, and returns it.
func (c *client) answer(id string) srvMsg {
	c.tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for i, m := range c.msgs {
			if m.Ref == id && (m.Type == TypeOK || m.Type == TypeError) {
				c.msgs = append(c.msgs[:i:i], c.msgs[i+1:]...)
				c.mu.Unlock()
				return m
			}
		}
		c.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	c.tb.Fatalf("%s: no answer to %s", c.name, id)
	return srvMsg{}
}

// closed waits for the server to close the connection and returns the close code.
func (c *client) closed() int {
	c.tb.Helper()
	select {
	case <-c.done:
		return int(c.closeCode.Load())
	case <-time.After(10 * time.Second):
		c.tb.Fatalf("%s: connection not closed", c.name)
		return 0
	}
}

// publish opens pub and sends one VP8 and one Opus track (or only audio), generated at a low
// steady rate: audio every 40 ms with an RFC 6464 level, video every 120 ms.
// newPub makes c's pub connection, which trickles its candidates to the server.
func (c *client) newPub() *webrtc.PeerConnection {
	c.tb.Helper()
	pub, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		c.tb.Fatal(err)
	}
	c.mu.Lock()
	c.pub = pub
	c.mu.Unlock()
	pub.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			c.send(Message{Type: TypeCandidate, PC: PCPub, Candidate: candidateOf(cand.ToJSON())})
		}
	})
	return pub
}

func (c *client) publish(video bool) {
	c.tb.Helper()
	pub := c.newPub()
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, "mic-"+c.name, "s-"+c.name)
	if err != nil {
		c.tb.Fatal(err)
	}
	audioSender, err := pub.AddTrack(audio)
	if err != nil {
		c.tb.Fatal(err)
	}
	sources := map[string]string{audio.ID(): SourceMicrophone}
	var vtrack *webrtc.TrackLocalStaticRTP
	if video {
		vtrack, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
			ClockRate: 90000}, "cam-"+c.name, "s-"+c.name)
		if err != nil {
			c.tb.Fatal(err)
		}
		if _, err := pub.AddTrack(vtrack); err != nil {
			c.tb.Fatal(err)
		}
		sources[vtrack.ID()] = SourceCamera
	}
	var screen *webrtc.TrackLocalStaticRTP
	if c.screen {
		screen, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
			ClockRate: 90000}, "screen-"+c.name, "s-"+c.name)
		if err != nil {
			c.tb.Fatal(err)
		}
		if _, err := pub.AddTrack(screen); err != nil {
			c.tb.Fatal(err)
		}
		sources[screen.ID()] = SourceScreen
	}
	offer, err := pub.CreateOffer(nil)
	if err == nil {
		err = pub.SetLocalDescription(offer)
	}
	if err != nil {
		c.tb.Fatal(err)
	}
	sdpText := offer.SDP
	if c.offerSDP != nil {
		sdpText = c.offerSDP(sdpText)
	}
	c.send(Message{Type: TypeOffer, PC: PCPub, SDP: sdpText, Sources: sources})
	c.wg.Add(1)
	go c.generate(audio, audioSender, vtrack, screen)
}

func (c *client) generate(audio *webrtc.TrackLocalStaticRTP, as *webrtc.RTPSender, videos ...*webrtc.TrackLocalStaticRTP) {
	defer c.wg.Done()
	t := time.NewTicker(40 * time.Millisecond)
	defer t.Stop()
	var ext uint8
	opus := make([]byte, 40)
	vp8 := make([]byte, 300)
	vp8[0] = 0x10 // S bit: start of a partition
	var ap, vp rtp.Packet
	ap.Version, vp.Version = 2, 2
	for tick := 0; ; tick++ {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if ext == 0 {
			for _, e := range as.GetParameters().HeaderExtensions {
				if e.URI == sdp.AudioLevelURI {
					ext = uint8(e.ID)
				}
			}
		}
		ap.SequenceNumber++
		ap.Timestamp += 1920
		ap.Payload = opus
		ap.Extension, ap.Extensions = false, nil
		if ext != 0 {
			_ = ap.SetExtension(ext, []byte{30}) // -30 dBov: speaking
		}
		_ = audio.WriteRTP(&ap)
		c.sentAudio.Store(uint32(ap.SequenceNumber))
		if tick%3 == 0 {
			vp.SequenceNumber++
			vp.Timestamp += 10800
			vp.Marker = true
			vp.Payload = vp8
			for _, v := range videos {
				if v != nil {
					_ = v.WriteRTP(&vp)
				}
			}
			c.sentVideo.Store(uint32(vp.SequenceNumber))
		}
	}
}

// drop cuts the client off without a goodbye: the TCP connection and the peer connections
// close at once, as when a network fails.
func (c *client) drop() {
	c.stopOnce.Do(func() { close(c.stop) })
	_ = c.ws.UnderlyingConn().Close()
	<-c.done
	c.closePeers()
	c.wg.Wait()
}

func (c *client) closePeers() {
	c.mu.Lock()
	pcs := []*webrtc.PeerConnection{c.pub, c.sub}
	c.mu.Unlock()
	for _, pc := range pcs {
		if pc != nil {
			_ = pc.GracefulClose()
		}
	}
}

func (c *client) close() {
	c.stopOnce.Do(func() { close(c.stop) })
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(time.Second))
	c.wmu.Unlock()
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
	_ = c.ws.Close()
	<-c.done
	c.closePeers()
	c.wg.Wait()
}

// participant returns the last participant message about id, or false.
func (c *client) participant(id string) (ParticipantInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.all) - 1; i >= 0; i-- {
		m := c.all[i]
		if m.Type == TypeParticipant {
			if p := m.info(); p.ID == id {
				return p, true
			}
		}
	}
	return ParticipantInfo{}, false
}

// chatter returns the types of room messages (not about its own signaling) c received.
func (c *client) chatter() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.all {
		switch m.Type {
		case TypeParticipants, TypeParticipant, TypeLeft, TypeSpeaker, TypeHearing:
			out = append(out, m.Type)
		}
	}
	return out
}

func (c *client) offers() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.offerTracks...)
}
