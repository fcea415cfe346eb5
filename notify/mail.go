package notify

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	mail "github.com/wneessen/go-mail"
)

// MailConfig is the SMTP server that e-mailed notices go through.
type MailConfig struct {
	Addr     string // host:port
	From     string // the sender, "chuting <noreply@court.example>" or a bare address
	Username string // SMTP AUTH user; "" = no authentication
	Password string
	// TLS is how the connection is protected: "starttls" (mandatory STARTTLS, the default
	// when empty), "tls" (implicit TLS, as on port 465) or "none" (plain text; for a relay
	// on loopback or a trusted network only, and credentials go only to one on loopback).
	TLS string
}

// TLS modes of MailConfig.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// Check reports what is wrong with c, naming the setting.
func (c *MailConfig) Check() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return fmt.Errorf("smtp addr %q: want host:port", c.Addr)
	}
	if c.From == "" {
		return fmt.Errorf("smtp from: a sender address is required")
	}
	if err := mail.NewMsg().From(c.From); err != nil {
		return fmt.Errorf("smtp from %q: %w", c.From, err)
	}
	switch c.TLS {
	case "", TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return fmt.Errorf("smtp tls %q: want none, starttls or tls", c.TLS)
	}
	return nil
}

// mailJob is one e-mail waiting to be sent.
type mailJob struct {
	to, name      string
	subject, body string
}

// mailBatch is how many queued e-mails one SMTP connection sends at most.
const mailBatch = 20

// mailTimeout bounds one SMTP conversation.
const mailTimeout = 30 * time.Second

// queueMail queues job without waiting: a full queue drops it, since the request path must
// never wait for a mail server (the notice is in the inbox regardless).
func (s *Service) queueMail(job mailJob) {
	if s.mailQ == nil {
		return
	}
	select {
	case s.mailQ <- job:
	default:
		s.mailed.WithLabelValues("dropped").Inc()
		s.logger.Warn("mail queue full; e-mail dropped (the notice is in the inbox)", "to", job.to, "subject", job.subject)
	}
}

// mailLoop sends queued e-mail, a batch per connection, until ctx ends.
func (s *Service) mailLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			if n := len(s.mailQ); n > 0 {
				s.mailed.WithLabelValues("dropped").Add(float64(n))
				s.logger.Warn("shutting down; queued e-mails not sent (the notices are in the inboxes)", "count", n)
			}
			return
		case job := <-s.mailQ:
			batch := []mailJob{job}
		more:
			for len(batch) < mailBatch {
				select {
				case job := <-s.mailQ:
					batch = append(batch, job)
				default:
					break more
				}
			}
			s.send(ctx, batch)
		}
	}
}

// send sends a batch over one SMTP connection, logging and counting what failed.
func (s *Service) send(ctx context.Context, batch []mailJob) {
	msgs := make([]*mail.Msg, 0, len(batch))
	for _, j := range batch {
		m, err := s.message(j)
		if err != nil {
			s.mailed.WithLabelValues("failed").Inc()
			s.logger.Error("compose e-mail", "to", j.to, "err", err)
			continue
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return
	}
	client, err := s.mailClient()
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, mailTimeout)
		err = client.DialAndSendWithContext(ctx, msgs...)
		cancel()
	}
	failed := 0
	for _, m := range msgs {
		if m.HasSendError() {
			failed++
		}
	}
	if err != nil && failed == 0 {
		failed = len(msgs) // the connection failed: nothing went out
	}
	s.mailed.WithLabelValues("sent").Add(float64(len(msgs) - failed))
	if failed > 0 {
		s.mailed.WithLabelValues("failed").Add(float64(failed))
		s.logger.Error("send e-mail", "server", s.mail.Addr, "failed", failed, "of", len(msgs), "err", err)
	}
}

// message builds the e-mail of job: subject and plain-text UTF-8 body.
func (s *Service) message(j mailJob) (*mail.Msg, error) {
	m := mail.NewMsg()
	if err := m.From(s.mail.From); err != nil {
		return nil, fmt.Errorf("from %q: %w", s.mail.From, err)
	}
	if err := m.AddToFormat(j.name, j.to); err != nil {
		return nil, fmt.Errorf("to %q: %w", j.to, err)
	}
	m.Subject(j.subject)
	m.SetDate()
	m.SetMessageID()
	m.SetBodyString(mail.TypeTextPlain, j.body)
	return m, nil
}

// mailClient returns an SMTP client for the configured server.
func (s *Service) mailClient() (*mail.Client, error) {
	c := s.mail
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp addr %q: %w", c.Addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("smtp addr %q: bad port", c.Addr)
	}
	opts := []mail.Option{mail.WithPort(n), mail.WithTimeout(mailTimeout)}
	switch c.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL(), mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if c.Username != "" {
		// The strongest mechanism the server offers; over plain text only PLAIN, which the
		// library sends to a server on loopback and refuses to send anywhere else.
		auth := mail.SMTPAuthAutoDiscover
		if c.TLS == TLSNone {
			auth = mail.SMTPAuthPlain
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	return mail.NewClient(host, opts...)
}
