package signaling

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// TestJoin joins a judge and an appraiser and checks what each is told, and that the room's
// node is recorded on the hearing.
func TestJoin(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	if judge.joined.State != StateAdmitted || judge.joined.Role != RoleJudge || judge.joined.Resume == "" {
		t.Fatalf("judge joined as %+v", judge.joined)
	}
	if h := judge.joined.Hearing; h == nil || h.ID != e.hearing.ID || h.State != HearingOpen {
		t.Fatalf("joined hearing = %+v", judge.joined.Hearing)
	}
	list := judge.wait(TypeParticipants, nil)
	if len(list.Participants) != 1 || list.Participants[0].ID != judge.id() {
		t.Fatalf("judge sees %+v", list.Participants)
	}

	app := join(t, e, "appraiser", e.token(t, e.user.ID, "李明", RoleAppraiser))
	if app.joined.State != StateWaiting {
		t.Fatalf("appraiser joined %s, want waiting", app.joined.State)
	}
	// The judge sees the witness waiting, with the identity checklist from the store.
	p := judge.wait(TypeParticipant, func(m srvMsg) bool { return m.info().ID == app.id() }).info()
	if p.State != StateWaiting || p.Checklist == nil {
		t.Fatalf("judge sees appraiser as %+v", p)
	}
	want := Checklist{AppraiserID: e.appraiser.ID, LicenceNo: e.appraiser.LicenceNo, LicenceValid: true,
		Signatory: true, Recusal: []string{"张三"}}
	if !equalChecklist(*p.Checklist, want) {
		t.Fatalf("checklist = %+v, want %+v", *p.Checklist, want)
	}

	h, err := chuting.Load[chuting.Hearing](context.Background(), e.store, e.hearing.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h.Node != "node-1" {
		t.Fatalf("hearing node = %q", h.Node)
	}
}

func equalChecklist(a, b Checklist) bool {
	return a.IdentityVerified == b.IdentityVerified && a.PledgeRead == b.PledgeRead &&
		a.AppraiserID == b.AppraiserID && a.LicenceNo == b.LicenceNo && a.LicenceValid == b.LicenceValid &&
		a.Signatory == b.Signatory && slices.Equal(a.Recusal, b.Recusal)
}

// TestWaitingRoom checks the witness rule at the RTP level (#17): a waiting appraiser
// receives no packet, no track in its sub offers and no room chatter, and its media reaches
// the judge but not counsel; once admitted it receives media within a second.
func TestWaitingRoom(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	judge.publish(true)
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	counsel.publish(true)
	app := join(t, e, "appraiser", e.token(t, e.user.ID, "李明", RoleAppraiser))
	app.publish(true)

	// The judge receives the waiting witness's media; counsel does not.
	eventually(t, 5*time.Second, "the judge to receive the waiting appraiser", func() bool {
		a, v := judge.got(app.id())
		return a > 0 && v > 0
	})
	eventually(t, 5*time.Second, "counsel to receive the judge", func() bool {
		_, v := counsel.got(judge.id())
		return v > 0
	})
	time.Sleep(time.Second)
	if a, v := counsel.got(app.id()); a+v != 0 {
		t.Fatalf("counsel received %d audio, %d video packets from the waiting appraiser", a, v)
	}
	if n := app.packets.Load(); n != 0 {
		t.Fatalf("waiting appraiser received %d RTP packets", n)
	}
	for i, n := range app.offers() {
		if n != 0 {
			t.Fatalf("sub offer %d to the waiting appraiser carries %d tracks", i, n)
		}
	}
	if c := app.chatter(); len(c) != 0 {
		t.Fatalf("waiting appraiser was sent room messages %v", c)
	}

	admitted := time.Now()
	if code := judge.moderate(ActionAdmit, app.id()); code != "" {
		t.Fatalf("admit: %s", code)
	}
	app.wait(TypeState, func(m srvMsg) bool { return m.State == StateAdmitted })
	eventually(t, time.Second, "media at the admitted appraiser within 1 s", func() bool {
		return app.packets.Load() > 0
	})
	t.Logf("first packet %s after admission", time.Duration(app.firstRTP.Load()-admitted.UnixNano()))
	eventually(t, 5*time.Second, "the admitted appraiser to receive judge and counsel", func() bool {
		ja, jv := app.got(judge.id())
		_, cv := app.got(counsel.id())
		return ja > 0 && jv > 0 && cv > 0
	})
	eventually(t, 5*time.Second, "counsel to receive the admitted appraiser", func() bool {
		a, v := counsel.got(app.id())
		return a > 0 && v > 0
	})
}

// TestSpeaker checks the active speaker (room events, docs/signaling.md): an admitted
// participant speaking is announced to the others; a witness speaking in the waiting room
// (to the judge, for the identity check) is not, since the parties must not learn it is
// there (#17); and one sent back to the waiting room is not named as the speaker to a party
// that joins after.
func TestSpeaker(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	app := join(t, e, "appraiser", e.token(t, e.user.ID, "李明", RoleAppraiser))
	if app.joined.State != StateWaiting {
		t.Fatalf("the appraiser joined %s, want waiting", app.joined.State)
	}
	app.publish(false)
	eventually(t, 5*time.Second, "the judge to receive the waiting appraiser's audio", func() bool {
		a, _ := judge.got(app.id())
		return a > 100 // two seconds of 20 ms frames: several ticks of the speaker's window
	})
	named := func(c *client, id string) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range c.all {
			if m.Type == TypeSpeaker && m.id() == id {
				return true
			}
		}
		return false
	}
	if named(counsel, app.id()) || named(judge, app.id()) {
		t.Fatal("the appraiser in the waiting room was announced as the speaker")
	}

	if code := judge.moderate(ActionAdmit, app.id()); code != "" {
		t.Fatal(code)
	}
	counsel.wait(TypeSpeaker, func(m srvMsg) bool { return m.id() == app.id() })

	if code := judge.moderate(ActionToWaiting, app.id()); code != "" {
		t.Fatal(code)
	}
	judge.wait(TypeParticipant, func(m srvMsg) bool { return m.info().ID == app.id() && m.info().State == StateWaiting })
	party := join(t, e, "party", e.token(t, "party-user", "张三", RoleParty))
	party.wait(TypeHearing, nil) // the room's snapshot: participants, hearing, then the speaker if any
	// An answer to a request of the party's comes after whatever the snapshot sent.
	party.send(Message{Type: TypeModerate, ID: "after-snapshot", Action: ActionStart})
	party.answer("after-snapshot")
	if named(party, app.id()) {
		t.Fatal("a party joining after the appraiser went back to the waiting room was told it is the speaker")
	}
}
