package signaling

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/chuting/chuting"
	"github.com/gorilla/websocket"
)

// Room is one hearing's video room on this node. Its lock guards the participants and the
// hearing's state; holders only change state, queue messages and nudge participants, never
// wait for a peer connection or the network (STYLE.md principle 5). Methods named …Unlocked
// need the lock held.
type Room struct {
	s       *Server
	hearing *chuting.Hearing
	window  Window
	log     *attendanceLog

	mu       sync.Mutex
	parts    map[string]*participant
	resumes  map[string]*participant // resume token → participant
	state    string                  // HearingOpen, HearingStarted, HearingEnded
	exhibit  *upTrack
	speaker  string
	closed   bool
	why      *CloseError          // why the room closed: what a join or resume reaching it then is told
	joins    int64                // participants ever joined: their order in lists
	loudness map[*upTrack]float64 // smoothed, for the active speaker
	measured time.Time            // when the tracks' bitrates were last measured
	rec      *roomRecorder        // the recording, once the hearing has started (record.go)
	paused   string               // why the recording is paused; "" while it runs

	quit chan struct{}
	wg   sync.WaitGroup // the participants' loops and the janitor
}

func newRoom(s *Server, h *chuting.Hearing, w Window) *Room {
	r := &Room{s: s, hearing: h, window: w, log: newAttendanceLog(s.cfg.Logs, h.ID, s.log),
		parts: make(map[string]*participant), resumes: make(map[string]*participant),
		state: HearingOpen, loudness: make(map[*upTrack]float64), measured: time.Now(), quit: make(chan struct{})}
	r.wg.Add(2)
	go r.janitor()
	go r.keepHold() // the hold Server.room claimed; close releases it
	return r
}

// record appends an attendance event with the server's time.
func (r *Room) recordUnlocked(typ string, actor, subject *participant, reason string) {
	e := chuting.AttendanceEvent{Time: r.s.cfg.Now().UTC(), HearingID: r.hearing.ID, Type: typ, Reason: reason}
	if actor != nil {
		e.ActorID = actor.claims.Subject
	}
	if subject != nil {
		e.SubjectID = subject.claims.Subject
	}
	r.log.add(e)
}

// join adds a participant for a verified token: witnesses wait, everyone else is admitted.
// A person already in the room (the same subject and role: another tab or device) moves to
// the new connection instead, as on a resume: one person is one participant in the room and
// in the attendance log, and the old connection is closed (1000). Observers are left out of
// this, since one link may let several people watch.
func (r *Room) join(c Claims, check *Checklist, cn *conn) (*participant, error) {
	p, again, err := r.joinLocked(c, check, cn)
	if again {
		p.post(event{c: cn, attach: true}) // not under the lock: the loop may be busy with it
	}
	return p, err
}

func (r *Room) joinLocked(c Claims, check *Checklist, cn *conn) (p *participant, again bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, false, r.why
	}
	if r.state == HearingEnded {
		return nil, false, ErrEnded
	}
	if c.Role != RoleObserver {
		for _, x := range r.parts {
			if x.claims.Subject == c.Subject && x.role == c.Role && !x.gone {
				r.takeOverUnlocked(x, cn, "已在另一处加入 / joined elsewhere", "rejoined participant="+x.id)
				return x, true, nil
			}
		}
	}
	if !r.s.seat() {
		r.s.m.full.Inc()
		r.s.log.Warn("join refused: the node is full", "hearing", r.hearing.ID, "role", c.Role,
			"max_participants", r.s.cfg.MaxParticipants)
		return nil, false, ErrFull
	}
	p = newParticipant(r, c, check)
	r.joins++
	p.seq = r.joins
	if c.Role.waitsFirst() {
		p.state = StateWaiting
	}
	r.parts[p.id] = p
	r.s.m.participants.Inc()
	r.recordUnlocked(chuting.AttendanceJoined, nil, p, fmt.Sprintf("role=%s state=%s participant=%s", p.role, p.state, p.id))
	r.attachUnlocked(p, cn)
	r.notifyUnlocked(p, "", nil)
	r.wg.Add(1)
	go p.loop()
	p.inbox <- event{c: cn, attach: true} // the loop has just started: the inbox is empty
	return p, false, nil
}

// attachUnlocked makes cn p's connection and sends it joined (and the room, if admitted).
func (r *Room) attachUnlocked(p *participant, cn *conn) {
	p.conn, p.droppedAt = cn, time.Time{}
	if p.resume != "" {
		delete(r.resumes, p.resume)
	}
	p.resume = randomID(24)
	r.resumes[p.resume] = p
	p.receiving.Store(p.state == StateAdmitted)
	ice := r.s.cfg.WebRTC.ICEServers
	if r.s.cfg.ICEServers != nil {
		ice = r.s.cfg.ICEServers(p.claims.Subject)
	}
	servers := make([]iceServer, 0, len(ice))
	for _, s := range ice {
		servers = append(servers, iceServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	cn.send(encode(out{Type: TypeJoined, Participant: p.id, Role: p.role, State: p.state,
		Resume: p.resume, ICEServers: servers, Hearing: r.hearingInfoUnlocked(true)}))
	if p.state == StateAdmitted {
		r.sendRoomUnlocked(p)
	}
}

// resume attaches a new connection to the participant a resume token names: same
// participant, role, admission and subscriptions, new peer connections (#8 of the issue).
func (r *Room) resume(token string, cn *conn) (*participant, error) {
	p, err := r.resumeLocked(token, cn)
	if err == nil {
		p.post(event{c: cn, attach: true}) // not under the lock: the loop may be busy with it
	}
	return p, err
}

func (r *Room) resumeLocked(token string, cn *conn) (*participant, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, r.why
	}
	if r.state == HearingEnded {
		return nil, ErrEnded
	}
	p := r.resumes[token]
	if p == nil {
		return nil, refuse(ErrExpired, fmt.Errorf("unknown or expired resume token"))
	}
	gap := r.s.cfg.Now().Sub(p.droppedAt).Round(time.Millisecond)
	if p.conn != nil {
		gap = 0
	}
	r.takeOverUnlocked(p, cn, "已在别处恢复 / resumed elsewhere", fmt.Sprintf("gap=%s participant=%s", gap, p.id))
	return p, nil
}

// takeOverUnlocked moves p to the connection cn (a resume, or the same person joining again):
// an old connection not known to be dead yet is closed with reason and p dropped from it,
// then the resumption is logged with detail and cn attached.
func (r *Room) takeOverUnlocked(p *participant, cn *conn, reason, detail string) {
	if old := p.conn; old != nil {
		old.close(websocket.CloseNormalClosure, reason)
		r.dropUnlocked(p)
	}
	r.recordUnlocked(chuting.AttendanceResumed, nil, p, detail)
	r.attachUnlocked(p, cn)
	r.notifyUnlocked(p, "", nil)
}

// detach handles the end of a participant's connection: a drop, unless it left.
func (r *Room) detach(p *participant, cn *conn) {
	r.mu.Lock()
	dropped := !p.gone && p.conn == cn
	if dropped {
		r.dropUnlocked(p)
	}
	r.mu.Unlock()
	if dropped {
		p.post(event{c: cn, detach: true})
	}
}

// dropUnlocked marks p dropped: it keeps its place for the resume window.
func (r *Room) dropUnlocked(p *participant) {
	p.conn, p.droppedAt = nil, r.s.cfg.Now()
	p.receiving.Store(false)
	r.recordUnlocked(chuting.AttendanceDropped, nil, p, "participant="+p.id)
	r.notifyUnlocked(p, "", nil)
}

// leave removes p from the room for good: it left, was removed, or did not resume in time.
func (r *Room) leave(p *participant, why string, actor *participant, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leaveUnlocked(p, why, actor, reason)
}

// Reasons a participant left, as the left message's why.
const (
	whyLeft    = "left"
	whyRemoved = "removed"
	whyDropped = "dropped"
	whyWaiting = "waiting"
)

func (r *Room) leaveUnlocked(p *participant, why string, actor *participant, reason string) {
	if p.gone {
		return
	}
	typ := chuting.AttendanceLeft
	if why == whyRemoved {
		typ = chuting.AttendanceRemoved
	}
	r.recordUnlocked(typ, actor, p, reason)
	viewers := r.viewersUnlocked(p)
	p.gone = true
	p.receiving.Store(false)
	delete(r.parts, p.id)
	delete(r.resumes, p.resume)
	r.s.m.participants.Dec()
	r.s.unseat()
	if p.floor {
		p.floor = false
	}
	for _, v := range viewers {
		v.send(encode(out{Type: TypeLeft, Participant: p.id, Why: why}))
	}
	if r.speaker == p.id {
		r.speaker = ""
	}
	if p.conn != nil {
		code, msg := websocket.CloseNormalClosure, "再见 / goodbye"
		if why == whyRemoved {
			code, msg = ErrRemoved.Code, ErrRemoved.Reason
		}
		p.conn.close(code, msg)
	}
	p.stop()
	r.kickAllUnlocked(p)
}

// canSee reports whether v is shown x: judges and clerks see everyone, an admitted
// participant sees the admitted ones (itself too), a waiting one sees nobody (#17).
func canSee(v, x *participant) bool {
	switch {
	case v.gone || x.gone || v.state != StateAdmitted:
		return false
	case v.role.privileged():
		return true
	default:
		return x.state == StateAdmitted
	}
}

// viewersUnlocked returns the connected participants that see x.
func (r *Room) viewersUnlocked(x *participant) []*participant {
	var vs []*participant
	for _, v := range r.parts {
		if v.conn != nil && canSee(v, x) {
			vs = append(vs, v)
		}
	}
	return vs
}

// notifyUnlocked tells everyone who sees x how it is now, and those in before who no longer
// see it that it left their view (why: whyWaiting).
func (r *Room) notifyUnlocked(x *participant, why string, before []*participant) {
	now := r.viewersUnlocked(x)
	for _, v := range now {
		v.send(encode(out{Type: TypeParticipant, Participant: r.infoUnlocked(x, v)}))
	}
	for _, v := range before {
		if !slices.Contains(now, v) && v.conn != nil {
			v.send(encode(out{Type: TypeLeft, Participant: x.id, Why: why}))
		}
	}
}

func (r *Room) infoUnlocked(x, viewer *participant) ParticipantInfo {
	info := ParticipantInfo{ID: x.id, Name: x.claims.Name, Role: x.role, State: x.state,
		Dropped: x.conn == nil, Muted: x.muted, Floor: x.floor, AudioOnly: x.videoOff.Load(), Tracks: []TrackInfo{}}
	for _, u := range x.ups {
		info.Tracks = append(info.Tracks, u.info())
	}
	if x.check != nil && viewer.role.privileged() {
		c := *x.check
		info.Checklist = &c
	}
	return info
}

// sendRoomUnlocked sends p the participants it sees and the hearing's state.
func (r *Room) sendRoomUnlocked(p *participant) {
	list := []ParticipantInfo{}
	for _, x := range r.sortedUnlocked() {
		if canSee(p, x) {
			list = append(list, r.infoUnlocked(x, p))
		}
	}
	p.send(encode(out{Type: TypeParticipants, Participants: list}))
	p.send(encode(out{Type: TypeHearing, Hearing: r.hearingInfoUnlocked(false)}))
	if s := r.parts[r.speaker]; s != nil && s.state == StateAdmitted {
		p.send(encode(out{Type: TypeSpeaker, Participant: r.speaker}))
	}
}

func (r *Room) sortedUnlocked() []*participant {
	ps := make([]*participant, 0, len(r.parts))
	for _, p := range r.parts {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *participant) int { return cmp.Compare(a.seq, b.seq) })
	return ps
}

func (r *Room) hearingInfoUnlocked(withID bool) *HearingInfo {
	h := &HearingInfo{State: r.state, Recording: r.rec != nil && r.rec.rec != nil && r.paused == "",
		Paused: r.paused}
	if withID {
		h.ID = r.hearing.ID
	}
	if r.exhibit != nil {
		id := r.exhibit.id
		h.Exhibit = &id
	}
	return h
}

// broadcastUnlocked sends msg to every connected, admitted participant.
func (r *Room) broadcastUnlocked(msg []byte) {
	for _, p := range r.parts {
		if p.conn != nil && p.state == StateAdmitted {
			p.send(msg)
		}
	}
}

// kickAllUnlocked asks every participant but except to bring its subscriptions up to date.
func (r *Room) kickAllUnlocked(except *participant) {
	for _, p := range r.parts {
		if p != except {
			p.resync()
		}
	}
	if r.rec != nil {
		r.rec.poke()
	}
}

// subscriptions returns the tracks p may receive now: none while it waits or is not
// connected; otherwise the others' tracks, except the media of those waiting and screens
// that are not the exhibit, which only judge and clerk receive (#17, #24, #26).
func (r *Room) subscriptions(p *participant) []*upTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.gone || p.conn == nil || p.state != StateAdmitted {
		return nil
	}
	var ups []*upTrack
	for _, x := range r.sortedUnlocked() {
		if x == p {
			continue
		}
		for _, u := range x.ups {
			if p.role.privileged() || x.state == StateAdmitted && (u.source != SourceScreen || r.exhibit == u) {
				ups = append(ups, u)
			}
		}
	}
	return ups
}

// addTrack publishes u in the room; false if its owner has gone.
func (r *Room) addTrack(u *upTrack) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := u.owner
	if p.gone || r.closed {
		return errGone
	}
	if len(p.ups) >= maxTracks {
		return errTooManyTracks
	}
	u.id = "t-" + randomID(9)
	u.public.Store(p.state == StateAdmitted)
	u.open.Store(p.audioOpenUnlocked())
	p.ups = append(p.ups, u)
	r.s.m.tracks.Inc()
	r.notifyUnlocked(p, "", nil)
	r.kickAllUnlocked(p)
	return nil
}

// maxTracks bounds the tracks one participant publishes at once: a camera, a microphone, a
// shared screen and its sound. Each track is sent to every other participant, so a client
// publishing more would make every subscriber renegotiate and receive them all.
const maxTracks = 4

// Why addTrack refused a track.
var (
	errGone          = errors.New("the participant or the room is gone")
	errTooManyTracks = errors.New("too many tracks")
)

// removeTrack unpublishes u.
func (r *Room) removeTrack(u *upTrack) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := u.owner
	i := slices.Index(p.ups, u)
	if i < 0 {
		return
	}
	p.ups = slices.Delete(p.ups, i, i+1)
	r.s.m.tracks.Dec()
	delete(r.loudness, u)
	if r.exhibit == u {
		r.exhibit = nil
		r.broadcastUnlocked(encode(out{Type: TypeHearing, Hearing: r.hearingInfoUnlocked(false)}))
	}
	if !p.gone {
		r.notifyUnlocked(p, "", nil)
	}
	r.kickAllUnlocked(p)
}

// close ends the room: every connection is closed with why, every participant stopped, the
// attendance log written out. ended says the judge ended the hearing.
func (r *Room) close(why *CloseError, ended bool) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed, r.why = true, why
	for _, p := range r.sortedUnlocked() {
		r.recordUnlocked(chuting.AttendanceLeft, nil, p, "room closed: "+why.Reason)
		if p.conn != nil {
			p.conn.closeWith(why)
		}
		p.gone = true
		p.receiving.Store(false)
		p.stop()
		r.s.m.participants.Dec()
		r.s.unseat()
	}
	r.parts = map[string]*participant{}
	r.resumes = map[string]*participant{}
	close(r.quit)
	r.mu.Unlock()
	r.wg.Wait()
	r.log.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	r.s.releaseNode(ctx, r.hearing.ID)
	cancel()
	r.s.roomClosed(r, ended)
	r.s.log.Info("room closed", "hearing", r.hearing.ID, "ended", ended)
}

// keepHold renews this node's hold on the room (claimNode) every HoldRenew until the room
// closes. If another node holds it now (this node's hold lapsed: the store was out of reach
// for the lease, or the process stalled), the room closes with CloseElsewhere rather than run
// beside the other node's. After each renewal it drops the participants whose links were
// revoked (dropRevoked); not when the renewal failed, as the store is then out of reach.
func (r *Room) keepHold() {
	defer r.wg.Done()
	t := time.NewTicker(r.s.cfg.HoldRenew)
	defer t.Stop()
	for {
		select {
		case <-r.quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.s.cfg.HoldRenew)
		err := r.s.claimNode(ctx, r.hearing.ID)
		cancel()
		var ce *CloseError
		if errors.As(err, &ce) {
			r.s.log.Warn("room held by another node: closing it here", "hearing", r.hearing.ID, "err", err)
			r.s.closeLater(r, ce, false)
			return
		}
		if err != nil {
			r.s.log.Warn("renew the room's hold", "hearing", r.hearing.ID, "err", err)
			continue
		}
		r.dropRevoked()
	}
}

// RevokedReason is the reason in the log of a removal for a personal link the court revoked,
// whether the room finds the revocation itself or is told (Server.Remove).
const RevokedReason = "personal link revoked by the court"

// dropRevoked removes the participants whose token the room would refuse now (Config.Revoked:
// the holders of personal links the court revoked), so that a revocation that reached another
// node, which cannot remove them (Server.Remove), takes effect here too (#49). The whole
// sweep has HoldRenew, so that a slow store cannot hold up the next renewal.
func (r *Room) dropRevoked() {
	r.mu.Lock()
	claims := make([]Claims, 0, len(r.parts))
	for _, p := range r.parts {
		claims = append(claims, p.claims)
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), r.s.cfg.HoldRenew)
	defer cancel()
	for _, c := range claims {
		revoked, err := r.s.cfg.Revoked(ctx, c)
		if err == nil && revoked {
			r.removeSubject(c.Subject, RevokedReason)
		}
	}
}

// removeSubject takes every participant who joined as subject out of the room for good, as
// the judge's remove does, and reports how many there were.
func (r *Room) removeSubject(subject, reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.sortedUnlocked() {
		if p.claims.Subject == subject && !p.gone {
			r.leaveUnlocked(p, whyRemoved, nil, reason)
			n++
		}
	}
	return n
}

// janitorTick is how often the room checks its window, the resume deadlines and the active
// speaker.
const janitorTick = 250 * time.Millisecond

func (r *Room) janitor() {
	defer r.wg.Done()
	t := time.NewTicker(janitorTick)
	defer t.Stop()
	for {
		select {
		case <-r.quit:
			return
		case <-t.C:
			r.tick()
		}
	}
}

func (r *Room) tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	now := r.s.cfg.Now()
	if !r.window.Contains(now) {
		r.s.closeLater(r, ErrEnded, false)
		return
	}
	for _, p := range r.parts {
		if p.conn == nil && now.Sub(p.droppedAt) >= r.s.cfg.ResumeWindow {
			r.leaveUnlocked(p, whyDropped, nil, "not resumed within "+r.s.cfg.ResumeWindow.String())
		}
	}
	r.speakerUnlocked()
	if at := time.Now(); at.Sub(r.measured) >= adaptEvery {
		r.measureUnlocked(at.Sub(r.measured))
		r.measured = at
	}
}

// measureUnlocked updates the bitrate of every published track and simulcast layer, which
// the bandwidth adaptation compares with the subscribers' estimates.
func (r *Room) measureUnlocked(dt time.Duration) {
	for _, p := range r.parts {
		for _, u := range p.ups {
			if u.group == nil {
				u.measureRate(dt)
				continue
			}
			if all := u.group.all.Load(); all != nil {
				for _, l := range *all {
					l.measureRate(dt)
				}
			}
		}
	}
}

// Active speaker: each track's mean loudness over a tick, smoothed over about a second; the
// loudest admitted participant above a floor becomes the speaker, and stays until another is
// clearly louder or it falls silent. A participant in the waiting room is never the speaker,
// even when it speaks to the judge (the identity check): the others must not learn it is
// there (#17); one sent back to it stops being the speaker.
const (
	speakerFloor      = 40 // loudness (127 - RFC 6464 level): quieter than about -87 dBov is silence
	speakerHysteresis = 6
)

func (r *Room) speakerUnlocked() {
	if s := r.parts[r.speaker]; s == nil || s.state != StateAdmitted {
		r.speaker = ""
	}
	best, bestScore, current := "", 0.0, 0.0
	for _, p := range r.parts {
		for _, u := range p.ups {
			n := u.samples.Swap(0)
			loud := u.loudness.Swap(0)
			if u.levels == 0 {
				continue
			}
			if p.state != StateAdmitted {
				delete(r.loudness, u)
				continue
			}
			mean := 0.0
			if n > 0 {
				mean = float64(loud) / float64(n)
			}
			score := 0.7*r.loudness[u] + 0.3*mean
			r.loudness[u] = score
			if p.id == r.speaker && score > current {
				current = score
			}
			if score > bestScore {
				best, bestScore = p.id, score
			}
		}
	}
	switch {
	case bestScore < speakerFloor:
		return // keep the last speaker shown while everyone is quiet
	case best == r.speaker, current >= speakerFloor && bestScore < current+speakerHysteresis:
		return
	}
	r.speaker = best
	r.broadcastUnlocked(encode(out{Type: TypeSpeaker, Participant: best}))
}
