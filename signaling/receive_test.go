package signaling

import (
	"slices"
	"testing"
	"time"
)

// TestRecvStatsNACKs checks which packets the server asks a publisher for again: the ones a
// later packet skipped, up to maxNACKs times each, not once they arrive late, not the ones that
// came out of order, and across a wrap of the sequence numbers.
func TestRecvStatsNACKs(t *testing.T) {
	s := newRecvStats(42, 90000, true)
	at := time.Now()
	for _, sn := range []uint16{65530, 65531, 65532, 65535, 0, 1, 3, 2} { // 65533 and 65534 missing; 2 out of order
		s.record(sn, 0, at)
	}
	if got, want := s.nacks(), []uint16{65533, 65534}; !slices.Equal(got, want) {
		t.Fatalf("NACKs %v, want %v", got, want)
	}
	s.record(65533, 0, at) // a resend arrives
	for i := 2; i <= maxNACKs; i++ {
		if got := s.nacks(); !slices.Equal(got, []uint16{65534}) {
			t.Fatalf("NACK %d: %v, want [65534]", i, got)
		}
	}
	if got := s.nacks(); got != nil {
		t.Fatalf("after %d NACKs: %v, want none", maxNACKs, got)
	}
	// A jump beyond the window asks only for what the window holds.
	s.record(3+nackLog+10, 0, at)
	if got := s.nacks(); len(got) != nackLog-1 || got[len(got)-1] != 3+nackLog+9 {
		t.Fatalf("after a jump: %d NACKs ending %v", len(got), got[len(got)-1:])
	}
	if none := newRecvStats(1, 90000, false); none.nacks() != nil {
		t.Fatal("NACKs without NACK negotiated")
	}
}

// TestRecvStatsReport checks the reception report: extended highest sequence number across a
// wrap, cumulative and fractional loss per interval (RFC 3550 A.3), jitter, and the last
// sender report with the delay since it.
func TestRecvStatsReport(t *testing.T) {
	s := newRecvStats(42, 90000, true)
	start := time.Now()
	if _, ok := s.report(start); ok {
		t.Fatal("a report before any packet")
	}
	// 20 packets 65526…65535, 0…9, one frame (3000 ticks, 33.3 ms) apart, 2 missing.
	for i := range 20 {
		if i == 5 || i == 6 {
			continue
		}
		sn := uint16(65526 + i) //nolint:gosec // wraps on purpose
		s.record(sn, uint32(i*3000), start.Add(time.Duration(i)*time.Second/30))
	}
	r, ok := s.report(start.Add(time.Second))
	if !ok || r.SSRC != 42 || r.LastSequenceNumber != 1<<16+9 || r.TotalLost != 2 || r.FractionLost != 2*256/20 {
		t.Fatalf("report %+v", r)
	}
	if r.Jitter > 10 { // arrivals exactly on the timestamps' clock
		t.Fatalf("jitter %d on a steady stream", r.Jitter)
	}
	if r.LastSenderReport != 0 || r.Delay != 0 {
		t.Fatalf("LSR %d DLSR %d before any sender report", r.LastSenderReport, r.Delay)
	}
	// Next interval: 10 more, none lost, the last 45 ms late; a sender report 0.5 s ago.
	for i := 20; i < 30; i++ {
		late := time.Duration(0)
		if i == 29 {
			late = 45 * time.Millisecond
		}
		s.record(uint16(65526+i), uint32(i*3000), start.Add(time.Duration(i)*time.Second/30+late)) //nolint:gosec // wraps
	}
	now := start.Add(2 * time.Second)
	s.noteSR(0x0123_4567_89ab_cdef, now.Add(-500*time.Millisecond))
	r, _ = s.report(now)
	if r.FractionLost != 0 || r.TotalLost != 2 || r.LastSequenceNumber != 1<<16+19 {
		t.Fatalf("second report %+v", r)
	}
	if r.Jitter == 0 {
		t.Fatal("no jitter after a late packet")
	}
	if r.LastSenderReport != 0x4567_89ab || r.Delay != 65536/2 {
		t.Fatalf("LSR %#x DLSR %d, want 0x456789ab and %d", r.LastSenderReport, r.Delay, 65536/2)
	}
}

// TestRecvStatsRestartsAndWraps checks what the statistics make of a source that restarts
// its sequence far behind (RFC 3550 A.1: once a second packet follows the first), of RTP
// timestamps that wrap (no jitter from the wrap), and the rollover counter they give the
// server's SRTP input for a packet (srtpin.go), from before and after a wrap.
func TestRecvStatsRestartsAndWraps(t *testing.T) {
	s := newRecvStats(7, 90000, true)
	start := time.Now()
	ts := uint32(1<<32 - 6000) // wraps after two frames
	for i := range 10 {
		s.record(uint16(65530+i), ts+uint32(i*3000), start.Add(time.Duration(i)*time.Second/30)) //nolint:gosec // wraps
	}
	if r, _ := s.report(start.Add(time.Second)); r.Jitter > 10 || r.LastSequenceNumber != 1<<16+3 {
		t.Fatalf("report across the wraps %+v", r)
	}
	for sn, want := range map[uint16]uint32{2: 1, 65534: 0, 10: 1, 65000: 0} {
		if got := s.rocFor(sn); got != want {
			t.Errorf("rollover counter of %d: %d, want %d", sn, got, want)
		}
	}
	// 1000 sequence numbers back: one packet is not enough, two in a row restart.
	back := uint16(65536 + 3 - 1000)
	s.record(back, 0, start.Add(2*time.Second))
	if r, _ := s.report(start.Add(2 * time.Second)); r.LastSequenceNumber != 1<<16+3 {
		t.Fatalf("one stray packet moved the statistics: %+v", r)
	}
	s.record(back, 0, start.Add(2*time.Second))
	s.record(back+1, 3000, start.Add(2*time.Second+time.Second/30))
	r, _ := s.report(start.Add(3 * time.Second))
	if r.LastSequenceNumber != uint32(back+1) || r.TotalLost != 0 {
		t.Fatalf("after a restart %+v, want the new sequence from %d, nothing lost", r, back)
	}
	if got := s.nacks(); got != nil {
		t.Fatalf("NACKs %v after a restart", got)
	}
}
