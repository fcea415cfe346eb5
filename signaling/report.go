package signaling

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Sender reports (RFC 3550 section 6.4.1) on what the server sends to subscribers: each tells
// the subscriber which wall-clock time a stream's RTP timestamps stand for, which is how a
// browser keeps a participant's audio and video in sync, and how much was sent. The writer
// that sends a stream's packets counts them and sends its reports, whichever way its packets
// leave (srtpout.go): pion's sender-report interceptor sees only what passes down pion's
// write path.

// reportInterval is how often a stream sent to is reported on (pion's interceptor's interval;
// RFC 3550 allows 5 s and less for a few participants).
const reportInterval = time.Second

// reportsPerPacket bounds the sender reports in one compound RTCP packet (28 bytes each), so
// that a subscriber of many streams gets packets well under the MTU.
const reportsPerPacket = 16

// reportedStream is a stream a writer has sent on: d's binding b.
type reportedStream struct {
	d *downTrack
	b *binding
}

// sent counts a packet of payloadLen bytes with timestamp ts sent on d's binding b; at is
// when it reached the server (UnixNano), which stands for when it left: the writer sends it
// within the queue's delay, so the reports need no clock read per packet (the estimator's
// note of the packet, Estimator.Sent, reads one: its delays are what it measures).
func (w *writer) sent(d *downTrack, b *binding, payloadLen int, ts uint32, at int64) {
	b.packets++
	b.octets += uint32(payloadLen) //nolint:gosec // payloads are under 1500 bytes
	b.lastTS, b.lastAt = ts, at
	if !b.reported {
		b.reported = true
		w.reported = append(w.reported, reportedStream{d: d, b: b})
	}
}

// report sends a sender report for each stream still bound that was sent on, in compound
// packets of up to reportsPerPacket per connection, and forgets the others.
func (w *writer) report(now time.Time) {
	keep := w.reported[:0]
	var (
		tr   *webrtc.DTLSTransport
		pkts []rtcp.Packet
	)
	flush := func() {
		if tr != nil && len(pkts) > 0 {
			_, _ = tr.WriteRTCP(pkts) // lost with the connection; the next one follows
		}
		pkts = pkts[:0]
	}
	for _, r := range w.reported {
		if r.d.bound.Load() != r.b || r.d.sender == nil {
			continue // unbound or renegotiated: a new binding reports on its own stream
		}
		keep = append(keep, r)
		t := r.d.sender.Transport()
		if t != tr || len(pkts) == reportsPerPacket {
			flush()
			tr = t
		}
		pkts = append(pkts, senderReport(r.b, r.d.up.codec.ClockRate, now))
	}
	flush()
	clear(w.reported[len(keep):])
	w.reported = keep
}

// senderReport is b's report at now: the RTP time now is the last packet's timestamp advanced
// by the time since it was sent, at the codec's clock rate.
func senderReport(b *binding, clockRate uint32, now time.Time) *rtcp.SenderReport {
	elapsed := now.UnixNano() - b.lastAt
	rtpTime := b.lastTS + uint32(elapsed*int64(clockRate)/int64(time.Second)) //nolint:gosec // wraps as RTP time does
	return &rtcp.SenderReport{SSRC: b.ssrc, NTPTime: ntpTime(now), RTPTime: rtpTime,
		PacketCount: b.packets, OctetCount: b.octets}
}

// ntpTime is t as a 64-bit NTP timestamp: seconds since 1900 and their fraction (RFC 5905).
func ntpTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	secs := uint64(t.Unix() + unixToNTP)                       //nolint:gosec // after 1900
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second) //nolint:gosec // under a second
	return secs<<32 | frac
}
