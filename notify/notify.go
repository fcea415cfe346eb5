package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/chuting/chuting"
	"github.com/prometheus/client_golang/prometheus"
)

// Config holds what a Service needs.
type Config struct {
	Store  chuting.Records
	Now    func() time.Time // nil = time.Now
	Logger *slog.Logger     // nil = discard
	Mail   *MailConfig      // nil = no e-mail
	// Client calls the webhooks; nil = a client with a 10 s timeout. Redirects are never
	// followed, whatever the client says: a signed delivery goes where it was registered.
	Client *http.Client
	// MailQueue is how many e-mails may wait for the mail worker; 0 = 256.
	MailQueue int
	// AllowPrivate lets webhooks reach loopback, private and link-local addresses. Off, the
	// default client refuses them after name resolution, so a court clerk cannot aim the
	// server at its own network (SSRF). A court system on a private network needs it on.
	AllowPrivate bool
}

// publicTransport returns the transport of the default webhook client: one that refuses to
// connect to loopback, private, link-local and unspecified addresses unless allowPrivate. The
// address is checked when the socket connects, after name resolution, so a name that
// resolves to an internal address is refused too.
func publicTransport(allowPrivate bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // a proxy would connect on the server's behalf, past the check
	d := &net.Dialer{Timeout: Timeout}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return err
			}
			if !publicAddr(ip) {
				return fmt.Errorf("%w: %s is not a public address", errGone, ip.Unmap())
			}
			return nil
		}
	}
	t.DialContext = d.DialContext
	return t
}

// notPublic are the special-purpose ranges (IANA registries) that are no receiver on the
// internet, beyond what netip's predicates name: shared address space (carrier-grade NAT,
// and cloud metadata services such as 100.100.100.200), "this network", benchmarking,
// reserved, and the IPv6 prefixes that translate to IPv4 (NAT64, 6to4, Teredo) and so could
// reach any of those.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001::/32"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("100::/64"),
}

// publicAddr reports whether a webhook may be delivered to ip: a global unicast address
// outside the private and special-purpose ranges.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// RetryInterval is how often Run looks for webhook deliveries that are due.
const RetryInterval = 30 * time.Second

// handleTimeout bounds the store writes of one Handle call.
const handleTimeout = 10 * time.Second

// Service writes notices, sends e-mail and delivers webhooks. Handle may be called from any
// goroutine; Run must run (once) for e-mail and timely webhook retries.
type Service struct {
	store  chuting.Records
	now    func() time.Time
	logger *slog.Logger
	client *http.Client
	mail   *MailConfig
	mailQ  chan mailJob
	kick   chan struct{} // wakes Run when Handle stored deliveries

	notices  prometheus.Counter
	mailed   *prometheus.CounterVec // outcome: sent, failed, dropped
	attempts *prometheus.CounterVec // outcome: delivered, retry, failed
}

// New returns a Service. It starts nothing; see Run.
func New(c Config) *Service {
	s := &Service{store: c.Store, now: c.Now, logger: c.Logger, mail: c.Mail, kick: make(chan struct{}, 1)}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	client := &http.Client{Timeout: Timeout, Transport: publicTransport(c.AllowPrivate)}
	if c.Client != nil {
		cl := *c.Client
		client = &cl
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = client
	if s.mail != nil {
		n := c.MailQueue
		if n <= 0 {
			n = 256
		}
		s.mailQ = make(chan mailJob, n)
	}
	s.notices = prometheus.NewCounter(prometheus.CounterOpts{Name: "chuting_notify_notices_total",
		Help: "In-app notices written."})
	s.mailed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chuting_notify_mail_total",
		Help: "E-mailed notices, by outcome: sent, failed, dropped (queue full or shutdown)."}, []string{"outcome"})
	s.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chuting_notify_webhook_attempts_total",
		Help: "Webhook delivery attempts, by outcome: delivered, retry, failed."}, []string{"outcome"})
	return s
}

// Collectors returns the service's metrics, for the process's /metrics registry.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.notices, s.mailed, s.attempts}
}

// Run sends queued e-mail and delivers due webhooks until ctx ends: at once, every
// RetryInterval, and whenever Handle stores new deliveries. It returns when its workers have
// stopped. E-mails still queued then are counted as dropped.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if s.mailQ != nil {
		wg.Go(func() { s.mailLoop(ctx) })
	}
	defer wg.Wait()
	t := time.NewTicker(RetryInterval)
	defer t.Stop()
	for {
		if _, err := s.RetryDue(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("webhook retry sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// audience is a set of the people a summons concerns.
type audience uint8

const (
	toInstitution audience = 1 << iota // the institution's admins
	toAppraisers                       // the accounts of the summoned appraisers
	toCourt                            // the court's clerks and judges
	toBureau                           // the justice bureau's admins
)

// event is a SummonsEvent worked out: what to call it, whom to tell, and what to say.
type event struct {
	chuting.SummonsEvent
	topic string
	time  time.Time
	actor string // the user who took the step; not told of it
	to    audience
	// key, when set, makes the event's notices and deliveries idempotent: their IDs derive
	// from it, so handling the event again writes nothing new.
	key string
}

// classify names e and decides whom it concerns.
func classify(e chuting.SummonsEvent, now time.Time) event {
	sm := e.Summons
	ev := event{SummonsEvent: e, time: now.UTC()}
	switch {
	case e.FollowUp != nil: // an absence without cause: the bureau punishes, the institution answers (#38)
		ev.topic, ev.to, ev.time = "attendance.absent_without_cause", toInstitution|toBureau|toCourt, e.FollowUp.Opened
		ev.key = "follow-up/" + e.FollowUp.ID
	case e.Receipt != nil:
		ev.topic, ev.actor, ev.to, ev.time = "summons.receipt", e.Receipt.By, toCourt, e.Receipt.At
	case e.Served:
		ev.topic, ev.actor, ev.to = "summons.served", sm.ServedBy, toInstitution|toAppraisers
		if !sm.ServedAt.IsZero() {
			ev.time = sm.ServedAt
		}
	case e.Reminder != "":
		ev.topic, ev.to = "reminder."+e.Reminder, toAppraisers|toInstitution|toCourt
	case e.NoShow: // the court decides what it was: absence without cause or a technical failure
		ev.topic, ev.to = "summons.no_show", toCourt|toInstitution
	case e.Transition != nil:
		tr := e.Transition
		ev.topic, ev.actor, ev.time = "summons."+tr.Action, tr.By, tr.Time
		switch tr.Action {
		case "confirm", "decline": // the appraisers' answers go to the court
			ev.to = toCourt | toInstitution
		case "schedule": // the fixed hearing concerns everyone
			ev.to = toCourt | toAppraisers | toInstitution
		default: // the court's decisions and the server's steps go to the appraisers
			ev.to = toAppraisers | toInstitution
		}
	default:
		ev.topic, ev.to = "summons.changed", toInstitution|toAppraisers
	}
	return ev
}

// Handle tells everyone concerned about e: notices in their inboxes, e-mail to those with an
// address, a delivery for each enabled webhook of the court. It stores what it must before it
// returns and leaves the sending to Run. Failures are logged: the change they report is
// already stored and must not be undone because a notice could not be written.
func (s *Service) Handle(ctx context.Context, e chuting.SummonsEvent) {
	if e.Summons == nil {
		return
	}
	// The change is stored: tell people even if the client that made it has gone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handleTimeout)
	defer cancel()
	ev := classify(e, s.now())
	if err := s.inbox(ctx, ev); err != nil {
		s.logger.Error("write notices", "summons", e.Summons.ID, "topic", ev.topic, "err", err)
	}
	if err := s.enqueueDeliveries(ctx, ev); err != nil {
		s.logger.Error("store webhook deliveries", "summons", e.Summons.ID, "topic", ev.topic, "err", err)
	}
}

// inbox writes one notice per recipient of ev and queues their e-mails.
func (s *Service) inbox(ctx context.Context, ev event) error {
	users, err := s.recipients(ctx, ev.Summons, ev.to, ev.actor)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		return nil
	}
	title, body := s.compose(ctx, ev)
	var errs []error
	for _, u := range users {
		n := &chuting.Notice{UserID: u.ID, Topic: ev.topic, SummonsID: ev.Summons.ID, Title: title, Body: body}
		if ev.key != "" {
			n.ID = chuting.IDOf("notice/" + ev.key + "/" + u.ID)
		}
		err := chuting.Create(ctx, s.store, n)
		if ev.key != "" && chuting.ErrorCode(err) == chuting.ECONFLICT {
			continue // told already, and mailed then
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("notice for user %s: %w", u.ID, err))
			continue
		}
		s.notices.Inc()
		if u.Email != "" {
			s.queueMail(mailJob{to: u.Email, name: u.Name, subject: title, body: body})
		}
	}
	return errors.Join(errs...)
}

// recipients returns the enabled accounts of the audience to of sm, each once, leaving out the
// actor. An appraiser without an account is told through the institution's admins.
func (s *Service) recipients(ctx context.Context, sm *chuting.Summons, to audience, actor string) ([]*chuting.User, error) {
	var out []*chuting.User
	seen := map[string]bool{}
	add := func(u *chuting.User) {
		if !u.Disabled && u.ID != actor && !seen[u.ID] {
			seen[u.ID] = true
			out = append(out, u)
		}
	}
	byRole := func(index, value string, roles ...chuting.Role) error {
		if value == "" {
			return nil
		}
		us, err := chuting.FindAll[chuting.User](ctx, s.store, chuting.Equal(chuting.KindUser, index, value))
		if err != nil {
			return fmt.Errorf("users of %s %s: %w", index, value, err)
		}
		for _, u := range us {
			for _, r := range roles {
				if u.Role == r {
					add(u)
				}
			}
		}
		return nil
	}
	if to&toInstitution != 0 {
		if err := byRole(chuting.IndexInstitution, sm.InstitutionID, chuting.RoleInstitutionAdmin); err != nil {
			return nil, err
		}
	}
	if to&toAppraisers != 0 {
		for _, id := range sm.Summoned() {
			u, err := chuting.FindOne[chuting.User](ctx, s.store, chuting.IndexAppraiser, id)
			if chuting.ErrorCode(err) == chuting.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, fmt.Errorf("account of appraiser %s: %w", id, err)
			}
			add(u)
		}
	}
	if to&toCourt != 0 {
		if err := byRole(chuting.IndexCourt, sm.CourtID, chuting.RoleClerk, chuting.RoleJudge); err != nil {
			return nil, err
		}
	}
	if to&toBureau != 0 {
		// Users have no index by role; the bureau's admins are among a few hundred accounts.
		us, err := chuting.FindAll[chuting.User](ctx, s.store, chuting.Query{Kind: chuting.KindUser})
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		for _, u := range us {
			if u.Role == chuting.RoleBureauAdmin {
				add(u)
			}
		}
	}
	return out, nil
}
