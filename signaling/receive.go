package signaling

import (
	"math"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// What the server tells publishers about what it receives: receiver reports (RFC 3550
// section 6.4.2, with the statistics of appendix A.3 and A.8) and NACKs for the packets that
// did not arrive (RFC 4585 section 6.2.1). They are chuting's rather than pion's interceptors'
// because the server's SRTP input (srtpin.go) takes publishers' packets before pion's
// interceptors would see them; the tracks still read through pion report the same way.

// nackLog is how many sequence numbers back a missing packet is still asked for (a power of 2;
// pion's generator's size): at 1.5 Mb/s about 3 s of video.
const nackLog = 512

// maxNACKs is how many times one missing packet is asked for, a NACK interval apart.
const maxNACKs = 10

// nackInterval is how often the missing packets are asked for (pion's generator's interval).
const nackInterval = 100 * time.Millisecond

// recvStats is what has arrived of one publisher's stream. record is called by the one
// goroutine that reads the stream at a time; nacks, report and noteSR by others.
type recvStats struct {
	ssrc  uint32
	clock uint32 // the codec's clock rate
	nack  bool   // the publisher negotiated NACK for the codec
	start time.Time

	mu            sync.Mutex
	started       bool
	base          uint32 // the first extended sequence number
	max           uint16 // the highest sequence number
	cycles        uint32 // sequence number wraps, times 65536
	received      uint32
	expectedPrior uint32
	receivedPrior uint32
	transit       uint32  // the last packet's arrival minus its timestamp, in clock units, modulo 2^32
	jitter        float64 // in clock units
	// A sequence number far behind the highest (RFC 3550 A.1): if the next packet follows it,
	// the source restarted its sequence and the statistics start again.
	probation    uint16
	probationSet bool
	lastSR       uint32 // the middle 32 bits of the last sender report's NTP time
	lastSRAt     time.Time

	seen  [nackLog / 64]uint64 // sequence numbers arrived, by seq % nackLog, back from max
	asked [nackLog]uint8       // times each missing one was asked for
}

func newRecvStats(ssrc, clock uint32, nack bool) *recvStats {
	return &recvStats{ssrc: ssrc, clock: max(clock, 1), nack: nack, start: time.Now()}
}

func (s *recvStats) mark(seq uint16, arrived bool) {
	i := seq % nackLog
	if arrived {
		s.seen[i/64] |= 1 << (i % 64)
	} else {
		s.seen[i/64] &^= 1 << (i % 64)
		s.asked[i] = 0
	}
}

func (s *recvStats) arrived(seq uint16) bool {
	i := seq % nackLog
	return s.seen[i/64]&(1<<(i%64)) != 0
}

// record notes the packet seq with RTP timestamp ts, arrived at (a time with its monotonic
// reading).
func (s *recvStats) record(seq uint16, ts uint32, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The arrival on the codec's clock, modulo 2^32 as RTP timestamps are.
	el := at.Sub(s.start)
	arrival := uint64(el/time.Second)*uint64(s.clock) + uint64(el%time.Second)*uint64(s.clock)/uint64(time.Second) //nolint:gosec // after start
	transit := uint32(arrival) - ts                                                                                //nolint:gosec // modulo 2^32
	if !s.started {
		s.restart(seq, transit)
		return
	}
	switch d := int16(seq - s.max); {
	case d > 0: // newer: what it skipped is missing
		for gap, sn := 0, s.max+1; sn != seq && gap < nackLog; gap, sn = gap+1, sn+1 {
			s.mark(sn, false)
		}
		if seq < s.max {
			s.cycles += 1 << 16
		}
		s.max = seq
	case d <= -nackLog: // far behind: a restarted sequence if the next packet follows it
		if s.probationSet && seq == s.probation {
			s.restart(seq, transit)
			return
		}
		s.probation, s.probationSet = seq+1, true
		return
	}
	s.probationSet = false
	s.mark(seq, true)
	s.received++
	// Interarrival jitter (RFC 3550 A.8), over packets in any order as libwebrtc does; the
	// difference of transits modulo 2^32, as the timestamps wrap.
	dt := int64(int32(transit - s.transit)) //nolint:gosec // a signed difference
	s.transit = transit
	if dt < 0 {
		dt = -dt
	}
	s.jitter += (float64(dt) - s.jitter) / 16
}

// restart starts the statistics at the packet seq (the first, or a restarted sequence).
func (s *recvStats) restart(seq uint16, transit uint32) {
	s.started, s.base, s.max, s.cycles = true, uint32(seq), seq, 0
	s.received, s.expectedPrior, s.receivedPrior = 1, 0, 0
	s.transit, s.probationSet = transit, false
	clear(s.seen[:])
	clear(s.asked[:])
	s.mark(seq, true)
}

// begun reports whether a packet of the stream was recorded.
func (s *recvStats) begun() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// rocFor returns the rollover counter of the packet seq, counted from the stream's first
// packet: the wraps of the sequence numbers seen so far, one less for a packet from before
// the last.
func (s *recvStats) rocFor(seq uint16) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ext := int64(s.cycles) + int64(s.max) + int64(int16(seq-s.max))
	if !s.started || ext < 0 {
		return 0
	}
	return uint32(ext >> 16) //nolint:gosec // non-negative
}

// noteSR notes the publisher's sender report with NTP time ntp, received at.
func (s *recvStats) noteSR(ntp uint64, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSR, s.lastSRAt = uint32(ntp>>16), at //nolint:gosec // the middle 32 bits
}

// nacks returns the sequence numbers missing in the window behind the highest, each at most
// maxNACKs times over the calls; nil when NACK was not negotiated or nothing is missing.
func (s *recvStats) nacks() []uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.nack || !s.started {
		return nil
	}
	var missing []uint16
	ext := s.cycles + uint32(s.max)
	back := min(ext-s.base, nackLog-1)
	for i := back; i > 0; i-- {
		sn := s.max - uint16(i) //nolint:gosec // i < nackLog
		if !s.arrived(sn) && s.asked[sn%nackLog] < maxNACKs {
			s.asked[sn%nackLog]++
			missing = append(missing, sn)
		}
	}
	return missing
}

// report returns the reception report of the stream at now (RFC 3550 A.3), and starts the
// next interval; false before the first packet.
func (s *recvStats) report(now time.Time) (rtcp.ReceptionReport, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return rtcp.ReceptionReport{}, false
	}
	ext := s.cycles + uint32(s.max)
	expected := ext - s.base + 1
	lost := int64(expected) - int64(s.received)
	lost = max(min(lost, 0x7fffff), -0x800000) // 24 bits, signed
	expInterval := expected - s.expectedPrior
	recvInterval := s.received - s.receivedPrior
	s.expectedPrior, s.receivedPrior = expected, s.received
	var fraction uint8
	if lostInterval := int64(expInterval) - int64(recvInterval); expInterval > 0 && lostInterval > 0 {
		fraction = uint8(min(lostInterval<<8/int64(expInterval), math.MaxUint8)) //nolint:gosec // bounded
	}
	r := rtcp.ReceptionReport{SSRC: s.ssrc, FractionLost: fraction,
		TotalLost: uint32(lost) & 0xffffff, LastSequenceNumber: ext, //nolint:gosec // 24 bits
		Jitter: uint32(s.jitter)} //nolint:gosec // non-negative
	if !s.lastSRAt.IsZero() {
		r.LastSenderReport = s.lastSR
		r.Delay = uint32(max(now.Sub(s.lastSRAt), 0) * 65536 / time.Second) //nolint:gosec // 1/65536 s
	}
	return r, true
}

// readSenderReports reads the RTCP that comes for u's stream until the receiver closes, and
// notes its sender reports.
func readSenderReports(recv *webrtc.RTPReceiver, u *upTrack) {
	read := recv.Read
	if u.rid != "" {
		read = func(b []byte) (int, interceptor.Attributes, error) { return recv.ReadSimulcast(b, u.rid) }
	}
	readRTCP(read, func(p rtcp.Packet) {
		if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == u.ssrc {
			u.stats.noteSR(sr.NTPTime, time.Now())
		}
	})
}
