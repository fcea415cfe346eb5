package srtpgcm

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

var profiles = []struct {
	name    string
	profile srtp.ProtectionProfile
	keyLen  int
}{
	{"AEAD_AES_128_GCM", srtp.ProtectionProfileAeadAes128Gcm, 16},
	{"AEAD_AES_256_GCM", srtp.ProtectionProfileAeadAes256Gcm, 32},
}

func keys(t *testing.T, keyLen int) (key, salt []byte) {
	t.Helper()
	key, salt = make([]byte, keyLen), make([]byte, saltLen)
	_, _ = rand.Read(key)
	_, _ = rand.Read(salt)
	return key, salt
}

// packet marshals an RTP packet with seq into a buffer with room for the tag, and returns it
// and its header's length. Every third has a CSRC, every other a header extension.
func packet(t *testing.T, ssrc uint32, seq uint16) ([]byte, int) {
	t.Helper()
	h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, SSRC: ssrc,
		Marker: seq%5 == 0}
	if seq%3 == 0 {
		h.CSRC = []uint32{7}
	}
	if seq%2 == 0 {
		if err := h.SetExtension(5, []byte{byte(seq >> 8), byte(seq)}); err != nil {
			t.Fatal(err)
		}
	}
	payload := bytes.Repeat([]byte{byte(seq)}, 900+int(seq%300))
	b := make([]byte, h.MarshalSize(), h.MarshalSize()+len(payload)+TagLen)
	if _, err := h.MarshalTo(b); err != nil {
		t.Fatal(err)
	}
	return append(b, payload...), h.MarshalSize()
}

// seqs crosses a roll of the sequence numbers.
func seqs() []uint16 {
	var s []uint16
	for n := uint16(65520); n != 20; n++ {
		s = append(s, n)
	}
	return s
}

// TestMatchesPion checks that a Sender's packets are, byte for byte, those pion's SRTP context
// makes with the same master key and salt, across a roll of the sequence numbers, for two
// SSRCs interleaved: the key derivation, the IV and the rollover counter are RFC 7714's.
func TestMatchesPion(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			key, salt := keys(t, p.keyLen)
			ctx, err := srtp.CreateContext(key, salt, p.profile)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(p.profile, key, salt)
			if err != nil {
				t.Fatal(err)
			}
			for _, seq := range seqs() {
				for _, ssrc := range []uint32{1111, 2222} {
					b, hl := packet(t, ssrc, seq)
					want, err := ctx.EncryptRTP(nil, b, nil)
					if err != nil {
						t.Fatal(err)
					}
					got, err := s.Stream(ssrc).Seal(b, hl, seq)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("ssrc %d seq %d: sealed differently from pion", ssrc, seq)
					}
				}
			}
		})
	}
}

// TestResendsDecrypt checks that packets sent again after the sequence numbers rolled, of the
// roll before, are sealed with the counter they were first sent with: pion's receiving
// context, which did not get the first sending, decrypts them. A sequence number before the
// stream's start is refused.
func TestResendsDecrypt(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			key, salt := keys(t, p.keyLen)
			rx, err := srtp.CreateContext(key, salt, p.profile)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(p.profile, key, salt)
			if err != nil {
				t.Fatal(err)
			}
			st := s.Stream(42)
			lost := map[uint16]bool{65530: true, 65535: true, 3: true}
			send := func(seq uint16) {
				t.Helper()
				b, hl := packet(t, 42, seq)
				plain := bytes.Clone(b)
				sealed, err := st.Seal(b, hl, seq)
				if err != nil {
					t.Fatal(err)
				}
				if lost[seq] {
					return
				}
				got, err := rx.DecryptRTP(nil, sealed, nil)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("seq %d: %v", seq, err)
				}
			}
			for _, seq := range seqs() {
				send(seq)
			}
			for seq := range lost { // sent again, the first sending lost
				delete(lost, seq)
				send(seq)
			}
			b, hl := packet(t, 42, 10)
			if _, err := s.Stream(43).Seal(b, hl, 10); err != nil {
				t.Fatal(err)
			}
			b, hl = packet(t, 43, 65000)
			if _, err := s.Stream(43).Seal(b, hl, 65000); !errors.Is(err, ErrBehind) {
				t.Fatalf("a sequence number behind the start: %v", err)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	if _, err := New(srtp.ProtectionProfileAes128CmHmacSha1_80, make([]byte, 16), make([]byte, 14)); !errors.Is(err, ErrProfile) {
		t.Fatalf("AES-CM profile: %v", err)
	}
	if _, err := New(srtp.ProtectionProfileAeadAes128Gcm, make([]byte, 32), make([]byte, saltLen)); err == nil {
		t.Fatal("a 256-bit key for AES-128 was taken")
	}
	s, err := New(srtp.ProtectionProfileAeadAes128Gcm, make([]byte, 16), make([]byte, saltLen))
	if err != nil {
		t.Fatal(err)
	}
	b, hl := packet(t, 1, 1)
	if _, err := s.Stream(1).Seal(b[:len(b):len(b)], hl, 1); !errors.Is(err, ErrRoom) {
		t.Fatalf("no room for the tag: %v", err)
	}
}

func BenchmarkSeal(b *testing.B) {
	key, salt := make([]byte, 16), make([]byte, saltLen)
	s, _ := New(srtp.ProtectionProfileAeadAes128Gcm, key, salt)
	ctx, _ := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}
	_ = h.SetExtension(5, []byte{1, 2})
	hl := h.MarshalSize()
	buf := make([]byte, 1200+TagLen)
	out := make([]byte, 1200+TagLen)
	b.Run("srtpgcm", func(b *testing.B) {
		b.SetBytes(1200)
		for i := range b.N {
			h.SequenceNumber = uint16(i)
			_, _ = h.MarshalTo(buf)
			if _, err := s.Stream(1).Seal(buf[:1200], hl, h.SequenceNumber); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pion", func(b *testing.B) {
		b.SetBytes(1200)
		var scratch rtp.Header
		for i := range b.N {
			h.SequenceNumber = uint16(i)
			_, _ = h.MarshalTo(buf)
			if _, err := ctx.EncryptRTP(out[:0], buf[:1200], &scratch); err != nil {
				b.Fatal(err)
			}
		}
	})
}
