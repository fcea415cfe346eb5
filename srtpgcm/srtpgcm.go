// Package srtpgcm protects and opens RTP packets with SRTP's AEAD-AES-GCM profiles
// (RFC 7714): AEAD_AES_128_GCM and AEAD_AES_256_GCM.
//
// pion's srtp.Context does the same for any profile, but its EncryptRTP parses the header the
// caller has just written, looks up the stream's state in a map and works out its rollover
// counter on every packet: in the server's profile at 10 rooms × 5 as much again as the
// AES-GCM seal itself (docs/perf.md); its DecryptRTP likewise, with a replay detector that
// shifts a big integer per packet. A Sender is the server's writer's alone: the caller
// marshals the header and gives it with the payload (which need not follow it: it is sealed
// from where it is) and the sequence number; the Sender keeps each SSRC's Stream: its indexes,
// so that it never seals two packets under one (Seal). A Receiver opens what a peer sealed,
// with each SSRC's rollover counter guessed as RFC 3711 does and a replay window (Open).
//
// SRTCP (rtcp.go) has an RTCPSender and an RTCPReceiver, for its encrypted form (RFC 7714 §9);
// it has no rollover to guess (each packet carries its index).
package srtpgcm

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pion/srtp/v3"
)

// TagLen is the authentication tag SRTP adds to each packet.
const TagLen = 16

// saltLen is the master and session salt's length for the GCM profiles (RFC 7714 §12).
const saltLen = 12

// Key derivation labels (RFC 3711 §4.3.1).
const (
	labelEncryption     = 0x00
	labelSalt           = 0x02
	labelRTCPEncryption = 0x03
	labelRTCPSalt       = 0x05
)

// ErrProfile means a profile that is not one of the AEAD-AES-GCM ones.
var ErrProfile = errors.New("srtpgcm: not an AEAD-AES-GCM profile")

// ErrRoom means a buffer without room for the tag.
var ErrRoom = errors.New("srtpgcm: no room for the authentication tag")

// Errors of Seal and SealAt: the packet is not sealed.
var (
	// ErrBehind: too far behind the highest index sealed (or before the stream's first roll).
	ErrBehind = errors.New("srtpgcm: sequence number too far behind")
	// ErrSealed: a packet was sealed under that index already (SealAt seals it again).
	ErrSealed = errors.New("srtpgcm: index sealed already")
	// ErrNotSealed: SealAt was given an index Seal did not give that packet.
	ErrNotSealed = errors.New("srtpgcm: index not sealed before")
	// ErrExhausted: the key has sealed 2^48 packets of the stream (RFC 3711 §9.2).
	ErrExhausted = errors.New("srtpgcm: packet indexes exhausted")
)

// Sender seals the RTP packets of the SSRCs sent under one master key and salt. It is not
// safe for concurrent use.
type Sender struct {
	sessionKeys
	streams map[uint32]*Stream
}

// sessionKeys is an SRTP session's AEAD and salt (one direction's), and the scratch of the IV.
type sessionKeys struct {
	aead cipher.AEAD
	salt [saltLen]byte
	iv   [saltLen]byte // on the stack it would escape to the AEAD
}

// Stream is one SSRC's packet indexes (rollover counter and sequence number) as its sender
// keeps them: the highest sealed, and which of the window behind it were.
type Stream struct {
	s       *Sender
	ssrc    uint32
	started bool
	highest uint64
	sealed  [window / 64]uint64 // bit i%window: index i was sealed, for the window behind highest
}

// window is how far behind the highest index a packet not sealed before may still be.
const window = 1024

// maxIndex is the last index a key may seal (RFC 3711 §9.2: 2^48 packets).
const maxIndex = 1<<48 - 1

// New returns a sender for the master key and salt of profile, which must be
// srtp.ProtectionProfileAeadAes128Gcm or srtp.ProtectionProfileAeadAes256Gcm.
func New(profile srtp.ProtectionProfile, masterKey, masterSalt []byte) (*Sender, error) {
	s := &Sender{streams: map[uint32]*Stream{}}
	if err := s.derive(profile, masterKey, masterSalt, labelEncryption, labelSalt); err != nil {
		return nil, err
	}
	return s, nil
}

// derive derives the session's AEAD and salt from the master key and salt of profile, with
// the labels of SRTP's or SRTCP's.
func (k *sessionKeys) derive(profile srtp.ProtectionProfile, masterKey, masterSalt []byte, labelKey, labelSalt byte) error {
	var keyLen int
	switch profile {
	case srtp.ProtectionProfileAeadAes128Gcm:
		keyLen = 16
	case srtp.ProtectionProfileAeadAes256Gcm:
		keyLen = 32
	default:
		return fmt.Errorf("%w: %#04x", ErrProfile, uint16(profile))
	}
	if len(masterKey) != keyLen || len(masterSalt) != saltLen {
		return fmt.Errorf("srtpgcm: master key of %d bytes and salt of %d, want %d and %d",
			len(masterKey), len(masterSalt), keyLen, saltLen)
	}
	kdf, err := aes.NewCipher(masterKey)
	if err != nil {
		return err
	}
	block, err := aes.NewCipher(kdfOut(kdf, masterSalt, labelKey, keyLen))
	if err != nil {
		return err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return err
	}
	copy(k.salt[:], kdfOut(kdf, masterSalt, labelSalt, saltLen))
	return nil
}

// nonce returns the IV of the packet of ssrc and index, XORed with the salt: two zero bytes,
// the SSRC and the 48-bit index: for SRTP the rollover counter and the sequence number
// (RFC 7714 §8.1), for SRTCP two zero bytes, a zero bit and the 31-bit SRTCP index (§9.1).
func (k *sessionKeys) nonce(ssrc uint32, index uint64) []byte {
	iv, salt := &k.iv, &k.salt
	iv[0], iv[1] = 0, 0
	binary.BigEndian.PutUint32(iv[2:], ssrc)
	binary.BigEndian.PutUint32(iv[6:], uint32(index>>16))
	binary.BigEndian.PutUint16(iv[10:], uint16(index))
	for i := range iv {
		iv[i] ^= salt[i]
	}
	return iv[:]
}

// kdfOut is the AES-CM key derivation of RFC 3711 §4.3 with a key derivation rate of 0: the
// key stream of AES in counter mode, keyed with the master key, from the block that holds the
// master salt XORed with the label (the label in the 8th byte, the salt's 96 bits from the
// first, as RFC 7714 §11 lays them), the last two bytes counting the blocks.
func kdfOut(kdf cipher.Block, masterSalt []byte, label byte, n int) []byte {
	var in [aes.BlockSize]byte
	copy(in[:], masterSalt)
	in[7] ^= label
	out := make([]byte, 0, n+aes.BlockSize)
	var block [aes.BlockSize]byte
	for i := uint16(0); len(out) < n; i++ {
		binary.BigEndian.PutUint16(in[aes.BlockSize-2:], i)
		kdf.Encrypt(block[:], in[:])
		out = append(out, block[:]...)
	}
	return out[:n]
}

// Stream returns ssrc's stream; the sender keeps it for as long as it lives, so that an SSRC
// sent again (after a renegotiation) goes on with its rollover counter.
func (s *Sender) Stream(ssrc uint32) *Stream {
	st := s.streams[ssrc]
	if st == nil {
		st = &Stream{s: s, ssrc: ssrc}
		s.streams[ssrc] = st
	}
	return st
}

// Seal protects the RTP packet of header hdr (with CSRCs and extensions) and sequence number
// seq, and payload: the payload's ciphertext and the tag are written after hdr, in its
// capacity (ErrRoom if short), and hdr so extended is returned with the packet's index.
// payload may be hdr's continuation (sealed in place) or elsewhere, but not overlap it
// otherwise. The index is guessed from seq and the highest index
// sealed as a receiver guesses it (RFC 3711 §3.3.1), so that a sequence number up to half the
// sequence space ahead is the next roll's; a packet behind the highest (a late one) is sealed
// only if its index is in the window and was not sealed before: no two packets get one index
// (with AES-GCM that would give the key stream and the authentication key away). A packet sent
// again goes through SealAt with the index it was first sealed with.
func (st *Stream) Seal(hdr, payload []byte, seq uint16) ([]byte, uint64, error) {
	if cap(hdr)-len(hdr) < len(payload)+TagLen {
		return nil, 0, ErrRoom
	}
	index, err := st.next(seq)
	if err != nil {
		return nil, 0, err
	}
	return st.seal(hdr, payload, index), index, nil
}

// SealAt protects again under index, which Seal gave it, the packet of header hdr and
// payload, as Seal does: it must be the packet sealed then, byte for byte (the same index for
// another packet would give the key away).
func (st *Stream) SealAt(hdr, payload []byte, index uint64) ([]byte, error) {
	if cap(hdr)-len(hdr) < len(payload)+TagLen {
		return nil, ErrRoom
	}
	if !st.started || index > st.highest || st.highest-index >= window || !st.isSealed(index) ||
		len(hdr) < 4 || binary.BigEndian.Uint16(hdr[2:4]) != uint16(index) {
		return nil, ErrNotSealed // not sealed (yet), or so long ago that the window forgot
	}
	return st.seal(hdr, payload, index), nil
}

// next returns seq's index and notes it sealed, or refuses it.
func (st *Stream) next(seq uint16) (uint64, error) {
	if !st.started {
		st.started, st.highest = true, uint64(seq)
		st.mark(st.highest)
		return st.highest, nil
	}
	index, ok := guess(st.highest, seq)
	if !ok {
		return 0, ErrBehind
	}
	switch {
	case index > maxIndex:
		return 0, ErrExhausted
	case index > st.highest:
		for i := st.highest + 1; i < index && i-st.highest <= window; i++ {
			st.sealed[i%window/64] &^= 1 << (i % 64) // forget what the window leaves
		}
		st.highest = index
	case st.highest-index >= window:
		return 0, ErrBehind
	case st.isSealed(index):
		return 0, ErrSealed
	}
	st.mark(index)
	return index, nil
}

// guess returns the index of sequence number seq given the highest index so far, as a
// receiver guesses it (RFC 3711 §3.3.1): the roll before, this one or the next, whichever
// puts it nearest; false for the roll before the first.
func guess(highest uint64, seq uint16) (uint64, bool) {
	roc, sl := highest>>16, uint16(highest)
	v := roc
	if sl < 1<<15 {
		if int(seq)-int(sl) > 1<<15 { // behind, in the roll before
			if roc == 0 {
				return 0, false
			}
			v = roc - 1
		}
	} else if int(sl)-1<<15 > int(seq) { // ahead, in the next roll
		v = roc + 1
	}
	return v<<16 | uint64(seq), true
}

func (st *Stream) mark(index uint64) { st.sealed[index%window/64] |= 1 << (index % 64) }

// isSealed reports whether index, in the window, was sealed.
func (st *Stream) isSealed(index uint64) bool {
	return st.sealed[index%window/64]&(1<<(index%64)) != 0
}

// seal encrypts payload after hdr under index and appends the tag.
func (st *Stream) seal(hdr, payload []byte, index uint64) []byte {
	return st.s.aead.Seal(hdr, st.s.nonce(st.ssrc, index), payload, hdr)
}
