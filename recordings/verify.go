package recordings

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// Verification (#31): anyone holding a hearing's folder and the court's public key can check
// that nothing in it was altered, removed or added since the manifest was signed, and name
// what was.

// Report is the outcome of Verify.
type Report struct {
	HearingID     string
	RootHash      string // the manifest's integrity check value
	Files         int    // files the manifest lists (segments and the events file)
	Interrupted   bool
	InterruptedAt time.Time // when the recording was cut off, if it was
	KeyChecked    bool      // the signature was checked against a key given by the caller
	Problems      []Problem // empty when everything holds
}

// OK reports whether nothing was found wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Problem is one thing found wrong.
type Problem struct {
	Kind   string // one of the Problem kinds
	Path   string // the file, relative to the folder; manifest.json for the manifest itself
	Detail string
}

// Problem kinds.
const (
	ProblemAltered   = "altered"   // the file's bytes are not those listed
	ProblemTruncated = "truncated" // the file is shorter than listed
	ProblemMissing   = "missing"   // a listed file is not there
	ProblemAdded     = "added"     // a file is there that the manifest does not list
	ProblemManifest  = "manifest"  // the manifest itself was changed: its hash, chain or signature
)

// String is the problem as one line: "altered: s1-t-x-00002.webm: …".
func (p Problem) String() string {
	if p.Detail == "" {
		return p.Kind + ": " + p.Path
	}
	return p.Kind + ": " + p.Path + ": " + p.Detail
}

// notListed are the files of a folder that are not evidence and so not in the manifest: the
// manifest itself and the recorder's working journal (a manifest is made from it).
var notListed = []string{manifestName, journalName}

// Verify checks the hearing folder dir against its manifest.json: the manifest is exactly as
// written (its canonical form hashes to its root hash), its signature holds for pub (or, when
// pub is nil, for the key it carries, which proves less: say so), its hash chain is unbroken,
// every file it lists is there with its size and SHA-256, and no other file is. The error is
// for a folder that cannot be checked at all (no readable manifest); everything else found is
// in the report.
func Verify(dir string, pub ed25519.PublicKey) (*Report, error) {
	r, err := VerifyFS(os.DirFS(dir), pub)
	if err != nil {
		return r, fmt.Errorf("verify %s: %w", dir, err)
	}
	return r, nil
}

// maxManifest bounds the manifest read: a day of hearing in 6 s segments of a dozen tracks
// lists some 150,000 files, about 100 MB; a package is not trusted to say its own size (a
// zip declares it, and a forged one declares anything).
const maxManifest = 256 << 20

// readLimited reads the file name of fsys, refusing one over limit bytes, whatever its
// Stat says.
func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is over %d bytes", name, limit)
	}
	return b, nil
}

// VerifyFS is Verify of a hearing's folder given as a file system: a folder on disk
// (os.DirFS) or a recording's export package (a zip.Reader, or the package's folder in it).
func VerifyFS(fsys fs.FS, pub ed25519.PublicKey) (*Report, error) {
	raw, err := readLimited(fsys, manifestName, maxManifest)
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(raw)
	if err != nil {
		return nil, err
	}
	r := &Report{HearingID: m.HearingID, RootHash: m.RootHash, Interrupted: m.Interrupted,
		InterruptedAt: m.InterruptedAt, KeyChecked: pub != nil}
	bad := func(kind, path, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{Kind: kind, Path: path, Detail: fmt.Sprintf(format, args...)})
	}

	// The manifest: as written, hashing to its root hash, signed.
	if m.Format != FormatV1 {
		bad(ProblemManifest, manifestName, "format %q is not %q", m.Format, FormatV1)
	}
	if again, err := m.Encode(); err != nil || !bytes.Equal(again, raw) {
		bad(ProblemManifest, manifestName, "not as written: edited by hand (its bytes are not the canonical encoding of its contents)")
	}
	body, err := m.canonical()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	if root := hex.EncodeToString(sum[:]); root != m.RootHash {
		bad(ProblemManifest, manifestName, "contents changed: they hash to %s, not the root hash %s", root, m.RootHash)
	}
	embedded, err := base64.StdEncoding.DecodeString(m.PublicKey)
	if err != nil || len(embedded) != ed25519.PublicKeySize {
		bad(ProblemManifest, manifestName, "public key %q is not an Ed25519 key", m.PublicKey)
		embedded = nil
	}
	key := pub
	if key == nil {
		key = embedded
	} else if embedded != nil && !bytes.Equal(embedded, pub) {
		bad(ProblemManifest, manifestName, "signed with key %s, not the court's key %s", m.PublicKey,
			base64.StdEncoding.EncodeToString(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	switch {
	case err != nil || len(sig) != ed25519.SignatureSize:
		bad(ProblemManifest, manifestName, "signature missing or malformed")
	case key != nil && !ed25519.Verify(key, body, sig):
		bad(ProblemManifest, manifestName, "signature does not hold for key %s", base64.StdEncoding.EncodeToString(key))
	}

	// The chain: each entry's hash from the one before, so an edited entry is named.
	prev := chainStart(m.HearingID)
	for i, e := range m.Entries {
		want, err := chainNext(prev, e)
		if err != nil || want != e.Chain {
			bad(ProblemManifest, e.Path, "entry %d was edited in the manifest: its chain hash does not follow", i+1)
		}
		prev = e.Chain
	}
	if m.ChainHead != prev {
		bad(ProblemManifest, manifestName, "chain head %s is not the last entry's chain hash %s", m.ChainHead, prev)
	}

	// The files.
	listed := map[string]bool{}
	check := func(p, wantSum string, wantSize int64) {
		r.Files++
		if !validPath(p) {
			bad(ProblemManifest, p, "not a file name inside the folder")
			return
		}
		listed[p] = true
		got, size, err := hashFS(fsys, p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			bad(ProblemMissing, p, "listed in the manifest (%d bytes) but not in the folder", wantSize)
		case err != nil:
			bad(ProblemMissing, p, "unreadable: %v", err)
		case size < wantSize:
			bad(ProblemTruncated, p, "%d bytes, the manifest lists %d", size, wantSize)
		case got != wantSum:
			bad(ProblemAltered, p, "SHA-256 %s, the manifest lists %s (%d bytes, listed %d)", got, wantSum, size, wantSize)
		}
	}
	for _, e := range m.Entries {
		check(e.Path, e.SHA256, e.Size)
	}
	if m.Events == nil {
		bad(ProblemManifest, manifestName, "no attendance events file listed")
	} else {
		check(m.Events.Path, m.Events.SHA256, m.Events.Size)
		if m.Events.SHA256 != m.LogHash {
			bad(ProblemManifest, manifestName, "log hash %s is not the events file's %s", m.LogHash, m.Events.SHA256)
		}
	}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !listed[p] && !slices.Contains(notListed, p) {
			bad(ProblemAdded, p, "in the folder but not in the manifest")
		}
		return nil
	})
	return r, err
}

// hashFS returns the SHA-256 (hex) and size of the file p of fsys.
func hashFS(fsys fs.FS, p string) (string, int64, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	return hashOf(f)
}

// validPath reports whether a listed path stays inside the folder.
func validPath(p string) bool {
	return p != "" && !strings.HasPrefix(p, "/") && path.Clean(p) == p && p != "." && !strings.HasPrefix(p, "../") &&
		p != ".." && !slices.Contains(notListed, p)
}

// ParsePublicKey reads an Ed25519 public key as a .pub file holds it (base64, as written by
// the server), or as hex, or as the 32 raw bytes.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	if len(b) == ed25519.PublicKeySize {
		return ed25519.PublicKey(b), nil
	}
	s := strings.TrimSpace(string(b))
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == ed25519.PublicKeySize {
		return k, nil
	}
	if k, err := hex.DecodeString(s); err == nil && len(k) == ed25519.PublicKeySize {
		return k, nil
	}
	return nil, errors.New("not an Ed25519 public key (want 32 bytes in base64, hex or raw)")
}

// EncodePublicKey is the text of a .pub file: the key in base64 and a newline.
func EncodePublicKey(pub ed25519.PublicKey) []byte {
	return []byte(base64.StdEncoding.EncodeToString(pub) + "\n")
}
