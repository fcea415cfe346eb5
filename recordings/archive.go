package recordings

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chuting/chuting"
)

// The archive (档案归集和检索, issue 5 §6) is the read side of the recordings folder: which
// hearings were recorded, their files, signed manifests, verification results and event
// timelines, for the playback API. It never writes a hearing's folder, except to delete an
// expired recording with a judge's approval (retention.go).

// ArchiveConfig configures an Archive.
type ArchiveConfig struct {
	// Dir is the folder holding one folder per recorded hearing: <data>/recordings.
	Dir string
	// Records holds the manifests' copies, hearings, summons, courts and disposals.
	Records chuting.Records
	// Logs holds the hearings' attendance logs (the live timeline of a hearing being recorded).
	Logs chuting.Logs
	// PublicKey is the server's recording key: manifests are verified against it.
	PublicKey ed25519.PublicKey
	// Now is the clock of verification times and retention; time.Now.
	Now func() time.Time
}

// Archive reads the recordings of hearings.
type Archive struct {
	cfg ArchiveConfig

	mu     sync.Mutex
	checks map[string]cachedCheck // by hearing ID
}

// cachedCheck is a verification result, valid while the folder's state key is unchanged.
type cachedCheck struct {
	key    string
	report *Report
	at     time.Time
}

// Recording states.
const (
	StateRecording   = "recording"   // a session is being recorded (or was cut off and not yet recovered)
	StateComplete    = "complete"    // every session closed normally
	StateInterrupted = "interrupted" // a session was cut off by a crash and recovered (#30)
)

// NewArchive returns an Archive over cfg.Dir (which need not exist yet).
func NewArchive(cfg ArchiveConfig) (*Archive, error) {
	if cfg.Dir == "" || cfg.Records == nil || cfg.Logs == nil || len(cfg.PublicKey) != ed25519.PublicKeySize {
		return nil, errors.New("recordings: archive needs Dir, Records, Logs and an Ed25519 PublicKey")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Archive{cfg: cfg, checks: map[string]cachedCheck{}}, nil
}

// PublicKey returns the key manifests are verified against: the one to give to the parties.
func (a *Archive) PublicKey() ed25519.PublicKey { return a.cfg.PublicKey }

// Summary is what the archive's listing says of one hearing's recording.
type Summary struct {
	HearingID     string
	CourtID       string
	CaseNo        string
	Node          string // the node whose data folder holds the files
	State         string // StateRecording, StateComplete or StateInterrupted
	Start, End    time.Time
	InterruptedAt time.Time
	RootHash      string // empty until the first manifest is signed
	Files         int    // media files (segments, and originals kept after a crash)
	Bytes         int64
	Local         bool // the files are in this node's folder
}

// List returns every recording the archive knows of, oldest first: each hearing with a
// signed manifest (the store's copy, whichever node holds the files), and each hearing being
// recorded here for the first time. Recordings deleted under the retention policy are left
// out.
func (a *Archive) List(ctx context.Context) ([]Summary, error) {
	deleted, err := a.deleted(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Summary
	q := chuting.Query{Kind: chuting.KindManifest, Limit: chuting.MaxLimit}
	for {
		page, next, err := chuting.Find[chuting.RecordingManifest](ctx, a.cfg.Records, q)
		if err != nil {
			return nil, fmt.Errorf("list recordings: %w", err)
		}
		for _, m := range page {
			if deleted[m.HearingID] || seen[m.HearingID] {
				continue
			}
			seen[m.HearingID] = true
			out = append(out, a.summaryOf(ctx, m))
		}
		if next == "" {
			break
		}
		q.After = next
	}
	names, err := os.ReadDir(a.cfg.Dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	for _, d := range names {
		id := d.Name()
		if !d.IsDir() || seen[id] || deleted[id] || !validHearingID(id) {
			continue
		}
		if s, err := a.localSummary(ctx, id); err == nil {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(x, y Summary) int {
		if c := x.Start.Compare(y.Start); c != 0 {
			return c
		}
		return strings.Compare(x.HearingID, y.HearingID)
	})
	return out, nil
}

// deleted returns the hearings whose recordings were deleted under the retention policy.
func (a *Archive) deleted(ctx context.Context) (map[string]bool, error) {
	out := map[string]bool{}
	q := chuting.Query{Kind: chuting.KindDisposal, Limit: chuting.MaxLimit}
	for {
		page, next, err := chuting.Find[chuting.RecordingDisposal](ctx, a.cfg.Records, q)
		if err != nil {
			return nil, fmt.Errorf("list disposals: %w", err)
		}
		for _, d := range page {
			if d.State == chuting.DisposalDeleted {
				out[d.HearingID] = true
			}
		}
		if next == "" {
			return out, nil
		}
		q.After = next
	}
}

// summaryOf summarises the store's copy of a manifest, with the local folder's state when
// the files are here (a later session may be under way).
func (a *Archive) summaryOf(ctx context.Context, m *chuting.RecordingManifest) Summary {
	if s, err := a.localSummary(ctx, m.HearingID); err == nil {
		return s
	}
	s := Summary{HearingID: m.HearingID, CourtID: m.CourtID, CaseNo: m.CaseNo, Node: m.Node, State: StateComplete,
		RootHash: m.RootHash, InterruptedAt: m.InterruptedAt}
	if m.Interrupted {
		s.State = StateInterrupted
	}
	s.addEntries(m.Entries)
	return s
}

// addEntries counts the media files and their span.
func (s *Summary) addEntries(entries []chuting.ManifestEntry) {
	for _, e := range entries {
		s.Files++
		s.Bytes += e.Size
		if s.Start.IsZero() || e.Start.Before(s.Start) {
			s.Start = e.Start
		}
		if e.End.After(s.End) {
			s.End = e.End
		}
	}
}

// localSummary summarises the hearing's folder on this node. ENOTFOUND when there is none.
func (a *Archive) localSummary(ctx context.Context, hearingID string) (Summary, error) {
	f, err := a.folder(hearingID)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{HearingID: hearingID, Local: true, State: f.state()}
	if f.manifest != nil {
		s.CourtID, s.CaseNo, s.Node, s.RootHash = f.manifest.CourtID, f.manifest.CaseNo, f.manifest.Node, f.manifest.RootHash
		s.InterruptedAt = f.manifest.InterruptedAt
	}
	if s.CourtID == "" || s.CaseNo == "" {
		if h, err := chuting.Load[chuting.Hearing](ctx, a.cfg.Records, hearingID); err == nil {
			s.CourtID = h.CourtID
			if sm, err := chuting.Load[chuting.Summons](ctx, a.cfg.Records, h.SummonsID); err == nil {
				s.CaseNo = sm.CaseNo
			}
		}
	}
	s.addEntries(f.entries())
	for _, sess := range f.sessions() {
		if s.Start.IsZero() || sess.Started.Before(s.Start) {
			s.Start = sess.Started
		}
		if sess.Stopped.After(s.End) {
			s.End = sess.Stopped
		}
	}
	return s, nil
}

// folder is a hearing's folder as read once: its manifest (nil before the first is signed)
// and its journal.
type folder struct {
	dir      string
	manifest *Manifest
	raw      []byte
	journal  *journalState
}

// errNoRecording is the answer for a hearing without a recording here: the same, whatever
// the reason, so that it tells nothing more.
var errNoRecording = chuting.Errorf(chuting.ENOTFOUND, "没有此录像 / no such recording")

// folder reads the hearing's folder. ENOTFOUND when there is none, or it holds neither a
// manifest nor a journal.
func (a *Archive) folder(hearingID string) (*folder, error) {
	if !validHearingID(hearingID) {
		return nil, errNoRecording
	}
	f := &folder{dir: filepath.Join(a.cfg.Dir, hearingID)}
	m, raw, err := ReadManifest(f.dir)
	switch {
	case err == nil:
		f.manifest, f.raw = m, raw
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read the recording of %s: %w", hearingID, err)
	}
	if f.journal, err = readJournal(f.dir); err != nil {
		return nil, fmt.Errorf("read the recording of %s: %w", hearingID, err)
	}
	if f.manifest == nil && len(f.journal.lines) == 0 {
		return nil, errNoRecording
	}
	return f, nil
}

// recording reports whether a session is open: being recorded now, or cut off and not yet
// recovered.
func (f *folder) recording() bool { return len(f.journal.open()) > 0 }

func (f *folder) state() string {
	switch {
	case f.recording():
		return StateRecording
	case f.manifest != nil && f.manifest.Interrupted:
		return StateInterrupted
	}
	for _, stop := range f.journal.stopped {
		if stop.Interrupted {
			return StateInterrupted
		}
	}
	return StateComplete
}

// entries lists the folder's media files: the journal's, which include a session under way
// and are the manifest's once it is signed; the manifest's when the journal is gone.
func (f *folder) entries() []chuting.ManifestEntry {
	if len(f.journal.entries) > 0 || f.manifest == nil {
		return f.journal.entries
	}
	return f.manifest.Entries
}

// sessions lists the recording sessions, from the journal (or the manifest without one).
func (f *folder) sessions() []Session {
	if len(f.journal.started) == 0 && f.manifest != nil {
		return f.manifest.Sessions
	}
	var out []Session
	for s := 1; s <= f.journal.last; s++ {
		start, ok := f.journal.started[s]
		if !ok {
			continue
		}
		sess := Session{Session: s, Started: utc(start)}
		if stop, ok := f.journal.stopped[s]; ok {
			sess.Stopped, sess.Interrupted, sess.InterruptedAt = utc(stop.At), stop.Interrupted, utc(stop.InterruptedAt)
		}
		out = append(out, sess)
	}
	return out
}

// Playback is one hearing's recording in full, for a player.
type Playback struct {
	Summary
	Manifest *Manifest               // nil until the first manifest is signed
	Files    []chuting.ManifestEntry // every media file, in the order recorded
	Sessions []Session
	Timeline []TimelineEvent
	Pauses   []Pause
}

// TimelineEvent is one event of the hearing's attendance log, for a player's timeline.
type TimelineEvent struct {
	At          time.Time
	Type        string // an attendance event type (chuting.Attendance…)
	Participant string // whom it is about, or who did it
	Detail      string // its reason or status
}

// Pause is a stretch of the hearing not recorded: paused by the judge with a reason (#29),
// or lost to a crash until the next session (#30). Until is zero while it lasts.
type Pause struct {
	At     time.Time
	Until  time.Time
	Reason string
}

// ReasonInterrupted is the reason of a pause made by a crash.
const ReasonInterrupted = "录像因服务中断而中止 / recording interrupted (server failure)"

// Playback returns the hearing's recording, read from this node's folder: its files,
// sessions, timeline and pauses. The timeline is the signed events.json once every session
// is closed, and the hearing's attendance log while one is recorded. A recording made on
// another node is described from the store's copy of its manifest (Local false, no
// Manifest: its files and manifest.json are on that node).
// ENOTFOUND when there is no recording.
func (a *Archive) Playback(ctx context.Context, hearingID string) (*Playback, error) {
	f, err := a.folder(hearingID)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return a.remotePlayback(ctx, hearingID)
	} else if err != nil {
		return nil, err
	}
	s, err := a.localSummary(ctx, hearingID)
	if err != nil {
		return nil, err
	}
	rec := &Playback{Summary: s, Manifest: f.manifest, Files: slices.Clone(f.entries()), Sessions: f.sessions()}
	if rec.Files == nil {
		rec.Files = []chuting.ManifestEntry{}
	}
	var evs []event
	if f.manifest != nil && !f.recording() {
		evs, err = readEventsFile(filepath.Join(f.dir, eventsName))
	}
	if f.manifest == nil || f.recording() || err != nil {
		var b []byte
		if b, _, err = readEvents(ctx, a.cfg.Logs, hearingID); err == nil {
			err = json.Unmarshal(b, &evs)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the timeline of %s: %w", hearingID, err)
	}
	rec.Timeline, rec.Pauses = timeline(evs, rec.Sessions)
	return rec, nil
}

// remotePlayback is the playback view of a recording whose files are on another node (it
// recorded the hearing): what the store's copy of its manifest and the attendance log say.
// Its files are served by that node. ENOTFOUND when there is no copy, or the recording was
// deleted.
func (a *Archive) remotePlayback(ctx context.Context, hearingID string) (*Playback, error) {
	m, err := chuting.FindOne[chuting.RecordingManifest](ctx, a.cfg.Records, chuting.IndexHearing, hearingID)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return nil, errNoRecording
	} else if err != nil {
		return nil, err
	}
	d, err := chuting.FindOne[chuting.RecordingDisposal](ctx, a.cfg.Records, chuting.IndexHearing, hearingID)
	if err == nil && d.State == chuting.DisposalDeleted {
		return nil, errNoRecording
	}
	rec := &Playback{Summary: a.summaryOf(ctx, m), Files: slices.Clone(m.Entries)}
	if rec.Files == nil {
		rec.Files = []chuting.ManifestEntry{}
	}
	b, _, err := readEvents(ctx, a.cfg.Logs, hearingID)
	var evs []event
	if err == nil {
		err = json.Unmarshal(b, &evs)
	}
	if err != nil {
		return nil, fmt.Errorf("the timeline of %s: %w", hearingID, err)
	}
	rec.Timeline, rec.Pauses = timeline(evs, nil)
	return rec, nil
}

// readEventsFile reads an events.json.
func readEventsFile(path string) ([]event, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var evs []event
	return evs, json.Unmarshal(b, &evs)
}

// timeline turns attendance events into a timeline, and the pauses they and the sessions
// show: each recording_paused until the next recording_resumed (or stop), and each session
// cut off by a crash until the next one starts.
func timeline(evs []event, sessions []Session) ([]TimelineEvent, []Pause) {
	tl := make([]TimelineEvent, 0, len(evs))
	pauses := []Pause{}
	open := -1 // the index in pauses of a pause not yet ended
	for _, e := range evs {
		var a chuting.AttendanceEvent
		_ = json.Unmarshal(e.Data, &a) // an event of another shape still shows, by type and time
		at := e.Time
		if !a.At.IsZero() {
			at = a.At
		}
		who := a.SubjectID
		if who == "" {
			who = a.ActorID
		}
		detail := a.Reason
		if detail == "" {
			detail = a.Status
		}
		tl = append(tl, TimelineEvent{At: at.UTC(), Type: e.Type, Participant: who, Detail: detail})
		switch e.Type {
		case chuting.AttendanceRecordingPaused:
			if open < 0 {
				pauses = append(pauses, Pause{At: at.UTC(), Reason: a.Reason})
				open = len(pauses) - 1
			}
		case chuting.AttendanceRecordingResumed, chuting.AttendanceRecordingStopped:
			if open >= 0 {
				pauses[open].Until = at.UTC()
				open = -1
			}
		}
	}
	for i, s := range sessions {
		if s.Interrupted && i+1 < len(sessions) {
			from := s.InterruptedAt
			if from.IsZero() {
				from = s.Stopped
			}
			pauses = append(pauses, Pause{At: from, Until: sessions[i+1].Started, Reason: ReasonInterrupted})
		}
	}
	slices.SortStableFunc(pauses, func(x, y Pause) int { return x.At.Compare(y.At) })
	return tl, pauses
}

// errNoManifest is the answer for a recording whose first session is under way.
var errNoManifest = chuting.Errorf(chuting.ENOTFOUND, "录像尚未签署清单 / the recording has no signed manifest yet")

// Manifest returns the bytes of the hearing's signed manifest.json, exactly as stored.
// ENOTFOUND when there is no recording here or no manifest has been signed yet.
func (a *Archive) Manifest(hearingID string) ([]byte, error) {
	f, err := a.folder(hearingID)
	if err != nil {
		return nil, err
	}
	if f.manifest == nil {
		return nil, errNoManifest
	}
	return f.raw, nil
}

// File is a recording's file opened for reading.
type File struct {
	*os.File
	Entry   chuting.ManifestEntry
	ModTime time.Time
	Size    int64
}

// Open opens one of the hearing's media files by name. Only the names its manifest or its
// journal list are served: nothing else in the folder (the journal, a segment being
// written), and nothing outside it, whatever the name says (the file is opened through an
// os.Root, so neither ".." nor a symbolic link leads out).
// ENOTFOUND for any other name.
func (a *Archive) Open(hearingID, name string) (*File, error) {
	f, err := a.folder(hearingID)
	if err != nil {
		return nil, err
	}
	notFound := chuting.Errorf(chuting.ENOTFOUND, "录像中没有文件 %q / the recording has no file %q", truncateName(name), truncateName(name))
	if !validPath(name) || strings.Contains(name, "/") {
		return nil, notFound
	}
	var entry *chuting.ManifestEntry
	for _, e := range f.entries() {
		if e.Path == name {
			entry = &e
			break
		}
	}
	if entry == nil {
		return nil, notFound
	}
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	file, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, chuting.Errorf(chuting.ENOTFOUND, "文件 %s 已不在录像目录中 / file %s is listed but missing", name, name)
	} else if err != nil {
		return nil, err
	}
	fi, err := file.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		_ = file.Close()
		return nil, notFound
	}
	return &File{File: file, Entry: *entry, ModTime: fi.ModTime(), Size: fi.Size()}, nil
}

func truncateName(s string) string {
	if len(s) > 80 {
		return strings.ToValidUTF8(s[:80], "") + "…"
	}
	return s
}

// Check is a verification result and when it was made.
type Check struct {
	Report  *Report
	At      time.Time
	Current bool // taken from the cache: nothing in the folder changed since At
}

// Verify verifies the hearing's folder against its manifest and the server's key (Verify),
// or answers the last result while the folder is unchanged: same manifest bytes, same files
// with the same sizes and modification times. ENOTFOUND as for Manifest.
func (a *Archive) Verify(ctx context.Context, hearingID string) (Check, error) {
	f, err := a.folder(hearingID)
	if err != nil {
		return Check{}, err
	}
	if f.manifest == nil {
		return Check{}, errNoManifest
	}
	key, err := stateKey(f.dir, f.raw)
	if err != nil {
		return Check{}, fmt.Errorf("verify the recording of %s: %w", hearingID, err)
	}
	a.mu.Lock()
	c, ok := a.checks[hearingID]
	a.mu.Unlock()
	if ok && c.key == key {
		return Check{Report: c.report, At: c.at, Current: true}, nil
	}
	at := a.cfg.Now().UTC()
	r, err := Verify(f.dir, a.cfg.PublicKey)
	if err != nil {
		return Check{}, err
	}
	// What a folder cannot say of itself: whose hearing it is, and whether its manifest is
	// the one last signed here (an older one, put back with the files it listed, verifies).
	if r.HearingID != hearingID {
		r.Problems = append(r.Problems, Problem{Kind: ProblemManifest, Path: manifestName,
			Detail: fmt.Sprintf("the manifest is of hearing %s, not %s: the folder was swapped", r.HearingID, hearingID)})
	}
	stored, err := chuting.FindOne[chuting.RecordingManifest](ctx, a.cfg.Records, chuting.IndexHearing, hearingID)
	switch {
	case err == nil && stored.Node == f.manifest.Node && stored.RootHash != r.RootHash:
		r.Problems = append(r.Problems, Problem{Kind: ProblemManifest, Path: manifestName,
			Detail: fmt.Sprintf("root hash %s, but the manifest last signed here has %s: an older manifest was put back", r.RootHash, stored.RootHash)})
	case err != nil && chuting.ErrorCode(err) != chuting.ENOTFOUND:
		return Check{}, err
	}
	a.mu.Lock()
	a.checks[hearingID] = cachedCheck{key: key, report: r, at: at}
	a.mu.Unlock()
	return Check{Report: r, At: at}, nil
}

// stateKey is a digest of what verification depends on: the manifest's bytes and every
// file's name, size, modification time and, where the system keeps them, inode and change
// time: a rewrite keeping the size changes the modification time, and one that puts that
// back (utimes) still changes the change time, which no one but the clock sets.
func stateKey(dir string, manifest []byte) (string, error) {
	h := sha256.New()
	h.Write(manifest)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		ino, ctime := changeStamp(fi)
		fmt.Fprintf(h, "\x00%s\x00%d\x00%d\x00%d\x00%d", rel, fi.Size(), fi.ModTime().UnixNano(), ino, ctime)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// Export writes the hearing's recording as a zip package for a party to keep and to check
// with `chuting verify` (#31): the signed manifest.json and every file it lists (the media
// segments and the events), exactly as stored, in a folder named after the hearing. Media are
// stored as they are (already compressed), the manifest and events deflated. Only what the
// signed manifest lists goes in: a session under way is left out until its manifest is
// signed. Every file is opened before anything is written, so that a missing file fails the
// request rather than truncating the package. ENOTFOUND as Manifest.
func (a *Archive) Export(w io.Writer, hearingID string) error {
	f, err := a.folder(hearingID)
	if err != nil {
		return err
	}
	if f.manifest == nil {
		return errNoManifest
	}
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	var listed []string
	for _, e := range f.manifest.Entries {
		listed = append(listed, e.Path)
	}
	if f.manifest.Events != nil {
		listed = append(listed, f.manifest.Events.Path)
	}
	files := make([]*os.File, len(listed))
	defer func() {
		for _, file := range files {
			if file != nil {
				_ = file.Close()
			}
		}
	}()
	for i, name := range listed {
		if !validPath(name) {
			return fmt.Errorf("export %s: the manifest lists %q", hearingID, name)
		}
		if files[i], err = root.Open(name); err != nil {
			return fmt.Errorf("export %s: %w", hearingID, err)
		}
	}
	zw := zip.NewWriter(w)
	add := func(name string, method uint16, r io.Reader) error {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: hearingID + "/" + name, Method: method,
			Modified: f.manifest.Written})
		if err != nil {
			return err
		}
		_, err = io.Copy(fw, r)
		return err
	}
	if err := add(manifestName, zip.Deflate, bytes.NewReader(f.raw)); err != nil {
		return fmt.Errorf("export %s: %w", hearingID, err)
	}
	for i, name := range listed {
		method := zip.Store
		if strings.HasSuffix(name, ".json") {
			method = zip.Deflate
		}
		if err := add(name, method, files[i]); err != nil {
			return fmt.Errorf("export %s: %w", hearingID, err)
		}
	}
	return zw.Close()
}
