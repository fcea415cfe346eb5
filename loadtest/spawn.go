package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is a `chuting serve` process the tool started, on a data folder it seeded.
type server struct {
	cmd  *exec.Cmd
	url  string
	data string
	temp bool // the data folder is the tool's own, removed at the end
	done chan struct{}
	err  error // how the process ended, once done is closed
}

// spawn seeds a world into the data folder (a new temporary one if data is "") and starts
// `binary serve` on it, listening on a free loopback port, so that media stays on loopback.
// Its log goes to server.log in the data folder.
func spawn(ctx context.Context, binary, data string, rooms int, extra []string) (*server, *World, error) {
	s := &server{data: data, done: make(chan struct{})}
	if data == "" {
		d, err := os.MkdirTemp("", "chuting-loadtest-")
		if err != nil {
			return nil, nil, err
		}
		s.data, s.temp = d, true
	}
	w, err := Seed(ctx, s.data, rooms, time.Now())
	if err != nil {
		s.remove()
		return nil, nil, err
	}
	logFile, err := os.Create(filepath.Join(s.data, "server.log"))
	if err != nil {
		s.remove()
		return nil, nil, err
	}
	args := append([]string{"serve", "--data", s.data, "--addr", "127.0.0.1:0",
		"--log-format", "json", "--log-level", "info"}, extra...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = serverEnv(os.Environ())
	// The server dies with the tool, even if the tool is killed.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		_ = logFile.Close()
		s.remove()
		return nil, nil, err
	}
	s.cmd.Stdout = logFile
	if err := s.cmd.Start(); err != nil {
		_ = logFile.Close()
		s.remove()
		return nil, nil, fmt.Errorf("start %s: %w", binary, err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = logFile.Write(append(line, '\n'))
			var e struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &e) == nil && e.Msg == "chuting listening" && e.Addr != "" {
				select {
				case addr <- e.Addr:
				default:
				}
			}
		}
		_, _ = io.Copy(logFile, stderr)
		s.err = s.cmd.Wait()
		_ = logFile.Close()
		close(s.done)
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
		return s, w, nil
	case <-s.done:
		err = fmt.Errorf("the server stopped before listening (%v); see %s", s.err, filepath.Join(s.data, "server.log"))
	case <-time.After(60 * time.Second):
		err = errors.New("the server did not listen within 60 s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.stop()
	return nil, nil, err
}

// serverEnv is the tool's environment without CHUTING_ settings, which would change the
// server the tool configures (CHUTING_STORE, CHUTING_ADDR…), except CHUTING_PPROF, which a
// profiling build reads (docs/perf.md).
func serverEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "CHUTING_") && !strings.HasPrefix(kv, "CHUTING_PPROF=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the server (SIGTERM, then SIGKILL after 10 s) and removes a temporary data
// folder.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	s.remove()
}

func (s *server) remove() {
	if s.temp {
		_ = os.RemoveAll(s.data)
	}
}
