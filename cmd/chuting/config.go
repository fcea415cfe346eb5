package main

import (
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/chuting/chuting/notify"
)

// Config is the configuration of `chuting serve`. Every field is a flag, and every flag can
// also be set with an environment variable named CHUTING_ and the flag name in upper case with
// dashes as underscores (--allow-volatile → CHUTING_ALLOW_VOLATILE). A flag on the command
// line wins over the environment.
type Config struct {
	Addr               string        // address to listen on
	Data               string        // data folder: the embedded store, keys, recordings
	Store              string        // "" = embedded store in Data; redis://host:port/db = Redis
	AllowVolatile      bool          // accept a Redis with persistence off
	Demo               bool          // seed the demo world on first start
	DemoPassword       string        // password of the demo accounts; "" = random, printed once
	LogLevel           string        // debug, info, warn, error
	LogFormat          string        // json or text
	InsecureCookie     bool          // send the session cookie without Secure (plain HTTP off loopback)
	TrustedProxies     string        // comma-separated CIDRs of reverse proxies whose X-Forwarded-For counts
	SessionTTL         time.Duration // how long a browser session lasts from sign-in
	ShutdownTimeout    time.Duration // how long SIGTERM waits for requests in flight
	MaxBody            int64         // largest accepted request body, in bytes
	SMTPAddr           string        // host:port of the SMTP server for e-mailed notices; "" = no e-mail
	SMTPFrom           string        // the sender of those e-mails
	SMTPUsername       string        // SMTP AUTH user; "" = no authentication
	SMTPPassword       string        // SMTP AUTH password
	SMTPTLS            string        // none, starttls or tls
	WebhookPrivate     bool          // webhooks may reach loopback and private networks
	CEHours            float64       // yearly continuing-education minimum (#10); negative: off
	Proficiency        int           // failed proficiency tests in a row that suspend a category (#11); negative: off
	RTCUDPPort         int           // the one UDP port of the media (ICE); 0 = any free port
	RTCTCPPort         int           // the one TCP port of the media (ICE over TCP); 0 = any, -1 = off
	RTCPublicIP        string        // comma-separated addresses announced for the media behind 1:1 NAT
	RTCMaxParticipants int           // participants in all rooms of the node; 0 = no bound
	TURNUDP            string        // host:port of the embedded TURN relay over UDP; "" = off
	TURNTCP            string        // host:port of the embedded TURN relay over TCP; "" = off
	AllowedOrigins     string        // comma-separated origins allowed to open the room WebSocket besides the server's own
	AdaptProcs         bool          // run on as few processors (GOMAXPROCS) as the load needs (package procs)
}

// storeFlags registers the flags that locate the store; every subcommand that opens the
// store shares them, so `chuting user add` works on the same data as `chuting serve`.
func storeFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Data, "data", "./chuting-data", "data folder (embedded store, keys, recordings)")
	fs.StringVar(&c.Store, "store", "", `store: "" = embedded store in the data folder; redis://host:port/db = Redis`)
	fs.BoolVar(&c.AllowVolatile, "allow-volatile", false, "accept a Redis whose persistence is off (writes may be lost)")
}

// serveFlags registers the flags of `chuting serve`.
func serveFlags(fs *flag.FlagSet, c *Config) {
	storeFlags(fs, c)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.BoolVar(&c.Demo, "demo", false, "seed the demo data on first start")
	fs.StringVar(&c.DemoPassword, "demo-password", "", "password of the demo accounts (empty: random, printed at first start)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&c.InsecureCookie, "insecure-cookie", false, "send the session cookie without the Secure attribute (plain HTTP off loopback; never in production)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxy", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (e.g. 127.0.0.1/32)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", 12*time.Hour, "how long a browser session lasts from sign-in")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 5*time.Second, "how long shutdown waits for requests in flight")
	fs.Int64Var(&c.MaxBody, "max-body", 1<<20, "largest accepted request body in bytes")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", "", "SMTP server host:port for e-mailed notices (empty: no e-mail)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", "", `sender of e-mailed notices, e.g. "chuting <noreply@court.example>"`)
	fs.StringVar(&c.SMTPUsername, "smtp-username", "", "SMTP AUTH user (empty: no authentication)")
	fs.StringVar(&c.SMTPPassword, "smtp-password", "", "SMTP AUTH password (prefer CHUTING_SMTP_PASSWORD: flags show in ps)")
	fs.StringVar(&c.SMTPTLS, "smtp-tls", notify.TLSStartTLS, "SMTP connection security: starttls, tls (implicit, port 465) or none")
	fs.BoolVar(&c.WebhookPrivate, "webhook-allow-private", false, "let webhooks reach loopback and private networks (a court system on the same network)")
	fs.Float64Var(&c.CEHours, "ce-hours", 40, "yearly continuing-education hours an appraiser needs (negative: no rule)")
	fs.IntVar(&c.Proficiency, "proficiency-failures", 2, "failed proficiency tests in consecutive years that suspend a category (negative: no rule)")
	fs.IntVar(&c.RTCUDPPort, "rtc-udp-port", 0, "the one UDP port all hearing media uses (0: any free port; open it in the firewall)")
	fs.IntVar(&c.RTCTCPPort, "rtc-tcp-port", 0, "the one TCP port for media where UDP is blocked (0: any free port, -1: off)")
	fs.StringVar(&c.RTCPublicIP, "rtc-public-ip", "", "comma-separated public addresses of the media ports, for a server behind 1:1 NAT")
	fs.IntVar(&c.RTCMaxParticipants, "rtc-max-participants", 0, "participants this node's hearing rooms may hold in all; joins beyond are refused (0: no bound)")
	fs.StringVar(&c.TURNUDP, "turn-udp", "", "host:port of the embedded TURN relay over UDP, e.g. 0.0.0.0:3478 (empty: off)")
	fs.StringVar(&c.TURNTCP, "turn-tcp", "", "host:port of the embedded TURN relay over TCP, e.g. 0.0.0.0:3478 (empty: off)")
	fs.StringVar(&c.AllowedOrigins, "allowed-origins", "", "comma-separated origins (https://court.example) allowed to open the hearing room WebSocket besides this server's own")
	fs.BoolVar(&c.AdaptProcs, "adapt-procs", true, "run on as few CPU cores as the load needs, up to all (false: all; a GOMAXPROCS in the environment also turns it off)")
}

// EnvName returns the environment variable that sets the flag named name.
func EnvName(name string) string {
	return "CHUTING_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parseFlags parses args into fs, then fills every flag not given on the command line from
// its environment variable (looked up with getenv).
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(EnvName(f.Name)); v != "" && !given[f.Name] && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, e)
			}
		}
	})
	return err
}

// validateStore checks the flags that locate the store (every subcommand has them).
func (c *Config) validateStore() error {
	if c.Store != "" && !strings.HasPrefix(c.Store, "redis://") && !strings.HasPrefix(c.Store, "rediss://") {
		return fmt.Errorf("--store %q: want empty (embedded) or redis://host:port/db", c.Store)
	}
	return nil
}

// trustedProxies parses --trusted-proxy.
func (c *Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy %q: want CIDRs such as 127.0.0.1/32,10.0.0.0/8", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// validate checks the serve values that flag parsing cannot.
func (c *Config) validate() error {
	if err := c.validateStore(); err != nil {
		return err
	}
	if _, err := c.trustedProxies(); err != nil {
		return err
	}
	if err := c.validateRooms(); err != nil {
		return err
	}
	switch {
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	case c.SessionTTL < time.Minute:
		return fmt.Errorf("--session-ttl %s: want at least 1m", c.SessionTTL)
	case c.MaxBody < 1024:
		return fmt.Errorf("--max-body %d: want at least 1024", c.MaxBody)
	}
	if mc := c.mailConfig(); mc != nil {
		if err := mc.Check(); err != nil {
			return fmt.Errorf("SMTP settings (--smtp-*): %w", err)
		}
	}
	return nil
}

// mailConfig returns the SMTP settings, or nil when no server is set (notices stay in-app).
func (c *Config) mailConfig() *notify.MailConfig {
	if c.SMTPAddr == "" {
		return nil
	}
	return &notify.MailConfig{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUsername,
		Password: c.SMTPPassword, TLS: c.SMTPTLS}
}
