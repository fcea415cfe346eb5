package signaling

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestJoinRefused checks that each bad join is refused with its close code.
func TestJoinRefused(t *testing.T) {
	private := false
	e := MustEnv(t, func(c *Config) {
		c.Public = func(context.Context, *chuting.Hearing) (bool, error) { return !private, nil }
		c.JoinTimeout = 300 * time.Millisecond
	})
	issue := func(h *chuting.Hearing, role Role) string {
		tok, err := e.tokens.Issue(Claims{Hearing: h.ID, Subject: e.judge.ID, Name: "王法官", Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	refused := func(t *testing.T, join Message, want int) {
		t.Helper()
		c := dial(t, e, e.hearing.ID, join)
		if got := c.closed(); got != want {
			t.Fatalf("closed with %d, want %d", got, want)
		}
	}

	t.Run("ErrTampered", func(t *testing.T) {
		tok := e.token(t, e.judge.ID, "王法官", RoleJudge)
		i := strings.LastIndexByte(tok, '.') + 3
		b := []byte(tok)
		b[i] ^= 1 // flip a bit of the signature
		refused(t, Message{Token: string(b)}, CloseTampered)
		forged, _ := NewTokens([]byte("another key, another key, another"), e.clock.Now).Issue(
			Claims{Hearing: e.hearing.ID, Subject: "x", Role: RoleJudge})
		refused(t, Message{Token: forged}, CloseTampered)
	})
	t.Run("ErrWrongHearing", func(t *testing.T) {
		refused(t, Message{Token: issue(e.later, RoleJudge)}, CloseWrongHearing)
	})
	t.Run("ErrExpired", func(t *testing.T) {
		tok := e.token(t, e.judge.ID, "王法官", RoleJudge)
		e.clock.Advance(TokenTTL + time.Second)
		defer e.clock.Advance(-TokenTTL - time.Second)
		refused(t, Message{Token: tok}, CloseExpired)
	})
	t.Run("ErrOutsideWindow", func(t *testing.T) {
		// A token for the later hearing, presented at its own room, hours before it opens.
		c := dial(t, e, e.later.ID, Message{Token: issue(e.later, RoleJudge)})
		if got := c.closed(); got != CloseExpired {
			t.Fatalf("closed with %d, want %d", got, CloseExpired)
		}
		if _, err := e.srv.JoinToken(context.Background(), e.later.ID, e.judge.ID, "王法官", RoleJudge); chuting.ErrorCode(err) != chuting.EINVALID {
			t.Fatalf("JoinToken outside the window: %v", err)
		}
	})
	t.Run("ErrReplayed", func(t *testing.T) {
		tok := e.token(t, e.judge.ID, "王法官", RoleJudge)
		first := dial(t, e, e.hearing.ID, Message{Token: tok})
		first.wait(TypeJoined, nil)
		refused(t, Message{Token: tok}, CloseReplayed)
	})
	t.Run("ErrObserverOfPrivateHearing", func(t *testing.T) {
		private = true
		defer func() { private = false }()
		refused(t, Message{Token: e.token(t, "link:o1", "旁听人", RoleObserver)}, CloseRoleRefused)
	})
	t.Run("ErrRevokedLink", func(t *testing.T) { // #49
		refused(t, Message{Token: e.token(t, "link:r1", "撤销", RoleCounsel)}, CloseReplayed)
		refused(t, Message{Token: e.token(t, "link:unknown", "无", RoleCounsel)}, CloseReplayed)
	})
	t.Run("ErrWitnessObserving", func(t *testing.T) { // #46
		refused(t, Message{Token: e.token(t, e.user.ID, "李明", RoleObserver)}, CloseRoleRefused)
	})
	t.Run("ErrNoJoin", func(t *testing.T) {
		refused(t, Message{Type: TypeLeave}, CloseNoJoin)
		ws, _, err := websocket.DefaultDialer.Dial(e.url(e.hearing.ID), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_, _, err = ws.ReadMessage() // sends nothing: closed after JoinTimeout
		if !websocket.IsCloseError(err, CloseNoJoin) {
			t.Fatalf("silent client: %v", err)
		}
	})
	t.Run("ErrOrigin", func(t *testing.T) {
		_, resp, err := websocket.DefaultDialer.Dial(e.url(e.hearing.ID), http.Header{"Origin": {"https://evil.example"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("foreign origin: %v %v", err, resp)
		}
		ws, _, err := websocket.DefaultDialer.Dial(e.url(e.hearing.ID), http.Header{"Origin": {e.http.URL}})
		if err != nil {
			t.Fatalf("own origin refused: %v", err)
		}
		ws.Close()
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, resp, err := websocket.DefaultDialer.Dial(e.url(chuting.NewID()), nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown hearing: %v %v", err, resp)
		}
	})
}

// TestProtocolErrors checks that bad messages from a joined client get an error and leave the
// connection open, and that a flood closes it with 4008.
func TestProtocolErrors(t *testing.T) {
	e := MustEnv(t, nil)
	c := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	for _, tc := range []struct {
		msg, code string
	}{
		{`not json`, CodeMalformed},
		{`{"v":2,"type":"leave"}`, CodeVersion},
		{`{"v":1,"type":"dance","id":"d"}`, CodeUnknownType},
		{`{"v":1,"type":"join","token":"x"}`, CodeOutOfOrder},
		{`{"v":1,"type":"answer","pc":"sub","sdp":"v=0"}`, CodeOutOfOrder},
		{`{"v":1,"type":"moderate","id":"m","action":"admit","target":"p-x"}`, CodeForbidden},
		{`{"v":1,"type":"offer","pc":"pub","sdp":"garbage"}`, CodeNegotiation},
		{`{"v":1,"type":"` + strings.Repeat("x", MaxMessage) + `"}`, CodeTooLarge},
	} {
		c.sendRaw([]byte(tc.msg))
		m := c.wait(TypeError, nil)
		if m.Code != tc.code {
			t.Errorf("%.40s: error %s (%s), want %s", tc.msg, m.Code, m.Message, tc.code)
		}
	}
	// An oversized request is answered with its id as ref, for the client to match.
	c.sendRaw([]byte(`{"v":1,"type":"offer","id":"big","pc":"pub","sdp":"` + strings.Repeat("a", MaxMessage) + `"}`))
	if m := c.wait(TypeError, nil); m.Code != CodeTooLarge || m.Ref != "big" {
		t.Errorf("an oversized offer: error %s ref %q, want %s ref \"big\"", m.Code, m.Ref, CodeTooLarge)
	}
	// Still connected: a valid command from the judge reaches it.
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	if code := judge.moderate(ActionGrantFloor, c.id()); code != "" {
		t.Fatal(code)
	}
	c.wait(TypeParticipant, func(m srvMsg) bool { return m.info().ID == c.id() && m.info().Floor })

	for i := 0; i < 2000 && c.closeCode.Load() == 0; i++ {
		c.sendRaw([]byte(`{"v":1,"type":"candidate","pc":"sub","candidate":{"candidate":""}}`))
	}
	if code := c.closed(); code != CloseRateLimited {
		t.Fatalf("flood closed with %d, want %d", code, CloseRateLimited)
	}
}

// TestPrivateSummons checks the default Public hook: observers may not join the room of a
// hearing whose summons is private (不公开审理, #45), and may join a public one.
func TestPrivateSummons(t *testing.T) {
	e := MustEnv(t, nil)
	obs := join(t, e, "observer", e.token(t, "link:o1", "旁听人", RoleObserver))
	obs.close()
	sm, err := chuting.Load[chuting.Summons](context.Background(), e.store, e.hearing.SummonsID)
	if err != nil {
		t.Fatal(err)
	}
	sm.Private = true
	if err := chuting.Save(context.Background(), e.store, sm); err != nil {
		t.Fatal(err)
	}
	c := dial(t, e, e.hearing.ID, Message{Token: e.token(t, "link:o1", "旁听人", RoleObserver)})
	if got := c.closed(); got != CloseRoleRefused {
		t.Fatalf("closed with %d, want %d", got, CloseRoleRefused)
	}
}

// TestICEServersPerParticipant checks that each participant gets the STUN/TURN servers
// issued for them (the relay's credentials name the token's subject), not one shared set.
func TestICEServersPerParticipant(t *testing.T) {
	e := MustEnv(t, func(c *Config) {
		c.WebRTC.ICEServers = []webrtc.ICEServer{{URLs: []string{"stun:shared.example"}}}
		c.ICEServers = func(subject string) []webrtc.ICEServer {
			return []webrtc.ICEServer{{URLs: []string{"turn:127.0.0.1:3478?transport=udp"},
				Username: "9999:" + subject, Credential: "secret-of-" + subject}}
		}
	})
	for _, subject := range []string{e.judge.ID, "link:c1"} {
		role := RoleJudge
		if subject == "link:c1" {
			role = RoleCounsel
		}
		c := join(t, e, subject, e.token(t, subject, "某", role))
		got := c.joined.ICEServers
		if len(got) != 1 || got[0].Username != "9999:"+subject || got[0].Credential != "secret-of-"+subject ||
			got[0].URLs[0] != "turn:127.0.0.1:3478?transport=udp" {
			t.Errorf("%s got %+v", subject, got)
		}
		c.close()
	}
}

// TestNodeFull checks the node's bound on participants: a join beyond it is refused with
// CloseFull and counted, changing nothing in the room; a dropped participant keeps its place
// and resumes although the node is full; a participant that leaves frees its place.
func TestNodeFull(t *testing.T) {
	e := MustEnv(t, func(c *Config) { c.MaxParticipants = 2 })
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	clerk := join(t, e, "clerk", e.token(t, "clerk-user", "书记员", RoleClerk))
	refusedJoin := func(name string) {
		t.Helper()
		c := dial(t, e, e.hearing.ID, Message{Token: e.token(t, "link:c1", name, RoleCounsel)})
		if code := c.closed(); code != CloseFull {
			t.Fatalf("a third participant's join closed with %d, want %d", code, CloseFull)
		}
	}
	refusedJoin("赵律师")
	if got := testutil.ToFloat64(e.srv.m.full); got != 1 {
		t.Fatalf("refused_full_total = %v, want 1", got)
	}
	if got := testutil.ToFloat64(e.srv.m.participants); got != 2 {
		t.Fatalf("%v participants after the refusal, want 2", got)
	}

	// The clerk drops: its place is kept for the resume window, so a new join is still
	// refused, and the clerk comes back.
	clerk.drop()
	judge.wait(TypeParticipant, func(m srvMsg) bool { return m.info().ID == clerk.id() && m.info().Dropped })
	refusedJoin("钱律师")
	back := dial(t, e, e.hearing.ID, Message{Resume: clerk.joined.Resume})
	back.name = "clerk again"
	back.joined = back.wait(TypeJoined, nil)
	if back.id() != clerk.id() {
		t.Fatalf("resumed as %s, want %s", back.id(), clerk.id())
	}

	// The clerk leaves: counsel takes its place.
	back.send(Message{Type: TypeLeave})
	judge.wait(TypeLeft, func(m srvMsg) bool { return m.id() == clerk.id() })
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	if counsel.joined.Role != RoleCounsel {
		t.Fatalf("counsel joined as %+v", counsel.joined)
	}
}
