package notify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting/notify"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message the test SMTP server accepted.
type received struct {
	from string
	rcpt []string
	data []byte
}

// smtpServer is a real SMTP server (emersion/go-smtp) on loopback that requires AUTH PLAIN
// with the given credentials and hands every message it accepts to msgs.
type smtpServer struct {
	addr string
	msgs chan received
}

func startSMTP(t *testing.T, username, password string) *smtpServer {
	t.Helper()
	srv := &smtpServer{msgs: make(chan received, 100)}
	be := smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: srv, username: username, password: password}, nil
	})
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.AllowInsecureAuth = true // plain text on loopback; the client's TLS modes are not under test
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close(); <-done })
	return srv
}

type smtpSession struct {
	srv                *smtpServer
	username, password string
	authed             bool
	msg                received
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.username || password != s.password {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.msg = received{from: from}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.rcpt = append(s.msg.rcpt, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = data
	s.srv.msgs <- s.msg
	return nil
}

func (s *smtpSession) Reset()        { s.msg = received{} }
func (s *smtpSession) Logout() error { return nil }

// wait returns the next n messages, failing the test if they do not come within 10 s.
func (s *smtpServer) wait(t *testing.T, n int) []received {
	t.Helper()
	var out []received
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case m := <-s.msgs:
			out = append(out, m)
		case <-timeout:
			t.Fatalf("got %d e-mails, want %d", len(out), n)
		}
	}
	return out
}

// none fails the test if a message arrives within d.
func (s *smtpServer) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-s.msgs:
		t.Fatalf("unexpected e-mail to %v", m.rcpt)
	case <-time.After(d):
	}
}

// run starts the service's workers until the test ends, and checks that they stop.
func (w *world) run() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.svc.Run(ctx) })
	w.t.Cleanup(func() {
		cancel()
		stopped := make(chan struct{})
		go func() { wg.Wait(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			w.t.Error("Run did not return after its context ended")
		}
	})
}

// parsed is an e-mail as its recipient reads it.
type parsed struct {
	to, subject, body string
}

func parse(t *testing.T, m received) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.data))
	if err != nil {
		t.Fatalf("unreadable e-mail: %v\n%s", err, m.data)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil {
		t.Fatalf("To %q: %v", msg.Header.Get("To"), err)
	}
	if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(strings.ToLower(ct), "utf-8") {
		t.Errorf("Content-Type %q, want plain UTF-8 text", ct)
	}
	var body io.Reader = msg.Body
	if msg.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		body = quotedprintable.NewReader(body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return parsed{to: to.Address, subject: subject, body: string(text)}
}

// TestMail: a served summons is mailed to each recipient with an e-mail address (the
// institution's admin and 李明; 王芳 has none), one e-mail each, through an SMTP server that
// requires authentication; subject and body are the notice's.
func TestMail(t *testing.T) {
	checkRoutines(t)
	srv := startSMTP(t, "chuting", "s3cret-pass")
	w := newWorld(t, notify.Config{Mail: &notify.MailConfig{Addr: srv.addr, From: "chuting 出庭 <noreply@chuting.test>",
		Username: "chuting", Password: "s3cret-pass", TLS: notify.TLSNone}})
	w.run()
	sm := w.serve()
	notices := map[string]string{} // address → title
	for _, n := range w.newNotices() {
		if u := w.users[w.byID[n.UserID]]; u.Email != "" {
			notices[u.Email] = n.Title
		}
	}
	got := srv.wait(t, 2)
	srv.none(t, 300*time.Millisecond)
	var to []string
	for _, m := range got {
		e := parse(t, m)
		to = append(to, e.to)
		if len(m.rcpt) != 1 || m.rcpt[0] != e.to {
			t.Errorf("envelope recipients %v for To %s: want one e-mail per recipient", m.rcpt, e.to)
		}
		if m.from != "noreply@chuting.test" {
			t.Errorf("envelope sender %q", m.from)
		}
		if e.subject != notices[e.to] || !strings.Contains(e.subject, sm.CaseNo) {
			t.Errorf("subject to %s = %q, want the notice's title %q", e.to, e.subject, notices[e.to])
		}
		if !strings.Contains(e.body, "赣州市中级人民法院") || !strings.Contains(e.body, "2026-12-14 08:30") {
			t.Errorf("body to %s:\n%s", e.to, e.body)
		}
	}
	slices.Sort(to)
	if want := []string{"admin@center.test", "liming@center.test"}; !slices.Equal(to, want) {
		t.Fatalf("mailed %v, want %v", to, want)
	}
	if n := counter(t, w.svc, "chuting_notify_mail_total", "sent"); n != 2 {
		t.Errorf("sent counter %v, want 2", n)
	}

	t.Run("ErrBadPassword", func(t *testing.T) {
		srv := startSMTP(t, "chuting", "another")
		w := newWorld(t, notify.Config{Mail: &notify.MailConfig{Addr: srv.addr, From: "noreply@chuting.test",
			Username: "chuting", Password: "wrong", TLS: notify.TLSNone}})
		w.run()
		w.serve()
		deadline := time.Now().Add(10 * time.Second)
		for counter(t, w.svc, "chuting_notify_mail_total", "failed") != 2 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := counter(t, w.svc, "chuting_notify_mail_total", "failed"); n != 2 {
			t.Fatalf("failed counter %v, want 2", n)
		}
		srv.none(t, 100*time.Millisecond)
		if ns := w.newNotices(); len(ns) != 3 {
			t.Fatalf("%d notices; a mail failure must not cost the inbox", len(ns))
		}
	})
}

// TestMailQueueFull: with the worker not running, Handle still returns at once; what does not
// fit in the queue is dropped and counted, the rest is sent once the worker starts.
func TestMailQueueFull(t *testing.T) {
	srv := startSMTP(t, "u", "p")
	w := newWorld(t, notify.Config{MailQueue: 1, Mail: &notify.MailConfig{Addr: srv.addr, From: "noreply@chuting.test",
		Username: "u", Password: "p", TLS: notify.TLSNone}})
	start := time.Now()
	w.serve()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("serving took %s with a full mail queue", d)
	}
	if n := counter(t, w.svc, "chuting_notify_mail_total", "dropped"); n != 1 {
		t.Fatalf("dropped counter %v, want 1 (two e-mails, room for one)", n)
	}
	w.run()
	srv.wait(t, 1)
	srv.none(t, 200*time.Millisecond)
}

// TestNoMail: without SMTP settings notices are written and nothing is mailed or counted.
func TestNoMail(t *testing.T) {
	w := newWorld(t, notify.Config{})
	w.run()
	w.serve()
	if ns := w.newNotices(); len(ns) != 3 {
		t.Fatalf("%d notices, want 3", len(ns))
	}
	for _, outcome := range []string{"sent", "failed", "dropped"} {
		if n := counter(t, w.svc, "chuting_notify_mail_total", outcome); n != 0 {
			t.Errorf("%s = %v without SMTP", outcome, n)
		}
	}
}

func TestMailConfigCheck(t *testing.T) {
	tests := []struct {
		name string
		c    notify.MailConfig
		ok   bool
	}{
		{"OK", notify.MailConfig{Addr: "smtp.court.test:587", From: "chuting <noreply@court.test>"}, true},
		{"OKImplicitTLS", notify.MailConfig{Addr: "smtp.court.test:465", From: "noreply@court.test", TLS: "tls"}, true},
		{"ErrNoPort", notify.MailConfig{Addr: "smtp.court.test", From: "noreply@court.test"}, false},
		{"ErrNoFrom", notify.MailConfig{Addr: "smtp.court.test:25"}, false},
		{"ErrBadFrom", notify.MailConfig{Addr: "smtp.court.test:25", From: "not an address"}, false},
		{"ErrTLS", notify.MailConfig{Addr: "smtp.court.test:25", From: "noreply@court.test", TLS: "ssl"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Check(); (err == nil) != tc.ok {
				t.Fatalf("Check() = %v", err)
			}
		})
	}
}
