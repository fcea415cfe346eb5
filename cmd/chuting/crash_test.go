package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chuting/chuting/redis/redistest"
)

// burst has writers create courts as fast as they can until stop is closed, and returns the
// IDs of the writes the server acknowledged with 201. Writes cut off by a killed server are
// not acknowledged and not counted.
func burst(c *client, writers int, stop <-chan struct{}, acked *atomic.Int64) func() []string {
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, body, err := c.try("POST", "/api/v1/courts", map[string]any{"name": "法院", "code": fmt.Sprintf("w%d-%d", w, i)})
				if err != nil {
					continue // the server is gone; keep trying until told to stop
				}
				if res.StatusCode != http.StatusCreated {
					continue
				}
				var v struct{ ID string }
				if json.Unmarshal(body, &v) == nil && v.ID != "" {
					mu.Lock()
					ids = append(ids, v.ID)
					mu.Unlock()
					acked.Add(1)
				}
			}
		})
	}
	return func() []string {
		wg.Wait()
		return ids
	}
}

// TestCrashSafety starts the real binary, writes in a burst, kills it with SIGKILL in the
// middle, restarts it on the same data and finds every write that had been answered 201.
// With Redis, redis-server is killed too and restarted from its append-only file.
func TestCrashSafety(t *testing.T) {
	tests := []struct {
		name  string
		store func(t *testing.T) (args []string, crash func())
	}{
		{"Embedded", func(t *testing.T) ([]string, func()) {
			return []string{"--data", t.TempDir()}, func() {}
		}},
		{"RedisAOF", func(t *testing.T) ([]string, func()) {
			// Compose's setting: appendfsync everysec. A killed process loses nothing that
			// redis acknowledged, since the AOF is written before the reply.
			r := redistest.Start(t, "--appendfsync", "everysec")
			return []string{"--data", t.TempDir(), "--store", r.URL(0)}, func() {
				r.Kill()
				r.Restart(t)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args, crashStore := tc.store(t)
			args = append(args, "--demo", "--demo-password", demoPassword)
			p := startProc(t, args...)
			c := newClient(t, p.addr)
			c.login("bureau", demoPassword)

			stop := make(chan struct{})
			var acked atomic.Int64
			wait := burst(c, 8, stop, &acked)
			for deadline := time.Now().Add(20 * time.Second); acked.Load() < 200; {
				if time.Now().After(deadline) {
					t.Fatalf("only %d writes acknowledged in 20 s", acked.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := p.cmd.Process.Kill(); err != nil { // SIGKILL, writes in flight
				t.Fatal(err)
			}
			_ = p.wait(t, 10*time.Second)
			crashStore()
			close(stop)
			ids := wait()

			p2 := startProc(t, args...)
			c2 := newClient(t, p2.addr)
			c2.login("bureau", demoPassword)
			lost := 0
			for _, id := range ids {
				if code, body := c2.do("GET", "/api/v1/courts/"+id, nil); code != http.StatusOK {
					lost++
					if lost < 5 {
						t.Errorf("acknowledged court %s is gone after the crash: %d %s", id, code, body)
					}
				}
			}
			if lost > 0 {
				t.Fatalf("%d of %d acknowledged writes lost", lost, len(ids))
			}
			t.Logf("%d acknowledged writes, all present after kill -9 and restart", len(ids))
		})
	}
}

// TestRedisPersistenceOff shows the server refuses a Redis that would lose acknowledged
// writes, naming the settings, and exits non-zero; --allow-volatile overrides.
func TestRedisPersistenceOff(t *testing.T) {
	r := redistest.Start(t, "--appendonly", "no", "--save", "")
	code, _, errOut := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--store", r.URL(0))
	if code == 0 || !strings.Contains(errOut, "appendonly") || !strings.Contains(errOut, "save") ||
		!strings.Contains(errOut, "--allow-volatile") {
		t.Fatalf("exit %d, stderr %q: want a refusal naming appendonly and save", code, errOut)
	}
	m := startMain(t, "--data", t.TempDir(), "--store", r.URL(0), "--allow-volatile")
	if code, _ := newClient(t, m.Addr()).do("GET", "/readyz", nil); code != http.StatusOK {
		t.Fatalf("with --allow-volatile, readyz = %d", code)
	}
}
