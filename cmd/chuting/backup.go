package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chuting/chuting/bbolt"
)

// runBackup writes a consistent snapshot of the embedded store to --out. With --server it
// asks the running server for it (GET /api/v1/backup, with a bureau admin's API token in
// --token or CHUTING_TOKEN), so the server keeps serving; without, it opens the store file
// itself, which works only while no server holds it. The file is written beside --out and
// renamed into place once complete and readable, so a failed backup never leaves a partial
// file under the name.
func runBackup(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	var c Config
	var out, server, token string
	fs := flag.NewFlagSet("chuting backup", flag.ContinueOnError)
	fs.SetOutput(io.err)
	storeFlags(fs, &c)
	fs.StringVar(&out, "out", "", "file to write the snapshot to")
	fs.StringVar(&server, "server", "", "URL of a running server, e.g. http://127.0.0.1:8080")
	fs.StringVar(&token, "token", "", "API token of a bureau admin (for --server)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if out == "" {
		return errors.New("--out is required")
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".chuting-backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	var n int64
	if server != "" {
		n, err = fetchBackup(ctx, server, token, tmp)
	} else {
		n, err = localBackup(ctx, &c, tmp)
	}
	if err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := bbolt.Check(tmp.Name()); err != nil {
		return fmt.Errorf("the snapshot does not read back: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "backup written to %s (%d bytes)\n", out, n)
	return nil
}

func localBackup(ctx context.Context, c *Config, w io.Writer) (int64, error) {
	if c.Store != "" {
		return 0, errors.New("the Redis store is backed up with Redis's own tools (see the README, Backups)")
	}
	s, err := bbolt.Open(filepath.Join(c.Data, dbFile), bbolt.Options{Timeout: time.Second})
	if err != nil {
		return 0, fmt.Errorf("%w (is a server running? back it up online with --server and --token)", err)
	}
	defer s.Close()
	return s.Backup(ctx, w)
}

func fetchBackup(ctx context.Context, server, token string, w io.Writer) (int64, error) {
	if token == "" {
		return 0, errors.New("--server needs --token (or CHUTING_TOKEN): an API token of a bureau admin")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/api/v1/backup", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return 0, fmt.Errorf("server answered %s: %s", res.Status, strings.TrimSpace(string(msg)))
	}
	return io.Copy(w, res.Body)
}

// runRestore replaces the embedded store with a snapshot. The server must be stopped: the
// restore refuses a store file that a process holds.
func runRestore(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	var c Config
	var in string
	fs := flag.NewFlagSet("chuting restore", flag.ContinueOnError)
	fs.SetOutput(io.err)
	storeFlags(fs, &c)
	fs.StringVar(&in, "in", "", "snapshot file made by chuting backup")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if in == "" {
		return errors.New("--in is required")
	}
	if c.Store != "" {
		return errors.New("restore is for the embedded store; restore Redis with Redis's own tools (see the README)")
	}
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return err
	}
	path := filepath.Join(c.Data, dbFile)
	if err := bbolt.Restore(in, path); err != nil {
		return err
	}
	s, err := bbolt.Open(path, bbolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := auditCLI(ctx, s, "chuting restore", "store:"+filepath.Base(in)); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "restored %s from %s\n", path, in)
	return nil
}
