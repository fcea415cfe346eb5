package recordings

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/chuting/chuting"
)

// Manifest is a hearing's manifest.json (#31): every segment with its SHA-256, in a hash
// chain; the hash of the hearing's attendance events, pauses and their reasons included (#29,
// #30); whether a recording was cut off by a crash, and where (#30); and an Ed25519
// signature.
//
// The bytes hashed and signed are the manifest's canonical form: its JSON as encoding/json
// writes this struct (fields in this order, no spaces, times in UTC RFC 3339) with RootHash
// and Signature empty. RootHash is the hex SHA-256 of those bytes, the integrity check value
// the parties are shown; Signature is the Ed25519 signature of the same bytes by PublicKey.
// The file holds the manifest indented (json.MarshalIndent, two spaces, and a newline), so
// that any edit of it shows.
//
// Each entry's Chain is SHA-256(previous chain hash || the entry's canonical JSON without
// Chain), in hex; the chain starts from SHA-256("chuting-recording/1\x00" + hearing ID).
type Manifest struct {
	Format        string                  `json:"format"` // FormatV1
	HearingID     string                  `json:"hearing_id"`
	CourtID       string                  `json:"court_id,omitempty"`
	CaseNo        string                  `json:"case_no,omitempty"`
	Node          string                  `json:"node,omitempty"`
	Written       time.Time               `json:"written"`
	Sessions      []Session               `json:"sessions"`
	Interrupted   bool                    `json:"interrupted"`
	InterruptedAt time.Time               `json:"interrupted_at,omitzero"`
	Events        *EventsFile             `json:"events"`
	LogHash       string                  `json:"log_hash"`
	Entries       []chuting.ManifestEntry `json:"entries"`
	ChainHead     string                  `json:"chain_head"`
	PublicKey     string                  `json:"public_key"` // base64
	RootHash      string                  `json:"root_hash,omitempty"`
	Signature     string                  `json:"signature,omitempty"` // base64
}

// FormatV1 names this manifest format.
const FormatV1 = "chuting-recording-manifest/1"

// Session is one recording of the hearing: normally one; a second one follows a restart of
// the server in the middle of the hearing.
type Session struct {
	Session       int       `json:"session"`
	Started       time.Time `json:"started"`
	Stopped       time.Time `json:"stopped,omitzero"`
	Interrupted   bool      `json:"interrupted"`
	InterruptedAt time.Time `json:"interrupted_at,omitzero"` // the end of the last media kept
}

// EventsFile is the hearing's attendance log as recorded in the folder: events.json holds
// the events' canonical JSON (an array of {seq, time, type, data}), and LogHash its SHA-256.
type EventsFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Count  int    `json:"count"`
}

// Segment statuses (ManifestEntry.Status).
const (
	StatusComplete  = "complete"  // closed normally
	StatusRecovered = "recovered" // made playable from a segment cut off by a crash
	StatusOriginal  = "original"  // the cut-off segment's bytes as found, kept (#30)
)

// chainStart is the chain hash before the first entry.
func chainStart(hearingID string) string {
	s := sha256.Sum256([]byte("chuting-recording/1\x00" + hearingID))
	return hex.EncodeToString(s[:])
}

// chainNext is the chain hash of e after prev.
func chainNext(prev string, e chuting.ManifestEntry) (string, error) {
	p, err := hex.DecodeString(prev)
	if err != nil || len(p) != sha256.Size {
		return "", fmt.Errorf("chain hash %q is not a SHA-256", prev)
	}
	e.Chain = ""
	b, err := json.Marshal(canonicalEntry(e))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(p)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// canonicalEntry puts an entry's times in UTC, as they are hashed.
func canonicalEntry(e chuting.ManifestEntry) chuting.ManifestEntry {
	e.Start, e.End = e.Start.UTC(), e.End.UTC()
	return e
}

// canonical returns the bytes the root hash and the signature are made of.
func (m *Manifest) canonical() ([]byte, error) {
	c := *m
	c.RootHash, c.Signature = "", ""
	c.Written, c.InterruptedAt = c.Written.UTC(), c.InterruptedAt.UTC()
	if c.InterruptedAt.IsZero() {
		c.InterruptedAt = time.Time{}
	}
	c.Sessions = slices.Clone(c.Sessions)
	for i := range c.Sessions {
		s := &c.Sessions[i]
		s.Started, s.Stopped, s.InterruptedAt = utc(s.Started), utc(s.Stopped), utc(s.InterruptedAt)
	}
	c.Entries = slices.Clone(c.Entries)
	for i := range c.Entries {
		c.Entries[i] = canonicalEntry(c.Entries[i])
	}
	return json.Marshal(&c)
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// Sign sets the public key, the root hash and the signature.
func (m *Manifest) Sign(key ed25519.PrivateKey) error {
	m.PublicKey = base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	body, err := m.canonical()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	m.RootHash = hex.EncodeToString(sum[:])
	m.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, body))
	return nil
}

// Encode returns the bytes of manifest.json.
func (m *Manifest) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// record is the store's copy of the manifest.
func (m *Manifest) record() *chuting.RecordingManifest {
	return &chuting.RecordingManifest{HearingID: m.HearingID, CourtID: m.CourtID, CaseNo: m.CaseNo, Node: m.Node,
		Written: m.Written, Interrupted: m.Interrupted, InterruptedAt: m.InterruptedAt, LogHash: m.LogHash,
		ChainHead: m.ChainHead, RootHash: m.RootHash, PublicKey: m.PublicKey, Signature: m.Signature,
		Entries: m.Entries}
}

// ReadManifest reads the manifest.json of a hearing's folder.
func ReadManifest(dir string) (*Manifest, []byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, nil, err
	}
	m, err := parseManifest(b)
	return m, b, err
}

// parseManifest reads a manifest.json.
func parseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", manifestName, err)
	}
	return &m, nil
}

// event is one attendance event as events.json holds it.
type event struct {
	Seq  uint64          `json:"seq"`
	Time time.Time       `json:"time"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// readEvents returns the canonical JSON of every event in the hearing's attendance log.
func readEvents(ctx context.Context, logs chuting.Logs, hearingID string) ([]byte, int, error) {
	var out []event
	var after uint64
	for {
		evs, err := logs.Events(ctx, chuting.HearingStream(hearingID), after, chuting.MaxLimit)
		if err != nil {
			return nil, 0, fmt.Errorf("read the attendance log of %s: %w", hearingID, err)
		}
		for _, e := range evs {
			data := json.RawMessage(e.Data)
			if !json.Valid(data) {
				data, _ = json.Marshal(string(e.Data))
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, data); err == nil {
				data = buf.Bytes()
			}
			out = append(out, event{Seq: e.Seq, Time: e.Time.UTC(), Type: e.Type, Data: data})
			after = e.Seq
		}
		if len(evs) < chuting.MaxLimit {
			break
		}
	}
	if out == nil {
		out = []event{}
	}
	b, err := json.Marshal(out)
	return b, len(out), err
}

// writeFileAtomic writes data to path through a temporary file, fsynced and renamed into
// place, and fsyncs the folder: a reader sees the old file or the new one, never a part.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// saveRecord stores the manifest's copy in the store: created, or replacing the hearing's
// earlier one.
func saveRecord(ctx context.Context, rs chuting.Records, m *Manifest) error {
	for range 5 {
		rec := m.record()
		old, err := chuting.FindOne[chuting.RecordingManifest](ctx, rs, chuting.IndexHearing, m.HearingID)
		switch chuting.ErrorCode(err) {
		case "":
			rec.Meta = old.Meta
			err = chuting.Save(ctx, rs, rec)
		case chuting.ENOTFOUND:
			err = chuting.Create(ctx, rs, rec)
		}
		if chuting.ErrorCode(err) != chuting.ECONFLICT {
			return err
		}
	}
	return fmt.Errorf("save the manifest of %s: too many concurrent changes", m.HearingID)
}

// checkSigned refuses to sign a hearing's journal again when it disagrees with what was
// signed before: the entries of the folder's manifest (if it holds this server's signature)
// and of the store's copy, when this node wrote it, must be, unchanged, the first entries
// of the journal. The journal
// is not signed, and its chain needs no key: without this, a file altered or removed after it
// was signed, with its journal line edited to match, would be signed anew at the next start
// (Recover) or the next session's end, and verify. Refused, the signed manifest stands, and
// verification names the change.
func checkSigned(ctx context.Context, cfg *Config, hearingID, dir string, st *journalState) error {
	type signed struct {
		what    string
		entries []chuting.ManifestEntry
	}
	var refs []signed
	if m, _, err := ReadManifest(dir); err == nil && m.HearingID == hearingID && m.signedBy(cfg.Key.Public().(ed25519.PublicKey)) {
		refs = append(refs, signed{"the folder's manifest", m.Entries})
	}
	rec, err := chuting.FindOne[chuting.RecordingManifest](ctx, cfg.Records, chuting.IndexHearing, hearingID)
	switch chuting.ErrorCode(err) {
	case "":
		if rec.Node == cfg.Node { // another node's copy is of the folder on that node
			refs = append(refs, signed{"the store's copy of the manifest", rec.Entries})
		}
	case chuting.ENOTFOUND:
	default:
		return err
	}
	for _, ref := range refs {
		if len(ref.entries) > len(st.entries) {
			return fmt.Errorf("%s lists %d files, the journal %d", ref.what, len(ref.entries), len(st.entries))
		}
		for i, e := range ref.entries {
			j := st.entries[i]
			if e.Path != j.Path || e.SHA256 != j.SHA256 || e.Size != j.Size || e.Chain != j.Chain {
				return fmt.Errorf("%s has %s (sha256 %s) as file %d, the journal %s (sha256 %s)",
					ref.what, e.Path, e.SHA256, i+1, j.Path, j.SHA256)
			}
		}
	}
	return nil
}

// signedBy reports whether m's signature holds for key.
func (m *Manifest) signedBy(key ed25519.PublicKey) bool {
	body, err := m.canonical()
	if err != nil {
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	return err == nil && ed25519.Verify(key, body, sig)
}
