package signaling

import (
	"math"
	"sync"
	"time"

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
	transit       int64   // the last packet's arrival minus its timestamp, in clock units
	jitter        float64 // in clock units
	lastSR        uint32  // the middle 32 bits of the last sender report's NTP time
	lastSRAt      time.Time

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

// record notes the packet seq with RTP timestamp ts, arrived at.
func (s *recvStats) record(seq uint16, ts uint32, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	arrival := int64(at.Sub(s.start)) * int64(s.clock) / int64(time.Second)
	transit := arrival - int64(ts)
	if !s.started {
		s.started, s.base, s.max = true, uint32(seq), seq
		s.mark(seq, true)
		s.received, s.transit = 1, transit
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
	case d <= -nackLog: // far behind the window: a restarted stream's, counted but not marked
		s.received++
		return
	}
	s.mark(seq, true)
	s.received++
	// Interarrival jitter (RFC 3550 A.8), over packets in any order as libwebrtc does.
	dt := transit - s.transit
	s.transit = transit
	if dt < 0 {
		dt = -dt
	}
	s.jitter += (float64(dt) - s.jitter) / 16
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
		r.Delay = uint32(now.Sub(s.lastSRAt) * 65536 / time.Second) //nolint:gosec // 1/65536 s
	}
	return r, true
}

// readSenderReports reads the RTCP that comes for u's stream until the receiver closes, and
// notes its sender reports.
func readSenderReports(recv *webrtc.RTPReceiver, u *upTrack) {
	for {
		var (
			pkts []rtcp.Packet
			err  error
		)
		if u.rid != "" {
			pkts, _, err = recv.ReadSimulcastRTCP(u.rid)
		} else {
			pkts, _, err = recv.ReadRTCP()
		}
		if err != nil {
			return
		}
		for _, pk := range pkts {
			if sr, ok := pk.(*rtcp.SenderReport); ok && sr.SSRC == u.ssrc {
				u.stats.noteSR(sr.NTPTime, time.Now())
			}
		}
	}
}
