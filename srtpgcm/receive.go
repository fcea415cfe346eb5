package srtpgcm

import (
	"errors"

	"github.com/pion/srtp/v3"
)

// ReplayWindow is how many packets behind the highest index a Receiver still takes, once
// each (pion's SRTP session's default).
const ReplayWindow = 64

// Errors of Open: the packet is refused, and the stream's state is as it was.
var (
	// ErrReplayed: the packet authenticates, but a packet of its index was opened already, or
	// it is more than ReplayWindow behind the highest. It is the peer's, replayed: the caller
	// drops it rather than hand it on. (ErrBehind: a packet guessed to be in the roll before
	// the stream's first, refused unopened.)
	ErrReplayed = errors.New("srtpgcm: replayed or too late")
	// ErrAuth: the packet does not authenticate under the keys and its guessed index.
	ErrAuth = errors.New("srtpgcm: authentication failed")
)

// Receiver opens the SRTP packets of the SSRCs received under one master key and salt (the
// peer's). It is not safe for concurrent use.
type Receiver struct {
	sessionKeys
	streams map[uint32]*Inbound
}

// Inbound is one SSRC's received indexes: the highest authenticated, and which of the
// ReplayWindow behind it arrived.
type Inbound struct {
	r    *Receiver
	ssrc uint32
	roc  uint32 // before the window started: the rollover counter the first packet is taken with
	replays
}

// replays is a replay window: the highest index authenticated, and which of the ReplayWindow
// behind it arrived.
type replays struct {
	started bool
	highest uint64
	seen    uint64 // bit i: the packet of index highest-i arrived
}

// fresh reports whether a packet of index may be taken: ahead of the highest, or in the window
// and not seen.
func (w *replays) fresh(index uint64) bool {
	if !w.started || index > w.highest {
		return true
	}
	d := w.highest - index
	return d < ReplayWindow && w.seen&(1<<d) == 0
}

// take notes index as arrived (it authenticated).
func (w *replays) take(index uint64) {
	switch {
	case !w.started:
		w.started, w.highest, w.seen = true, index, 1
	case index > w.highest:
		if d := index - w.highest; d < ReplayWindow {
			w.seen = w.seen<<d | 1
		} else {
			w.seen = 1
		}
		w.highest = index
	default:
		w.seen |= 1 << (w.highest - index)
	}
}

// NewReceiver returns a receiver for the master key and salt of profile, which must be
// srtp.ProtectionProfileAeadAes128Gcm or srtp.ProtectionProfileAeadAes256Gcm.
func NewReceiver(profile srtp.ProtectionProfile, masterKey, masterSalt []byte) (*Receiver, error) {
	r := &Receiver{streams: map[uint32]*Inbound{}}
	if err := r.derive(profile, masterKey, masterSalt, labelEncryption, labelSalt); err != nil {
		return nil, err
	}
	return r, nil
}

// Stream returns ssrc's stream, kept for the receiver's life.
func (r *Receiver) Stream(ssrc uint32) *Inbound {
	in := r.streams[ssrc]
	if in == nil {
		in = &Inbound{r: r, ssrc: ssrc}
		r.streams[ssrc] = in
	}
	return in
}

// Started reports whether a packet of the stream authenticated since it was made or given
// a rollover counter.
func (in *Inbound) Started() bool { return in.started }

// SetROC makes the next packet's index the one of rollover counter roc and its sequence
// number, as for a receiver joining a stream that another read so far: the stream starts
// again from that packet.
func (in *Inbound) SetROC(roc uint32) {
	in.roc, in.replays = roc, replays{}
}

// Open authenticates the packet of header hdr (as received: the additional data) and body
// (the encrypted payload and the tag) under the index of its sequence number seq, guessed as
// RFC 3711 §3.3.1 does, and appends the payload to dst. dst's free capacity must not overlap
// body. A packet that does not authenticate, or arrived before (within the replay window:
// older ones are refused too), changes nothing.
func (in *Inbound) Open(dst, hdr, body []byte, seq uint16) ([]byte, error) {
	if len(body) < TagLen {
		return nil, ErrAuth
	}
	index := uint64(in.roc)<<16 | uint64(seq)
	if in.started {
		// A sequence number guessed to be in the roll before the first (more than half the
		// sequence space behind while the counter is 0) is refused as too late, unopened;
		// pion's context would take it under counter 0.
		var ok bool
		if index, ok = guess(in.highest, seq); !ok {
			return nil, ErrBehind
		}
	}
	if index > maxIndex {
		return nil, ErrExhausted // the key's indexes are spent (RFC 3711 §9.2)
	}
	out, err := in.r.aead.Open(dst, in.r.nonce(in.ssrc, index), body, hdr)
	if err != nil {
		return nil, ErrAuth
	}
	if in.started && !in.fresh(index) {
		return nil, ErrReplayed
	}
	in.take(index)
	return out, nil
}
