package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chuting/chuting/keyframe"
	"github.com/gorilla/websocket"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// client is one synthetic participant: the room protocol over a WebSocket, a pub peer
// connection on which it publishes the clip (VP8 and Opus, paced in real time), and a sub
// peer connection on which it receives everyone else and counts what arrives.
type client struct {
	r     *runner
	room  int
	index int // in the room: 0 judge, 1 clerk, 2 appraiser, then counsel, party, expert…
	role  string

	ws      *websocket.Conn
	wmu     sync.Mutex  // serialises WebSocket writes
	sockets []io.Closer // the UDP sockets (ICE muxes) of its peer connections

	id       atomic.Pointer[string] // the participant ID from joined
	joinSent time.Time              // when join was sent; set before the reader starts

	mu          sync.Mutex
	pub, sub    *webrtc.PeerConnection
	pubPending  []webrtc.ICECandidateInit
	subPending  []webrtc.ICECandidateInit
	recv        map[string]*recvTrack // by the publisher's participant ID and kind
	moderated   map[string]bool       // judge: who it admitted or gave the floor
	floorGiven  bool
	publishOnce sync.Once

	video, audio *outTrack
	wantKey      atomic.Bool  // a keyframe was asked for (PLI or FIR)
	keyAsks      atomic.Int64 // keyframe requests received
	failed       atomic.Pointer[string]

	stop chan struct{}
	wg   sync.WaitGroup
}

// outTrack is a published track's sending state.
type outTrack struct {
	t       *webrtc.TrackLocalStaticRTP
	sender  *webrtc.RTPSender
	seq     atomic.Uint32 // the next sequence number (uint16)
	started atomic.Int64  // UnixNano of the first packet sent
	s0, s1  uint16        // the steady window's sequence numbers, [s0, s1)
}

// recvTrack counts one publisher's track as one subscriber receives it.
type recvTrack struct {
	from     *client
	kind     webrtc.RTPCodecType
	bits     [1024]atomic.Uint64 // sequence numbers received
	packets  atomic.Int64
	first    atomic.Int64 // UnixNano of the first packet
	firstKey atomic.Int64 // of the first packet of a keyframe (video)
}

// count reports how many sequence numbers in [s0, s1) were received.
func (t *recvTrack) count(s0, s1 uint16) int64 {
	var n int64
	for s := s0; s != s1; s++ {
		if t.bits[s>>6].Load()&(1<<(s&63)) != 0 {
			n++
		}
	}
	return n
}

// roleOf returns the role of the index-th participant of a room: a judge, a clerk and the
// summoned appraiser (admitted by the judge from the waiting room), then counsel (the first
// is given the floor, so its audio is forwarded), parties and expert advisers, whose audio
// the room holds back (#20).
func roleOf(index int) string {
	switch index {
	case 0:
		return roleJudge
	case 1:
		return roleClerk
	case 2:
		return roleAppraiser
	}
	return []string{roleCounsel, roleParty, roleExpert}[(index-3)%3]
}

// audioForwarded reports whether the room forwards the audio of the index-th participant.
func audioForwarded(index int) bool { return index <= 3 }

func (c *client) name() string { return fmt.Sprintf("room %d #%d (%s)", c.room, c.index, c.role) }

// fail records c's first error.
func (c *client) fail(format string, args ...any) {
	select {
	case <-c.stop:
		return // closing: errors from connections being torn down do not count
	default:
	}
	msg := c.name() + ": " + fmt.Sprintf(format, args...)
	c.failed.CompareAndSwap(nil, &msg)
}

func (c *client) send(m outMsg) {
	m.V = 1
	b, _ := json.Marshal(m)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.fail("send %s: %v", m.Type, err)
	}
}

// join gets a join token through the API, opens the room WebSocket and sends join; the reader
// does the rest (publishing once joined).
func (c *client) join(ctx context.Context, h WorldHearing) error {
	token, room, err := c.r.api.joinToken(ctx, h, c.role, c.name())
	if err != nil {
		return err
	}
	u := strings.Replace(c.r.base, "http", "ws", 1) + room
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.DialContext(ctx, u, nil)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("open room: %w (%s)", err, resp.Status)
		}
		return fmt.Errorf("open room: %w", err)
	}
	c.ws = ws
	sub, err := c.peerConnection()
	if err != nil {
		_ = ws.Close()
		return err
	}
	c.sub = sub
	sub.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			c.send(outMsg{Type: msgCandidate, PC: pcSub, Candidate: candidateOf(cand.ToJSON())})
		}
	})
	sub.OnTrack(c.onTrack)
	c.joinSent = time.Now()
	c.send(outMsg{Type: msgJoin, Token: token})
	c.wg.Add(1)
	go c.read()
	return nil
}

// read handles the server's messages until the WebSocket closes.
func (c *client) read() {
	defer c.wg.Done()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.fail("room closed the connection: %d %s", ce.Code, ce.Text)
			} else {
				c.fail("read: %v", err)
			}
			return
		}
		var m inMsg
		if err := json.Unmarshal(data, &m); err != nil {
			c.fail("bad message %.100s", data)
			continue
		}
		switch m.Type {
		case msgJoined:
			var id string
			_ = json.Unmarshal(m.Participant, &id)
			c.id.Store(&id)
			c.r.register(id, c)
			if err := c.publish(); err != nil {
				c.fail("publish: %v", err)
			}
		case msgOffer:
			if m.PC == pcSub {
				c.onOffer(m.SDP)
			}
		case msgAnswer:
			if m.PC == pcPub {
				c.onAnswer(m.SDP)
			}
		case msgCandidate:
			if m.Candidate != nil {
				c.onCandidate(m.PC, m.Candidate.init())
			}
		case msgParticipants:
			for _, p := range m.Participants {
				c.moderate(p)
			}
		case msgParticipant:
			var p participantInfo
			if json.Unmarshal(m.Participant, &p) == nil {
				c.moderate(p)
			}
		case msgError:
			c.fail("error %s: %s", m.Code, m.Message)
		}
	}
}

// moderate is the judge's part: admit the appraiser from the waiting room, and give the
// floor to the first counsel.
func (c *client) moderate(p participantInfo) {
	if c.role != roleJudge {
		return
	}
	c.mu.Lock()
	if c.moderated == nil {
		c.moderated = map[string]bool{}
	}
	action := ""
	switch {
	case p.Role == roleAppraiser && p.State == "waiting" && !c.moderated[p.ID]:
		action = "admit"
	case p.Role == roleCounsel && !p.Floor && !c.floorGiven:
		action, c.floorGiven = "grant_floor", true
	}
	if action != "" {
		c.moderated[p.ID] = true
	}
	c.mu.Unlock()
	if action != "" {
		c.send(outMsg{Type: msgModerate, ID: action + "-" + p.ID, Action: action, Target: p.ID})
	}
}

func (c *client) onOffer(s string) {
	c.mu.Lock()
	sub := c.sub
	c.mu.Unlock()
	if err := sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: s}); err != nil {
		c.fail("sub offer: %v", err)
		return
	}
	c.flush(pcSub)
	answer, err := sub.CreateAnswer(nil)
	if err == nil {
		err = sub.SetLocalDescription(answer)
	}
	if err != nil {
		c.fail("sub answer: %v", err)
		return
	}
	c.send(outMsg{Type: msgAnswer, PC: pcSub, SDP: answer.SDP})
}

func (c *client) onAnswer(s string) {
	c.mu.Lock()
	pub := c.pub
	c.mu.Unlock()
	if pub == nil {
		return
	}
	if err := pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: s}); err != nil {
		c.fail("pub answer: %v", err)
		return
	}
	c.flush(pcPub)
}

// onCandidate applies a server candidate, or keeps it until the remote description is set.
func (c *client) onCandidate(pc string, cand webrtc.ICECandidateInit) {
	c.mu.Lock()
	conn, pending := c.sub, &c.subPending
	if pc == pcPub {
		conn, pending = c.pub, &c.pubPending
	}
	if conn == nil || conn.RemoteDescription() == nil {
		*pending = append(*pending, cand)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	_ = conn.AddICECandidate(cand)
}

func (c *client) flush(pc string) {
	c.mu.Lock()
	conn, pending := c.sub, &c.subPending
	if pc == pcPub {
		conn, pending = c.pub, &c.pubPending
	}
	cands := *pending
	*pending = nil
	c.mu.Unlock()
	for _, cand := range cands {
		_ = conn.AddICECandidate(cand)
	}
}

// peerConnection returns a new peer connection on a UDP socket of its own, as a browser's:
// the server's single port tells its connections apart by the client's address.
func (c *client) peerConnection() (*webrtc.PeerConnection, error) {
	api, socket, err := clientAPI()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.sockets = append(c.sockets, socket)
	c.mu.Unlock()
	return api.NewPeerConnection(webrtc.Configuration{})
}

// publish opens pub with one Opus and one VP8 track and offers it; sending starts once the
// connection is up.
func (c *client) publish() error {
	pub, err := c.peerConnection()
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.pub = pub
	c.mu.Unlock()
	pub.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			c.send(outMsg{Type: msgCandidate, PC: pcPub, Candidate: candidateOf(cand.ToJSON())})
		}
	})
	stream := fmt.Sprintf("lt-%d-%d", c.room, c.index)
	c.audio, c.video = &outTrack{}, &outTrack{}
	if c.audio.t, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, stream+"-mic", stream); err != nil {
		return err
	}
	if c.video.t, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
		ClockRate: 90000}, stream+"-cam", stream); err != nil {
		return err
	}
	for _, t := range []*outTrack{c.audio, c.video} {
		if t.sender, err = pub.AddTrack(t.t); err != nil {
			return err
		}
		t.seq.Store(uint32(c.r.rand16()))
	}
	// Read RTCP on both senders (the interceptors need it read) and answer keyframe requests.
	for _, t := range []*outTrack{c.audio, c.video} {
		c.wg.Add(1)
		go c.readRTCP(t.sender)
	}
	pub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			c.publishOnce.Do(func() {
				c.wg.Add(1)
				go c.sendMedia()
			})
		case webrtc.PeerConnectionStateFailed:
			c.fail("pub connection failed")
		}
	})
	offer, err := pub.CreateOffer(nil)
	if err == nil {
		err = pub.SetLocalDescription(offer)
	}
	if err != nil {
		return err
	}
	c.send(outMsg{Type: msgOffer, PC: pcPub, SDP: offer.SDP,
		Sources: map[string]string{c.audio.t.ID(): "microphone", c.video.t.ID(): "camera"}})
	return nil
}

func (c *client) readRTCP(s *webrtc.RTPSender) {
	defer c.wg.Done()
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.keyAsks.Add(1)
				c.wantKey.Store(true)
			}
		}
	}
}

// sendMedia sends the clip in real time until stop: a VP8 frame every 1/30 s, an Opus
// packet every 20 ms. A keyframe request makes the next frame sent the clip's next keyframe
// (skipping ahead up to 2 s of the loop), so that the stream stays decodable, as a browser's
// encoder starting a new keyframe would.
func (c *client) sendMedia() {
	defer c.wg.Done()
	clip := c.r.clip
	var levelID uint8
	for _, e := range c.audio.sender.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			levelID = uint8(e.ID)
		}
	}
	var vp8 codecs.VP8Payloader
	vts, ats := c.r.rand32(), c.r.rand32()
	vi, ai := 0, 0
	start := time.Now()
	frameDur := time.Second / frameRate
	nextV, nextA := start, start
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := time.Now()
		if !now.Before(nextA) {
			p := rtp.Packet{Header: rtp.Header{Version: 2, Timestamp: ats,
				SequenceNumber: uint16(c.audio.seq.Load())}, Payload: clip.Audio[ai]}
			if levelID != 0 {
				_ = p.SetExtension(levelID, []byte{30}) // -30 dBov: someone speaking
			}
			c.audio.started.CompareAndSwap(0, now.UnixNano())
			_ = c.audio.t.WriteRTP(&p)
			c.audio.seq.Add(1)
			ats += 48000 * audioFrame / 1000
			ai = (ai + 1) % len(clip.Audio)
			nextA = nextA.Add(audioFrame * time.Millisecond)
		}
		if !now.Before(nextV) {
			if c.wantKey.Swap(false) {
				vi = clip.nextKey(vi)
			}
			payloads := vp8.Payload(1200, clip.Video[vi].Data)
			for i, pl := range payloads {
				p := rtp.Packet{Header: rtp.Header{Version: 2, Timestamp: vts, Marker: i == len(payloads)-1,
					SequenceNumber: uint16(c.video.seq.Load())}, Payload: pl}
				c.video.started.CompareAndSwap(0, now.UnixNano())
				_ = c.video.t.WriteRTP(&p)
				c.video.seq.Add(1)
			}
			vts += 90000 / frameRate
			vi = (vi + 1) % len(clip.Video)
			nextV = nextV.Add(frameDur)
		}
		wait := time.Until(nextV)
		if a := time.Until(nextA); a < wait {
			wait = a
		}
		timer.Reset(max(wait, 0))
		select {
		case <-c.stop:
			return
		case <-timer.C:
		}
	}
}

// onTrack counts the packets of each track received, by publisher and kind, and notes when
// the first packet and the first keyframe arrived.
func (c *client) onTrack(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	at := time.Now().UnixNano()
	from := c.r.lookup(t.StreamID())
	rt := &recvTrack{from: from, kind: t.Kind()}
	rt.first.Store(at)
	c.mu.Lock()
	if c.recv == nil {
		c.recv = map[string]*recvTrack{}
	}
	c.recv[t.StreamID()+"/"+t.Kind().String()] = rt
	c.mu.Unlock()
	if from == nil {
		c.fail("a track from unknown participant %s", t.StreamID())
	}
	buf := make([]byte, 1500)
	var h rtp.Header
	var asked time.Time
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		if n < 12 {
			continue
		}
		seq := uint16(buf[2])<<8 | uint16(buf[3])
		rt.bits[seq>>6].Or(1 << (seq & 63))
		rt.packets.Add(1)
		if rt.kind == webrtc.RTPCodecTypeVideo && rt.firstKey.Load() == 0 {
			if hl, err := h.Unmarshal(buf[:n]); err == nil && keyframe.VP8(buf[hl:n]) {
				rt.firstKey.Store(time.Now().UnixNano())
			} else if time.Since(asked) >= time.Second {
				// Video that starts without a keyframe cannot be decoded: ask for one, as a
				// browser's receiver does, again each second until it comes.
				asked = time.Now()
				_ = c.sub.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.SSRC())}})
			}
		}
	}
}

// close leaves the room and closes the connections.
func (c *client) close() {
	close(c.stop)
	if c.ws != nil {
		c.send(outMsg{Type: msgLeave})
		c.wmu.Lock()
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.wmu.Unlock()
		_ = c.ws.Close()
	}
	c.mu.Lock()
	pcs := []*webrtc.PeerConnection{c.pub, c.sub}
	c.mu.Unlock()
	for _, pc := range pcs {
		if pc != nil {
			_ = pc.Close()
		}
	}
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sockets {
		_ = s.Close()
	}
}
