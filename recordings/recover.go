package recordings

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
	"github.com/chuting/chuting"
)

// Crash safety (#30). A crash (kill -9, a power cut) leaves, in a hearing's folder, the
// segments closed before it (complete, journalled, fsynced) and, per track, the one being
// written, NAME.partial: its header and the frames written so far, the last one perhaps cut
// off, with no Cues and no duration. Recover, at the server's start, finds such folders and:
//
//   - renames each partial file to NAME.partial.orig, which is never changed or deleted again
//     (a failed recording is kept, #30), and lists it in the manifest as "original";
//   - reads every complete frame of it with ebml-go and writes them into a new, complete
//     segment NAME ("recovered"), which plays like the others;
//   - journals segments whose journal line the crash cut off;
//   - marks each session that had not stopped as interrupted, at the end of its last media;
//   - writes the signed manifest.
//
// Each step can be cut off by another crash and done again.

// Recovered says what Recover did with one hearing's folder.
type Recovered struct {
	HearingID     string
	Recovered     []string // segments made playable from partial files
	Kept          []string // the partial files, kept as found
	Journalled    []string // complete segments the journal had lost
	Interrupted   []int    // sessions marked interrupted
	InterruptedAt time.Time
	RootHash      string // of the new manifest
}

// Recover finishes the recordings in cfg.Dir that a crash left unfinished: a journal without
// a final manifest, a session without its end, or partial segment files. Folders another
// process is recording are left alone. It returns what it did, per hearing; a folder that
// fails is reported in the error and the others are still done.
func Recover(ctx context.Context, cfg Config) ([]Recovered, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	dirs, err := os.ReadDir(cfg.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []Recovered
	var errs []error
	for _, d := range dirs {
		if !d.IsDir() || !validHearingID(d.Name()) {
			continue
		}
		rv, err := recoverDir(ctx, &cfg, d.Name(), filepath.Join(cfg.Dir, d.Name()))
		if err != nil {
			errs = append(errs, fmt.Errorf("recover hearing %s: %w", d.Name(), err))
		}
		if rv != nil {
			out = append(out, *rv)
		}
	}
	return out, errors.Join(errs...)
}

func recoverDir(ctx context.Context, cfg *Config, hearingID, dir string) (*Recovered, error) {
	j, err := openJournal(dir)
	if errors.Is(err, errLocked) {
		cfg.Logger.Info("recording folder in use by another process; not recovered", "hearing", hearingID)
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer j.close()
	if err := removeTemps(dir); err != nil {
		return nil, err
	}
	st, err := readJournal(dir)
	if err != nil {
		return nil, err
	}
	if !needsRecovery(dir, st) && !manifestStale(dir, st) {
		return nil, nil
	}
	return recoverLocked(ctx, cfg, hearingID, dir, j, st)
}

// removeTemps removes the temporary files a crash left behind writeFileAtomic (the manifest or
// the events being written): the file they were to become is whole or absent, and a
// leftover would be named by every verification as a file the manifest does not list.
func removeTemps(dir string) error {
	for _, name := range []string{manifestName, eventsName} {
		temps, err := filepath.Glob(filepath.Join(dir, "."+name+".*"))
		if err != nil {
			return err
		}
		for _, p := range temps {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// needsRecovery reports whether a folder has partial or unjournalled segments, or a session
// that never stopped.
func needsRecovery(dir string, st *journalState) bool {
	if len(st.open()) > 0 {
		return true
	}
	names, _ := segmentFiles(dir)
	for _, n := range names {
		if strings.HasSuffix(n, partialExt) || !st.paths[n] {
			return true
		}
	}
	return false
}

// manifestStale reports whether the manifest is missing or behind the journal.
func manifestStale(dir string, st *journalState) bool {
	if len(st.started) == 0 {
		return false
	}
	m, _, err := ReadManifest(dir)
	return err != nil || len(m.Entries) != len(st.entries) || len(m.Sessions) != len(st.started) ||
		m.ChainHead != st.chainHead(m.HearingID)
}

// segmentFiles lists the names in dir that are segments, partial or kept, in name order.
func segmentFiles(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range des {
		if _, _, ok := parseSegmentName(d.Name()); ok && d.Type().IsRegular() {
			out = append(out, d.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

// recoverLocked does the recovery of a folder whose journal j is open (and locked).
func recoverLocked(ctx context.Context, cfg *Config, hearingID, dir string, j *journal, st *journalState) (*Recovered, error) {
	rv := &Recovered{HearingID: hearingID}
	names, err := segmentFiles(dir)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	chain := st.chainHead(hearingID)
	journalEntry := func(session int, e chuting.ManifestEntry) error {
		c, err := chainNext(chain, e)
		if err != nil {
			return err
		}
		e.Chain = c
		if err := j.append(journalLine{Type: lineSegment, Session: session, Entry: &e}); err != nil {
			return err
		}
		chain = c
		st.add(journalLine{Type: lineSegment, Session: session, Entry: &e})
		return nil
	}
	var errs []error
	for _, name := range names {
		session, track, _ := parseSegmentName(name)
		info, ok := st.tracks[trackKey(session, track)]
		if !ok {
			info = trackInfo{ID: track}
		}
		switch {
		case strings.HasSuffix(name, partialExt):
			orig := name + origExt
			if have[orig] {
				// A recovered file half made when a crash came again: the original is safe in
				// orig, so this copy is made again from it.
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					errs = append(errs, err)
				}
				continue
			}
			if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, orig)); err != nil {
				errs = append(errs, err)
				continue
			}
			if err := syncDir(dir); err != nil {
				errs = append(errs, err)
				continue
			}
			if err := recoverOrig(dir, orig, session, info, st, rv, journalEntry); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		case strings.HasSuffix(name, origExt):
			if !st.paths[name] {
				if err := recoverOrig(dir, name, session, info, st, rv, journalEntry); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", name, err))
				}
			}
		case !st.paths[name] && !have[name+partialExt+origExt]:
			if _, stopped := st.stopped[session]; stopped || st.started[session].IsZero() {
				// Not of a session a crash cut off: the recorder did not write it. It is not
				// journalled (that would sign it), and verification names it as added.
				cfg.Logger.Error("recording folder holds a file no session wrote; left out of the manifest",
					"hearing", hearingID, "file", name)
				continue
			}
			// Closed and renamed, but the crash came before its journal line.
			path := filepath.Join(dir, name)
			f, _, err := readSegmentFile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			info.Kind, info.Codec = cmp.Or(info.Kind, f.kind), cmp.Or(info.Codec, f.codec)
			done := f.finished
			if done.sha256, done.size, err = hashFile(path); err != nil {
				errs = append(errs, err)
				continue
			}
			done.path = path
			if err := journalEntry(session, entryOf(dir, session, info, done, StatusComplete)); err != nil {
				return nil, err
			}
			rv.Journalled = append(rv.Journalled, name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(st.open()) == 0 && len(rv.Recovered)+len(rv.Kept)+len(rv.Journalled) == 0 && !manifestStale(dir, st) {
		return nil, nil // nothing to add: the signed manifest stands as it is
	}
	for _, s := range st.open() {
		end := st.started[s]
		for _, e := range st.entries {
			if e.Session == s && e.End.After(end) {
				end = e.End
			}
		}
		end = end.UTC()
		if err := j.append(journalLine{Type: lineStop, Session: s, At: cfg.Now().UTC(), Interrupted: true,
			InterruptedAt: end}); err != nil {
			return nil, err
		}
		st.add(journalLine{Type: lineStop, Session: s, Interrupted: true, InterruptedAt: end})
		rv.Interrupted = append(rv.Interrupted, s)
		if rv.InterruptedAt.IsZero() || end.Before(rv.InterruptedAt) {
			rv.InterruptedAt = end
		}
	}
	m, err := writeManifest(ctx, cfg, hearingID, dir, st)
	if m != nil {
		rv.RootHash = m.RootHash
	}
	return rv, err
}

// recoverOrig makes the playable segment of a kept partial file (unless it is there already),
// and journals both.
func recoverOrig(dir, orig string, session int, info trackInfo, st *journalState, rv *Recovered,
	journal func(int, chuting.ManifestEntry) error) error {
	origPath := filepath.Join(dir, orig)
	final := strings.TrimSuffix(strings.TrimSuffix(orig, origExt), partialExt)
	src, frames, err := readSegmentFile(origPath)
	if err != nil && src == nil {
		// Nothing readable: the crash came before the file's header reached the disk. It is
		// kept and listed as found, with no playable copy; the rest of the folder goes on
		// (refusing it would stop the hearing's recording for good).
		sum, size, herr := hashFile(origPath)
		if herr != nil {
			return herr
		}
		at := st.started[session]
		if jerr := journal(session, entryOf(dir, session, info, finished{path: origPath, sha256: sum, size: size,
			start: at, end: at}, StatusOriginal)); jerr != nil {
			return jerr
		}
		rv.Kept = append(rv.Kept, orig)
		return nil
	}
	info.Kind, info.Codec = cmp.Or(info.Kind, src.kind), cmp.Or(info.Codec, src.codec)
	sum, size, err := hashFile(origPath)
	if err != nil {
		return err
	}
	kept := src.finished
	kept.path, kept.sha256, kept.size = origPath, sum, size
	if len(frames) > 0 && !st.paths[final] {
		finalPath := filepath.Join(dir, final)
		f, err := rewrite(finalPath, src, frames)
		if err != nil {
			return err
		}
		if err := journal(session, entryOf(dir, session, info, f, StatusRecovered)); err != nil {
			return err
		}
		rv.Recovered = append(rv.Recovered, final)
	}
	if err := journal(session, entryOf(dir, session, info, kept, StatusOriginal)); err != nil {
		return err
	}
	rv.Kept = append(rv.Kept, orig)
	return nil
}

// rewrite writes frames into a new, complete segment at path with src's header; a file
// already there (made before a crash cut the journalling off) is kept as it is.
func rewrite(path string, src *segmentFile, frames []frame) (finished, error) {
	if _, err := os.Stat(path); err == nil {
		f, _, err := readSegmentFile(path)
		if err != nil {
			return finished{}, err
		}
		return f.finished, nil
	}
	seg, err := createSegment(path, src.docType, src.entry, src.start)
	if err != nil {
		return finished{}, err
	}
	for _, f := range frames {
		if err := seg.write(f.key, f.ms, f.data); err != nil {
			_, _ = seg.close(src.end)
			return finished{}, err
		}
	}
	return seg.close(src.end)
}

// segmentFile is what a segment file's header and frames say.
type segmentFile struct {
	finished // path, hash and size are the caller's to fill in
	docType  string
	entry    webm.TrackEntry
	kind     string
	codec    string
}

type frame struct {
	key  bool
	ms   int64
	data []byte
}

// segmentHead is the head of a segment file: the EBML header, and the Segment's Info and
// Tracks (the SeekHead and the Void before them are skipped).
type segmentHead struct {
	Header  webm.EBMLHeader `ebml:"EBML"`
	Segment struct {
		Info   webm.Info   `ebml:"Info"`
		Tracks webm.Tracks `ebml:"Tracks,stop"`
	} `ebml:"Segment,size=unknown"`
}

// readSegmentFile reads a segment file, complete or cut off, with ebml-go: its header and every
// frame that is whole. A file cut off inside a frame gives the frames before it; the error
// says why reading stopped (nil for a complete file).
func readSegmentFile(path string) (*segmentFile, []frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var head segmentHead
	if err := ebml.Unmarshal(f, &head); !errors.Is(err, ebml.ErrReadStopped) {
		if err == nil {
			err = errors.New("no Tracks element")
		}
		return nil, nil, fmt.Errorf("read the header of %s: %w", filepath.Base(path), err)
	}
	if len(head.Segment.Tracks.TrackEntry) != 1 {
		return nil, nil, fmt.Errorf("%s has %d tracks, want 1", filepath.Base(path), len(head.Segment.Tracks.TrackEntry))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	var fatal error
	readers, err := mkvcore.NewSimpleBlockReader(f, mkvcore.WithOnFatalHandler(func(err error) { fatal = err }))
	if err != nil {
		return nil, nil, err
	}
	var frames []frame
	for _, r := range readers {
		for {
			b, key, ts, err := r.Read()
			if err != nil {
				break
			}
			frames = append(frames, frame{key: key, ms: ts, data: b})
		}
		_ = r.Close()
	}
	entry := head.Segment.Tracks.TrackEntry[0]
	sf := &segmentFile{docType: head.Header.DocType, entry: entry, codec: mimeOf(entry.CodecID), kind: "video"}
	sf.start = head.Segment.Info.DateUTC.UTC()
	sf.frames = len(frames)
	frameMs := int64(33)
	if entry.TrackType == 2 {
		sf.kind, frameMs = "audio", 20
	}
	if n := len(frames); n > 0 {
		sf.end = sf.start.Add(time.Duration(frames[n-1].ms+frameMs) * time.Millisecond)
	} else {
		sf.end = sf.start
	}
	if !errors.Is(fatal, io.EOF) && !errors.Is(fatal, io.ErrUnexpectedEOF) && fatal != nil {
		return sf, frames, fatal
	}
	if fatal != nil {
		return sf, frames, fmt.Errorf("%s is cut off: %w", filepath.Base(path), fatal)
	}
	return sf, frames, nil
}

// mimeOf maps a Matroska CodecID back to the RTP MIME type.
func mimeOf(id string) string {
	switch id {
	case "V_VP8":
		return "video/VP8"
	case "V_VP9":
		return "video/VP9"
	case "V_MPEG4/ISO/AVC":
		return "video/H264"
	case "A_OPUS":
		return "audio/opus"
	}
	return id
}
