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

// pionContext returns pion's SRTP context of the keys, to seal or open what srtpgcm opens or
// seals.
func pionContext(t testing.TB, key, salt []byte, profile srtp.ProtectionProfile, opts ...srtp.ContextOption) *srtp.Context {
	t.Helper()
	ctx, err := srtp.CreateContext(key, salt, profile, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return ctx
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
// SSRCs interleaved (one sealed in place, one from a payload elsewhere): the key derivation,
// the IV and the rollover counter are RFC 7714's.
func TestMatchesPion(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			key, salt := keys(t, p.keyLen)
			ctx := pionContext(t, key, salt, p.profile)
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
					// One SSRC's payload is sealed in place, the other's from a buffer of its own.
					hdr, payload := b[:hl], b[hl:]
					if ssrc == 2222 {
						payload = bytes.Clone(payload)
						hdr = append(make([]byte, 0, len(b)+TagLen), hdr...)
					}
					got, _, err := s.Stream(ssrc).Seal(hdr, payload, seq)
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

// TestResendsDecrypt checks that packets sent again, also after the sequence numbers rolled
// and from the roll before, are sealed again under the index Seal gave them (SealAt): pion's
// receiving context, which did not get the first sending, decrypts them. And that a packet
// half the sequence space ahead is taken as a receiver takes it (the same roll).
func TestResendsDecrypt(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			key, salt := keys(t, p.keyLen)
			rx := pionContext(t, key, salt, p.profile)
			s, err := New(p.profile, key, salt)
			if err != nil {
				t.Fatal(err)
			}
			st := s.Stream(42)
			lost := map[uint16]uint64{65530: 0, 65535: 0, 3: 0}
			receive := func(seq uint16, sealed, plain []byte) {
				t.Helper()
				got, err := rx.DecryptRTP(nil, sealed, nil)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("seq %d: %v", seq, err)
				}
			}
			for _, seq := range seqs() {
				b, hl := packet(t, 42, seq)
				plain := bytes.Clone(b)
				sealed, index, err := st.Seal(b[:hl], b[hl:], seq)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := lost[seq]; ok {
					lost[seq] = index
					continue
				}
				receive(seq, sealed, plain)
			}
			for seq, index := range lost { // sent again, the first sending lost
				b, hl := packet(t, 42, seq)
				plain := bytes.Clone(b)
				sealed, err := st.SealAt(b[:hl], b[hl:], index)
				if err != nil {
					t.Fatal(err)
				}
				receive(seq, sealed, plain)
				if _, _, err := st.Seal(b[:hl], b[hl:len(plain)], seq); !errors.Is(err, ErrSealed) {
					t.Fatalf("seq %d sealed twice by Seal: %v", seq, err)
				}
			}
			// 19 is the highest; 19 + 2^15 is still this roll, for the receiver as for Seal.
			b, hl := packet(t, 42, 19+1<<15)
			plain := bytes.Clone(b)
			sealed, index, err := st.Seal(b[:hl], b[hl:], 19+1<<15)
			if err != nil || index != 1<<16|(19+1<<15) {
				t.Fatalf("index %#x, %v", index, err)
			}
			receive(19+1<<15, sealed, plain)
		})
	}
}

// TestNoIndexSealedTwice seals a stream whose sequence numbers jump about (gaps, repeats, late
// packets, jumps of half the space and more, rolls) and checks that no two packets it sealed
// got one index, and that SealAt takes only indexes Seal gave.
func TestNoIndexSealedTwice(t *testing.T) {
	s, err := New(srtp.ProtectionProfileAeadAes128Gcm, make([]byte, 16), make([]byte, saltLen))
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stream(7)
	used := map[uint64]uint16{}
	seq := uint16(65000)
	var refused int
	for i := range 200000 {
		switch r := i * 7919 % 1000; {
		case r < 900:
			seq++
		case r < 950:
			seq -= uint16(r % 40) // late, or a repeat
		case r < 990:
			seq += uint16(r * 13 % 900) // a gap
		default:
			seq += 1<<15 + uint16(r) // a jump of half the space or more
		}
		b, hl := packet(t, 7, seq)
		_, index, err := st.Seal(b[:hl], b[hl:], seq)
		if err != nil {
			refused++
			continue
		}
		if uint16(index) != seq {
			t.Fatalf("seq %d sealed as index %#x", seq, index)
		}
		if prev, ok := used[index]; ok {
			t.Fatalf("index %#x sealed twice (seq %d, then %d)", index, prev, seq)
		}
		used[index] = seq
	}
	if refused == 0 || len(used) < 50000 { // after a jump of more than half, until it comes round
		t.Fatalf("%d sealed, %d refused", len(used), refused)
	}
	b, hl := packet(t, 7, 1)
	if _, err := st.SealAt(b[:hl], b[hl:], st.highest+1); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("SealAt beyond the highest index: %v", err)
	}
}

// TestLateAndAgain checks a late packet in the window: sealed once by Seal (a gap it fills),
// refused by SealAt before that (it was not sealed: sealing it there, then another packet
// under its index with Seal, would reuse the nonce), taken by SealAt after.
func TestLateAndAgain(t *testing.T) {
	s, err := New(srtp.ProtectionProfileAeadAes128Gcm, make([]byte, 16), make([]byte, saltLen))
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stream(9)
	seal := func(seq uint16) (uint64, error) {
		b, hl := packet(t, 9, seq)
		_, index, err := st.Seal(b[:hl], b[hl:], seq)
		return index, err
	}
	for _, seq := range []uint16{10, 12} {
		if _, err := seal(seq); err != nil {
			t.Fatal(err)
		}
	}
	b, hl := packet(t, 9, 11)
	if _, err := st.SealAt(b[:hl], b[hl:], 11); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("SealAt of an index never sealed: %v", err)
	}
	if index, err := seal(11); err != nil || index != 11 {
		t.Fatalf("the late packet 11: index %d, %v", index, err)
	}
	if _, err := seal(11); !errors.Is(err, ErrSealed) {
		t.Fatalf("11 again through Seal: %v", err)
	}
	b, hl = packet(t, 9, 11)
	if _, err := st.SealAt(b[:hl], b[hl:], 11); err != nil {
		t.Fatalf("11 again through SealAt: %v", err)
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
	if _, _, err := s.Stream(1).Seal(b[:hl:len(b)], b[hl:], 1); !errors.Is(err, ErrRoom) {
		t.Fatalf("no room for the tag: %v", err)
	}
}

func BenchmarkSeal(b *testing.B) {
	key, salt := make([]byte, 16), make([]byte, saltLen)
	s, _ := New(srtp.ProtectionProfileAeadAes128Gcm, key, salt)
	ctx := pionContext(b, key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}
	_ = h.SetExtension(5, []byte{1, 2})
	hl := h.MarshalSize()
	buf := make([]byte, 1200+TagLen)
	out := make([]byte, 1200+TagLen)
	// The sequence numbers go on from round to round: a Stream refuses to seal one index twice.
	var seq uint16
	b.Run("srtpgcm", func(b *testing.B) {
		b.SetBytes(1200)
		for range b.N {
			seq++
			h.SequenceNumber = seq
			_, _ = h.MarshalTo(buf)
			if _, _, err := s.Stream(1).Seal(buf[:hl], buf[hl:1200], h.SequenceNumber); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("srtpgcm/payload-elsewhere", func(b *testing.B) {
		b.SetBytes(1200)
		payload := make([]byte, 1200-hl)
		for range b.N {
			seq++
			h.SequenceNumber = seq
			_, _ = h.MarshalTo(buf)
			if _, _, err := s.Stream(2).Seal(buf[:hl], payload, h.SequenceNumber); err != nil {
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
