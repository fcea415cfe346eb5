package signaling

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// participant is one person in a room. It outlives its connections: a dropped participant
// keeps its place, role and admission for the resume window.
//
// Its loop goroutine owns its peer connections: messages from the client, renegotiation
// nudges from the room and connection changes all reach it as events, so that nothing else
// ever calls its peer connections (STYLE.md principle 5).
type participant struct {
	room   *Room
	id     string
	seq    int64
	claims Claims
	role   Role

	// Guarded by room.mu.
	state     State
	muted     bool
	floor     bool
	check     *Checklist
	conn      *conn     // nil while dropped
	droppedAt time.Time //
	resume    string
	ups       []*upTrack
	gone      bool

	receiving atomic.Bool // admitted and connected: media may be forwarded to it
	videoOff  atomic.Bool // audio only, by its own choice (#47): no video is forwarded to it; set under room.mu
	subUp     atomic.Bool // the sub peer connection is connected (ICE and DTLS)

	inbox    chan event
	kick     chan struct{} // cap 1: bring the subscriptions up to date
	keyframe chan struct{} // cap 1: the sub connection came up, or video is back: ask for keyframes
	quit     chan struct{}
	quitOnce sync.Once

	// Owned by the loop.
	pcConn     *conn // the connection the peer connections belong to
	pub        *peer
	sub        *peer
	pubPending []webrtc.ICECandidateInit // pub's remote candidates that came before its offer
	downs      map[*upTrack]*downTrack
	w          *writer

	// Media goroutines (track readers, RTCP readers, the writer).
	mmu     sync.Mutex
	mclosed bool
	mwg     sync.WaitGroup
	sources map[string]string  // track ID → source, as the client declared them
	groups  map[string]*layers // track ID → its simulcast layers
}

// event is what the loop handles: a client message, or a connection attached or detached.
type event struct {
	c      *conn
	msg    *Message
	attach bool
	detach bool
}

func newParticipant(r *Room, c Claims, check *Checklist) *participant {
	return &participant{room: r, id: "p-" + randomID(9), claims: c,
		role: c.Role, state: StateAdmitted, check: check,
		inbox: make(chan event, 64), kick: make(chan struct{}, 1), keyframe: make(chan struct{}, 1), quit: make(chan struct{}),
		downs: make(map[*upTrack]*downTrack), sources: make(map[string]string), groups: make(map[string]*layers)}
}

// post hands the loop an event; false once the participant has stopped.
func (p *participant) post(e event) bool {
	select {
	case p.inbox <- e:
		return true
	case <-p.quit:
		return false
	}
}

// resync nudges the loop to bring the subscriptions up to date. It never blocks.
func (p *participant) resync() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// stop ends the loop, which closes the peer connections.
func (p *participant) stop() { p.quitOnce.Do(func() { close(p.quit) }) }

// send queues a message to the participant's connection, if it has one. Needs room.mu.
func (p *participant) send(msg []byte) {
	if p.conn != nil {
		p.conn.send(msg)
	}
}

// audioOpenUnlocked reports whether p's audio is forwarded: not muted, and holding the floor
// if the role speaks only with leave (#20).
func (p *participant) audioOpenUnlocked() bool {
	return !p.muted && (!p.role.needsFloor() || p.floor)
}

func (p *participant) gateAudioUnlocked() {
	open := p.audioOpenUnlocked()
	for _, u := range p.ups {
		u.open.Store(open)
	}
}

// goMedia runs f as a media goroutine of p, unless p is closing.
func (p *participant) goMedia(f func()) bool {
	p.mmu.Lock()
	defer p.mmu.Unlock()
	if p.mclosed {
		return false
	}
	p.mwg.Add(1)
	go func() {
		defer p.mwg.Done()
		f()
	}()
	return true
}

func (p *participant) loop() {
	defer p.room.wg.Done()
	p.w = newWriter(p.room.s.cfg.MediaQueue, p.room.s.m)
	p.goMedia(p.w.run)
	defer p.shutdown()
	adapt := time.NewTicker(adaptEvery)
	defer adapt.Stop()
	for {
		select {
		case <-p.quit:
			return
		case e := <-p.inbox:
			p.handle(e)
		case <-p.kick:
			p.syncSubscriptions()
		case <-p.keyframe:
			for _, d := range p.downs {
				if d.up.kind == webrtc.RTPCodecTypeVideo {
					d.layer().requestKeyframe()
				}
			}
		case now := <-adapt.C:
			p.adapt(now)
		}
	}
}

// shutdown closes the peer connections and waits for the media goroutines.
func (p *participant) shutdown() {
	p.closePeers()
	p.mmu.Lock()
	p.mclosed = true
	p.mmu.Unlock()
	p.w.stop()
	p.mwg.Wait()
}

func (p *participant) handle(e event) {
	switch {
	case e.attach:
		p.closePeers()
		p.pcConn = e.c
		p.sub = newPeer(p, PCSub, e.c, false)
		p.syncSubscriptions()
	case e.detach:
		if e.c == p.pcConn {
			p.closePeers()
		}
	case e.msg != nil && e.c == p.pcConn:
		p.handleMessage(e.c, e.msg)
	}
}

// closePeers closes both peer connections and forgets the subscriptions; the publisher's
// tracks end with them.
func (p *participant) closePeers() {
	for u, d := range p.downs {
		u.removeDown(d)
	}
	clear(p.downs)
	for _, pe := range []*peer{p.pub, p.sub} {
		if pe != nil {
			pe.close()
		}
	}
	p.pub, p.sub, p.pcConn, p.pubPending = nil, nil, nil, nil
}

// noPublish refuses media from a role that does not publish (observers, #45).
func noPublish(r Role) *ProtocolError {
	return protoErr(CodeForbidden, "pc", "%s不发送音视频 / a %s does not publish (#45)", r.chinese(), r)
}

func (p *participant) handleMessage(c *conn, m *Message) {
	reply := func(err *ProtocolError) { c.send(errorMsg(m.ID, err)) }
	switch m.Type {
	case TypeOffer:
		if p.role == RoleObserver {
			reply(noPublish(p.role))
			return
		}
		if p.pub == nil {
			// Made at the offer, whose setup decides the server's DTLS role, with the
			// candidates that came before it.
			p.pub = newPeer(p, PCPub, c, !dtlsServerOffer(m.SDP))
			p.pub.remotePending, p.pubPending = p.pubPending, nil
		}
		// The sources are kept before the answer: pion may start a track's handler while
		// answering. Those of a refused offer go again with it.
		p.mmu.Lock()
		before := maps.Clone(p.sources)
		if len(p.sources)+len(m.Sources) > maxKeptSources {
			clear(p.sources) // the tracks that came already have taken theirs (onTrack)
		}
		maps.Copy(p.sources, m.Sources)
		p.mmu.Unlock()
		if err := p.pub.answer(m.SDP); err != nil {
			p.mmu.Lock()
			p.sources = before
			p.mmu.Unlock()
			reply(err)
			if p.pub.stuck() {
				// pion cannot roll the offer back. A connection that never carried media is
				// replaced at the next offer; one that did, with the client's: it resumes.
				if p.pub.pc.CurrentRemoteDescription() != nil {
					c.close(websocket.CloseTryAgainLater, "媒体协商失败，请重新连接 / negotiation failed: resume")
					return
				}
				p.pub.close()
				p.pub = nil
			}
		}
	case TypeAnswer:
		if p.sub == nil {
			reply(protoErr(CodeOutOfOrder, "pc", "没有待应答的媒体协商 / no offer is waiting for an answer"))
			return
		}
		if err := p.sub.accept(m.SDP); err != nil {
			reply(err)
		}
	case TypeCandidate:
		pe := p.sub
		if m.PC == PCPub {
			if p.role == RoleObserver {
				reply(noPublish(p.role))
				return
			}
			if p.pub == nil { // before the offer: kept for the connection it makes
				if err := pendCandidate(&p.pubPending, m.Candidate.init()); err != nil {
					reply(err)
				}
				return
			}
			pe = p.pub
		}
		if err := pe.addCandidate(m.Candidate.init()); err != nil {
			reply(err)
		}
	case TypeModerate, TypeMark:
		if err := p.room.moderate(p, m); err != nil {
			reply(err)
		}
	case TypeReceive:
		if err := p.room.receive(p, *m.Video); err != nil {
			reply(err)
		} else {
			c.send(encode(out{Type: TypeOK, Ref: m.ID}))
		}
	case TypeLeave:
		p.room.leave(p, whyLeft, nil, "")
	}
}

// syncSubscriptions makes the sub connection carry exactly the tracks p may receive, and
// renegotiates if that changed.
func (p *participant) syncSubscriptions() {
	if p.sub == nil {
		return
	}
	want := p.room.subscriptions(p)
	changed := false
	for u, d := range p.downs {
		if !containsTrack(want, u) {
			u.removeDown(d)
			_ = p.sub.pc.RemoveTrack(d.sender)
			delete(p.downs, u)
			changed = true
		}
	}
	for _, u := range want {
		if _, ok := p.downs[u]; ok {
			continue
		}
		d := &downTrack{up: u, sub: p, w: p.w, privileged: p.role.privileged(),
			bwe: p.sub.bwe, out: p.sub.out}
		if u.group != nil {
			// Start on the best layer the estimate allows (the primary while no layer has
			// been measured); the switch to it happens at its first keyframe.
			first := u
			if ranked := u.group.ranked(); len(ranked) > 0 {
				first = ranked[fit(ranked, p.estimate()-audioShare)]
			}
			d.target.Store(first)
		}
		sender, err := p.sub.pc.AddTrack(d)
		if err != nil {
			p.room.s.log.Warn("add track", "participant", p.id, "track", u.id, "err", err)
			continue
		}
		d.sender = sender
		p.downs[u] = d
		u.addDown(d)
		p.goMedia(d.readRTCP)
		changed = true
	}
	if changed {
		p.sub.negotiate()
	}
}

func containsTrack(ups []*upTrack, u *upTrack) bool {
	for _, x := range ups {
		if x == u {
			return true
		}
	}
	return false
}

// onTrack runs for each track the client publishes, for as long as it lasts.
func (p *participant) onTrack(pc *webrtc.PeerConnection, in *srtpIn, t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	p.goMedia(func() {
		p.mmu.Lock()
		source, ok := p.sources[t.ID()]
		p.mmu.Unlock()
		if !ok {
			source = SourceCamera
			if t.Kind() == webrtc.RTPCodecTypeAudio {
				source = SourceMicrophone
			}
		}
		if !p.role.mayPublish(t.Kind(), source) {
			discard(t) // read, so that the receiver's buffers do not fill; never forwarded
			return
		}
		u := &upTrack{kind: t.Kind(), source: source, codec: t.Codec().RTPCodecCapability, owner: p,
			remote: t, pc: pc, ssrc: uint32(t.SSRC()), m: p.room.s.m, rid: t.RID(),
			vp8:  strings.EqualFold(t.Codec().MimeType, webrtc.MimeTypeVP8),
			h264: strings.EqualFold(t.Codec().MimeType, webrtc.MimeTypeH264)}
		for _, e := range recv.GetParameters().HeaderExtensions {
			switch e.URI {
			case sdp.AudioLevelURI:
				u.levels = uint8(e.ID)
			case sdp.TransportCCURI:
				u.twcc = uint8(e.ID)
			}
		}
		u.stats = newRecvStats(u.ssrc, t.Codec().ClockRate, hasNACK(t.Codec().RTCPFeedback))
		// The publisher's sender reports, for the receiver reports' LSR and DLSR.
		p.goMedia(func() { readSenderReports(recv, u) })
		// run reads the track; once it is in the room, the server's SRTP input may read it
		// instead (srtpin.go), and the track is reported on.
		run := func() {
			in.add(u)
			defer in.remove(u)
			u.run()
		}
		if u.rid != "" && u.kind == webrtc.RTPCodecTypeVideo {
			switch p.joinGroup(t.ID(), u) {
			case layerRefused:
				p.room.s.log.Warn("simulcast layer refused: too many", "participant", p.id, "rid", u.rid)
				discard(t)
				return
			case layerAdded:
				// Another layer of a simulcast video already in the room: forwarded under it.
				run()
				u.group.remove(u)
				return
			}
		}
		if err := p.room.addTrack(u); err != nil {
			p.leaveGroup(t.ID(), u)
			if err == errTooManyTracks {
				p.room.s.log.Warn("track refused: too many", "participant", p.id, "kind", u.kind)
				discard(t)
			}
			return
		}
		run()
		p.leaveGroup(t.ID(), u)
		p.room.removeTrack(u)
	})
}

// maxLayers bounds the simulcast layers of one video (browsers send two or three).
const maxLayers = 3

// How joinGroup took a layer.
const (
	layerPrimary = iota // the first layer, which stands for the group in the room
	layerAdded          // another layer of a group in the room, forwarded under it
	layerRefused        // one layer too many: never forwarded
)

// joinGroup makes u a layer of the simulcast video with track ID id.
func (p *participant) joinGroup(id string, u *upTrack) int {
	p.mmu.Lock()
	defer p.mmu.Unlock()
	g := p.groups[id]
	took := layerAdded
	if g == nil {
		g = &layers{primary: u}
		p.groups[id] = g
		took = layerPrimary
	} else if all := g.all.Load(); all != nil && len(*all) >= maxLayers {
		return layerRefused
	}
	u.group = g
	g.add(u)
	return took
}

// leaveGroup ends the simulcast group whose primary is u.
func (p *participant) leaveGroup(id string, u *upTrack) {
	if u.group == nil {
		return
	}
	u.group.remove(u)
	p.mmu.Lock()
	defer p.mmu.Unlock()
	if g := p.groups[id]; g == u.group {
		delete(p.groups, id)
	}
}

func discard(t *webrtc.TrackRemote) {
	buf := make([]byte, mtu)
	for {
		if _, _, err := t.Read(buf); err != nil {
			return
		}
	}
}
