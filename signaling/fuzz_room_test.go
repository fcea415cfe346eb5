package signaling

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// memLogs is an in-memory chuting.Logs for the room fuzzer, which must be fast.
type memLogs struct {
	mu     sync.Mutex
	events map[string][]chuting.Event
}

func (l *memLogs) Append(_ context.Context, stream string, e chuting.Event) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.events == nil {
		l.events = make(map[string][]chuting.Event)
	}
	e.Seq = uint64(len(l.events[stream]) + 1)
	l.events[stream] = append(l.events[stream], e)
	return e.Seq, nil
}

func (l *memLogs) Events(_ context.Context, stream string, after uint64, limit int) ([]chuting.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.events[stream]
	if after >= uint64(len(evs)) {
		return nil, nil
	}
	return append([]chuting.Event(nil), evs[after:]...), nil
}

// fuzzServer is a Server without ICE ports or a store, for driving rooms directly.
func fuzzServer(tb testing.TB, clk *clock, records chuting.Records) *Server {
	tb.Helper()
	wc := LoopbackOnly()
	wc.UDPPort, wc.TCPPort = -1, -1
	md, err := newMedia(wc, nil)
	if err != nil {
		tb.Fatal(err)
	}
	m, _ := newMetrics(nil)
	cfg := Config{Records: records, Logs: &memLogs{}, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg.defaults()
	return &Server{cfg: cfg, media: md, m: m, log: cfg.Logger, rooms: map[string]*Room{},
		ended: map[string]bool{}, conns: map[*conn]struct{}{}}
}

var fuzzRoles = []Role{RoleJudge, RoleClerk, RoleAppraiser, RoleCounsel, RoleParty, RoleExpert,
	RoleInterpreter, RoleObserver}

var fuzzActions = []string{ActionAdmit, ActionToWaiting, ActionMute, ActionUnmute, ActionRemove,
	ActionGrantFloor, ActionRevokeFloor, ActionStart, ActionEnd, ActionShowExhibit, ActionStopExhibit,
	TypeMark}

// FuzzRoom drives a room with random joins, moderation, marks, leaves, drops, resumes and
// the passing of time from fake participants without media, and checks the room's rules
// after every step: only judges and clerks moderate, those waiting neither receive media
// nor hear anything of the hearing (#17), at most one participant holds the floor (#20),
// and the room never breaks.
func FuzzRoom(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 0, 0, 1, 0, 0, 0, 1})                   // judge, appraiser, admit
	f.Add([]byte{0, 0, 0, 3, 0, 0, 0, 2, 0, 1, 0, 5, 1, 0, 1, 1, 0}) // judge, counsel, appraiser, floor…
	f.Add([]byte{0, 0, 0, 2, 0, 0, 4, 1, 0, 5, 1, 0, 6, 100, 0})     // drop, resume, time
	f.Add([]byte{0, 1, 0, 2, 0, 0, 1, 0, 0, 0, 1, 8, 1, 0, 2, 0, 0}) // clerk admits, end
	// One store for all runs: the room renews and releases its hold on the hearing there.
	records := MustWorld(f).store
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 300 {
			return
		}
		clk := &clock{}
		s := fuzzServer(t, clk, records)
		h := &chuting.Hearing{Meta: chuting.Meta{ID: "h1"}, Start: clk.Now(), End: clk.Now().Add(time.Hour)}
		r := newRoom(s, h, s.Window(h))
		defer func() {
			r.close(ErrEnded, false)
			s.wg.Wait()
		}()
		var people []*participant
		conns := map[*participant]*conn{}
		pick := func(b byte) *participant {
			if len(people) == 0 {
				return nil
			}
			return people[int(b)%len(people)]
		}
		for i := 0; i+2 < len(ops); i += 3 {
			op, a, b := ops[i]%8, ops[i+1], ops[i+2]
			waiting := map[*participant]bool{}
			for _, p := range people {
				r.mu.Lock()
				waiting[p] = p.state == StateWaiting && !p.gone
				r.mu.Unlock()
			}
			switch op {
			case 0: // join
				role := fuzzRoles[int(a)%len(fuzzRoles)]
				c := newConn(nil)
				p, err := r.join(Claims{Hearing: h.ID, Subject: "u" + string(rune('a'+len(people))), Role: role}, nil, c)
				if err != nil {
					if CloseCode(err) != CloseEnded {
						t.Fatalf("join: %v", err)
					}
					continue
				}
				people = append(people, p)
				conns[p] = c
			case 1, 2: // moderate or mark
				actor, target := pick(a), pick(b)
				if actor == nil {
					continue
				}
				action := fuzzActions[int(b)%len(fuzzActions)]
				m := &Message{Type: TypeModerate, Action: action, ID: "x"}
				if action == TypeMark {
					m = &Message{Type: TypeMark, Item: ItemIdentityVerified, ID: "x"}
					if b%2 == 0 {
						m.Item = ItemPledgeRead
					}
				}
				if op == 2 && target != nil {
					m.Target = target.id
				} else if target != nil && (targeted[action] || action == TypeMark) {
					m.Target = target.id
				}
				if action == ActionShowExhibit {
					m.Exhibit = "t-none"
				}
				err := r.moderate(actor, m)
				if !actor.role.mayModerate(action) {
					if err == nil || err.Code != CodeForbidden {
						t.Fatalf("%s did %s %s: %v", actor.role, m.Type, m.Action, err)
					}
				}
			case 3: // leave
				if p := pick(a); p != nil {
					r.leave(p, whyLeft, nil, "")
				}
			case 4: // the connection drops
				if p := pick(a); p != nil {
					r.mu.Lock()
					c := p.conn
					r.mu.Unlock()
					if c != nil {
						c.close(1006, "")
						r.detach(p, c)
					}
				}
			case 5: // resume
				if p := pick(a); p != nil {
					r.mu.Lock()
					token := p.resume
					r.mu.Unlock()
					c := newConn(nil)
					if _, err := r.resume(token, c); err == nil {
						conns[p] = c
					} else if code := CloseCode(err); code != CloseExpired && code != CloseEnded {
						t.Fatalf("resume: %v", err)
					}
				}
			case 6: // time passes
				clk.Advance(time.Duration(a) * time.Second)
				r.tick()
			case 7: // a message that does not parse
				if p := pick(a); p != nil {
					if _, err := Parse(ops[i:]); err == nil {
						continue
					}
				}
			}
			check(t, r, people, conns, waiting)
		}
	})
}

// check asserts the room's rules after one step; waiting says who waited before it.
func check(t *testing.T, r *Room, people []*participant, conns map[*participant]*conn, waiting map[*participant]bool) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	floors := 0
	for _, p := range people {
		if p.floor && !p.gone {
			floors++
		}
		if p.receiving.Load() != (!p.gone && p.state == StateAdmitted && p.conn != nil) {
			t.Fatalf("%s %s: receiving %v", p.role, p.state, p.receiving.Load())
		}
		stillWaiting := waiting[p] && p.state == StateWaiting
		for {
			var msg []byte
			select {
			case msg = <-conns[p].out:
			default:
			}
			if msg == nil {
				break
			}
			var m srvMsg
			if err := json.Unmarshal(msg, &m); err != nil {
				t.Fatalf("bad message %s", msg)
			}
			switch m.Type {
			case TypeParticipants, TypeParticipant, TypeLeft, TypeSpeaker, TypeHearing:
				if stillWaiting {
					t.Fatalf("waiting %s was sent %s", p.role, msg)
				}
			}
		}
	}
	if floors > 1 {
		t.Fatalf("%d participants hold the floor", floors)
	}
}
