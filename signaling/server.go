package signaling

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chuting/chuting"
	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Server. Records, Logs and Tokens are required; the rest have defaults.
type Config struct {
	Records chuting.Records // hearings (read; Node written), summons, appraisers, users
	Logs    chuting.Logs    // the hearings' attendance logs (appended)
	Tokens  *Tokens         // join tokens
	WebRTC  WebRTCConfig    // how media reaches clients

	// AllowedOrigins are the origins ("https://court.example") allowed to open the WebSocket
	// besides the server's own. A request without Origin (not a browser) is allowed: it still
	// needs a token.
	AllowedOrigins []string

	OpenBefore   time.Duration // the room opens this long before the hearing; 30 min
	Grace        time.Duration // and closes this long after its slot; 30 min
	ResumeWindow time.Duration // a dropped participant may resume this long; 30 s

	Now        func() time.Time      // time.Now
	Logger     *slog.Logger          // slog.Default()
	Registerer prometheus.Registerer // where the metrics go; none if nil
	Node       string                // this node's name, written on the hearings it holds

	// Public reports whether observers may join the hearing (#45). The default reads the
	// hearing's summons: a private one (不公开审理) refuses them.
	Public func(ctx context.Context, h *chuting.Hearing) (bool, error)
	// Revoked reports whether a token's subject may no longer join; refused with 4006. The
	// default refuses the holder of a personal link the court revoked (#49).
	Revoked func(ctx context.Context, c Claims) (bool, error)

	// ICEServers, when set, gives each participant their own STUN/TURN servers in joined (the
	// embedded relay's time-limited credentials, issued to the token's subject); otherwise
	// WebRTC.ICEServers go to all.
	ICEServers func(subject string) []webrtc.ICEServer
	// Recorder records each hearing from the judge's start (record.go); nil records nothing.
	Recorder Recorder

	PingInterval time.Duration // 10 s
	DeadAfter    time.Duration // a silent client is dropped after this; 30 s
	JoinTimeout  time.Duration // the first message must come within this; 10 s
	MediaQueue   int           // packets queued to one subscriber before dropping (besides those its writer took); 512
	// MaxParticipants bounds the participants in all of this node's rooms (those dropped and
	// within their resume window count); a join beyond it is refused with CloseFull, so that
	// the hearings under way keep their media whole rather than all degrading (docs/perf.md:
	// past what the machine forwards, every room loses packets). Resumes are always let in.
	// 0: no bound.
	MaxParticipants int
	// HoldRenew is how often the node renews its hold on an open room (claimNode), which
	// lasts leaseRenewals times as long; 10 s.
	HoldRenew time.Duration
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.OpenBefore, 30*time.Minute)
	def(&c.Grace, 30*time.Minute)
	def(&c.ResumeWindow, 30*time.Second)
	def(&c.PingInterval, 10*time.Second)
	def(&c.DeadAfter, 30*time.Second)
	def(&c.JoinTimeout, 10*time.Second)
	def(&c.HoldRenew, roomRenew)
	if c.MediaQueue <= 0 {
		c.MediaQueue = 512
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Public == nil {
		c.Public = func(ctx context.Context, h *chuting.Hearing) (bool, error) {
			sm, err := chuting.Load[chuting.Summons](ctx, c.Records, h.SummonsID)
			if err != nil {
				return false, err
			}
			return !sm.Private, nil
		}
	}
	if c.Revoked == nil {
		c.Revoked = func(ctx context.Context, cl Claims) (bool, error) {
			id, ok := strings.CutPrefix(cl.Subject, "link:")
			if !ok {
				return false, nil
			}
			l, err := chuting.Load[chuting.JoinLink](ctx, c.Records, id)
			if chuting.ErrorCode(err) == chuting.ENOTFOUND {
				return true, nil
			} else if err != nil {
				return false, err
			}
			return l.Revoked || l.HearingID != cl.Hearing, nil
		}
	}
}

// Server runs the hearing rooms of this node. It is the http.Handler of the room WebSocket,
// GET /api/v1/hearings/{id}/room: it reads the hearing ID from r.PathValue("id").
type Server struct {
	cfg   Config
	media *media
	m     *metrics
	log   *slog.Logger
	up    websocket.Upgrader

	mu     sync.Mutex
	rooms  map[string]*Room
	ended  map[string]bool // hearings whose judge ended them
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup // HTTP handlers, connection writers, closing rooms

	present atomic.Int64 // participants in the rooms (seat), bounded by cfg.MaxParticipants
}

// seat takes a place for one more participant on the node; false when it has
// cfg.MaxParticipants already.
func (s *Server) seat() bool {
	for {
		n := s.present.Load()
		if s.cfg.MaxParticipants > 0 && n >= int64(s.cfg.MaxParticipants) {
			return false
		}
		if s.present.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// unseat gives a participant's place back.
func (s *Server) unseat() { s.present.Add(-1) }

var _ http.Handler = (*Server)(nil)

// New returns a Server, with its ICE ports open. Close it to free them.
func New(cfg Config) (*Server, error) {
	if cfg.Records == nil || cfg.Logs == nil || cfg.Tokens == nil {
		return nil, errors.New("signaling: Records, Logs and Tokens are required")
	}
	cfg.defaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("signaling metrics: %w", err)
	}
	md, err := newMedia(cfg.WebRTC, pionLogs{cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("signaling media: %w", err)
	}
	if err := registerUDP(cfg.Registerer, md.batched); err != nil {
		_ = md.close()
		return nil, fmt.Errorf("signaling metrics: %w", err)
	}
	s := &Server{cfg: cfg, media: md, m: m, log: cfg.Logger.With("component", "signaling"),
		rooms: make(map[string]*Room), ended: make(map[string]bool), conns: make(map[*conn]struct{})}
	s.up = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096, CheckOrigin: s.checkOrigin,
		HandshakeTimeout: 10 * time.Second}
	udp, tcp := md.addrs()
	s.log.Info("media ports", "udp", udp, "tcp", tcp, "udp_read_buffer", md.readBuf, "udp_write_buffer", md.writeBuf)
	if md.readBuf > 0 && md.readBuf < udpBuffer {
		// Linux reports twice what it grants: below udpBuffer, the cap cut the request in half
		// or more, and a burst of media may overflow the socket.
		s.log.Warn("the media UDP port's buffers are small: raise net.core.rmem_max and net.core.wmem_max to 8388608 (docs/perf.md)",
			"read_buffer", md.readBuf, "write_buffer", md.writeBuf)
	}
	return s, nil
}

// ICEAddrs returns the addresses of the single ICE UDP port(s) and the ICE TCP port (nil
// when off), for logs and firewall checks.
func (s *Server) ICEAddrs() (udp []net.Addr, tcp net.Addr) { return s.media.addrs() }

// checkOrigin allows requests without Origin, from the server's own origin, and from the
// configured ones; the upgrade refuses others with 403.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if slices.Contains(s.cfg.AllowedOrigins, origin) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// Window returns the time h's room is open: from OpenBefore before it starts to Grace after
// it ends.
func (s *Server) Window(h *chuting.Hearing) Window {
	return Window{Start: h.Start.Add(-s.cfg.OpenBefore), End: h.End.Add(s.cfg.Grace)}
}

// JoinToken issues a join token for subject (a user ID, or "link:<id>" for a personal link)
// to join the hearing as role, valid for TokenTTL and not past the room's window. The HTTP
// routes call it once they have checked who may join as what. ENOTFOUND for an unknown
// hearing; EINVALID when the room is not open now, or for an unknown role.
func (s *Server) JoinToken(ctx context.Context, hearingID, subject, name string, role Role) (string, error) {
	h, err := chuting.Load[chuting.Hearing](ctx, s.cfg.Records, hearingID)
	if err != nil {
		return "", err
	}
	w, now := s.Window(h), s.cfg.Now()
	if !w.Contains(now) {
		return "", chuting.Errorf(chuting.EINVALID, "庭审房间 %s 至 %s 开放 / the room is open from %s to %s",
			w.Start.Format(time.DateTime), w.End.Format(time.DateTime), w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339))
	}
	exp := now.Add(TokenTTL)
	if w.End.Before(exp) {
		exp = w.End
	}
	return s.cfg.Tokens.Issue(Claims{Hearing: h.ID, Subject: subject, Name: name, Role: role, Expires: exp})
}

// enter registers an HTTP handler goroutine; false once the server is closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// What a participant is told when a request comes as the room, or the whole server, closes.
const (
	roomClosing  = "庭审室正在关闭 / the room is closing"
	shuttingDown = "服务器正在关闭 / shutting down"
)

// ServeHTTP serves the room WebSocket of the hearing r.PathValue("id"): 404 for an unknown
// hearing, 403 for a foreign origin; then the protocol in docs/signaling.md.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.enter() {
		http.Error(w, shuttingDown, http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	h, err := chuting.Load[chuting.Hearing](r.Context(), s.cfg.Records, r.PathValue("id"))
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		http.Error(w, "庭审不存在 / no such hearing", http.StatusNotFound)
		return
	} else if err != nil {
		s.log.Error("load hearing", "hearing", r.PathValue("id"), "err", err)
		http.Error(w, "内部错误 / internal error", http.StatusInternalServerError)
		return
	}
	ws, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws.SetReadLimit(HardMaxMessage)
	c := newConn(ws)
	s.mu.Lock()
	if s.closed {
		c.close(websocket.CloseGoingAway, shuttingDown)
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.writeLoop(s.cfg.PingInterval)
	}()
	s.serve(c, h, start)
	c.close(websocket.CloseNormalClosure, "")
	c.drain()
	<-c.done
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// serve runs one connection: the join, then the read loop.
func (s *Server) serve(c *conn, h *chuting.Hearing, start time.Time) {
	_ = c.ws.SetReadDeadline(time.Now().Add(s.cfg.JoinTimeout))
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		c.closeWith(ErrNoJoin)
		return
	}
	m, err := Parse(data)
	if err == nil && m.Type != TypeJoin {
		err = protoErr(CodeOutOfOrder, "type", "第一条消息须为 join / the first message must be join")
	}
	if err != nil {
		c.send(errorMsg(m.ID, err.(*ProtocolError)))
		c.closeWith(ErrNoJoin)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	p, err := s.join(ctx, c, h, m)
	cancel()
	if err != nil {
		var ce *CloseError
		if !errors.As(err, &ce) {
			s.log.Error("join", "hearing", h.ID, "err", err)
			ce = &CloseError{Code: websocket.CloseInternalServerErr, Reason: "内部错误 / internal error"}
		} else {
			s.log.Info("join refused", "hearing", h.ID, "code", ce.Code, "err", err)
		}
		c.closeWith(ce)
		return
	}
	s.m.join.Observe(time.Since(start).Seconds())
	s.readLoop(c, p)
	p.room.detach(p, c)
}

// readLoop reads the joined client's messages and hands them to its participant.
func (s *Server) readLoop(c *conn, p *participant) {
	alive := func() { _ = c.ws.SetReadDeadline(time.Now().Add(s.cfg.DeadAfter)) }
	c.ws.SetPongHandler(func(string) error { alive(); return nil })
	for {
		alive()
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		ok, tooMany := c.allow()
		if tooMany {
			c.closeWith(ErrRateLimited)
			return
		} else if !ok {
			c.send(errorMsg("", protoErr(CodeRateLimited, "", "每秒消息超过 %d 条 / over %d messages a second", msgRate, msgRate)))
			continue
		}
		if typ != websocket.TextMessage {
			c.send(errorMsg("", protoErr(CodeMalformed, "", "消息须为文本帧 / messages are text frames")))
			continue
		}
		m, err := Parse(data)
		if err != nil {
			c.send(errorMsg(refOf(data), err.(*ProtocolError)))
			continue
		}
		if m.Type == TypeJoin {
			c.send(errorMsg(m.ID, protoErr(CodeOutOfOrder, "type", "已加入 / already joined")))
			continue
		}
		if !p.post(event{c: c, msg: &m}) {
			return
		}
	}
}

// refOf returns the id of a message that did not parse, if it has one, for the error's ref.
func refOf(data []byte) string {
	if len(data) > MaxMessage {
		return refOfLarge(data[:min(len(data), refScan)])
	}
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(data, &v) != nil || len(v.ID) > maxID {
		return ""
	}
	return v.ID
}

// refScan is how much of an oversized message refOf reads for its id: clients write it
// before the SDP, and the rest is not worth decoding.
const refScan = 4 << 10

// refOfLarge finds the top-level "id" of the start of a JSON object, "" if it does not come
// there.
func refOfLarge(prefix []byte) string {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return ""
		}
		if k == "id" {
			var id string
			if dec.Decode(&id) != nil || len(id) > maxID {
				return ""
			}
			return id
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return ""
		}
	}
	return ""
}

// join admits a join or resume message to the hearing's room.
func (s *Server) join(ctx context.Context, c *conn, h *chuting.Hearing, m Message) (*participant, error) {
	if m.Resume != "" {
		s.mu.Lock()
		r := s.rooms[h.ID]
		ended := s.ended[h.ID]
		s.mu.Unlock()
		if ended {
			return nil, ErrEnded
		}
		if r == nil {
			return nil, refuse(ErrExpired, errors.New("no room to resume in"))
		}
		return r.resume(m.Resume, c)
	}
	w := s.Window(h)
	claims, err := s.cfg.Tokens.Verify(m.Token, h.ID, w)
	if err != nil {
		return nil, err
	}
	if claims.Role == RoleObserver {
		public, err := s.cfg.Public(ctx, h)
		if err != nil {
			return nil, fmt.Errorf("is hearing %s public: %w", h.ID, err)
		}
		if !public {
			return nil, ErrRoleRefused
		}
		if witnessObserving(ctx, s.cfg.Records, h, claims.Subject) { // #46
			return nil, refuse(ErrRoleRefused, errors.New("a witness may not observe"))
		}
	}
	if revoked, err := s.cfg.Revoked(ctx, claims); err != nil {
		return nil, fmt.Errorf("is %s revoked: %w", claims.Subject, err)
	} else if revoked {
		return nil, refuse(ErrReplayed, errors.New("revoked"))
	}
	var check *Checklist
	if claims.Role == RoleAppraiser {
		check = checklist(ctx, s.cfg.Records, h, claims.Subject)
	}
	r, err := s.room(ctx, h, w)
	if err != nil {
		return nil, err
	}
	return r.join(claims, check, c)
}

// room returns the hearing's room, opening it on the first join.
func (s *Server) room(ctx context.Context, h *chuting.Hearing, w Window) (*Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, &CloseError{Code: websocket.CloseGoingAway, Reason: shuttingDown}
	}
	if s.ended[h.ID] {
		return nil, ErrEnded
	}
	if r := s.rooms[h.ID]; r != nil {
		return r, nil
	}
	ended, err := hearingEnded(ctx, s.cfg.Logs, h.ID)
	if err != nil {
		return nil, err
	}
	if ended {
		s.ended[h.ID] = true
		return nil, ErrEnded
	}
	if err := s.claimNode(ctx, h.ID); err != nil {
		return nil, err
	}
	r := newRoom(s, h, w)
	s.rooms[h.ID] = r
	s.m.rooms.Inc()
	s.log.Info("room opened", "hearing", h.ID, "node", s.cfg.Node)
	return r, nil
}

// roomRenew is how often a node renews its hold on a hearing's room while the room is open
// (the default Config.HoldRenew), and the hold lasts leaseRenewals renewals unless renewed:
// two renewals may fail (the store out of reach a moment) without losing it. Another node
// opens the room only once the hold has lapsed (its holder crashed, or lost the store), so
// that nodes sharing a store (Redis) never hold two rooms of one hearing: joins on another
// node are refused with CloseElsewhere, and the load balancer is to route a hearing's joins
// to one node.
const (
	roomRenew     = 10 * time.Second
	leaseRenewals = 3
)

// elsewhere is the refusal of a join on a node that does not hold the hearing's room.
func elsewhere(node string) *CloseError {
	return &CloseError{Code: CloseElsewhere,
		Reason: fmt.Sprintf("庭审室在另一服务器节点（%s）开启 / the hearing room is open on node %s", node, node)}
}

// claimNode takes or renews this node's hold on the hearing's room (Hearing.Node and
// NodeUntil); elsewhere if another node holds it and its hold has not lapsed.
func (s *Server) claimNode(ctx context.Context, id string) error {
	var refused *CloseError
	_, err := chuting.Update(ctx, s.cfg.Records, id, func(h *chuting.Hearing) bool {
		now := s.cfg.Now()
		if h.Node != s.cfg.Node && now.Before(h.NodeUntil) {
			refused = elsewhere(h.Node)
			return false
		}
		h.Node, h.NodeUntil = s.cfg.Node, now.Add(leaseRenewals*s.cfg.HoldRenew).UTC()
		return true
	})
	if err != nil {
		return fmt.Errorf("claim the room of hearing %s: %w", id, err)
	}
	if refused != nil {
		return refused
	}
	return nil
}

// releaseNode ends this node's hold on the hearing's room, which has closed, so that another
// node may open it at once. Node stays: the node that last held it.
func (s *Server) releaseNode(ctx context.Context, id string) {
	_, err := chuting.Update(ctx, s.cfg.Records, id, func(h *chuting.Hearing) bool {
		if h.Node != s.cfg.Node || h.NodeUntil.IsZero() {
			return false
		}
		h.NodeUntil = time.Time{}
		return true
	})
	if err != nil {
		s.log.Warn("release the room's hold", "hearing", id, "err", err)
	}
}

// hearingEnded reports whether the hearing's log says its judge ended it.
func hearingEnded(ctx context.Context, logs chuting.Logs, id string) (bool, error) {
	var after uint64
	for {
		evs, err := logs.Events(ctx, chuting.HearingStream(id), after, chuting.MaxLimit)
		if err != nil {
			return false, fmt.Errorf("read log of hearing %s: %w", id, err)
		}
		for _, e := range evs {
			if e.Type == chuting.AttendanceHearingEnded {
				return true, nil
			}
			after = e.Seq
		}
		if len(evs) < chuting.MaxLimit {
			return false, nil
		}
	}
}

// roomClosed forgets a closed room.
func (s *Server) roomClosed(r *Room, ended bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[r.hearing.ID] == r {
		delete(s.rooms, r.hearing.ID)
		s.m.rooms.Dec()
	}
	if ended {
		s.ended[r.hearing.ID] = true
	}
}

// closeLater closes r from a goroutine of its own: the room's goroutines cannot wait for
// themselves.
func (s *Server) closeLater(r *Room, why *CloseError, ended bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return // Close closes every room
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		r.close(why, ended)
	}()
}

// Close closes every room and connection, waits for their goroutines and frees the ICE ports.
// Closing it again does nothing.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	rooms := make([]*Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	bye := &CloseError{Code: websocket.CloseGoingAway, Reason: shuttingDown}
	for _, r := range rooms {
		r.close(bye, false)
	}
	for _, c := range conns {
		c.closeWith(bye)
	}
	s.wg.Wait()
	return s.media.close()
}

// Remove takes every participant who joined hearingID's room as subject out of it for good,
// as the judge's remove does (closed with CloseRemoved, a removed event with reason in the
// log), and reports how many there were. The API calls it when the court revokes a personal
// link (#49): its holder may not resume or join again (the Revoked check), and must not stay.
// It is a no-op when the room is not open on this node; the node that holds the room finds
// the revocation itself within HoldRenew (Room.dropRevoked).
func (s *Server) Remove(hearingID, subject, reason string) int {
	s.mu.Lock()
	r := s.rooms[hearingID]
	s.mu.Unlock()
	if r == nil {
		return 0
	}
	return r.removeSubject(subject, reason)
}
