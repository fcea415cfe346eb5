package srtpgcm

import (
	"encoding/binary"
	"errors"

	"github.com/pion/srtp/v3"
)

// rtcpHeaderLen is the part of an RTCP packet SRTCP leaves in the clear: the first header
// and the sender's SSRC.
const rtcpHeaderLen = 8

// ErrUnencrypted means an SRTCP packet whose E flag is not set: authenticated only, which the
// RTCPReceiver does not take (browsers and pion encrypt).
var ErrUnencrypted = errors.New("srtpgcm: SRTCP packet not encrypted")

// RTCPReceiver opens the SRTCP packets of a peer's senders, received under one master key
// and salt, with the AEAD-AES-GCM profiles (RFC 7714 §9). It is not safe for concurrent use.
type RTCPReceiver struct {
	sessionKeys
	aad     [rtcpHeaderLen + 4]byte // scratch, as iv
	senders map[uint32]*replays     // each sender SSRC's SRTCP indexes
}

// NewRTCPReceiver returns an SRTCP receiver for the master key and salt of profile, which must
// be srtp.ProtectionProfileAeadAes128Gcm or srtp.ProtectionProfileAeadAes256Gcm.
func NewRTCPReceiver(profile srtp.ProtectionProfile, masterKey, masterSalt []byte) (*RTCPReceiver, error) {
	r := &RTCPReceiver{senders: map[uint32]*replays{}}
	if err := r.derive(profile, masterKey, masterSalt, labelRTCPEncryption, labelRTCPSalt); err != nil {
		return nil, err
	}
	return r, nil
}

// Open authenticates and decrypts the SRTCP packet b (the RTCP header and sender SSRC, the
// encrypted rest, the tag, then the E flag and the SRTCP index; no MKI) and appends the RTCP
// packet, header and all, to dst, whose free capacity must not overlap b. A packet that
// authenticates but whose index arrived before, or lies more than ReplayWindow behind the
// sender's highest, is refused with ErrReplayed (it is this receiver's peer's, replayed: the
// caller drops it rather than hand it to another reader); a packet refused changes nothing.
func (r *RTCPReceiver) Open(dst, b []byte) ([]byte, error) {
	if len(b) < rtcpHeaderLen+TagLen+4 {
		return nil, ErrAuth
	}
	word := binary.BigEndian.Uint32(b[len(b)-4:])
	if word&(1<<31) == 0 {
		return nil, ErrUnencrypted
	}
	index := uint64(word &^ (1 << 31))
	ssrc := binary.BigEndian.Uint32(b[4:8])
	copy(r.aad[:rtcpHeaderLen], b)
	binary.BigEndian.PutUint32(r.aad[rtcpHeaderLen:], word)
	out, err := r.aead.Open(append(dst, b[:rtcpHeaderLen]...), r.nonce(ssrc, index), b[rtcpHeaderLen:len(b)-4], r.aad[:])
	if err != nil {
		return nil, ErrAuth
	}
	w := r.senders[ssrc]
	if w != nil && !w.fresh(index) {
		return nil, ErrReplayed
	}
	if w == nil { // kept once a packet of it authenticated, so that forged SSRCs add none
		if len(r.senders) >= maxRTCPSenders {
			for k := range r.senders { // one out, the others' windows kept
				delete(r.senders, k)
				break
			}
		}
		w = &replays{}
		r.senders[ssrc] = w
	}
	w.take(index)
	return out, nil
}

// maxRTCPSenders bounds the sender SSRCs an RTCPReceiver keeps windows for (a subscriber's
// connection has one or two).
const maxRTCPSenders = 64

// RTCPSender seals the SRTCP packets sent under one master key and salt, with the
// AEAD-AES-GCM profiles (RFC 7714 §9), encrypted. It is not safe for concurrent use.
type RTCPSender struct {
	sessionKeys
	aad   [rtcpHeaderLen + 4]byte
	index map[uint32]uint32 // each sender SSRC's last SRTCP index
	first uint32
}

// NewRTCPSender returns an SRTCP sender for the master key and salt of profile, whose indexes
// start after first: another context that sealed SRTCP under the same keys (pion's, before
// the server took its connection's RTCP over) counted its own from 1, and an index must not
// be used twice for one SSRC.
func NewRTCPSender(profile srtp.ProtectionProfile, masterKey, masterSalt []byte, first uint32) (*RTCPSender, error) {
	s := &RTCPSender{index: map[uint32]uint32{}, first: first}
	if err := s.derive(profile, masterKey, masterSalt, labelRTCPEncryption, labelRTCPSalt); err != nil {
		return nil, err
	}
	return s, nil
}

// ErrRTCP means an RTCP packet too short to carry its sender's SSRC.
var ErrRTCP = errors.New("srtpgcm: not an RTCP packet")

// Seal protects in place the RTCP packet (or compound) b, of the sender whose SSRC its first
// header gives, and returns it with the tag and the E flag and SRTCP index appended: b must
// have TagLen+4 bytes of room.
func (s *RTCPSender) Seal(b []byte) ([]byte, error) {
	if len(b) < rtcpHeaderLen {
		return nil, ErrRTCP
	}
	if cap(b)-len(b) < TagLen+4 {
		return nil, ErrRoom
	}
	ssrc := binary.BigEndian.Uint32(b[4:8])
	index, ok := s.index[ssrc]
	if !ok {
		index = s.first
	}
	if index >= 1<<31-1 {
		return nil, ErrExhausted
	}
	index++
	s.index[ssrc] = index
	word := index | 1<<31
	copy(s.aad[:rtcpHeaderLen], b)
	binary.BigEndian.PutUint32(s.aad[rtcpHeaderLen:], word)
	out := s.aead.Seal(b[:rtcpHeaderLen], s.nonce(ssrc, uint64(index)), b[rtcpHeaderLen:], s.aad[:])
	return binary.BigEndian.AppendUint32(out, word), nil
}
