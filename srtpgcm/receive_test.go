package srtpgcm

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// sealer returns pion's sending context and a Receiver of the same keys.
func sealer(t *testing.T, profile srtp.ProtectionProfile, keyLen int) (*srtp.Context, *Receiver) {
	t.Helper()
	key, salt := keys(t, keyLen)
	tx := pionContext(t, key, salt, profile)
	r, err := NewReceiver(profile, key, salt)
	if err != nil {
		t.Fatal(err)
	}
	return tx, r
}

// open opens the SRTP packet b with r as the server's input does: the header parsed, the
// payload decrypted after a copy of it.
func open(r *Receiver, b []byte) ([]byte, error) {
	var h rtp.Header
	hl, err := h.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	dst := append(make([]byte, 0, len(b)), b[:hl]...)
	return r.Stream(h.SSRC).Open(dst, b[:hl], b[hl:], h.SequenceNumber)
}

// TestOpenMatchesPion opens what pion's context sealed, across a roll of the sequence
// numbers, for two SSRCs interleaved, and gets each packet back as it was.
func TestOpenMatchesPion(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			tx, r := sealer(t, p.profile, p.keyLen)
			for _, seq := range seqs() {
				for _, ssrc := range []uint32{1111, 2222} {
					plain, _ := packet(t, ssrc, seq)
					sealed, err := tx.EncryptRTP(nil, plain, nil)
					if err != nil {
						t.Fatal(err)
					}
					got, err := open(r, sealed)
					if err != nil {
						t.Fatalf("ssrc %d seq %d: %v", ssrc, seq, err)
					}
					if !bytes.Equal(got, plain) {
						t.Fatalf("ssrc %d seq %d: opened differently", ssrc, seq)
					}
				}
			}
			if in := r.Stream(1111); in.highest != 1<<16|19 {
				t.Fatalf("highest index %#x, want the next roll's 19", in.highest)
			}
		})
	}
}

// TestOpenRefuses checks the replay window and that a packet refused changes nothing: a
// packet again, one too late, a tampered one (also far ahead: it must not move the window),
// one with too short a body; and that a late one within the window is taken once.
func TestOpenRefuses(t *testing.T) {
	tx, r := sealer(t, srtp.ProtectionProfileAeadAes128Gcm, 16)
	sealed := map[uint16][]byte{}
	seal := func(seq uint16) []byte {
		t.Helper()
		plain, _ := packet(t, 42, seq)
		b, err := tx.EncryptRTP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		sealed[seq] = b
		return b
	}
	for seq := uint16(1000); seq < 1100; seq++ {
		b := seal(seq)
		if seq == 1020 || seq == 1035 || seq == 1036 || seq == 1090 { // late: see below
			continue
		}
		if _, err := open(r, b); err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
	}
	refuse := func(what string, b []byte, want error) {
		t.Helper()
		if _, err := open(r, b); !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", what, err, want)
		}
	}
	refuse("a packet again", sealed[1099], ErrReplayed)
	refuse("one in the window again", sealed[1080], ErrReplayed)
	refuse("one never seen, 64 behind: just out of the window", sealed[1099-64], ErrReplayed)
	if _, err := open(r, sealed[1099-63]); err != nil {
		t.Fatalf("a late packet 63 behind, at the window's edge: %v", err)
	}
	refuse("one never seen, but 79 behind: out of the window", sealed[1020], ErrReplayed)
	if _, err := open(r, sealed[1090]); err != nil {
		t.Fatalf("a late packet in the window: %v", err)
	}
	refuse("the late one again", sealed[1090], ErrReplayed)
	ahead := bytes.Clone(seal(30000))
	ahead[len(ahead)-1] ^= 1
	refuse("tampered, far ahead", ahead, ErrAuth)
	refuse("a body shorter than the tag", sealed[1100-1][:12+TagLen-1], ErrAuth)
	in := r.Stream(42)
	if in.highest != 1099 {
		t.Fatalf("highest %d after refusals, want 1099", in.highest)
	}
	if _, err := open(r, seal(1100)); err != nil {
		t.Fatalf("the next packet: %v", err)
	}
}

// TestSetROC: a stream read elsewhere until its sequence numbers rolled twice is taken with
// the rollover counter given; a wrong counter does not authenticate and changes nothing, and
// the right one given then works; the stream goes on into the next roll.
func TestSetROC(t *testing.T) {
	tx, r := sealer(t, srtp.ProtectionProfileAeadAes128Gcm, 16)
	tx.SetROC(7, 2) // pion's sender, as if it had sent two rolls already
	seal := func(seq uint16) []byte {
		t.Helper()
		plain, _ := packet(t, 7, seq)
		b, err := tx.EncryptRTP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := seal(65000)
	in := r.Stream(7)
	in.SetROC(1)
	if _, err := open(r, first); !errors.Is(err, ErrAuth) {
		t.Fatalf("under the wrong counter: %v", err)
	}
	in.SetROC(2)
	if _, err := open(r, first); err != nil {
		t.Fatalf("under the right counter: %v", err)
	}
	for seq := uint16(65001); seq != 100; seq++ {
		if _, err := open(r, seal(seq)); err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
	}
	if in.highest != 3<<16|99 {
		t.Fatalf("highest %#x", in.highest)
	}
}

func BenchmarkOpen(b *testing.B) {
	key, salt := make([]byte, 16), make([]byte, saltLen)
	tx := pionContext(b, key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	const n = 1 << 12
	pkts := make([][]byte, n)
	for i := range pkts {
		h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1, SequenceNumber: uint16(i)}
		_ = h.SetExtension(5, []byte{1, 2})
		plain, _ := h.Marshal()
		plain = append(plain, make([]byte, 1200-len(plain))...)
		pkts[i], _ = tx.EncryptRTP(nil, plain, nil)
	}
	dst := make([]byte, 1500)
	// Each round of the benchmark gets a fresh receiver: a packet opened twice is a replay.
	b.Run("srtpgcm", func(b *testing.B) {
		b.SetBytes(1200)
		r, _ := NewReceiver(srtp.ProtectionProfileAeadAes128Gcm, key, salt)
		var h rtp.Header
		for i := range b.N {
			if i%n == 0 {
				r, _ = NewReceiver(srtp.ProtectionProfileAeadAes128Gcm, key, salt)
			}
			p := pkts[i%n]
			hl, _ := h.Unmarshal(p)
			copy(dst, p[:hl])
			if _, err := r.Stream(h.SSRC).Open(dst[:hl], p[:hl], p[hl:], h.SequenceNumber); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pion", func(b *testing.B) {
		b.SetBytes(1200)
		var rx *srtp.Context
		var h rtp.Header
		for i := range b.N {
			if i%n == 0 {
				rx = pionContext(b, key, salt, srtp.ProtectionProfileAeadAes128Gcm, srtp.SRTPReplayProtection(64))
			}
			if _, err := rx.DecryptRTP(dst[:0], pkts[i%n], &h); err != nil {
				b.Fatal(err)
			}
		}
	})
}
