package signaling

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// holder returns the node holding the hearing's room, and until when.
func (e *env) holder(tb testing.TB) (string, time.Time) {
	tb.Helper()
	h, err := chuting.Load[chuting.Hearing](context.Background(), e.store, e.hearing.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return h.Node, h.NodeUntil
}

// TestOneRoomAcrossNodes checks that nodes sharing a store never hold two rooms of one
// hearing: a join on a node that does not hold the open room is refused with CloseElsewhere;
// the room's node releases it when it closes, so that another may open it; and a node whose
// hold lapsed (it stalled, or lost the store) closes its room when it finds another holding it.
func TestOneRoomAcrossNodes(t *testing.T) {
	fast := func(c *Config) { c.HoldRenew = 100 * time.Millisecond }
	e := MustEnv(t, fast)
	n2 := startNode(t, e.world, e.tokens, e.clock, "node-2", fast)

	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	if node, until := e.holder(t); node != "node-1" || !until.After(e.clock.Now()) {
		t.Fatalf("after the first join the hearing is held by %q until %v", node, until)
	}
	counsel := dial(t, n2, e.hearing.ID, Message{Token: n2.token(t, "link:c1", "赵律师", RoleCounsel)})
	if code := counsel.closed(); code != CloseElsewhere {
		t.Fatalf("a join on node-2 while node-1 holds the room closed with %d, want %d", code, CloseElsewhere)
	}

	// The room on node-1 closes (the node shuts down): node-2 may open it at once.
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	judge.closed()
	if node, until := e.holder(t); node != "node-1" || !until.IsZero() {
		t.Fatalf("after node-1 closed its room the hearing says %q until %v, want node-1 released", node, until)
	}
	judge2 := join(t, n2, "judge", n2.token(t, e.judge.ID, "王法官", RoleJudge))
	if node, _ := n2.holder(t); node != "node-2" {
		t.Fatalf("the room opened on node-2, but the hearing says %q", node)
	}

	// node-2 stalls past its hold (the clock jumps beyond the lease, as if it had not renewed):
	// node-3 opens the room, and node-2, renewing, finds it held and closes its own.
	// node-2 goes on renewing every 100 ms, so a renewal may land between the lapse and
	// node-3's join and hold the room again: lapse and join until node-3 gets it.
	n3 := startNode(t, e.world, e.tokens, e.clock, "node-3", fast)
	for attempt := 0; ; attempt++ {
		if attempt == 20 {
			t.Fatal("node-3 never got the room after node-2's hold lapsed")
		}
		if _, err := chuting.Update(context.Background(), e.store, e.hearing.ID, func(h *chuting.Hearing) bool {
			h.NodeUntil = e.clock.Now().Add(-time.Second).UTC() // lapsed
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if joinedOrRefused(t, dial(t, n3, e.hearing.ID, Message{Token: n3.token(t, e.judge.ID, "王法官", RoleJudge)})) {
			break
		}
	}
	if code := judge2.closed(); code != CloseElsewhere {
		t.Fatalf("node-2's room, whose hold lapsed, closed with %d, want %d", code, CloseElsewhere)
	}
	if node, until := n3.holder(t); node != "node-3" || !until.After(e.clock.Now()) {
		t.Fatalf("the hearing is held by %q until %v, want node-3", node, until)
	}
}

// joinedOrRefused waits for c's joined (true) or for its connection to close (false).
func joinedOrRefused(t *testing.T, c *client) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		joined := slices.ContainsFunc(c.msgs, func(m srvMsg) bool { return m.Type == TypeJoined })
		c.mu.Unlock()
		if joined {
			return true
		}
		select {
		case <-c.done:
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("neither joined nor refused within 10 s")
	return false
}

// TestClosedRoomSaysWhy: a join or resume that reaches a room while it closes is told why it
// closed (here 4011, the room is held elsewhere: connect there), not that the hearing ended
// (4010, final), which would make the client give up.
func TestClosedRoomSaysWhy(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	e.srv.mu.Lock()
	r := e.srv.rooms[e.hearing.ID]
	e.srv.mu.Unlock()
	r.close(elsewhere("node-2"), false)
	if code := judge.closed(); code != CloseElsewhere {
		t.Fatalf("the judge's connection closed with %d, want %d", code, CloseElsewhere)
	}
	if _, err := r.join(Claims{Hearing: e.hearing.ID, Subject: "link:c1", Name: "赵律师", Role: RoleCounsel}, nil, nil); CloseCode(err) != CloseElsewhere {
		t.Fatalf("a join reaching the closed room: %v (code %d), want %d", err, CloseCode(err), CloseElsewhere)
	}
	if _, err := r.resume(judge.joined.Resume, nil); CloseCode(err) != CloseElsewhere {
		t.Fatalf("a resume reaching the closed room: %v (code %d), want %d", err, CloseCode(err), CloseElsewhere)
	}
}
