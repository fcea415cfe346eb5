package http

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/attendance"
	"github.com/chuting/chuting/auth"
	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/scheduler"
	"github.com/chuting/chuting/signaling"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config holds what a Server needs. It is filled in by cmd/chuting and passed down; the
// package keeps no global state.
type Config struct {
	Store     chuting.Store
	Auth      *auth.Service
	Scheduler *scheduler.Service // the summons workflow; nil makes one with Attendance
	// Attendance is what the attendance routes read and append (statuses, rates, reports,
	// follow-ups); nil makes one over Store. Give the Scheduler's, so that one service opens
	// the follow-ups of absences.
	Attendance     *attendance.Service
	Rooms          *signaling.Server // the hearings' video rooms; nil = none
	Logger         *slog.Logger
	MaxBody        int64            // largest request body in bytes; 0 = 1 MiB
	InsecureCookie bool             // session cookie without Secure (plain HTTP off loopback only)
	Now            func() time.Time // nil = time.Now
	Web            http.Handler     // the embedded pages, served for every path outside /api/; may be nil
	Version        string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed. Requests from
	// elsewhere are taken to come from their peer address, since a client can forge the header.
	TrustedProxies []netip.Prefix
	// Registry is where the server's metrics go and what /metrics serves; nil makes one, so
	// that several servers can run in one test process. The process gives its own, which the
	// rooms and the store also register on.
	Registry *prometheus.Registry
	// Recordings is the archive of the hearings' recordings, for playback; nil = none, and
	// the recording routes answer 503.
	Recordings *recordings.Archive
}

// Server is the HTTP API. It implements http.Handler.
type Server struct {
	store          chuting.Store
	auth           *auth.Service
	sched          *scheduler.Service
	att            *attendance.Service
	rooms          *signaling.Server
	recordings     *recordings.Archive
	logger         *slog.Logger
	maxBody        int64
	insecureCookie bool
	now            func() time.Time
	version        string
	trusted        []netip.Prefix

	mux *http.ServeMux
	// apiMux holds the API routes alone (their handlers are never called): it tells 404 from
	// 405 for an unmatched API path without the pages' catch-all GET / answering for it.
	apiMux   *http.ServeMux
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	auditErr prometheus.Counter
	routes   []route
}

// New returns a Server.
func New(c Config) *Server {
	s := &Server{store: c.Store, auth: c.Auth, sched: c.Scheduler, att: c.Attendance, rooms: c.Rooms, recordings: c.Recordings, logger: c.Logger, maxBody: c.MaxBody,
		insecureCookie: c.InsecureCookie, now: c.Now, version: c.Version, trusted: c.TrustedProxies,
		mux: http.NewServeMux(), apiMux: http.NewServeMux()}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = 1 << 20
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.att == nil {
		s.att = attendance.New(attendance.Config{Store: c.Store, Now: s.now, Logger: s.logger})
	}
	if s.sched == nil {
		s.sched = scheduler.New(scheduler.Config{Store: c.Store, Now: s.now, Logger: s.logger, Attendance: s.att})
	}
	if s.registry = c.Registry; s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chuting_http_requests_total",
		Help: "HTTP requests answered, by route pattern and status code."}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "chuting_http_request_duration_seconds",
		Help: "Time to answer HTTP requests, by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"})
	s.auditErr = prometheus.NewCounter(prometheus.CounterOpts{Name: "chuting_audit_write_failures_total",
		Help: "Audit events that could not be written to the store."})
	s.registry.MustRegister(s.requests, s.latency, s.auditErr)

	s.routes = s.table()
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
		s.apiMux.Handle(rt.method+" "+rt.path, http.NotFoundHandler())
	}
	metrics := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry})
	s.mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noteOf(r).route = "GET /metrics"
		metrics.ServeHTTP(w, r)
	}))
	if c.Web != nil {
		s.mux.Handle("GET /", c.Web)
	}
	return s
}

// Registry returns the server's metrics registry, for other parts of the process (the store,
// later the SFU) to register their metrics on the same /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Patterns returns "METHOD /path" for every registered route, including /metrics.
func (s *Server) Patterns() []string {
	out := []string{"GET /metrics"}
	for _, rt := range s.routes {
		out = append(out, rt.method+" "+rt.path)
	}
	return out
}

// note is what a request learns on its way through, for the log, the metrics and the audit.
type note struct {
	remote    string // the client's address, see clientAddr
	route     string
	target    string
	code      string
	principal *chuting.Principal
	requestID string
}

type noteKey struct{}

func noteOf(r *http.Request) *note {
	n, _ := r.Context().Value(noteKey{}).(*note)
	return n
}

// setTarget records what a request acted on, for the audit event.
func setTarget(r *http.Request, target string) {
	if n := noteOf(r); n != nil {
		n.target = target
	}
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (flushing a backup).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection over (the rooms' WebSocket upgrade).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("%T cannot be hijacked", w.ResponseWriter)
	}
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

// ServeHTTP implements http.Handler: request ID, security headers, panic recovery, the request
// log and metrics around the mux; JSON errors for unknown API paths and methods.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	n := &note{requestID: newRequestID(), remote: s.clientAddr(r)}
	r = r.WithContext(context.WithValue(r.Context(), noteKey{}, n))
	sw := &statusWriter{ResponseWriter: w}
	h := sw.Header()
	h.Set("X-Request-ID", n.requestID)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")

	defer func() {
		v := recover()
		if v != nil && v != http.ErrAbortHandler {
			s.logger.ErrorContext(r.Context(), "panic", "path", logPath(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.status == 0 {
				s.writeError(sw, r, fmt.Errorf("panic: %v", v))
			}
		}
		s.observe(r, n, sw.status, time.Since(start))
		if v == http.ErrAbortHandler {
			panic(v) // net/http aborts the connection, so a truncated body is not mistaken for a whole one
		}
	}()

	// Handler only finds the route; ServeHTTP must serve it, since it sets the path values.
	if _, pattern := s.mux.Handler(r); (r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")) &&
		!strings.Contains(pattern, " /api/") {
		n.route = "unmatched"
		s.apiFallback().ServeHTTP(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// apiFallback answers an API request that matched no route in the error shape: 405 (with the
// API routes' Allow header) when the path exists under another method, else 404.
func (s *Server) apiFallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := s.apiMux.Handler(r); pattern == "" { // let the API's mux say 404 or 405
			probe := &probeWriter{header: http.Header{}}
			s.apiMux.ServeHTTP(probe, r)
			if probe.status == http.StatusMethodNotAllowed {
				w.Header().Set("Allow", probe.header.Get("Allow"))
				s.writeError(w, r, &chuting.Error{Code: codeMethod,
					Message: fmt.Sprintf("不支持 %s 方法 / method %s is not allowed here", r.Method, r.Method)})
				return
			}
		}
		s.writeError(w, r, chuting.Errorf(chuting.ENOTFOUND, "没有此接口 / no such API path: %s", truncate(r.URL.Path, 100)))
	})
}

// probeWriter captures what the mux would answer, without sending it.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header         { return p.header }
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *probeWriter) WriteHeader(code int)        { p.status = code }

func (s *Server) observe(r *http.Request, n *note, status int, d time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	route := n.route
	if route == "" {
		route = "other"
	}
	s.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	s.latency.WithLabelValues(route).Observe(d.Seconds())
	attrs := []any{"method", r.Method, "path", logPath(r), "route", route, "status", status,
		"duration_ms", float64(d.Microseconds()) / 1000, "remote", n.remote, "request_id", n.requestID}
	if n.principal != nil {
		attrs = append(attrs, "user", n.principal.Username)
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.logger.Log(r.Context(), level, "request", attrs...)
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// clientAddr returns the client's IP address: the peer's, or, when the peer is a trusted
// proxy, the last address in X-Forwarded-For that is not itself a trusted proxy (proxies
// append, so addresses left of an untrusted one may be forged).
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trustedAddr(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: trust nothing further left
		}
		if !s.trustedAddr(a) {
			return a.Unmap().String()
		}
	}
	return host
}

func (s *Server) trustedAddr(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// remoteAddr returns the client's address worked out when the request arrived.
func remoteAddr(r *http.Request) string { return noteOf(r).remote }

// logPath is the request's path as logs may hold it: a calendar feed's path is its secret
// (calendar applications cannot sign in), so it is cut to its route.
func logPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/calendar/") {
		return "/calendar/…"
	}
	return r.URL.Path
}
