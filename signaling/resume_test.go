package signaling

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestTenParticipants checks that ten participants in one room all receive each other: each
// gets the other nine's audio and video tracks, with packets flowing.
func TestTenParticipants(t *testing.T) {
	const n = 10
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	clients := []*client{judge, join(t, e, "clerk", e.token(t, "clerk", "书记员", RoleClerk))}
	for i := len(clients); i < n; i++ { // several appraisers testify together (#13)
		c := join(t, e, "appraiser", e.token(t, "appraiser-"+string(rune('a'+i)), "鉴定人", RoleAppraiser))
		if code := judge.moderate(ActionAdmit, c.id()); code != "" {
			t.Fatal(code)
		}
		clients = append(clients, c)
	}
	for _, c := range clients {
		c.publish(true)
	}
	eventually(t, 30*time.Second, "every participant to receive the nine others", func() bool {
		for _, c := range clients {
			for _, o := range clients {
				if o == c {
					continue
				}
				if a, v := c.got(o.id()); a == 0 || v == 0 {
					return false
				}
			}
		}
		return true
	})
	m := e.srv.m
	for _, x := range []struct {
		name      string
		got, want float64
	}{
		{"rooms", testutil.ToFloat64(m.rooms), 1},
		{"participants", testutil.ToFloat64(m.participants), n},
		{"tracks", testutil.ToFloat64(m.tracks), 2 * n},
		{"joins", float64(testutil.CollectAndCount(m.join)), 1},
	} {
		if x.got != x.want {
			t.Errorf("metric %s = %v, want %v", x.name, x.got, x.want)
		}
	}
	if testutil.ToFloat64(m.packets) == 0 || testutil.ToFloat64(m.bytes) == 0 || testutil.ToFloat64(m.plis) == 0 {
		t.Errorf("forwarded %v packets, %v bytes, %v PLIs", testutil.ToFloat64(m.packets),
			testutil.ToFloat64(m.bytes), testutil.ToFloat64(m.plis))
	}
	mfs, err := e.reg.Gather()
	if err != nil || len(mfs) != 20 {
		t.Errorf("registry holds %d metric families (%v), want 20", len(mfs), err)
	}
	// The media left through the batched socket: the packets of a frame to one subscriber
	// in one datagram the kernel segments.
	udp := map[string]float64{}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "chuting_udp_") {
			udp[mf.GetName()] = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Logf("UDP: %v", udp)
	if p := udp["chuting_udp_packets_total"]; p == 0 || udp["chuting_udp_datagrams_total"] >= p ||
		udp["chuting_udp_segmented_packets_total"] == 0 || udp["chuting_udp_send_failures_total"] != 0 {
		t.Errorf("UDP counters %v, want packets in fewer datagrams, some segmented, none failed", udp)
	}
	for _, c := range clients {
		c.mu.Lock()
		tracks := c.tracks
		c.mu.Unlock()
		if tracks != 2*(n-1) {
			t.Errorf("%s %s received %d tracks, want %d", c.name, c.id(), tracks, 2*(n-1))
		}
	}
}

// TestResume drops an admitted appraiser and resumes it within the window: the same
// participant, still admitted without the judge, receiving and sending media again. After
// another drop and the window, the old resume token is refused.
func TestResume(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	judge.publish(true)
	app := join(t, e, "appraiser", e.token(t, e.user.ID, "李明", RoleAppraiser))
	app.publish(true)
	if code := judge.moderate(ActionAdmit, app.id()); code != "" {
		t.Fatal(code)
	}
	eventually(t, 5*time.Second, "media both ways", func() bool {
		_, v1 := app.got(judge.id())
		_, v2 := judge.got(app.id())
		return v1 > 0 && v2 > 0
	})

	app.drop()
	judge.wait(TypeParticipant, func(m srvMsg) bool { return m.info().ID == app.id() && m.info().Dropped })
	e.clock.Advance(20 * time.Second) // within the 30 s

	back := dial(t, e, e.hearing.ID, Message{Resume: app.joined.Resume})
	back.name = "appraiser again"
	back.joined = back.wait(TypeJoined, nil)
	if back.id() != app.id() || back.joined.State != StateAdmitted || back.joined.Role != RoleAppraiser {
		t.Fatalf("resumed as %+v, want participant %s admitted", back.joined, app.id())
	}
	if back.joined.Resume == app.joined.Resume {
		t.Fatal("the resume token was not renewed")
	}
	back.publish(true)
	eventually(t, 5*time.Second, "media both ways after the resume", func() bool {
		_, v1 := back.got(judge.id())
		_, v2 := judge.got(back.id())
		return v1 > 0 && v2 > 0
	})
	back.drop()
	eventually(t, 5*time.Second, "the judge to see the second drop", func() bool {
		p, ok := judge.participant(app.id())
		return ok && p.Dropped
	})
	e.clock.Advance(31 * time.Second)
	judge.wait(TypeLeft, func(m srvMsg) bool { return m.id() == app.id() && m.Why == whyDropped })
	late := dial(t, e, e.hearing.ID, Message{Resume: back.joined.Resume})
	if code := late.closed(); code != CloseExpired {
		t.Fatalf("late resume closed with %d, want %d", code, CloseExpired)
	}
	// A new join is a new participant, and a witness waits again.
	again := join(t, e, "appraiser anew", e.token(t, e.user.ID, "李明", RoleAppraiser))
	if again.id() == app.id() || again.joined.State != StateWaiting {
		t.Fatalf("rejoined as %s %s", again.id(), again.joined.State)
	}

	// The room writes its log from its own goroutine: the last entry may land a moment after
	// the new participant's join answer.
	want := []string{chuting.AttendanceJoined, chuting.AttendanceAdmitted, chuting.AttendanceDropped,
		chuting.AttendanceResumed, chuting.AttendanceDropped, chuting.AttendanceLeft, chuting.AttendanceJoined}
	var types []string
	eventually(t, 5*time.Second, fmt.Sprintf("the appraiser's log %v", want), func() bool {
		types = types[:0]
		for _, a := range e.attendance(t) {
			if a.SubjectID == e.user.ID {
				types = append(types, a.Type)
			}
		}
		return slices.Equal(types, want)
	})
}

// TestRejoinElsewhere: a person who joins again while in the room (another tab or device:
// the same subject and role) takes over their participant, admission included, and the old
// connection closes (1000); the others still see one participant. An observer joining twice
// is two participants (one link may let several people watch).
func TestRejoinElsewhere(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	app := join(t, e, "appraiser", e.token(t, e.user.ID, "李明", RoleAppraiser))
	if code := judge.moderate(ActionAdmit, app.id()); code != "" {
		t.Fatal(code)
	}
	again := join(t, e, "appraiser again", e.token(t, e.user.ID, "李明", RoleAppraiser))
	if again.id() != app.id() || again.joined.State != StateAdmitted {
		t.Fatalf("joined again as %s %s, want participant %s admitted", again.id(), again.joined.State, app.id())
	}
	if code := app.closed(); code != websocket.CloseNormalClosure {
		t.Fatalf("the first connection closed with %d, want %d", code, websocket.CloseNormalClosure)
	}
	eventually(t, 5*time.Second, "the judge to see the appraiser connected again", func() bool {
		p, ok := judge.participant(app.id())
		return ok && !p.Dropped && p.State == StateAdmitted
	})
	judge.mu.Lock()
	for _, m := range judge.all {
		if m.Type == TypeLeft && m.id() == app.id() {
			t.Errorf("the judge was told the appraiser left (%s)", m.Why)
		}
	}
	judge.mu.Unlock()
	again.publish(true)
	eventually(t, 5*time.Second, "the rejoined appraiser's video at the judge", func() bool {
		_, v := judge.got(app.id())
		return v > 0
	})
	o1 := join(t, e, "observer", e.token(t, "gallery", "旁听", RoleObserver))
	o2 := join(t, e, "observer 2", e.token(t, "gallery", "旁听", RoleObserver))
	if o1.id() == o2.id() {
		t.Fatal("two observers on one subject were made one participant")
	}
	joins := 0
	for _, ev := range e.attendance(t) {
		if ev.Type == chuting.AttendanceJoined && ev.SubjectID == e.user.ID {
			joins++
		}
	}
	if joins != 1 {
		t.Fatalf("the attendance log has %d joins of the appraiser, want 1 (the second is a resume)", joins)
	}
}
