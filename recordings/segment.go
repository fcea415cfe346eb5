package recordings

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
)

// A segment is one file of a few seconds of one track: a complete WebM or Matroska file with
// a SeekHead, Cues, and its duration in the segment Info, so that it plays on its own. While
// it is written it is named NAME.partial; closing it finishes the header, fsyncs it and renames
// it to NAME. Its start on the hearing clock is stored in the Info's DateUTC, so that a
// partial file found after a crash says when it began without anything else.

// Segment file names: "s<session>-<track ID>-<number>" and the extension, e.g.
// s1-t-AbCdEfGhIjKl-00003.webm.
const (
	partialExt = ".partial"
	origExt    = ".orig" // appended to a partial file kept as found after a crash (#30)
)

// cuesSpace is the room kept at the head of each segment for its Cues (one point a cluster):
// enough for a cluster a second of a long segment.
const cuesSpace = 2048

// clusters: a new one at a keyframe once the current one has this much (ms), and at the
// latest at the most that a block's 16-bit relative timecode allows.
const (
	clusterMin = 1000
	clusterMax = 30000
)

// syncedFile is the file under a segment writer: Close flushes it to disk before closing.
// ebml-go writes and closes it from its own goroutine, which ends at the first error it is
// given, after which a frame written would wait for it forever; so a write error is kept
// (for the segment's close, which then fails) and not returned, and later writes are skipped.
type syncedFile struct {
	f   *os.File
	mu  sync.Mutex
	err error
}

func (s *syncedFile) Write(b []byte) (int, error) {
	if s.error() == nil {
		_, err := s.f.Write(b)
		s.fail(err)
	}
	return len(b), nil
}

func (s *syncedFile) WriteAt(b []byte, off int64) (int, error) {
	if s.error() == nil {
		_, err := s.f.WriteAt(b, off)
		s.fail(err)
	}
	return len(b), nil
}

func (s *syncedFile) Close() error {
	err := s.f.Sync()
	s.fail(err)
	s.fail(s.f.Close())
	return err
}

func (s *syncedFile) fail(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *syncedFile) error() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// segmentWriter writes frames into one segment file.
type segmentWriter struct {
	path   string // the final name; the file is path+".partial" until closed
	file   *syncedFile
	w      mkvcore.BlockWriteCloser
	start  time.Time // hearing clock of the first frame
	last   int64     // ms of the last frame since start
	frames int
	closed bool
}

// createSegment creates path+".partial" with the header of a one-track file of the track
// entry; start is the hearing-clock time of its first frame.
func createSegment(path, docType string, entry webm.TrackEntry, start time.Time) (*segmentWriter, error) {
	f, err := os.OpenFile(path+partialExt, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	sf := &syncedFile{f: f}
	ws, err := mkvcore.NewSimpleBlockWriter(sf, []mkvcore.TrackDescription{{TrackNumber: 1, TrackEntry: entry}},
		writerOptions(docType, start, sf)...)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("create segment %s: %w", filepath.Base(path), err)
	}
	if err := sf.error(); err != nil { // the header write failed
		_ = ws[0].Close()
		return nil, err
	}
	return &segmentWriter{path: path, file: sf, w: ws[0], start: start}, nil
}

func writerOptions(docType string, start time.Time, sf *syncedFile) []mkvcore.BlockWriterOption {
	header := *webm.DefaultEBMLHeader
	header.DocType = docType
	return []mkvcore.BlockWriterOption{
		mkvcore.WithEBMLHeader(&header),
		// Per file, not the package's shared default: the writer sets its Duration.
		mkvcore.WithSegmentInfo(&webm.Info{TimecodeScale: 1_000_000, MuxingApp: "chuting", WritingApp: "chuting",
			DateUTC: start.UTC()}),
		mkvcore.WithSeekHead(true),
		mkvcore.WithCues(cuesSpace),
		mkvcore.WithMinMaxClusterDuration(1, clusterMin, clusterMax),
		mkvcore.WithBlockInterceptor(nil), // one track, in order: nothing to sort
		// A write error must not panic the server (ebml-go's default): it is kept and the
		// segment fails, and is kept as found (#30).
		mkvcore.WithOnFatalHandler(sf.fail),
		mkvcore.WithOnErrorHandler(func(error) {}),
	}
}

// write adds one frame at ms milliseconds after the segment's start.
func (s *segmentWriter) write(key bool, ms int64, frame []byte) error {
	if err := s.file.error(); err != nil {
		return err
	}
	if s.frames > 0 && ms <= s.last {
		// Strictly forwards: players and muxers want each frame of a track later than the
		// one before, and two frames can arrive within a millisecond (a keyframe sent on
		// request right after a frame; a burst after a network stall).
		ms = s.last + 1
	}
	s.last = ms
	s.frames++
	_, err := s.w.Write(key, ms, frame)
	return err
}

// finished is a closed segment: its final name, hash and size.
type finished struct {
	path   string
	sha256 string
	size   int64
	frames int
	start  time.Time
	end    time.Time
}

// close finishes the file (Cues, duration, fsync) and renames it to its final name; end is
// the hearing-clock time the last frame ends. On error the partial file stays where it is,
// for Recover.
func (s *segmentWriter) close(end time.Time) (finished, error) {
	if s.closed {
		return finished{}, errors.New("segment closed twice")
	}
	s.closed = true
	_ = s.w.Close() // waits until ebml-go has written the Cues and the duration, and closed the file
	if err := s.file.error(); err != nil {
		return finished{}, fmt.Errorf("write %s: %w", filepath.Base(s.path), err)
	}
	if err := os.Rename(s.path+partialExt, s.path); err != nil {
		return finished{}, err
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		return finished{}, err
	}
	sum, size, err := hashFile(s.path)
	if err != nil {
		return finished{}, err
	}
	return finished{path: s.path, sha256: sum, size: size, frames: s.frames, start: s.start, end: end}, nil
}

// hashFile returns the hex SHA-256 and the size of a file.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	return hashOf(f)
}

// hashOf returns the SHA-256 (hex) and length of what r holds.
func hashOf(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// syncDir fsyncs a folder, so that the names made or renamed in it survive a power loss.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// segmentName is the file name of segment n of a track in a session.
func segmentName(session int, track string, n int, ext string) string {
	return fmt.Sprintf("s%d-%s-%05d%s", session, safeName(track), n, ext)
}

// parseSegmentName reads a segment file name back: its session and track. Partial and kept
// originals are accepted too, with their suffixes.
func parseSegmentName(name string) (session int, track string, ok bool) {
	name = strings.TrimSuffix(name, origExt)
	name = strings.TrimSuffix(name, partialExt)
	ext := filepath.Ext(name)
	if ext != ".webm" && ext != ".mkv" {
		return 0, "", false
	}
	name = strings.TrimSuffix(name, ext)
	rest, ok := strings.CutPrefix(name, "s")
	if !ok {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, "", false
	}
	if _, err := fmt.Sscanf(num, "%d", &session); err != nil || session < 1 {
		return 0, "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return 0, "", false
	}
	return session, rest[:i], true
}

// safeName keeps the characters of s that are safe in a file name; the room's IDs are
// base64url, so nothing is lost in practice.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
