package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/attendance"
	"github.com/chuting/chuting/auth"
	"github.com/chuting/chuting/demo"
	chutinghttp "github.com/chuting/chuting/http"
	"github.com/chuting/chuting/notify"
	"github.com/chuting/chuting/procs"
	"github.com/chuting/chuting/scheduler"
	"github.com/chuting/chuting/signaling"
	"github.com/chuting/chuting/web"
	"github.com/prometheus/client_golang/prometheus"
)

// Main is the server process: the configuration and what Run opened, so that Close can shut it
// down in order. Tests run it in-process on port 0.
type Main struct {
	Config    Config
	Logger    *slog.Logger
	Store     chuting.Store
	Auth      *auth.Service
	Scheduler *scheduler.Service
	// Attendance derives statuses and rates, and opens the follow-ups of absences that the
	// scheduler's steps record.
	Attendance *attendance.Service
	Cron       *scheduler.Cron
	Notifier   *notify.Service // notices, e-mail and webhooks of summons changes
	HTTP       *chutinghttp.Server
	Rooms      *signaling.Server // the hearings' video rooms

	out    io.Writer // where the demo accounts are announced
	logTo  io.Writer
	server *http.Server
	media  *rooms
	ln     net.Listener
	served chan error
	stop   context.CancelFunc // ends the background work
	wg     sync.WaitGroup
	now    func() time.Time // nil = time.Now; set only by this package's tests (clock.go)
}

// NewMain returns a Main that logs to logTo and announces to out.
func NewMain(out, logTo io.Writer) *Main {
	return &Main{out: out, logTo: logTo}
}

// ParseFlags reads the serve flags and their environment variables.
func (m *Main) ParseFlags(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("chuting serve", flag.ContinueOnError)
	fs.SetOutput(m.logTo)
	serveFlags(fs, &m.Config)
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return m.Config.validate()
}

// Run opens the store, seeds the demo data if asked, and starts serving. It returns once the
// server listens (Addr tells where) or with the error that stopped it from starting.
func (m *Main) Run(ctx context.Context) (err error) {
	c := &m.Config
	m.Logger = newLogger(m.logTo, c.LogLevel, c.LogFormat)
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	if m.Store, err = openStore(ctx, c, m.Logger); err != nil {
		return err
	}
	if m.Auth, err = auth.New(m.Store, auth.Options{SessionTTL: c.SessionTTL}); err != nil {
		return err
	}
	if c.Demo {
		if err := m.seedDemo(ctx); err != nil {
			return err
		}
	}
	m.Notifier = notify.New(notify.Config{Store: m.Store, Logger: m.Logger, Mail: c.mailConfig(),
		AllowPrivate: c.WebhookPrivate})
	rules := scheduler.DefaultRules()
	rules.CEHours, rules.ProficiencyFailures = c.CEHours, c.Proficiency
	m.Attendance = attendance.New(attendance.Config{Store: m.Store, Now: m.clock(), Logger: m.Logger,
		Notify: m.Notifier.Handle})
	m.Scheduler = scheduler.New(scheduler.Config{Store: m.Store, Logger: m.Logger, Notify: m.Notifier.Handle, Rules: rules,
		Now: m.clock(), Attendance: m.Attendance})
	proxies, err := c.trustedProxies()
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	rc, err := m.recordingConfig()
	if err != nil {
		return fmt.Errorf("recordings: %w", err)
	}
	if m.media, err = m.startRooms(reg, rc); err != nil {
		return err
	}
	m.Rooms = m.media.sfu
	archive, err := m.openArchive(rc)
	if err != nil {
		return err
	}
	m.HTTP = chutinghttp.New(chutinghttp.Config{Store: m.Store, Auth: m.Auth, Scheduler: m.Scheduler, Attendance: m.Attendance, Logger: m.Logger,
		MaxBody: c.MaxBody, InsecureCookie: c.InsecureCookie, Web: web.Handler(), Version: version(),
		TrustedProxies: proxies, Rooms: m.Rooms, Registry: reg, Now: m.clock(), Recordings: archive})
	m.HTTP.Registry().MustRegister(m.Notifier.Collectors()...)
	if m.ln, err = net.Listen("tcp", c.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	m.server = &http.Server{Handler: m.HTTP, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(m.ln) }()
	if err := m.startJobs(m.retentionJob(archive)); err != nil {
		return err
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stop = stop
	m.wg.Go(func() { m.Notifier.Run(bg) })
	m.Logger.Info("chuting listening", "addr", m.Addr(), "url", "http://"+m.Addr()+"/", "store", storeName(c))
	return nil
}

// Addr returns the address the server listens on (the real port when Config.Addr had port 0).
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// Done is closed, or yields the error, when the server stops serving on its own.
func (m *Main) Done() <-chan error { return m.served }

// Close stops accepting connections, lets requests in flight finish (up to ShutdownTimeout),
// then closes the store, so no acknowledged write is cut off.
func (m *Main) Close() error {
	var errs []error
	if m.Cron != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		m.Cron.Stop(ctx) // waits for running jobs, which may be writing
		cancel()
		m.Cron = nil
	}
	if m.stop != nil {
		m.stop()
		m.wg.Wait()
		m.stop = nil
	}
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		defer cancel()
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
			_ = m.server.Close()
		}
		m.server = nil
	}
	if m.media != nil {
		// After the HTTP server: the rooms' WebSockets are hijacked connections, which
		// Shutdown does not wait for; closing the rooms ends them and writes their last
		// attendance events before the store closes.
		if err := m.media.close(); err != nil {
			errs = append(errs, fmt.Errorf("close rooms: %w", err))
		}
		m.media, m.Rooms = nil, nil
	}
	if m.Store != nil {
		if err := m.Store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		m.Store = nil
	}
	return errors.Join(errs...)
}

// startJobs starts the periodic jobs, run once per tick across every node sharing the store
// (robfig/cron with the store's leases): the scheduler's, the housekeeping of sessions
// and remembered idempotent answers, and more (the recordings' retention).
func (m *Main) startJobs(more ...scheduler.Job) error {
	leaser, ok := m.Store.(chuting.Leaser)
	if !ok {
		return fmt.Errorf("the store %T grants no leases", m.Store)
	}
	m.Cron = scheduler.NewCron(scheduler.CronConfig{Leaser: leaser, Holder: nodeName(),
		Logger: m.Logger, Registerer: m.HTTP.Registry()})
	jobs := append(m.Scheduler.Jobs(),
		scheduler.Job{Name: "sessions", Spec: "17 * * * *", Run: func(ctx context.Context) error {
			_, err := m.Auth.SweepSessions(ctx)
			return err
		}},
		scheduler.Job{Name: "idempotency", Spec: "23 * * * *", Run: func(ctx context.Context) error {
			_, err := m.HTTP.SweepIdempotency(ctx)
			return err
		}})
	jobs = append(jobs, more...)
	for _, j := range jobs {
		if err := m.Cron.Add(j); err != nil {
			return err
		}
	}
	m.Cron.Start()
	return nil
}

// seedDemo writes what is missing of the demo world, and says how to sign in to the accounts
// it made.
func (m *Main) seedDemo(ctx context.Context) error {
	password := m.Config.DemoPassword
	if password == "" {
		password = randomPassword()
	} else if err := auth.ValidatePassword(password); err != nil {
		return fmt.Errorf("--demo-password: %s", chuting.ErrorMessage(err))
	}
	hash, err := auth.HashPassword(password, auth.DefaultParams())
	if err != nil {
		return err
	}
	accounts, err := demo.Seed(ctx, m.Store, hash, time.Now())
	if err != nil {
		return err
	}
	// The practice hearing's room is open on every start, so a new user can try it at once.
	if id, err := demo.Practice(ctx, m.Store, time.Now()); err != nil {
		return err
	} else if id != "" {
		m.Logger.Info("demo practice hearing: sign in as judge or liming, then open the room",
			"path", "/room/"+id)
	}
	if len(accounts) == 0 {
		m.Logger.Info("demo data already present; accounts and passwords unchanged")
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "chuting demo accounts (演示账户), password (密码): %s\n", password)
	for _, a := range accounts {
		fmt.Fprintf(&b, "  %-16s %-18s %s\n", a.Username, a.Role, a.Name)
	}
	file := filepath.Join(m.Config.Data, "demo-accounts.txt")
	if err := os.MkdirAll(m.Config.Data, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	fmt.Fprint(m.out, b.String())
	m.Logger.Info("demo data seeded", "accounts", len(accounts), "passwords_in", file)
	return nil
}

// randomPassword returns 16 characters without look-alikes, for the demo accounts.
func randomPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// gcPercent is the collector's target (GOGC) for a server whose environment sets none: the heap
// may grow to 1.7 times the live data between collections instead of Go's default 2. Under load
// the live data is mostly media packets and pion's buffers, and the collector's headroom over
// them is the largest part of the memory a participant costs; at 10 rooms × 5 on the
// development machine 70 took peak RSS from 159–163 MB to 140–141 MB (3.2 to 2.8 MB per
// participant) at the same CPU per forwarded packet, where 50 started to cost CPU
// (docs/perf.md).
const gcPercent = 70

// setGCPercent applies gcPercent unless GOGC is set (the runtime applied that at start).
func setGCPercent(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// procs returns the controller of the processors the server runs on, unless --adapt-procs is
// off or the environment sets GOMAXPROCS (the operator's choice stands).
func (m *Main) procs(getenv func(string) string) *procs.Controller {
	if !m.Config.AdaptProcs || getenv("GOMAXPROCS") != "" {
		return nil
	}
	return procs.New(procs.Options{Changed: func(from, to int, use float64) {
		m.Logger.Info("processors", "from", from, "to", to, "cores_used", fmt.Sprintf("%.2f", use))
	}})
}

func runServe(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	setGCPercent(getenv)
	m := NewMain(io.out, io.err)
	if err := m.ParseFlags(args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := m.Run(ctx); err != nil {
		return err
	}
	if pc := m.procs(getenv); pc != nil {
		go pc.Run(ctx) // back on all processors when ctx ends
	}
	var served error
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down")
	case served = <-m.Done():
	}
	if err := m.Close(); err != nil {
		return err
	}
	if served != nil && !errors.Is(served, http.ErrServerClosed) {
		return served
	}
	m.Logger.Info("stopped")
	return nil
}
