package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// startMain runs the whole server in-process on port 0, as the binary would, and closes it
// when the test ends.
func startMain(t *testing.T, args ...string) *Main {
	t.Helper()
	m := NewMain(io.Discard, io.Discard)
	if testing.Verbose() {
		m = NewMain(os.Stdout, os.Stderr)
	}
	if err := m.ParseFlags(append([]string{"--addr", "127.0.0.1:0"}, args...), func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestServeDemo is what a new user gets from `chuting serve --demo`: the pages, the demo
// world behind every demo account, and the operational endpoints.
func TestServeDemo(t *testing.T) {
	data := t.TempDir()
	m := startMain(t, "--data", data, "--demo", "--demo-password", demoPassword)
	anon := newClient(t, m.Addr())

	t.Run("Operations", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, body := anon.do("GET", path, nil); code != http.StatusOK {
				t.Fatalf("%s: %d %s", path, code, body)
			}
		}
		code, body := anon.do("GET", "/metrics", nil)
		if code != http.StatusOK || !strings.Contains(string(body), "chuting_http_requests_total{") ||
			!strings.Contains(string(body), "go_goroutines") {
			t.Fatalf("/metrics: %d\n%.500s", code, body)
		}
	})
	t.Run("Page", func(t *testing.T) {
		res, body, err := anon.try("GET", "/", nil)
		if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(string(body), "出庭") ||
			!strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("GET /: %v %v %.200s", err, res, body)
		}
	})
	t.Run("Accounts", func(t *testing.T) {
		file, err := os.ReadFile(filepath.Join(data, "demo-accounts.txt"))
		if err != nil || !strings.Contains(string(file), demoPassword) {
			t.Fatalf("demo-accounts.txt: %v %s", err, file)
		}
		// What each role sees of the demo world.
		tests := []struct {
			user, path, want string
		}{
			{"clerk", "/api/v1/summons", "(2026)赣07民初123号"},
			{"judge", "/api/v1/appraisers", "王芳"},
			{"center-admin", "/api/v1/rooms", "远程视频出庭作证室"},
			{"liming", "/api/v1/summons", "被告对伤残等级鉴定意见有异议"},
			{"bureau", "/api/v1/institutions", "赣州正源司法鉴定所"},
			{"zhengyuan-admin", "/api/v1/appraisers", "刘洋"},
			{"clerk-zhanggong", "/api/v1/summons", "(2026)赣0702民初456号"},
		}
		for _, tc := range tests {
			c := newClient(t, m.Addr())
			c.login(tc.user, demoPassword)
			code, body := c.do("GET", tc.path, nil)
			if code != http.StatusOK || !strings.Contains(string(body), tc.want) {
				t.Errorf("%s GET %s: %d, want %q in %.300s", tc.user, tc.path, code, tc.want, body)
			}
		}
	})
	t.Run("SeededOnce", func(t *testing.T) {
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		m2 := startMain(t, "--data", data, "--demo", "--demo-password", "another-password-2")
		page, _, err := chuting.Find[chuting.Court](context.Background(), m2.Store, chuting.Query{})
		if err != nil || len(page) != 2 {
			t.Fatalf("after a second start: %d courts (%v), want the 2 seeded once", len(page), err)
		}
		c := newClient(t, m2.Addr())
		c.login("bureau", demoPassword) // the first start's password still holds
	})
}

func TestFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{"CHUTING_ADDR": "127.0.0.1:9999", "CHUTING_SESSION_TTL": "2h", "CHUTING_DEMO": "true"}
	getenv := func(k string) string { return env[k] }
	t.Run("EnvironmentFills", func(t *testing.T) {
		m := NewMain(io.Discard, io.Discard)
		if err := m.ParseFlags(nil, getenv); err != nil {
			t.Fatal(err)
		}
		if m.Config.Addr != "127.0.0.1:9999" || m.Config.SessionTTL != 2*time.Hour || !m.Config.Demo {
			t.Fatalf("config from the environment = %+v", m.Config)
		}
	})
	t.Run("FlagWins", func(t *testing.T) {
		m := NewMain(io.Discard, io.Discard)
		if err := m.ParseFlags([]string{"--addr", "127.0.0.1:7777"}, getenv); err != nil {
			t.Fatal(err)
		}
		if m.Config.Addr != "127.0.0.1:7777" {
			t.Fatalf("addr = %s, want the flag's", m.Config.Addr)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, args := range [][]string{{"--store", "postgres://x"}, {"--log-format", "xml"}, {"--session-ttl", "1s"},
			{"--max-body", "10"}, {"--nope"}, {"stray"}} {
			m := NewMain(io.Discard, io.Discard)
			if err := m.ParseFlags(args, func(string) string { return "" }); err == nil {
				t.Errorf("%v accepted", args)
			}
		}
		bad := map[string]string{"CHUTING_SESSION_TTL": "soon"}
		m := NewMain(io.Discard, io.Discard)
		if err := m.ParseFlags(nil, func(k string) string { return bad[k] }); err == nil || !strings.Contains(err.Error(), "CHUTING_SESSION_TTL") {
			t.Errorf("bad environment value: %v", err)
		}
	})
}

// TestREADMEConfiguration keeps the README's configuration table in step with the flags.
func TestREADMEConfiguration(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs, &Config{})
	fs.VisitAll(func(f *flag.Flag) {
		row := fmt.Sprintf("| `--%s` | `%s` |", f.Name, EnvName(f.Name))
		if !strings.Contains(string(readme), row) {
			t.Errorf("README's configuration table has no row starting %s", row)
		}
	})
}

// TestGCPercent checks that the server runs with its own collector target unless GOGC says
// otherwise (docs/perf.md: the target trades memory per participant against CPU).
func TestGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })

	setGCPercent(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("without GOGC the runtime's target is %d, want %d", got, gcPercent)
	}
	env := func(k string) string {
		if k == "GOGC" {
			return "150" // as if the runtime had applied it at start; here it stays at 100
		}
		return ""
	}
	setGCPercent(env)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set the target was changed to %d", got)
	}
}

// TestAdaptProcs checks when the server sizes its processors to its load: by default, not
// with --adapt-procs=false (or its environment variable), nor when GOMAXPROCS is set.
func TestAdaptProcs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{"default", nil, nil, true},
		{"flag off", []string{"--adapt-procs=false"}, nil, false},
		{"variable off", nil, map[string]string{EnvName("adapt-procs"): "false"}, false},
		{"GOMAXPROCS set", nil, map[string]string{"GOMAXPROCS": "2"}, false},
	} {
		m := NewMain(io.Discard, io.Discard)
		getenv := func(k string) string { return tc.env[k] }
		if err := m.ParseFlags(tc.args, getenv); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := m.procs(getenv) != nil; got != tc.want {
			t.Errorf("%s: adapting %v, want %v", tc.name, got, tc.want)
		}
	}
}
