package signaling

import (
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// Connection limits (docs/signaling.md, Transport).
const (
	msgRate       = 50               // messages a second a client may send…
	msgBurst      = 100              // …in bursts of this many
	refusedLimit  = 100              // rate-limited messages…
	refusedWindow = 10 * time.Second // …within this long close the connection (4008)
	sendQueue     = 256              // messages queued to a client before it counts as too slow
	writeWait     = 10 * time.Second
	closeWait     = time.Second // for the client's answer to a close frame
)

// conn is one client WebSocket. Its reader is the goroutine that serves the HTTP request; its
// writer goroutine is the only one that writes to the socket. Others hand it messages with
// send, which never blocks: a client that does not keep up is disconnected (and may resume).
type conn struct {
	ws      *websocket.Conn
	out     chan []byte
	quit    chan struct{} // closed by close
	read    chan struct{} // closed when the reader is done, or has seen the client's close
	done    chan struct{} // closed when the writer has closed the socket
	limiter *rate.Limiter
	refused int       // rate-limited messages since since; reader only
	since   time.Time // the first of them

	once   sync.Once
	code   int
	reason string
}

func newConn(ws *websocket.Conn) *conn {
	return &conn{ws: ws, out: make(chan []byte, sendQueue), quit: make(chan struct{}),
		read: make(chan struct{}), done: make(chan struct{}), limiter: rate.NewLimiter(msgRate, msgBurst)}
}

// send queues one message. It reports false when the connection is closing, or when the queue
// is full, in which case it closes the connection.
func (c *conn) send(msg []byte) bool {
	select {
	case <-c.quit:
		return false
	default:
	}
	select {
	case c.out <- msg:
		return true
	default:
		c.close(websocket.CloseTryAgainLater, "客户端过慢 / client too slow")
		return false
	}
}

// close makes the writer send what is queued, then a close frame with code and reason, and
// close the socket. Only the first call counts.
func (c *conn) close(code int, reason string) {
	c.once.Do(func() {
		c.code, c.reason = code, reason
		close(c.quit)
	})
}

func (c *conn) closeWith(e *CloseError) { c.close(e.Code, e.Reason) }

// closing reports whether close was called.
func (c *conn) closing() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}

// writeLoop writes queued messages and pings every ping; on close it flushes the queue, sends
// the close frame and closes the socket, which ends the reader too.
func (c *conn) writeLoop(ping time.Duration) {
	defer close(c.done)
	defer c.ws.Close()
	t := time.NewTicker(ping)
	defer t.Stop()
	for {
		select {
		case msg := <-c.out:
			if !c.write(msg) {
				return
			}
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				return
			}
		case <-c.quit:
			if !c.flush() {
				return
			}
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(c.code, clip(c.reason, 120)), time.Now().Add(time.Second))
			// Give the client a moment to read the close frame and answer: closing the socket
			// on unread data resets the connection, and the client would never see the code.
			select {
			case <-c.read:
			case <-time.After(closeWait):
			}
			return
		}
	}
}

// flush writes what is queued; false if a write failed.
func (c *conn) flush() bool {
	for {
		select {
		case msg := <-c.out:
			if !c.write(msg) {
				return false
			}
		default:
			return true
		}
	}
}

// drain reads and discards until the client answers the close frame or the socket fails,
// then lets the writer close the socket. The reader calls it last.
func (c *conn) drain() {
	defer close(c.read)
	_ = c.ws.SetReadDeadline(time.Now().Add(closeWait))
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			return
		}
	}
}

func (c *conn) write(msg []byte) bool {
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
	return c.ws.WriteMessage(websocket.TextMessage, msg) == nil
}

// allow applies the per-connection rate limit to one incoming message: ok, refused with an
// error, or refused too often (the caller closes with 4008).
func (c *conn) allow() (ok, tooMany bool) {
	if c.limiter.Allow() {
		return true, false
	}
	if now := time.Now(); c.refused == 0 || now.Sub(c.since) > refusedWindow {
		c.refused, c.since = 0, now
	}
	c.refused++
	return false, c.refused > refusedLimit
}

// clip cuts s to at most n bytes on a rune boundary: a close reason has room for 123.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
