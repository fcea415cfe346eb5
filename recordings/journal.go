package recordings

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/chuting/chuting"
)

// The journal (journal.jsonl in the hearing's folder) is what a crash cannot take back: one
// JSON object a line, appended and fsynced as things happen, never rewritten.
//
//	{"type":"start","session":1,"at":"…","node":"…"}              a recording began
//	{"type":"track","session":1,"at":"…","track":{…}}              a track joined it
//	{"type":"segment","session":1,"entry":{…}}                     a segment was closed (its manifest entry, chain hash included)
//	{"type":"stop","session":1,"at":"…"}                           the recording ended
//	{"type":"stop","session":1,"at":"…","interrupted":true,"interrupted_at":"…"}   Recover closed it after a crash
//
// Manifests are made from it; a session with a start and no stop was cut off.

const (
	journalName  = "journal.jsonl"
	manifestName = "manifest.json"
	eventsName   = "events.json"
)

// Journal line types.
const (
	lineStart   = "start"
	lineTrack   = "track"
	lineSegment = "segment"
	lineStop    = "stop"
)

type journalLine struct {
	Type          string                 `json:"type"`
	Session       int                    `json:"session"`
	At            time.Time              `json:"at,omitzero"`
	Node          string                 `json:"node,omitempty"`
	Track         *trackInfo             `json:"track,omitempty"`
	Entry         *chuting.ManifestEntry `json:"entry,omitempty"`
	Interrupted   bool                   `json:"interrupted,omitempty"`
	InterruptedAt time.Time              `json:"interrupted_at,omitzero"`
}

// trackInfo is what the journal says of a recorded track: enough to describe its segments
// when only their files are left.
type trackInfo struct {
	ID          string `json:"id"`
	Participant string `json:"participant"`
	Subject     string `json:"subject,omitempty"`
	Name        string `json:"name,omitempty"`
	Role        string `json:"role,omitempty"`
	Kind        string `json:"kind"`
	Source      string `json:"source,omitempty"`
	Codec       string `json:"codec"`
}

// journal is an open journal file.
type journal struct {
	f *os.File
}

// openJournal opens (creating) the journal of a hearing's folder for appending and takes the
// folder's lock; errLocked if another process holds it.
func openJournal(dir string) (*journal, error) {
	f, err := os.OpenFile(filepath.Join(dir, journalName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	// A line cut off by a crash is ended, so that the next one starts on its own line.
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if r, err := os.Open(f.Name()); err == nil {
			_, err = r.ReadAt(last, fi.Size()-1)
			_ = r.Close()
			if err == nil && last[0] != '\n' {
				if _, err := f.Write([]byte{'\n'}); err != nil {
					_ = f.Close()
					return nil, err
				}
			}
		}
	}
	return &journal{f: f}, nil
}

// append writes one line and fsyncs it.
func (j *journal) append(l journalLine) error {
	if err := j.write(l); err != nil {
		return err
	}
	return j.f.Sync()
}

// write writes one line, without waiting for the disk.
func (j *journal) write(l journalLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("append to journal: %w", err)
	}
	return nil
}

// close releases the lock and closes the file.
func (j *journal) close() error { return j.f.Close() }

// journalState is a journal read back.
type journalState struct {
	lines   []journalLine
	entries []chuting.ManifestEntry // in order
	tracks  map[string]trackInfo    // by "session/track"
	started map[int]time.Time       // session → start
	stopped map[int]journalLine     // session → its stop line
	paths   map[string]bool         // files the entries name
	torn    int                     // lines cut off by a crash mid-write, ignored
	last    int                     // the highest session
}

func trackKey(session int, track string) string { return fmt.Sprint(session, "/", track) }

// readJournal reads the journal of a hearing's folder; a missing one reads as empty.
func readJournal(dir string) (*journalState, error) {
	st := &journalState{tracks: map[string]trackInfo{}, started: map[int]time.Time{},
		stopped: map[int]journalLine{}, paths: map[string]bool{}}
	b, err := os.ReadFile(filepath.Join(dir, journalName))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	} else if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var l journalLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			// A line cut off by a crash mid-write; the next writer starts a new line after it.
			st.torn++
			continue
		}
		st.add(l)
	}
	return st, sc.Err()
}

func (st *journalState) add(l journalLine) {
	st.lines = append(st.lines, l)
	st.last = max(st.last, l.Session)
	switch l.Type {
	case lineStart:
		st.started[l.Session] = l.At
	case lineTrack:
		if l.Track != nil {
			st.tracks[trackKey(l.Session, l.Track.ID)] = *l.Track
		}
	case lineSegment:
		if l.Entry != nil {
			st.entries = append(st.entries, *l.Entry)
			st.paths[l.Entry.Path] = true
		}
	case lineStop:
		st.stopped[l.Session] = l
	}
}

// chainHead is the chain hash of the last entry, or the chain's start.
func (st *journalState) chainHead(hearingID string) string {
	if n := len(st.entries); n > 0 {
		return st.entries[n-1].Chain
	}
	return chainStart(hearingID)
}

// open lists the sessions that started and did not stop.
func (st *journalState) open() []int {
	var out []int
	for s := range st.last + 1 {
		if _, ok := st.started[s]; ok {
			if _, ok := st.stopped[s]; !ok {
				out = append(out, s)
			}
		}
	}
	return out
}
