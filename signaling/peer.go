package signaling

import (
	"strings"
	"sync"

	"github.com/chuting/chuting/dtlssrtp"
	"github.com/chuting/chuting/transportcc"
	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
)

// maxPendingCandidates bounds the remote candidates kept before a remote description, and
// maxCandidates those a connection takes in all: a client has a few addresses (host, server
// reflexive, relayed; IPv4 and IPv6, UDP and TCP), and each remote candidate makes the
// server send connectivity checks to the address it names.
const (
	maxPendingCandidates = 64
	maxCandidates        = 64
)

// peer is one of a participant's two peer connections: pub, on which the client offers and
// publishes, or sub, on which the server offers what the participant receives. Only the
// participant's loop calls its methods, except the pion callbacks, which only touch mu's
// fields and the connection's send queue.
type peer struct {
	name string // PCPub or PCSub
	pc   *webrtc.PeerConnection
	c    *conn
	bwe  *transportcc.Estimator // sub: the estimate of what the link to the client carries
	out  *srtpOut               // sub: the connection's own RTP output
	in   *srtpIn                // pub: the connection's own RTP input
	done chan struct{}          // closed by close

	// Local candidates are held until the description they belong to has been sent: pion
	// gathers while the answer is still being written (../shared/TESTING.md).
	mu           sync.Mutex
	descSent     bool
	localPending []webrtc.ICECandidateInit

	remotePending []webrtc.ICECandidateInit // before the remote description; loop only
	remoteAdded   int                       // candidates given to the connection; loop only
	again         bool                      // sub: renegotiate when the answer comes; loop only
}

// newPeer makes one of p's peer connections. answerAsServer (pub) answers the client's offer as
// the DTLS server; it must be false for an offer that asks to be the DTLS server itself
// (setup:passive, dtlsServerOffer).
func newPeer(p *participant, name string, c *conn, answerAsServer bool) *peer {
	m := p.room.s.media
	// The server encrypts what it sends on sub (srtpout.go) and decrypts what it reads on pub
	// (srtpin.go) with the keys of each connection's handshake, without header encryption
	// (RFC 9335): none is negotiated.
	var (
		own     *srtpOut
		in      *srtpIn
		capture *dtlssrtp.Capture
	)
	if name == PCSub {
		own = &srtpOut{}
		capture = &own.capture
	} else {
		in = newSRTPIn(m)
		capture = &in.capture
	}
	pc, err := m.capturingAPI(capture, answerAsServer).NewPeerConnection(webrtc.Configuration{
		RTPHeaderEncryptionPolicy: webrtc.RTPHeaderEncryptionPolicyDisable})
	if err != nil { // only fails on a bad configuration
		p.room.s.log.Error("new peer connection", "participant", p.id, "err", err)
		c.close(websocket.CloseInternalServerErr, "内部错误 / internal error")
		pc = nil
	}
	pe := &peer{name: name, pc: pc, c: c, out: own, in: in, done: make(chan struct{})}
	if pc == nil {
		return pe
	}
	arrivals := m.twcc.take(pc.ID())
	if name == PCSub {
		pe.bwe = transportcc.NewEstimator(transportcc.EstimatorOptions{Initial: initialBitrate,
			Min: 30_000, Max: 20_000_000})
		own.rtcp.bwe, own.rtcp.met = pe.bwe, p.room.s.m
	} else {
		in.twcc, in.met = arrivals, p.room.s.m
		p.goMedia(func() { in.feedback(pc, pe.done) })
	}
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		init := cand.ToJSON()
		pe.mu.Lock()
		defer pe.mu.Unlock()
		if !pe.descSent {
			pe.localPending = append(pe.localPending, init)
			return
		}
		c.send(encode(out{Type: TypeCandidate, PC: name, Candidate: candidateOf(init)}))
	})
	if name == PCSub {
		p.subUp.Store(false)
	}
	// The server's own SRTP follows the ICE pair; a connection on it that moves to a pair it
	// cannot serve resumes (srtpout.go, srtpin.go).
	arm := func() {
		ok := true
		if own != nil {
			ok = own.arm(pc, m)
		} else {
			ok = in.arm(pc)
		}
		if !ok {
			c.close(websocket.CloseTryAgainLater, "媒体连接中断 / media connection moved")
		}
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			arm()
		}
		if name == PCSub {
			p.subUp.Store(s == webrtc.PeerConnectionStateConnected)
			if s == webrtc.PeerConnectionStateConnected {
				select { // the loop asks for keyframes: what was sent before is lost
				case p.keyframe <- struct{}{}:
				default:
				}
			}
		}
		if s == webrtc.PeerConnectionStateFailed {
			// The client resumes with new peer connections; simpler and surer than an ICE
			// restart on one of two connections.
			c.close(websocket.CloseTryAgainLater, "媒体连接中断 / media connection failed")
		}
	})
	pc.SCTP().Transport().ICETransport().OnSelectedCandidatePairChange(func(*webrtc.ICECandidatePair) { arm() })
	if name == PCPub {
		pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) { p.onTrack(pc, in, t, r) })
	}
	return pe
}

// pendCandidate keeps c for a remote description to come, up to maxPendingCandidates.
func pendCandidate(pending *[]webrtc.ICECandidateInit, c webrtc.ICECandidateInit) *ProtocolError {
	if c.Candidate == "" {
		return nil // end of candidates
	}
	if len(*pending) >= maxPendingCandidates {
		return protoErr(CodeOutOfOrder, "candidate", "媒体描述之前的候选地址过多 / too many candidates before the description")
	}
	*pending = append(*pending, c)
	return nil
}

// dtlsServerOffer reports whether an offer asks to be the DTLS server (a=setup:passive,
// RFC 4145, 5763), which the server's answer must then leave to it.
func dtlsServerOffer(sdp string) bool {
	return strings.Contains(sdp, "a=setup:passive")
}

// sendDesc sends the local description, then the candidates held for it.
func (pe *peer) sendDesc(typ string) {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	pe.c.send(encode(out{Type: typ, PC: pe.name, SDP: pe.pc.LocalDescription().SDP}))
	pe.descSent = true
	for _, init := range pe.localPending {
		pe.c.send(encode(out{Type: TypeCandidate, PC: pe.name, Candidate: candidateOf(init)}))
	}
	pe.localPending = nil
}

func negotiationErr(err error) *ProtocolError {
	return protoErr(CodeNegotiation, "sdp", "媒体协商失败 / negotiation failed: %v", err)
}

// answer answers a client's offer on pub. pion may take an offer as the remote description
// before finding it wrong, and cannot roll it back; stuck then reports that pub waits for an
// answer it will not give (the caller replaces it).
func (pe *peer) answer(sdp string) *ProtocolError {
	if pe.pc == nil {
		return protoErr(CodeInternal, "", "没有媒体连接 / no peer connection")
	}
	if pe.pc.SignalingState() != webrtc.SignalingStateStable {
		return protoErr(CodeOutOfOrder, "sdp", "上一次媒体协商尚未完成 / an offer is already being answered")
	}
	err := pe.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp})
	if err == nil {
		pe.flushRemote()
		var answer webrtc.SessionDescription
		if answer, err = pe.pc.CreateAnswer(nil); err == nil {
			err = pe.pc.SetLocalDescription(answer)
		}
	}
	if err != nil {
		return negotiationErr(err)
	}
	pe.sendDesc(TypeAnswer)
	return nil
}

// stuck reports whether the connection holds an offer it failed to answer.
func (pe *peer) stuck() bool {
	return pe.pc != nil && pe.pc.SignalingState() != webrtc.SignalingStateStable
}

// negotiate sends a new offer on sub, or, while one is out, asks for another after its answer.
func (pe *peer) negotiate() {
	if pe.pc == nil {
		return
	}
	if pe.pc.SignalingState() != webrtc.SignalingStateStable {
		pe.again = true
		return
	}
	pe.again = false
	offer, err := pe.pc.CreateOffer(nil)
	if err == nil {
		err = pe.pc.SetLocalDescription(offer)
	}
	if err != nil {
		pe.c.send(errorMsg("", negotiationErr(err)))
		return
	}
	pe.sendDesc(TypeOffer)
}

// accept takes the client's answer to the server's offer on sub.
func (pe *peer) accept(sdp string) *ProtocolError {
	if pe.pc == nil || pe.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		return protoErr(CodeOutOfOrder, "sdp", "没有待应答的媒体协商 / no offer is waiting for an answer")
	}
	if err := pe.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return negotiationErr(err)
	}
	pe.flushRemote()
	if pe.again {
		pe.negotiate()
	}
	return nil
}

// addCandidate applies a remote candidate, or keeps it until the remote description is set.
func (pe *peer) addCandidate(c webrtc.ICECandidateInit) *ProtocolError {
	if pe.pc == nil {
		return protoErr(CodeInternal, "", "没有媒体连接 / no peer connection")
	}
	if c.Candidate == "" {
		return nil // end of candidates
	}
	if pe.pc.RemoteDescription() == nil {
		return pendCandidate(&pe.remotePending, c)
	}
	if pe.remoteAdded >= maxCandidates {
		return protoErr(CodeOutOfOrder, "candidate", "候选地址过多 / too many candidates")
	}
	if err := pe.pc.AddICECandidate(c); err != nil {
		return protoErr(CodeNegotiation, "candidate", "候选地址无效 / bad candidate: %v", err)
	}
	pe.remoteAdded++
	return nil
}

func (pe *peer) flushRemote() {
	for _, c := range pe.remotePending {
		if pe.pc.AddICECandidate(c) == nil { // a bad one was the client's to send; the others still count
			pe.remoteAdded++
		}
	}
	pe.remotePending = nil
}

// close closes the peer connection and waits for pion's goroutines.
func (pe *peer) close() {
	close(pe.done)
	if pe.in != nil {
		pe.in.disarm()
	}
	if pe.out != nil {
		pe.out.rtcp.disarm()
	}
	if pe.pc != nil {
		_ = pe.pc.GracefulClose()
	}
}
