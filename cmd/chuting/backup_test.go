package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/bbolt"
	"github.com/chuting/chuting/storetest"
)

// TestBackupOnline takes a backup through a running server while writers are busy, restores
// it into another data folder, and finds every write acknowledged before the backup began;
// the restored store then passes the store conformance suite.
func TestBackupOnline(t *testing.T) {
	m := startMain(t, "--data", t.TempDir(), "--demo", "--demo-password", demoPassword)
	c := newClient(t, m.Addr())
	c.login("bureau", demoPassword)
	code, body := c.do("POST", "/api/v1/tokens", map[string]any{"name": "backup job", "expires_in_days": 1, "password": demoPassword})
	if code != http.StatusCreated {
		t.Fatalf("create token: %d %s", code, body)
	}
	var tok struct{ Secret string }
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var acked atomic.Int64
	wait := burst(c, 4, stop, &acked)
	for acked.Load() < 50 {
		time.Sleep(5 * time.Millisecond)
	}
	// Every write acknowledged by now must be in the backup: collect them first.
	before := snapshotIDs(t, c)
	out := filepath.Join(t.TempDir(), "backup.db")
	code2, stdout, stderr := runCLI(t, "", "backup", "--out", out, "--server", "http://"+m.Addr(), "--token", tok.Secret)
	close(stop)
	wait()
	if code2 != 0 || !strings.Contains(stdout, "backup written") {
		t.Fatalf("backup exited %d: %s %s", code2, stdout, stderr)
	}

	data := t.TempDir()
	if code, stdout, stderr := runCLI(t, "", "restore", "--in", out, "--data", data); code != 0 {
		t.Fatalf("restore exited %d: %s %s", code, stdout, stderr)
	}
	restored := filepath.Join(data, dbFile)
	s, err := bbolt.Open(restored, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range before {
		if _, err := s.Get(context.Background(), chuting.KindCourt, id); err != nil {
			t.Errorf("court %s, acknowledged before the backup, is not in it: %v", id, err)
		}
	}
	_ = s.Close()
	t.Logf("%d courts acknowledged before the backup, all restored", len(before))

	storetest.Run(t, func(t *testing.T) storetest.Opener {
		path := filepath.Join(t.TempDir(), "copy.db")
		copyFile(t, restored, path)
		return func(schema chuting.Schema) (chuting.Store, error) {
			return bbolt.Open(path, bbolt.Options{Schema: schema})
		}
	})
}

// snapshotIDs lists every court the server has, through the API.
func snapshotIDs(t *testing.T, c *client) []string {
	t.Helper()
	var ids []string
	after := ""
	for {
		code, body := c.do("GET", "/api/v1/courts?limit=1000&after="+after, nil)
		if code != http.StatusOK {
			t.Fatalf("list courts: %d %s", code, body)
		}
		var page struct {
			Items []struct{ ID string }
			Next  string
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.Next == "" {
			return ids
		}
		after = page.Next
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBackupErrors(t *testing.T) {
	data := t.TempDir()
	m := startMain(t, "--data", data, "--demo", "--demo-password", demoPassword)
	out := filepath.Join(t.TempDir(), "b.db")
	valid := filepath.Join(t.TempDir(), "valid.db") // an empty but real store, to restore
	s, err := bbolt.Open(valid, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"ErrNoOut", []string{"backup"}, "--out is required"},
		{"ErrNoToken", []string{"backup", "--out", out, "--server", "http://" + m.Addr()}, "--token"},
		{"ErrBadToken", []string{"backup", "--out", out, "--server", "http://" + m.Addr(), "--token", "cht_x"}, "401"},
		{"ErrInUse", []string{"backup", "--out", out, "--data", data}, "in use"},
		{"ErrRestoreInUse", []string{"restore", "--in", valid, "--data", data}, "in use"},
		{"ErrRestoreOntoItself", []string{"restore", "--in", filepath.Join(data, dbFile), "--data", data}, "itself"},
		{"ErrRestoreNotAStore", []string{"restore", "--in", filepath.Join(data, "demo-accounts.txt"), "--data", t.TempDir()}, "not a chuting store"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", tc.args...)
			if code == 0 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q, want failure mentioning %q", code, stderr, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatalf("a failed backup left %s", out)
			}
		})
	}
}

func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := runCLI(t, "first-admin-password\n", "user", "add", "--data", data,
		"--username", "Admin", "--name", "管理员", "--role", "bureau_admin")
	if code != 0 || !strings.Contains(out, "created user admin") {
		t.Fatalf("user add: %d %s %s", code, out, errOut)
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct {
			stdin string
			args  []string
			want  string
		}{
			{"short\n", []string{"--username", "x1", "--name", "x", "--role", "bureau_admin"}, "password"},
			{"long enough password\n", []string{"--username", "admin", "--name", "x", "--role", "bureau_admin"}, "username"},
			{"long enough password\n", []string{"--username", "c1", "--name", "x", "--role", "clerk"}, "court_id"},
			{"long enough password\n", []string{"--username", "c2", "--name", "x", "--role", "king"}, "--role"},
			{"", []string{"--username", "c3", "--name", "x", "--role", "bureau_admin"}, "standard input"},
		} {
			code, _, errOut := runCLI(t, tc.stdin, append([]string{"user", "add", "--data", data}, tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("user add %v: exit %d, %q, want an error naming %q", tc.args, code, errOut, tc.want)
			}
		}
	})
	code, out, errOut = runCLI(t, "second-admin-password\n", "user", "passwd", "--data", data, "--username", "admin")
	if code != 0 {
		t.Fatalf("user passwd: %d %s %s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "user", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "admin") || !strings.Contains(out, "bureau_admin") || strings.Count(out, "\n") != 2 {
		t.Fatalf("user list: %d\n%s", code, out)
	}

	m := startMain(t, "--data", data)
	c := newClient(t, m.Addr())
	c.login("admin", "second-admin-password")
	code, body := c.do("GET", "/api/v1/audit", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"action":"chuting user add","target":"user:`) ||
		!strings.Contains(string(body), `"action":"chuting user passwd"`) || !strings.Contains(string(body), `"via":"cli"`) {
		t.Fatalf("the audit log lacks the command-line changes: %d %s", code, body)
	}
	if res, _, _ := newClient(t, m.Addr()).try("POST", "/api/v1/session",
		map[string]string{"username": "admin", "password": "first-admin-password"}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old password still signs in: %d", res.StatusCode)
	}
	code, _, errOut = runCLI(t, "", "user", "list", "--data", data)
	if code == 0 || !strings.Contains(errOut, "in use") {
		t.Fatalf("user list while the server runs: exit %d %q, want an 'in use' error", code, errOut)
	}
}
