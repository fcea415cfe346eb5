// Package redistest runs a real redis-server for tests, as a plain child process on a free
// loopback port with its data in the test's temporary directory. A real server is used instead
// of a fake because the store's guarantees (atomic Lua scripts, AOF durability, CONFIG
// answers) are Redis's own; a fake would only test itself.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// startTimeout bounds the wait for a new server to answer PING. Redis answers after ~40 ms
	// on an idle machine; replaying a large AOF or a loaded CI runner takes longer.
	startTimeout = 5 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before it sends SIGKILL.
	stopTimeout = 5 * time.Second
	// bindAttempts is how often Start picks another port when redis-server fails to start,
	// because the free port it was given may be taken by someone else before redis binds it.
	bindAttempts = 5
)

// Server is a running redis-server owned by one test.
type Server struct {
	Addr string    // host:port on 127.0.0.1
	Dir  string    // the server's working directory (RDB file, appendonlydir)
	Cmd  *exec.Cmd // the current process; Restart replaces it

	path   string        // the redis-server binary
	args   []string      // every argument, port included, so Restart repeats them
	log    string        // file that collects stdout and stderr of every run
	exited chan struct{} // closed when the current process has been waited for
}

// Start starts a redis-server listening on a free port of 127.0.0.1, with AOF on and RDB
// snapshots off, plus extraArgs (such as "--appendfsync", "always"); later arguments override
// earlier ones, so extraArgs can change the defaults. It returns once the server answers PING,
// and stops the server when the test ends. It fails the test, never skips it, when
// redis-server is not installed: a skipped store test would pass without testing anything.
func Start(tb testing.TB, extraArgs ...string) *Server {
	tb.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found: run ./scripts/test, which installs it, or apt-get install redis-server (%v)", err)
	}
	s := &Server{Dir: tb.TempDir(), path: path}
	s.log = filepath.Join(tb.TempDir(), "redis.log")
	tb.Cleanup(func() {
		s.stop(tb)
		if tb.Failed() {
			s.dumpLog(tb)
		}
	})
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("pick a port for redis-server: %v", err)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s.args = append([]string{"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", s.Dir,
			"--save", "", "--appendonly", "yes", "--daemonize", "no"}, extraArgs...)
		err = s.run()
		if err == nil {
			return s
		}
		if attempt == bindAttempts {
			s.dumpLog(tb)
			tb.Fatalf("start redis-server: %v", err)
		}
		tb.Logf("start redis-server on %s (attempt %d): %v; retrying on another port", s.Addr, attempt, err)
	}
}

// URL returns the redis:// URL of database db on the server.
func (s *Server) URL(db int) string {
	return fmt.Sprintf("redis://%s/%d", s.Addr, db)
}

// Kill ends the server with SIGKILL, as a crash or power cut would, and waits for it to exit.
// Nothing is flushed: only what Redis had already written to its files survives.
func (s *Server) Kill() {
	if s.running() {
		_ = s.Cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
	}
}

// Restart starts the server again with the same arguments, port and directory, after Kill, so
// a test can check what Redis recovers from its files.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if s.running() {
		tb.Fatal("redistest: Restart of a running server; call Kill first")
	}
	if err := s.run(); err != nil {
		s.dumpLog(tb)
		tb.Fatalf("restart redis-server on %s: %v", s.Addr, err)
	}
}

// run starts the process and waits until it answers on its port (see probe) or exits.
func (s *Server) run() error {
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child holds its own descriptor
	// A file, not a pipe, takes the output: Redis forks children for snapshots and AOF
	// rewrites, and a child still holding a pipe would keep cmd.Wait from returning after a
	// SIGKILL of the parent.
	cmd := exec.Command(s.path, s.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.Cmd, s.exited = cmd, exited

	deadline := time.Now().Add(startTimeout)
	for {
		pid, err := probe(s.Addr)
		if err == nil && pid == cmd.Process.Pid {
			return nil
		}
		if err == nil {
			// Another server took the port between freePort and our bind; ours is exiting.
			err = fmt.Errorf("port %s is taken by redis-server pid %d", s.Addr, pid)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			return err
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited: %v (see its log)", cmd.ProcessState)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			return fmt.Errorf("no answer to PING after %v: %w", startTimeout, err)
		}
	}
}

// stop ends the current process by its own PID: SIGTERM (Redis then writes its files and
// exits), SIGKILL if it takes longer than stopTimeout. It never signals anything by name, so
// it cannot touch another test's server.
func (s *Server) stop(tb testing.TB) {
	if !s.running() {
		return
	}
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		tb.Logf("redis-server %s ignored SIGTERM for %v; killing it", s.Addr, stopTimeout)
		_ = s.Cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
	}
}

func (s *Server) running() bool {
	if s.Cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *Server) dumpLog(tb testing.TB) {
	b, err := os.ReadFile(s.log)
	if err != nil {
		tb.Logf("redis-server log: %v", err)
		return
	}
	tb.Logf("redis-server %s log:\n%s", s.Addr, b)
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// probe returns the process ID of the redis-server at addr once it is ready: it answers PING
// with +PONG (a server still loading its AOF answers -LOADING), and INFO server names its
// process, so that Start knows the server on the port is the one it started.
func probe(addr string) (pid int, err error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\nINFO server\r\n")); err != nil {
		return 0, err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	} else if line = strings.TrimSpace(line); line != "+PONG" {
		return 0, errors.New("PING answered " + line)
	}
	if line, err = r.ReadString('\n'); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(line), "$"))
	if err != nil {
		return 0, fmt.Errorf("INFO answered %q", line)
	}
	info := make([]byte, n)
	if _, err := io.ReadFull(r, info); err != nil {
		return 0, err
	}
	for l := range strings.Lines(string(info)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("INFO server names no process_id")
}
