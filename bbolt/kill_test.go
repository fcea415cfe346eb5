package bbolt

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	bolt "go.etcd.io/bbolt"
)

// writerEnv, when set to a store path, turns TestKill into the child process it kills.
const writerEnv = "CHUTING_BBOLT_KILL_WRITER"

// TestKill kills a process that is writing to the store (SIGKILL, no chance to close it) and
// checks that every write it acknowledged is in the file, which still passes bbolt's
// consistency check. (A power cut is what bbolt's fsync on commit is for; a test cannot
// pull the plug, but it can show that no acknowledged write waits in the process.)
func TestKill(t *testing.T) {
	if path := os.Getenv(writerEnv); path != "" {
		killWriter(path)
		return
	}
	path := filepath.Join(t.TempDir(), "chuting.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill$")
	cmd.Env = append(os.Environ(), writerEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	var rooms []string
	var lastSeq uint64
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		// The child prints "room ID ok" or "event SEQ ok" after each acknowledged write. One
		// short write to a pipe is atomic, so a line is never seen half.
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[2] != "ok" {
			continue // the test framework's own output
		}
		switch f[0] {
		case "room":
			rooms = append(rooms, f[1])
		case "event":
			seq, err := strconv.ParseUint(f[1], 10, 64)
			must(t, err)
			lastSeq = seq
		}
		if !killed && len(rooms) >= 100 && lastSeq >= 100 {
			must(t, cmd.Process.Kill()) // keep reading: what was printed before it died counts
			killed = true
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("the writer stopped after %d rooms and %d events", len(rooms), lastSeq)
	}

	s, err := Open(path, Options{Timeout: 5 * time.Second}) // the dead process's lock is gone
	must(t, err)
	defer s.Close()
	ctx := context.Background()
	for _, id := range rooms {
		if _, err := s.Get(ctx, chuting.KindRoom, id); err != nil {
			t.Fatalf("acknowledged room %s is gone after kill -9: %v", id, err)
		}
	}
	evs, err := s.Events(ctx, "audit", lastSeq-1, 0)
	must(t, err)
	if len(evs) == 0 || evs[0].Seq != lastSeq {
		t.Fatalf("acknowledged event %d is gone after kill -9", lastSeq)
	}
	must(t, s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("file damaged after kill -9: %v", err)
		}
		return nil
	}))
	t.Logf("killed after %d rooms and %d events were acknowledged", len(rooms), lastSeq)
}

// killWriter is the child of TestKill: it writes until it is killed, reporting each write on
// stdout once it is acknowledged.
func killWriter(path string) {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	for {
		r := &chuting.TestimonyRoom{Name: "作证室", InstitutionID: "inst"}
		if err := chuting.Create(ctx, s, r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("room %s ok\n", r.ID)
		seq, err := s.Append(ctx, "audit", chuting.Event{Time: time.Now(), Type: "t"})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("event %d ok\n", seq)
	}
}
