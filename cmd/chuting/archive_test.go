package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestArchiveKey shows the server publishes, at the recordings' public-key endpoint, the key
// whose seed is in its data folder: the key the recorder signs manifests with.
func TestArchiveKey(t *testing.T) {
	data := t.TempDir()
	m := startMain(t, "--data", data)
	code, body := newClient(t, m.Addr()).do("GET", "/api/v1/recordings/public-key", nil)
	if code != http.StatusOK {
		t.Fatalf("public key: %d %s", code, body)
	}
	var v struct {
		Algorithm string `json:"algorithm"`
		PublicKey string `json:"public_key"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(data, "keys", "recording.ed25519"))
	if err != nil || len(seed) != ed25519.SeedSize {
		t.Fatalf("recording key: %d bytes, %v", len(seed), err)
	}
	want := base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	if v.Algorithm != "Ed25519" || v.PublicKey != want {
		t.Fatalf("public key = %+v, want %s", v, want)
	}
}
