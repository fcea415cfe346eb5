package signaling

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// The bounds on what one client can make the server hold or do, and recovery from a refused
// offer.

// audioOffer returns an offer of one Opus track from c's pub connection, which it makes.
func audioOffer(t *testing.T, c *client) string {
	t.Helper()
	pc := c.newPub() // the client's reader applies the server's answer to it
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, "mic", "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(tr); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err == nil {
		err = pc.SetLocalDescription(offer)
	}
	if err != nil {
		t.Fatal(err)
	}
	return offer.SDP
}

// TestOfferRefusedThenAnswered: an offer WebRTC refuses part-way (a media section without
// a=mid) is refused with negotiation_failed, and the client's next, valid offer is answered:
// the refused one does not leave pub waiting for an answer of its own.
func TestOfferRefusedThenAnswered(t *testing.T) {
	e := MustEnv(t, nil)
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	sdp := audioOffer(t, counsel)
	var bad []string
	for _, l := range strings.Split(sdp, "\r\n") {
		if !strings.HasPrefix(l, "a=mid:") {
			bad = append(bad, l)
		}
	}
	counsel.send(Message{Type: TypeOffer, PC: PCPub, ID: "bad", SDP: strings.Join(bad, "\r\n")})
	if m := counsel.answer("bad"); m.Code != CodeNegotiation {
		t.Fatalf("an offer without a=mid: %s %s, want %s", m.Type, m.Code, CodeNegotiation)
	}
	counsel.send(Message{Type: TypeOffer, PC: PCPub, ID: "good", SDP: sdp})
	counsel.wait(TypeAnswer, func(m srvMsg) bool { return m.PC == PCPub })
	// Once pub has been negotiated, such an offer cannot be undone (pion has no rollback):
	// the server says so and closes with 1013, on which the client resumes with new
	// connections.
	counsel.send(Message{Type: TypeOffer, PC: PCPub, ID: "bad again", SDP: strings.Join(bad, "\r\n")})
	if m := counsel.answer("bad again"); m.Code != CodeNegotiation {
		t.Fatalf("the second bad offer: %s %s, want %s", m.Type, m.Code, CodeNegotiation)
	}
	if code := counsel.closed(); code != websocket.CloseTryAgainLater {
		t.Fatalf("closed with %d after a renegotiation pion could not undo, want %d", code, websocket.CloseTryAgainLater)
	}
}

// TestSourcesBounded: the sources named with offers the server refuses are not kept, and
// those of accepted offers are bounded.
func TestSourcesBounded(t *testing.T) {
	e := MustEnv(t, nil)
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	const offers = 40
	for i := range offers {
		src := map[string]string{}
		for j := range maxSources {
			src[fmt.Sprintf("%03d-%02d-%s", i, j, strings.Repeat("x", 40))] = SourceCamera
		}
		counsel.send(Message{Type: TypeOffer, PC: PCPub, ID: fmt.Sprint(i), SDP: "v=0", Sources: src})
		if m := counsel.answer(fmt.Sprint(i)); m.Code != CodeNegotiation {
			t.Fatalf("offer %d: %s %s, want %s", i, m.Type, m.Code, CodeNegotiation)
		}
	}
	e.srv.mu.Lock()
	r := e.srv.rooms[e.hearing.ID]
	e.srv.mu.Unlock()
	r.mu.Lock()
	p := r.parts[counsel.id()]
	r.mu.Unlock()
	p.mmu.Lock()
	kept := len(p.sources)
	p.mmu.Unlock()
	if kept != 0 {
		t.Fatalf("%d sources kept from %d refused offers, want 0", kept, offers)
	}
}

// TestCandidatesBounded: a connection takes at most maxCandidates remote candidates; the
// next are refused, each with an error.
func TestCandidatesBounded(t *testing.T) {
	e := MustEnv(t, nil)
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	counsel.publish(false)
	counsel.wait(TypeAnswer, func(m srvMsg) bool { return m.PC == PCPub })
	const n = maxCandidates + 20
	mid, idx := "0", uint16(0)
	for i := range n {
		c := fmt.Sprintf("candidate:%d 1 udp 2130706431 10.9.%d.%d %d typ host", 1000+i, i/256, i%256, 10000+i)
		counsel.send(Message{Type: TypeCandidate, PC: PCPub, ID: fmt.Sprint("c", i),
			Candidate: &Candidate{Candidate: c, SDPMid: &mid, SDPMLineIndex: &idx}})
		time.Sleep(21 * time.Millisecond) // under the message rate limit
	}
	if m := counsel.answer(fmt.Sprint("c", n-1)); m.Code != CodeOutOfOrder { // the last is over the bound
		t.Fatalf("candidate %d: %s %s, want %s", n-1, m.Type, m.Code, CodeOutOfOrder)
	}
	refused := 0
	counsel.mu.Lock()
	for _, m := range counsel.all {
		if m.Type == TypeError && strings.HasPrefix(m.Ref, "c") && m.Code == CodeOutOfOrder {
			refused++
		}
	}
	counsel.mu.Unlock()
	// The client's own candidates (loopback) count too: at least the 20 over the bound are
	// refused, and at most maxCandidates are taken.
	if refused < n-maxCandidates || n-refused > maxCandidates {
		t.Fatalf("%d of %d candidates refused, want all but at most %d", refused, n, maxCandidates)
	}
}

// TestTracksBounded: a client publishing more tracks than a participant may (maxTracks) has
// only maxTracks put in the room and offered to the others.
func TestTracksBounded(t *testing.T) {
	const n = 12
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	pub := counsel.newPub()
	var tracks []*webrtc.TrackLocalStaticRTP
	for i := range n {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			fmt.Sprintf("cam%d", i), "s")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pub.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, tr)
	}
	offer, err := pub.CreateOffer(nil)
	if err == nil {
		err = pub.SetLocalDescription(offer)
	}
	if err != nil {
		t.Fatal(err)
	}
	counsel.send(Message{Type: TypeOffer, PC: PCPub, ID: "o", SDP: offer.SDP})
	counsel.wait(TypeAnswer, func(m srvMsg) bool { return m.PC == PCPub })
	counsel.wg.Go(func() {
		p := rtp.Packet{Header: rtp.Header{Version: 2}, Payload: []byte{0x10, 1, 2, 3}}
		for {
			select {
			case <-counsel.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			p.SequenceNumber++
			p.Timestamp += 4500
			for _, tr := range tracks {
				_ = tr.WriteRTP(&p)
			}
		}
	})
	eventually(t, 5*time.Second, "the judge to see counsel's tracks", func() bool {
		info, ok := judge.participant(counsel.id())
		return ok && len(info.Tracks) == maxTracks
	})
	time.Sleep(time.Second) // the others' tracks would have come by now
	if info, _ := judge.participant(counsel.id()); len(info.Tracks) != maxTracks {
		t.Fatalf("the judge sees %d tracks of counsel, want %d", len(info.Tracks), maxTracks)
	}
}

// TestPubCandidatesBeforeOffer checks the candidates a client sends on pub before its offer:
// kept (the connection is made at the offer, whose setup decides the server's DTLS role), up
// to maxPendingCandidates, then refused; and the offer after them is answered and its media
// forwarded.
func TestPubCandidatesBeforeOffer(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	mid, idx := "0", uint16(0)
	for i := range maxPendingCandidates + 1 {
		c := fmt.Sprintf("candidate:%d 1 udp 2130706431 10.9.0.%d %d typ host", 1000+i, i, 10000+i)
		judge.send(Message{Type: TypeCandidate, PC: PCPub, ID: fmt.Sprint("c", i),
			Candidate: &Candidate{Candidate: c, SDPMid: &mid, SDPMLineIndex: &idx}})
		time.Sleep(21 * time.Millisecond) // under the message rate limit
	}
	if m := judge.answer(fmt.Sprint("c", maxPendingCandidates)); m.Code != CodeOutOfOrder {
		t.Fatalf("candidate %d before the offer: %s %s, want %s", maxPendingCandidates, m.Type, m.Code, CodeOutOfOrder)
	}
	judge.mu.Lock() // the answers come in order: any refusal of the first 64 is here by now
	for _, m := range judge.msgs {
		if m.Type == TypeError && m.Ref != fmt.Sprint("c", maxPendingCandidates) {
			t.Errorf("refused before the offer: %s %s", m.Ref, m.Code)
		}
	}
	judge.mu.Unlock()
	judge.publish(true)
	eventually(t, 10*time.Second, "the judge's media at counsel", func() bool {
		a, v := counsel.got(judge.id())
		return a > 0 && v > 0
	})
}
