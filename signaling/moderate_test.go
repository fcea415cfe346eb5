package signaling

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// flowing reports whether the packets counted by count grow within a second (after a pause
// for those in flight).
func flowing(count func() int64) bool {
	time.Sleep(300 * time.Millisecond) // packets in flight, queues draining
	before := count()
	time.Sleep(700 * time.Millisecond)
	return count() > before
}

// TestModeration checks on the wire that mute, the floor, moving back to the waiting room
// and removal take effect, that others may not moderate, and the attendance log they leave.
func TestModeration(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	clerk := join(t, e, "clerk", e.token(t, "clerk-user", "书记员", RoleClerk))
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	app := join(t, e, "appraiser", e.token(t, e.user.ID, "李明", RoleAppraiser))
	for _, c := range []*client{judge, counsel, app} {
		c.publish(true)
	}
	audioFrom := func(c *client, from *client) func() int64 {
		return func() int64 { a, _ := c.got(from.id()); return a }
	}
	videoFrom := func(c *client, from *client) func() int64 {
		return func() int64 { _, v := c.got(from.id()); return v }
	}

	// The checklist is the judge's and the clerk's to keep (#26–#28).
	if code := counsel.mark(app.id(), ItemIdentityVerified); code != CodeForbidden {
		t.Fatalf("counsel mark: %q, want forbidden", code)
	}
	if code := clerk.mark(app.id(), ItemIdentityVerified); code != "" {
		t.Fatal(code)
	}
	if code := judge.mark(app.id(), ItemPledgeRead); code != "" {
		t.Fatal(code)
	}
	if code := clerk.moderate(ActionRemove, counsel.id()); code != CodeForbidden {
		t.Fatalf("clerk remove: %q, want forbidden", code)
	}
	// A refusal says why in Chinese and English, for the page to show the user's language.
	counsel.send(Message{Type: TypeModerate, ID: "admit-by-counsel", Action: ActionAdmit, Target: app.id()})
	if m := counsel.answer("admit-by-counsel"); m.Code != CodeForbidden || m.Message != "诉讼代理人无权准许入庭 / a counsel may not admit" {
		t.Fatalf("counsel admit: %s %q, want forbidden, in Chinese and English", m.Code, m.Message)
	}
	if code := judge.moderate(ActionAdmit, app.id()); code != "" {
		t.Fatal(code)
	}
	eventually(t, 5*time.Second, "the appraiser's media at counsel", func() bool {
		return audioFrom(counsel, app)() > 0 && videoFrom(counsel, app)() > 0
	})

	// Counsel speaks only with leave (#20): its video flows, its audio does not until the
	// judge grants the floor.
	eventually(t, 5*time.Second, "counsel's video at the judge", func() bool { return videoFrom(judge, counsel)() > 0 })
	if n := audioFrom(judge, counsel)(); n != 0 {
		t.Fatalf("counsel's audio forwarded without the floor: %d packets", n)
	}
	if code := judge.moderate(ActionGrantFloor, counsel.id()); code != "" {
		t.Fatal(code)
	}
	eventually(t, 2*time.Second, "counsel's audio with the floor", func() bool { return audioFrom(judge, counsel)() > 0 })
	if code := judge.moderate(ActionRevokeFloor, counsel.id()); code != "" {
		t.Fatal(code)
	}
	if flowing(audioFrom(judge, counsel)) {
		t.Fatal("counsel's audio still forwarded after the floor was revoked")
	}

	// Mute stops the appraiser's audio at everyone, not its video.
	if code := clerk.moderate(ActionMute, app.id()); code != "" {
		t.Fatal(code)
	}
	if flowing(audioFrom(counsel, app)) || flowing(audioFrom(judge, app)) {
		t.Fatal("muted audio still forwarded")
	}
	if !flowing(videoFrom(counsel, app)) {
		t.Fatal("video stopped with mute")
	}
	if code := judge.moderate(ActionUnmute, app.id()); code != "" {
		t.Fatal(code)
	}
	if !flowing(audioFrom(counsel, app)) {
		t.Fatal("audio not forwarded after unmute")
	}

	// Back to the waiting room: the appraiser stops receiving at once, and counsel stops
	// receiving the appraiser; the judge still sees it.
	if code := judge.moderate(ActionToWaiting, app.id()); code != "" {
		t.Fatal(code)
	}
	app.wait(TypeState, func(m srvMsg) bool { return m.State == StateWaiting })
	counsel.wait(TypeLeft, func(m srvMsg) bool { return m.id() == app.id() && m.Why == whyWaiting })
	if flowing(app.packets.Load) {
		t.Fatal("the appraiser still receives media in the waiting room")
	}
	if flowing(videoFrom(counsel, app)) {
		t.Fatal("counsel still receives the waiting appraiser")
	}
	if !flowing(videoFrom(judge, app)) {
		t.Fatal("the judge no longer receives the waiting appraiser")
	}
	eventually(t, 5*time.Second, "a sub offer without tracks to the waiting appraiser", func() bool {
		o := app.offers()
		return len(o) > 0 && o[len(o)-1] == 0
	})

	// Removal closes counsel with 4009, and the others stop receiving it.
	if code := judge.moderate(ActionRemove, counsel.id()); code != "" {
		t.Fatal(code)
	}
	if code := counsel.closed(); code != CloseRemoved {
		t.Fatalf("removed counsel closed with %d", code)
	}
	judge.wait(TypeLeft, func(m srvMsg) bool { return m.id() == counsel.id() && m.Why == whyRemoved })
	if flowing(videoFrom(judge, counsel)) {
		t.Fatal("the judge still receives removed counsel")
	}

	// The log holds each step in order, with who did it (#21, #34).
	type step struct{ typ, actor, subject string }
	want := []step{
		{chuting.AttendanceJoined, "", e.judge.ID},
		{chuting.AttendanceJoined, "", "clerk-user"},
		{chuting.AttendanceJoined, "", "link:c1"},
		{chuting.AttendanceJoined, "", e.user.ID},
		{chuting.AttendanceIdentityVerified, "clerk-user", e.user.ID},
		{chuting.AttendancePledgeRead, e.judge.ID, e.user.ID},
		{chuting.AttendanceAdmitted, e.judge.ID, e.user.ID},
		{chuting.AttendanceFloorGranted, e.judge.ID, "link:c1"},
		{chuting.AttendanceFloorRevoked, e.judge.ID, "link:c1"},
		{chuting.AttendanceMuted, "clerk-user", e.user.ID},
		{chuting.AttendanceUnmuted, e.judge.ID, e.user.ID},
		{chuting.AttendanceMovedToWaiting, e.judge.ID, e.user.ID},
		{chuting.AttendanceRemoved, e.judge.ID, "link:c1"},
	}
	var got []step
	eventually(t, 5*time.Second, "the attendance log", func() bool {
		got = got[:0]
		for _, a := range e.attendance(t) {
			if a.HearingID != e.hearing.ID || a.Time.IsZero() {
				t.Fatalf("event %+v", a)
			}
			got = append(got, step{a.Type, a.ActorID, a.SubjectID})
		}
		return len(got) >= len(want)
	})
	if !slices.Equal(got, want) {
		t.Fatalf("attendance log:\n got %v\nwant %v", got, want)
	}
}

// TestObserver checks that an observer is admitted to the gallery, receives the hearing, and
// cannot publish (#45).
func TestObserver(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	judge.publish(true)
	obs := join(t, e, "observer", e.token(t, "link:o1", "旁听人", RoleObserver))
	if obs.joined.State != StateAdmitted {
		t.Fatalf("observer joined %s", obs.joined.State)
	}
	obs.publish(true)
	if m := obs.wait(TypeError, nil); m.Code != CodeForbidden {
		t.Fatalf("observer offer: %s, want forbidden", m.Code)
	}
	eventually(t, 5*time.Second, "the judge's media at the observer", func() bool {
		a, v := obs.got(judge.id())
		return a > 0 && v > 0
	})
	time.Sleep(500 * time.Millisecond)
	if a, v := judge.got(obs.id()); a+v != 0 {
		t.Fatalf("the judge received %d packets from the observer", a+v)
	}
	if p, _ := judge.participant(obs.id()); len(p.Tracks) != 0 {
		t.Fatalf("observer has tracks %v", p.Tracks)
	}
}

// TestEnd checks that the judge ending the hearing closes everyone with 4010, is logged, and
// that the room cannot be joined again.
func TestEnd(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	app := join(t, e, "appraiser", e.token(t, e.user.ID, "李明", RoleAppraiser))
	if code := app.moderate(ActionStart, ""); code != CodeForbidden {
		t.Fatalf("appraiser start: %q", code)
	}
	// A target, which start does not use, is ignored like any unused field (docs/signaling.md,
	// "Transport"), even one that names nobody.
	judge.send(Message{Type: TypeModerate, ID: "start", Action: ActionStart, Target: "p-gone"})
	if m := judge.answer("start"); m.Type != TypeOK {
		t.Fatalf("start with an unused target: %s %s %s", m.Type, m.Code, m.Message)
	}
	judge.wait(TypeHearing, func(m srvMsg) bool { return m.Hearing.State == HearingStarted })
	if code := judge.moderate(ActionEnd, ""); code != "" {
		t.Fatal(code)
	}
	for _, c := range []*client{judge, app} {
		if code := c.closed(); code != CloseEnded {
			t.Fatalf("%s closed with %d, want %d", c.name, code, CloseEnded)
		}
	}
	again := dial(t, e, e.hearing.ID, Message{Token: e.token(t, e.judge.ID, "王法官", RoleJudge)})
	if code := again.closed(); code != CloseEnded {
		t.Fatalf("join after the end closed with %d", code)
	}
	// The room writes its log out while it closes, which ends after the connections close:
	// the last entries may land a moment after the clients saw the close.
	want := []string{chuting.AttendanceJoined, chuting.AttendanceJoined, chuting.AttendanceHearingStarted,
		chuting.AttendanceHearingEnded, chuting.AttendanceLeft, chuting.AttendanceLeft}
	var types []string
	eventually(t, 5*time.Second, fmt.Sprintf("the log %v", want), func() bool {
		types = types[:0]
		for _, a := range e.attendance(t) {
			types = append(types, a.Type)
		}
		return slices.Equal(types, want)
	})
}

// TestExhibit checks that a witness's shared screen reaches judge and clerk, and the others
// only while the judge shows it as the exhibit (#24).
func TestExhibit(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	app := join(t, e, "appraiser", e.token(t, e.user.ID, "李明", RoleAppraiser))
	if code := judge.moderate(ActionAdmit, app.id()); code != "" {
		t.Fatal(code)
	}
	app.screen = true
	app.publish(true)
	var screen string
	eventually(t, 5*time.Second, "the appraiser's screen track", func() bool {
		p, _ := judge.participant(app.id())
		for _, tr := range p.Tracks {
			if tr.Source == SourceScreen {
				screen = tr.ID
			}
		}
		return screen != ""
	})
	eventually(t, 5*time.Second, "the screen at the judge", func() bool { return judge.gotTrack(screen) > 0 })
	eventually(t, 5*time.Second, "the camera at counsel", func() bool { _, v := counsel.got(app.id()); return v > 0 })
	if n := counsel.gotTrack(screen); n != 0 {
		t.Fatalf("counsel received %d packets of a screen not shown", n)
	}
	if code := counsel.moderate(ActionShowExhibit, ""); code != CodeMissingField {
		t.Fatalf("show_exhibit without exhibit: %q", code)
	}
	id := "show-1"
	counsel.send(Message{Type: TypeModerate, ID: id, Action: ActionShowExhibit, Exhibit: screen})
	if code := counsel.result(id); code != CodeForbidden {
		t.Fatalf("counsel show_exhibit: %q", code)
	}
	judge.send(Message{Type: TypeModerate, ID: id, Action: ActionShowExhibit, Exhibit: screen})
	if code := judge.result(id); code != "" {
		t.Fatal(code)
	}
	counsel.wait(TypeHearing, func(m srvMsg) bool { return m.Hearing.Exhibit != nil && *m.Hearing.Exhibit == screen })
	eventually(t, 5*time.Second, "the exhibit at counsel", func() bool { return counsel.gotTrack(screen) > 0 })
	if code := judge.moderate(ActionStopExhibit, ""); code != "" {
		t.Fatal(code)
	}
	if flowing(func() int64 { return counsel.gotTrack(screen) }) {
		t.Fatal("counsel still receives the exhibit after it was stopped")
	}
}

// TestWindowCloses checks that the room closes by itself at the end of its window.
func TestWindowCloses(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	e.clock.Advance(time.Until(e.hearing.End.Add(30*time.Minute)) + time.Second)
	if code := judge.closed(); code != CloseEnded {
		t.Fatalf("closed with %d, want %d", code, CloseEnded)
	}
}

// TestRemoveRevoked: when the court revokes a personal link, its holder, already in the room,
// is taken out (closed with CloseRemoved, a removed event with the reason in the log) and the
// others see them leave; the rest of the room is untouched.
func TestRemoveRevoked(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	eventually(t, 5*time.Second, "the judge to see counsel", func() bool {
		_, ok := judge.participant(counsel.id())
		return ok
	})
	if n := e.srv.Remove(e.hearing.ID, "link:nobody", "link revoked"); n != 0 {
		t.Fatalf("removed %d for a subject not in the room", n)
	}
	if n := e.srv.Remove("no-such-hearing", "link:c1", "link revoked"); n != 0 {
		t.Fatalf("removed %d from a room that is not open", n)
	}
	if n := e.srv.Remove(e.hearing.ID, "link:c1", "link revoked"); n != 1 {
		t.Fatalf("removed %d, want 1", n)
	}
	if code := counsel.closed(); code != CloseRemoved {
		t.Fatalf("counsel closed with %d, want %d", code, CloseRemoved)
	}
	judge.wait(TypeLeft, func(m srvMsg) bool { return m.id() == counsel.id() && m.Why == whyRemoved })
	eventually(t, 5*time.Second, "the removal in the log", func() bool {
		for _, a := range e.attendance(t) {
			if a.Type == chuting.AttendanceRemoved && a.SubjectID == "link:c1" && a.Reason == "link revoked" {
				return true
			}
		}
		return false
	})
	if code := judge.moderate(ActionStart, ""); code != "" {
		t.Fatalf("the judge's room no longer works: %s", code)
	}
}

// TestAudioOnly checks that a participant who switches to audio only (#47) stops receiving
// video at once and keeps receiving sound, that the others see the switch in its entry, that
// video comes back when asked, and that both switches are logged.
func TestAudioOnly(t *testing.T) {
	e := MustEnv(t, nil)
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	judge.publish(true)
	counsel.publish(true)
	audio := func() int64 { a, _ := counsel.got(judge.id()); return a }
	video := func() int64 { _, v := counsel.got(judge.id()); return v }
	eventually(t, 5*time.Second, "the judge's media at counsel", func() bool { return audio() > 0 && video() > 0 })

	receive := func(on bool) string {
		id := fmt.Sprintf("receive-%v-%s", on, randomID(4))
		counsel.send(Message{Type: TypeReceive, ID: id, Video: &on})
		return counsel.result(id)
	}
	if code := receive(false); code != "" {
		t.Fatalf("audio only: %s", code)
	}
	judge.wait(TypeParticipant, func(m srvMsg) bool { return m.info().ID == counsel.id() && m.info().AudioOnly })
	if flowing(video) {
		t.Fatal("video still sent to a participant on audio only")
	}
	if !flowing(audio) {
		t.Fatal("sound stopped with audio only")
	}
	if _, v := judge.got(counsel.id()); v == 0 || !flowing(func() int64 { _, v := judge.got(counsel.id()); return v }) {
		t.Fatal("the judge stopped receiving counsel's video: audio only is about what counsel receives")
	}
	if code := receive(false); code != "" { // again: nothing changes, nothing is logged
		t.Fatalf("audio only twice: %s", code)
	}

	if code := receive(true); code != "" {
		t.Fatalf("video back: %s", code)
	}
	judge.wait(TypeParticipant, func(m srvMsg) bool { return m.info().ID == counsel.id() && !m.info().AudioOnly })
	if !flowing(video) {
		t.Fatal("video not sent again after video back")
	}

	var got []string
	eventually(t, 5*time.Second, "the switches in the attendance log", func() bool {
		got = got[:0]
		for _, a := range e.attendance(t) {
			if a.SubjectID == "link:c1" && a.ActorID == "link:c1" {
				got = append(got, a.Type)
			}
		}
		return len(got) >= 2
	})
	if want := []string{chuting.AttendanceAudioOnly, chuting.AttendanceVideoBack}; !slices.Equal(got, want) {
		t.Fatalf("counsel's own entries in the log: %v, want %v", got, want)
	}
}

// TestRevokedElsewhere checks that the node holding the room removes the holder of a personal
// link revoked through another node (whose Server.Remove finds no room to act on), at its next
// renewal of the hold (#49).
func TestRevokedElsewhere(t *testing.T) {
	var revoked atomic.Bool
	var asked atomic.Int32 // times the room asked about counsel's link
	e := MustEnv(t, func(c *Config) {
		c.HoldRenew = 100 * time.Millisecond
		c.Revoked = func(_ context.Context, cl Claims) (bool, error) {
			if cl.Subject == "link:c1" {
				asked.Add(1)
			}
			return cl.Subject == "link:c1" && revoked.Load(), nil
		}
	})
	judge := join(t, e, "judge", e.token(t, e.judge.ID, "王法官", RoleJudge))
	counsel := join(t, e, "counsel", e.token(t, "link:c1", "赵律师", RoleCounsel))
	// Renewals pass, each asking about the link (not revoked yet), and counsel stays.
	start := asked.Load()
	eventually(t, 5*time.Second, "two renewals to check counsel's link", func() bool { return asked.Load() >= start+2 })
	if _, ok := judge.participant(counsel.id()); !ok {
		t.Fatal("counsel removed before the link was revoked")
	}
	revoked.Store(true) // as the court's revocation, stored through another node, reads here
	if code := counsel.closed(); code != CloseRemoved {
		t.Fatalf("counsel closed with %d, want %d", code, CloseRemoved)
	}
	judge.wait(TypeLeft, func(m srvMsg) bool { return m.id() == counsel.id() && m.Why == whyRemoved })
}
