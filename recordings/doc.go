// Package recordings records every hearing on the server, crash-safe, with a signed integrity
// manifest a third party can verify (DOMAIN.md §4 #29–#31).
//
// The Recorder implements signaling.Recorder: the room feeds it, like a participant that never
// publishes, every track published from the judge's start to the close, as judge and clerk
// receive it. Nothing is re-encoded: RTP is put back into frames (pion's depacketizers and
// sample builder) and the frames into Matroska files with ebml-go, WebM for VP8, VP9 and Opus,
// Matroska for H.264.
//
// On disk, in the data folder:
//
//	keys/recording.ed25519        the signing key's seed (made on first start, 0600)
//	keys/recording.ed25519.pub    its public key, base64: give it to whoever verifies
//	recordings/<hearing ID>/
//	  s1-<track>-00001.webm       a segment: a few seconds of one track, a complete file
//	  s1-<track>-00002.webm.partial          the segment being written
//	  s1-<track>-00007.webm.partial.orig     a segment cut off by a crash, kept as found (#30)
//	  journal.jsonl               what happened, appended and fsynced (journal.go)
//	  events.json                 the hearing's attendance events when the manifest was made
//	  manifest.json               the signed manifest (manifest.go)
//
// A session is one recording of the hearing (s1, s2… in the names): a second one starts when
// the room is started again after a restart. The manifest covers all of them.
//
// The hearing clock (track.go) puts every track on the server's wall clock, so that the
// segments of different tracks and participants line up by their start and end times.
//
// Recover (recover.go) finishes, at the server's start, what a crash left; Verify (verify.go)
// checks a folder against its manifest and names what was altered, removed or added.
package recordings
