package main

import (
	"crypto/ed25519"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chuting/chuting/recordings"
)

// TestRecordingKey checks the recordings' signing key that `chuting serve` makes in the data
// folder: a 32-byte seed (0600) and its public key beside it, kept over a restart; the rooms
// get the recorder; and a public key file that is not the seed's stops the server, naming it.
func TestRecordingKey(t *testing.T) {
	data := t.TempDir()
	m := startMain(t, "--data", data)
	if m.media == nil || m.media.recorder == nil {
		t.Fatal("the rooms have no recorder")
	}
	seedFile := filepath.Join(data, "keys", "recording.ed25519")
	pubFile := filepath.Join(data, "keys", "recording.ed25519.pub")
	fi, err := os.Stat(seedFile)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != ed25519.SeedSize {
		t.Fatalf("%s: %v %v", seedFile, fi, err)
	}
	seed, _ := os.ReadFile(seedFile)
	b, err := os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := recordings.ParsePublicKey(b)
	if err != nil || !pub.Equal(ed25519.NewKeyFromSeed(seed).Public()) {
		t.Fatalf("%s = %q (%v), not the seed's public key", pubFile, b, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	startMain(t, "--data", data).Close()
	again, _ := os.ReadFile(pubFile)
	if string(again) != string(b) {
		t.Fatalf("the public key changed on restart: %q, was %q", again, b)
	}

	other, _, _ := ed25519.GenerateKey(nil)
	if err := os.WriteFile(pubFile, recordings.EncodePublicKey(other), 0o644); err != nil {
		t.Fatal(err)
	}
	m3 := NewMain(io.Discard, io.Discard)
	if err := m3.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data", data}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	err = m3.Run(t.Context())
	if err == nil {
		_ = m3.Close()
		t.Fatal("started with a public key file that is not the signing key's")
	}
	if !strings.Contains(err.Error(), "recording.ed25519.pub") {
		t.Fatalf("error %q does not name the public key file", err)
	}
}
