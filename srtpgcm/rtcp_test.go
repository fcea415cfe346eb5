package srtpgcm

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/srtp/v3"
)

// compound returns an RTCP compound from sender ssrc as a subscriber sends one: a receiver
// report, then transport-wide feedback, a NACK or a PLI by turns.
func compound(t *testing.T, ssrc uint32, n int) []byte {
	t.Helper()
	pkts := []rtcp.Packet{&rtcp.ReceiverReport{SSRC: ssrc, Reports: []rtcp.ReceptionReport{{SSRC: 7, LastSequenceNumber: uint32(n)}}}}
	switch n % 3 {
	case 0:
		pkts = append(pkts, &rtcp.TransportLayerCC{SenderSSRC: ssrc, MediaSSRC: 7, BaseSequenceNumber: uint16(n),
			PacketStatusCount: 1, ReferenceTime: 1, FbPktCount: uint8(n),
			PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 1}},
			RecvDeltas:   []*rtcp.RecvDelta{{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 250}}})
	case 1:
		pkts = append(pkts, &rtcp.TransportLayerNack{SenderSSRC: ssrc, MediaSSRC: 7, Nacks: []rtcp.NackPair{{PacketID: uint16(n)}}})
	default:
		pkts = append(pkts, &rtcp.PictureLossIndication{SenderSSRC: ssrc, MediaSSRC: 7})
	}
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpenRTCPMatchesPion opens what pion's context sealed, from two senders, and gets each
// compound back as it was; a replay, a tampered packet, an unencrypted one and a short one
// are refused, and a refused one changes nothing.
func TestOpenRTCPMatchesPion(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			key, salt := keys(t, p.keyLen)
			tx := pionContext(t, key, salt, p.profile)
			r, err := NewRTCPReceiver(p.profile, key, salt)
			if err != nil {
				t.Fatal(err)
			}
			var last []byte
			for n := range 200 {
				for _, ssrc := range []uint32{1111, 2222} {
					plain := compound(t, ssrc, n)
					sealed, err := tx.EncryptRTCP(nil, plain, nil)
					if err != nil {
						t.Fatal(err)
					}
					got, err := r.Open(make([]byte, 0, 8), sealed)
					if err != nil {
						t.Fatalf("ssrc %d packet %d: %v", ssrc, n, err)
					}
					if !bytes.Equal(got, plain) {
						t.Fatalf("ssrc %d packet %d: opened differently", ssrc, n)
					}
					last = sealed
				}
			}
			before := r.senders[2222].highest // pion's indexes start at 1
			refuse := func(what string, b []byte, want error) {
				t.Helper()
				if _, err := r.Open(nil, b); !errors.Is(err, want) {
					t.Fatalf("%s: %v, want %v", what, err, want)
				}
			}
			refuse("a packet again", last, ErrReplayed)
			tampered := bytes.Clone(last)
			tampered[len(tampered)-4] |= 0x7f // a far later index: must not move the window
			refuse("tampered", tampered, ErrAuth)
			plainFlag := bytes.Clone(last)
			plainFlag[len(plainFlag)-4] &^= 0x80
			refuse("not encrypted", plainFlag, ErrUnencrypted)
			refuse("short", last[:8+TagLen+3], ErrAuth)
			if w := r.senders[2222]; w.highest != before || before != 200 {
				t.Fatalf("highest index %d after refusals, %d before, want 200", w.highest, before)
			}
			next, err := tx.EncryptRTCP(nil, compound(t, 2222, 200), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Open(nil, next); err != nil {
				t.Fatalf("the next packet: %v", err)
			}
			if len(r.senders) != 2 {
				t.Fatalf("%d senders kept, want 2 (refused packets add none)", len(r.senders))
			}
		})
	}
}

// TestSealRTCP: what an RTCPSender seals, pion's receiving context and an RTCPReceiver open,
// for two senders interleaved, with indexes after the first given (pion's context, which
// sealed 1 to 3 for SSRC 1111, then took ours); and Seal refuses a buffer without room.
func TestSealRTCP(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			key, salt := keys(t, p.keyLen)
			pionTx := pionContext(t, key, salt, p.profile)
			rx := pionContext(t, key, salt, p.profile, srtp.SRTCPReplayProtection(64))
			ours, err := NewRTCPReceiver(p.profile, key, salt)
			if err != nil {
				t.Fatal(err)
			}
			for n := range 3 { // pion seals first
				sealed, err := pionTx.EncryptRTCP(nil, compound(t, 1111, n), nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := rx.DecryptRTCP(nil, sealed, nil); err != nil {
					t.Fatal(err)
				}
			}
			s, err := NewRTCPSender(p.profile, key, salt, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			for n := range 100 {
				for _, ssrc := range []uint32{1111, 2222} {
					plain := compound(t, ssrc, n)
					sealed, err := s.Seal(append(make([]byte, 0, len(plain)+TagLen+4), plain...))
					if err != nil {
						t.Fatal(err)
					}
					got, err := rx.DecryptRTCP(nil, sealed, nil)
					if err != nil || !bytes.Equal(got, plain) {
						t.Fatalf("ssrc %d packet %d: pion opened %v", ssrc, n, err)
					}
					if got, err = ours.Open(nil, sealed); err != nil || !bytes.Equal(got, plain) {
						t.Fatalf("ssrc %d packet %d: opened %v", ssrc, n, err)
					}
				}
			}
			if s.index[1111] != 1<<30+100 {
				t.Fatalf("index %d", s.index[1111])
			}
			plain := compound(t, 1111, 0)
			if _, err := s.Seal(plain[:len(plain):len(plain)]); !errors.Is(err, ErrRoom) {
				t.Fatalf("no room: %v", err)
			}
		})
	}
}
