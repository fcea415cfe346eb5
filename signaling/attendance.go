package signaling

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/chuting/chuting"
)

// attendanceLog appends a room's attendance events (#21, #34) to the hearing's log, in the
// order the room made them, from a goroutine of its own: the room adds events under its lock
// and never waits for the store.
type attendanceLog struct {
	logs   chuting.Logs
	stream string
	log    *slog.Logger

	mu     sync.Mutex
	queue  []chuting.Event
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

func newAttendanceLog(logs chuting.Logs, hearingID string, log *slog.Logger) *attendanceLog {
	a := &attendanceLog{logs: logs, stream: chuting.HearingStream(hearingID), log: log,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	go a.run()
	return a
}

// add queues e, stamped by the caller with the server's time.
func (a *attendanceLog) add(e chuting.AttendanceEvent) {
	data, err := json.Marshal(e)
	if err != nil {
		a.log.Error("encode attendance event", "type", e.Type, "err", err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		a.log.Error("attendance event after the room closed", "type", e.Type, "subject", e.SubjectID)
		return
	}
	a.queue = append(a.queue, chuting.Event{Time: e.Time, Type: e.Type, Data: data})
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *attendanceLog) run() {
	defer close(a.done)
	for {
		<-a.wake
		a.mu.Lock()
		q, closed := a.queue, a.closed
		a.queue = nil
		a.mu.Unlock()
		for _, e := range q {
			a.append(e)
		}
		if closed {
			return
		}
	}
}

// append writes one event, retrying for a while: the log is the court's record.
func (a *attendanceLog) append(e chuting.Event) {
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := a.logs.Append(ctx, a.stream, e)
		cancel()
		if err == nil {
			return
		}
		if try == 4 {
			a.log.Error("attendance event lost", "stream", a.stream, "type", e.Type, "data", string(e.Data), "err", err)
			return
		}
		time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
	}
}

// close writes what is queued and stops.
func (a *attendanceLog) close() {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
	a.mu.Unlock()
	<-a.done
}
