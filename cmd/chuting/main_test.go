package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the chuting binary built once by TestMain, for the tests that need a real
// process: signals, kill -9, exit codes.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chuting-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "chuting")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build chuting: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const demoPassword = "demo-password-1"

// client talks to a chuting server as one signed-in user.
type client struct {
	t      testing.TB
	base   string
	http   *http.Client
	cookie *http.Cookie
	csrf   string
	token  string
}

func newClient(t testing.TB, addr string) *client {
	return &client{t: t, base: "http://" + addr, http: &http.Client{Timeout: 10 * time.Second}}
}

// login signs in with a password and keeps the session cookie and CSRF token.
func (c *client) login(username, password string) {
	c.t.Helper()
	res, body, err := c.try("POST", "/api/v1/session", map[string]string{"username": username, "password": password})
	if err != nil || res.StatusCode != http.StatusOK {
		c.t.Fatalf("login %s: %v %s", username, err, body)
	}
	var v struct {
		CSRFToken string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		c.t.Fatal(err)
	}
	c.csrf = v.CSRFToken
	for _, ck := range res.Cookies() {
		if strings.Contains(ck.Name, "chuting_session") {
			c.cookie = ck
		}
	}
	if c.cookie == nil {
		c.t.Fatal("no session cookie")
	}
}

// try sends a request and returns the answer, or the transport error (a killed server).
func (c *client) try(method, path string, body any) (*http.Response, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res, data, err
}

// do is try that fails the test on a transport error.
func (c *client) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	res, data, err := c.try(method, path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return res.StatusCode, data
}

// proc is a chuting server running as a child process.
type proc struct {
	cmd    *exec.Cmd
	addr   string
	log    *syncBuffer
	exited chan struct{} // closed when the process has exited; err is then set
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProc runs `chuting serve` with args on a free port and waits until it listens. It is
// killed by PID when the test ends, if still running.
func startProc(t testing.TB, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "CHUTING_STORE=") // nothing from the environment leaks in
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // the process this test started, by PID; an error means it has exited
		<-p.exited
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.log.Write([]byte(line + "\n"))
			var v struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &v) == nil && v.Msg == "chuting listening" {
				addr <- v.Addr
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	select {
	case p.addr = <-addr:
		return p
	case <-p.exited:
		t.Fatalf("chuting exited before listening (%v):\n%s", p.err, p.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("chuting did not listen within 30 s:\n%s", p.log)
	}
	return nil
}

// wait returns the process's exit error, or fails after d.
func (p *proc) wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(d):
		t.Fatalf("chuting did not exit within %s:\n%s", d, p.log)
	}
	return nil
}

// runCLI runs a chuting command line in-process and returns its exit code and output.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &stdio{in: strings.NewReader(stdin), out: &out, err: &errOut},
		func(string) string { return "" })
	return code, out.String(), errOut.String()
}

func TestSIGTERM(t *testing.T) {
	p := startProc(t, "--data", t.TempDir(), "--demo", "--demo-password", demoPassword)
	c := newClient(t, p.addr)
	if code, body := c.do("GET", "/healthz", nil); code != http.StatusOK {
		t.Fatalf("healthz: %d %s", code, body)
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 5*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.log)
	}
	if !strings.Contains(p.log.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop in the log:\n%s", p.log)
	}
	t.Logf("exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
}
