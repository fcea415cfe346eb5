package signaling

import (
	"cmp"
	"fmt"

	"github.com/chuting/chuting"
)

// moderate carries out a moderate or mark message from actor: it checks the role, changes
// the room, records the attendance event with the actor (#21, #34), tells those concerned
// and answers ok. An error means the command was refused (the caller answers it).
func (r *Room) moderate(actor *participant, m *Message) *ProtocolError {
	action := m.Action
	if m.Type == TypeMark {
		action = TypeMark
	}
	if !actor.role.mayModerate(action) {
		return protoErr(CodeForbidden, "action", "%s无权%s / a %s may not %s", actor.role.chinese(),
			cmp.Or(actionChinese[action], action), actor.role, action)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || actor.gone {
		return protoErr(CodeOutOfOrder, "", roomClosing)
	}
	var t *participant
	if m.Target != "" && (targeted[action] || action == TypeMark) { // others ignore it (docs: unused fields)
		if t = r.parts[m.Target]; t == nil {
			return protoErr(CodeNotFound, "target", "没有该参与人 / no participant %.40q", m.Target)
		}
	}
	if action == ActionEnd { // ok goes before the room closes
		actor.send(encode(out{Type: TypeOK, Ref: m.ID}))
	}
	err := r.moderateUnlocked(actor, t, action, m)
	if err == nil && action != ActionEnd {
		actor.send(encode(out{Type: TypeOK, Ref: m.ID}))
	}
	return err
}

func (r *Room) moderateUnlocked(actor, t *participant, action string, m *Message) *ProtocolError {
	switch action {
	case TypeMark:
		return r.markUnlocked(actor, t, m.Item)
	case ActionAdmit, ActionToWaiting:
		return r.admitUnlocked(actor, t, action == ActionAdmit)
	case ActionMute, ActionUnmute:
		mute := action == ActionMute
		if t.muted == mute {
			return nil
		}
		t.muted = mute
		t.gateAudioUnlocked()
		r.recordUnlocked(attendanceOf[action], actor, t, "")
		r.notifyUnlocked(t, "", nil)
	case ActionGrantFloor, ActionRevokeFloor:
		grant := action == ActionGrantFloor
		if t.floor == grant {
			return nil
		}
		if grant { // one speaker with leave at a time (#20)
			for _, x := range r.parts {
				if x.floor {
					x.floor = false
					x.gateAudioUnlocked()
					r.recordUnlocked(chuting.AttendanceFloorRevoked, actor, x, "floor given to "+t.id)
					r.notifyUnlocked(x, "", nil)
				}
			}
		}
		t.floor = grant
		t.gateAudioUnlocked()
		r.recordUnlocked(attendanceOf[action], actor, t, "")
		r.notifyUnlocked(t, "", nil)
	case ActionRemove:
		if t.role == RoleJudge {
			return protoErr(CodeForbidden, "target", "不能请出法官 / a judge cannot be removed")
		}
		r.leaveUnlocked(t, whyRemoved, actor, "")
	case ActionStart:
		if r.state != HearingOpen {
			return protoErr(CodeOutOfOrder, "action", "庭审已开始或已结束 / the hearing is %s", r.state)
		}
		r.state = HearingStarted
		r.recordUnlocked(chuting.AttendanceHearingStarted, actor, nil, "")
		r.startRecordingUnlocked(actor)
		r.broadcastUnlocked(encode(out{Type: TypeHearing, Hearing: r.hearingInfoUnlocked(false)}))
	case ActionEnd:
		r.state = HearingEnded
		r.recordUnlocked(chuting.AttendanceHearingEnded, actor, nil, "")
		r.broadcastUnlocked(encode(out{Type: TypeHearing, Hearing: r.hearingInfoUnlocked(false)}))
		r.s.closeLater(r, ErrEnded, true)
	case ActionPause, ActionResume:
		return r.pauseUnlocked(actor, action == ActionPause, m.Reason)
	case ActionShowExhibit, ActionStopExhibit:
		var u *upTrack
		if action == ActionShowExhibit {
			if u = r.trackUnlocked(m.Exhibit); u == nil || u.source != SourceScreen {
				return protoErr(CodeNotFound, "exhibit", "没有该共享屏幕 / no shared screen %.40q", m.Exhibit)
			}
		}
		if r.exhibit == u {
			return nil
		}
		if r.exhibit != nil {
			r.exhibit.shown.Store(false)
		}
		r.exhibit = u
		reason := ""
		if u != nil {
			u.shown.Store(true)
			reason = "track=" + u.id
		}
		r.recordUnlocked(attendanceOf[action], actor, nil, reason)
		r.broadcastUnlocked(encode(out{Type: TypeHearing, Hearing: r.hearingInfoUnlocked(false)}))
		r.kickAllUnlocked(nil)
	}
	return nil
}

// admitUnlocked lets t into the hearing, or sends it back to the waiting room (#17, #20).
func (r *Room) admitUnlocked(actor, t *participant, admit bool) *ProtocolError {
	want := StateWaiting
	if admit {
		want = StateAdmitted
	}
	if t.state == want {
		return nil
	}
	if !admit && t.role.privileged() {
		return protoErr(CodeForbidden, "target", "不能将%s退回等候室 / a %s cannot be sent to the waiting room", t.role.chinese(), t.role)
	}
	before := r.viewersUnlocked(t)
	t.state = want
	t.receiving.Store(admit && t.conn != nil)
	for _, u := range t.ups {
		u.public.Store(admit)
	}
	if !admit && t.floor {
		t.floor = false
		t.gateAudioUnlocked()
	}
	typ := attendanceOf[ActionToWaiting]
	if admit {
		typ = attendanceOf[ActionAdmit]
	}
	r.recordUnlocked(typ, actor, t, "")
	t.send(encode(out{Type: TypeState, State: want}))
	if admit {
		r.sendRoomUnlocked(t)
	}
	r.notifyUnlocked(t, whyWaiting, before)
	t.resync()
	r.kickAllUnlocked(t)
	return nil
}

// pauseUnlocked pauses the recording for an allowed reason, or resumes it (#29); the
// pause's time and reason are attendance events, which the recording's manifest includes.
func (r *Room) pauseUnlocked(actor *participant, pause bool, reason string) *ProtocolError {
	if r.rec == nil || r.rec.rec == nil {
		return protoErr(CodeOutOfOrder, "action", "本庭审未在录像 / the hearing is not being recorded")
	}
	if pause == (r.paused != "") {
		return nil
	}
	if pause {
		r.paused = reason
		r.rec.p.receiving.Store(false)
		r.recordUnlocked(chuting.AttendanceRecordingPaused, actor, nil, reason)
	} else {
		r.paused = ""
		r.rec.p.receiving.Store(true)
		r.recordUnlocked(chuting.AttendanceRecordingResumed, actor, nil, "")
		r.rec.fresh.Store(true) // keyframes again: video resumes at once
		r.rec.poke()
	}
	r.broadcastUnlocked(encode(out{Type: TypeHearing, Hearing: r.hearingInfoUnlocked(false)}))
	return nil
}

// markUnlocked records a checklist item (#26, #27, #28).
func (r *Room) markUnlocked(actor, t *participant, item string) *ProtocolError {
	if t.check == nil {
		t.check = &Checklist{Recusal: []string{}}
	}
	switch item {
	case ItemIdentityVerified:
		t.check.IdentityVerified = true
	case ItemPledgeRead:
		t.check.PledgeRead = true
	}
	r.recordUnlocked(attendanceOf[item], actor, t, "")
	r.notifyUnlocked(t, "", nil)
	return nil
}

func (r *Room) trackUnlocked(id string) *upTrack {
	for _, p := range r.parts {
		for _, u := range p.ups {
			if u.id == id {
				return u
			}
		}
	}
	return nil
}

// String names the room in logs.
func (r *Room) String() string { return fmt.Sprintf("room %s", r.hearing.ID) }

// receive switches p to audio only (video false) or back (#47): a participant on a poor link
// stops receiving video, so that the sound holds. The room stops forwarding video to it at
// once, keeping its subscriptions, so that video comes back without renegotiating: then each
// video publisher is asked for a keyframe. The switch is in the attendance log, and those who
// see p see it in its participant entry, so that the judge knows why it shows no video.
func (r *Room) receive(p *participant, video bool) *ProtocolError {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || p.gone {
		return protoErr(CodeOutOfOrder, "", roomClosing)
	}
	if p.videoOff.Load() == !video {
		return nil
	}
	p.videoOff.Store(!video)
	typ := chuting.AttendanceAudioOnly
	if video {
		typ = chuting.AttendanceVideoBack
		select { // the loop asks for keyframes: video resumes on one
		case p.keyframe <- struct{}{}:
		default:
		}
	}
	r.recordUnlocked(typ, p, p, "")
	r.notifyUnlocked(p, "", nil)
	return nil
}
