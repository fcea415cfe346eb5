package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/chuting/chuting/recordings"
)

// The hearings' recordings (#29–#31): the recorder the rooms feed, its signing key, and the
// recovery, at start, of what a crash left (recordings/doc.go has the layout).

// Where the recordings and their key live in the data folder.
const (
	recordingKeyFile = "recording.ed25519"     // in keys/: the signing key's 32-byte seed
	recordingPubFile = "recording.ed25519.pub" // in keys/: its public key, base64
	recordingsDir    = "recordings"
)

// recordingKey returns the manifests' signing key, made on first start, and writes its public
// key beside it if missing, for whoever verifies a recording.
func recordingKey(data string) (ed25519.PrivateKey, error) {
	keys := filepath.Join(data, "keys")
	seed, err := readKey(filepath.Join(keys, recordingKeyFile), ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s holds %d bytes, want an Ed25519 seed of %d",
			filepath.Join(keys, recordingKeyFile), len(seed), ed25519.SeedSize)
	}
	key := ed25519.NewKeyFromSeed(seed)
	pub := recordings.EncodePublicKey(key.Public().(ed25519.PublicKey))
	file := filepath.Join(keys, recordingPubFile)
	b, err := os.ReadFile(file)
	switch {
	case err == nil:
		// A public key that is not this key's would make every recording fail verification
		// against the key given to the parties: refuse rather than sign with a key nobody has.
		have, perr := recordings.ParsePublicKey(b)
		if perr != nil || !bytes.Equal(have, key.Public().(ed25519.PublicKey)) {
			return nil, fmt.Errorf("%s is not the public key of %s: restore the pair from a backup, or remove %s to write it again",
				file, recordingKeyFile, recordingPubFile)
		}
		return key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if err := createOnce(file, pub, 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return key, nil
}

// recordingConfig is the recorder's configuration under the data folder: its signing key and
// the node's name, which the rooms and the archive use too (Run reads them once).
func (m *Main) recordingConfig() (recordings.Config, error) {
	key, err := recordingKey(m.Config.Data)
	if err != nil {
		return recordings.Config{}, err
	}
	node, err := nodeID(m.Config.Data)
	if err != nil {
		return recordings.Config{}, err
	}
	return recordings.Config{Dir: filepath.Join(m.Config.Data, recordingsDir), Records: m.Store, Logs: m.Store,
		Key: key, Node: node, Logger: m.Logger}, nil
}

// startRecorder finishes the recordings a crash left unfinished, then returns the recorder
// the rooms feed. It runs before any room opens, so no hearing is recorded into a folder still
// being recovered. Nothing is deleted (#30); a folder that cannot be recovered is logged and
// the server starts anyway: the others, and new hearings, must not wait on it.
func (m *Main) startRecorder(cfg recordings.Config) (*recordings.Recorder, error) {
	rec, err := recordings.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	start := time.Now()
	done, err := recordings.Recover(context.Background(), cfg)
	for _, rv := range done {
		m.Logger.Warn("recording interrupted by a crash, recovered (录像因故障中断，已恢复)",
			"hearing", rv.HearingID, "interrupted_at", rv.InterruptedAt, "sessions", rv.Interrupted,
			"recovered", len(rv.Recovered), "kept", len(rv.Kept), "journalled", len(rv.Journalled),
			"root_hash", rv.RootHash, "dir", filepath.Join(cfg.Dir, rv.HearingID))
	}
	if err != nil {
		m.Logger.Error("recordings not recovered; their files are kept as found", "err", err)
	}
	if len(done) > 0 || err != nil {
		m.Logger.Info("recordings recovery done", "hearings", len(done), "took", time.Since(start).Round(time.Millisecond))
	}
	return rec, nil
}
