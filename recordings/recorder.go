package recordings

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/signaling"
)

// Config configures a Recorder, and Recover.
type Config struct {
	// Dir is the folder holding one folder per recorded hearing: <data>/recordings.
	Dir string
	// Records is where each manifest's copy is stored, and the hearings' summons read (for
	// the case number).
	Records chuting.Records
	// Logs holds the hearings' attendance logs, whose hash each manifest carries.
	Logs chuting.Logs
	// Key signs the manifests.
	Key ed25519.PrivateKey
	// Node names this server in the manifests: the node whose data folder holds the files.
	Node string
	// Segment is how long a segment runs before the next one starts (video: at the next
	// keyframe after it); 5 s.
	Segment time.Duration
	// Logger logs failures; slog.Default().
	Logger *slog.Logger
	// Now is the clock of the manifests' times; time.Now.
	Now func() time.Time
}

func (c *Config) defaults() error {
	if c.Dir == "" || c.Records == nil || c.Logs == nil || len(c.Key) != ed25519.PrivateKeySize {
		return errors.New("recordings: Dir, Records, Logs and Key are required")
	}
	if c.Segment <= 0 {
		c.Segment = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Errors of the recorder.
var (
	errLocked = errors.New("the hearing's recording folder is in use by another process")
	errClosed = errors.New("the recording is closed")
)

// Recorder records hearings into <Dir>/<hearing ID>/: it implements signaling.Recorder, so
// the room feeds it every published track from the judge's start to the close (#29).
type Recorder struct {
	cfg Config
}

var _ signaling.Recorder = (*Recorder)(nil)

// New returns a Recorder; it makes Dir if missing.
func New(cfg Config) (*Recorder, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	return &Recorder{cfg: cfg}, nil
}

// Record implements signaling.Recorder: it opens the hearing's folder, finishes what an
// earlier crash left in it, and starts a new session of its recording.
func (r *Recorder) Record(ctx context.Context, h *chuting.Hearing) (signaling.Recording, error) {
	if !validHearingID(h.ID) {
		return nil, fmt.Errorf("recordings: hearing ID %q is not a folder name", h.ID)
	}
	dir := filepath.Join(r.cfg.Dir, h.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	j, err := openJournal(dir)
	if err != nil {
		return nil, fmt.Errorf("record hearing %s: %w", h.ID, err)
	}
	rec := &Recording{cfg: &r.cfg, hearing: *h, dir: dir, j: j, tracks: map[*trackRecorder]bool{}}
	st, err := readJournal(dir)
	if err == nil && needsRecovery(dir, st) {
		// Left over from a crash that Recover at start did not see (it ran on another node).
		_, err = recoverLocked(ctx, &r.cfg, h.ID, dir, j, st)
		if err == nil {
			st, err = readJournal(dir)
		}
	}
	if err != nil {
		_ = j.close()
		return nil, fmt.Errorf("record hearing %s: %w", h.ID, err)
	}
	rec.session = st.last + 1
	rec.chain = st.chainHead(h.ID)
	rec.started = r.cfg.Now().UTC()
	if err := j.append(journalLine{Type: lineStart, Session: rec.session, At: rec.started, Node: r.cfg.Node}); err != nil {
		_ = j.close()
		return nil, err
	}
	return rec, nil
}

// validHearingID reports whether id is safe as a folder name (store IDs always are).
func validHearingID(id string) bool {
	return id != "" && len(id) <= 64 && safeName(id) == id
}

// Recording is one session of a hearing's recording: it implements signaling.Recording.
type Recording struct {
	cfg     *Config
	hearing chuting.Hearing
	dir     string
	session int
	started time.Time

	mu     sync.Mutex // guards what follows; held while a segment is journalled
	j      *journal
	chain  string // the last entry's chain hash
	tracks map[*trackRecorder]bool
	closed bool
}

var _ signaling.Recording = (*Recording)(nil)

// Track implements signaling.Recording.
func (rec *Recording) Track(t signaling.RecordedTrack) (signaling.TrackRecorder, error) {
	c, err := codecOf(t.Codec)
	if err != nil {
		return nil, err
	}
	info := trackInfo{ID: t.ID, Participant: t.Participant, Subject: t.Subject, Name: t.Name, Role: string(t.Role),
		Kind: t.Kind.String(), Source: t.Source, Codec: c.mime}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.closed {
		return nil, errClosed
	}
	// Not fsynced: the room waits for Track before it subscribes the next track, and a
	// participant's audio and video should start together. It reaches the disk with the
	// track's first segment line; only a power cut before then loses it, and then a partial
	// segment is still recovered, named from its own header.
	if err := rec.j.write(journalLine{Type: lineTrack, Session: rec.session, At: rec.cfg.Now().UTC(), Track: &info}); err != nil {
		return nil, err
	}
	tr := newTrackRecorder(rec, info, c, t.Codec.Channels, t.Keyframe)
	rec.tracks[tr] = true
	return tr, nil
}

// finish journals a closed segment as the next entry of the chain.
func (rec *Recording) finish(info trackInfo, f finished, status string) error {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.j == nil {
		return errClosed
	}
	e := entryOf(rec.dir, rec.session, info, f, status)
	chain, err := chainNext(rec.chain, e)
	if err != nil {
		return err
	}
	e.Chain = chain
	if err := rec.j.append(journalLine{Type: lineSegment, Session: rec.session, Entry: &e}); err != nil {
		return err
	}
	rec.chain = chain
	return nil
}

func entryOf(dir string, session int, info trackInfo, f finished, status string) chuting.ManifestEntry {
	rel, err := filepath.Rel(dir, f.path)
	if err != nil {
		rel = filepath.Base(f.path)
	}
	return chuting.ManifestEntry{Path: filepath.ToSlash(rel), SHA256: f.sha256, Size: f.size, Session: session,
		Participant: info.Participant, Subject: info.Subject, Name: info.Name, Role: info.Role, Track: info.ID,
		Kind: info.Kind, Source: info.Source, Codec: info.Codec, Start: f.start.UTC(), End: f.end.UTC(),
		Frames: f.frames, Status: status}
}

// Close implements signaling.Recording: it closes any track still open, journals the end of
// the session, and writes the signed manifest (and its copy in the store).
func (rec *Recording) Close() error {
	rec.mu.Lock()
	if rec.closed {
		rec.mu.Unlock()
		return nil
	}
	rec.closed = true
	var open []*trackRecorder
	for tr := range rec.tracks {
		open = append(open, tr)
	}
	rec.mu.Unlock()
	var errs []error
	for _, tr := range open {
		errs = append(errs, tr.Close())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	now := rec.cfg.Now().UTC()
	errs = append(errs, rec.j.append(journalLine{Type: lineStop, Session: rec.session, At: now}))
	waitStopped(ctx, rec.cfg.Logs, rec.hearing.ID)
	st, err := readJournal(rec.dir)
	if err == nil && needsRecovery(rec.dir, st) {
		// A segment that failed to close is made playable as after a crash.
		_, err = recoverLocked(ctx, rec.cfg, rec.hearing.ID, rec.dir, rec.j, st)
	} else if err == nil {
		_, err = writeManifest(ctx, rec.cfg, rec.hearing.ID, rec.dir, st)
	}
	errs = append(errs, err, rec.j.close())
	rec.j = nil
	return errors.Join(errs...)
}

// trackClosed forgets a closed track.
func (rec *Recording) trackClosed(tr *trackRecorder) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	delete(rec.tracks, tr)
}

// waitStopped waits, for a few seconds at most, until the hearing's attendance log ends with
// the recording's stop: the room appends it from its own goroutine, as the recording closes,
// and the manifest's log hash should cover it.
func waitStopped(ctx context.Context, logs chuting.Logs, hearingID string) {
	deadline := time.Now().Add(3 * time.Second)
	var after uint64
	for time.Now().Before(deadline) {
		evs, err := logs.Events(ctx, chuting.HearingStream(hearingID), after, chuting.MaxLimit)
		if err != nil {
			return
		}
		if n := len(evs); n > 0 {
			after = evs[n-1].Seq
			switch evs[n-1].Type {
			case chuting.AttendanceRecordingStopped, chuting.AttendanceRecordingFailed:
				return
			}
			if n == chuting.MaxLimit {
				continue
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeManifest makes, signs and writes the manifest of a hearing's folder from its journal,
// with the attendance log as the store has it now, and stores its copy.
func writeManifest(ctx context.Context, cfg *Config, hearingID, dir string, st *journalState) (*Manifest, error) {
	if err := checkSigned(ctx, cfg, hearingID, dir, st); err != nil {
		cfg.Logger.Error("recording not signed again: its journal disagrees with what was signed", "hearing", hearingID, "err", err)
		return nil, err
	}
	m := &Manifest{Format: FormatV1, HearingID: hearingID, Node: cfg.Node, Written: cfg.Now().UTC(),
		Entries: st.entries, ChainHead: st.chainHead(hearingID)}
	if m.Entries == nil {
		m.Entries = []chuting.ManifestEntry{}
	}
	if h, err := chuting.Load[chuting.Hearing](ctx, cfg.Records, hearingID); err == nil {
		m.CourtID = h.CourtID
		if s, err := chuting.Load[chuting.Summons](ctx, cfg.Records, h.SummonsID); err == nil {
			m.CaseNo = s.CaseNo
		}
	}
	for s := 1; s <= st.last; s++ {
		start, ok := st.started[s]
		if !ok {
			continue
		}
		sess := Session{Session: s, Started: utc(start)}
		if stop, ok := st.stopped[s]; ok {
			sess.Stopped, sess.Interrupted, sess.InterruptedAt = utc(stop.At), stop.Interrupted, utc(stop.InterruptedAt)
		}
		if sess.Interrupted && !m.Interrupted {
			m.Interrupted, m.InterruptedAt = true, sess.InterruptedAt
		}
		m.Sessions = append(m.Sessions, sess)
	}
	events, n, err := readEvents(ctx, cfg.Logs, hearingID)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, eventsName), events); err != nil {
		return nil, err
	}
	h := sha256.Sum256(events) // the bytes just written, not read back
	sum := hex.EncodeToString(h[:])
	m.Events = &EventsFile{Path: eventsName, SHA256: sum, Size: int64(len(events)), Count: n}
	m.LogHash = sum
	if err := m.Sign(cfg.Key); err != nil {
		return nil, err
	}
	b, err := m.Encode()
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, manifestName), b); err != nil {
		return nil, err
	}
	if err := saveRecord(ctx, cfg.Records, m); err != nil {
		return m, fmt.Errorf("store the manifest of %s: %w", hearingID, err)
	}
	return m, nil
}
