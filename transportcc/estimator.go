package transportcc

import (
	"encoding/binary"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
)

// The sending side: Estimator is a send-side bandwidth estimator, Google Congestion Control
// (draft-ietf-rmcat-gcc-02) fed by the receiver's transport-wide feedback. It notes the size
// and time of each packet sent by its transport-wide sequence number and, on each feedback,
// compares the spacing of the packets on arrival with their spacing on departure: a queue
// growing on the path shows as arrivals spreading out (the delay-based estimate, which backs
// off to 85 % of what arrived), and the share of packets lost lowers the loss-based estimate.
// The target is the lower of the two.
//
// It replaces pion's gcc.SendSideBWE, whose history of packets sent allocated a map entry and
// a list element per packet (8 % of the server's CPU at 10 rooms × 5), whose feedback
// processing allocated the acknowledgements of every packet, and which passed each feedback
// to two goroutines over channels (docs/perf.md). Here a packet sent costs a store into a
// ring under a mutex and a feedback is processed where it is read, without allocating.

// Estimator settings, from the draft and from libwebrtc where the draft leaves a choice.
const (
	historySize = 1 << 12 // packets remembered by transport-wide sequence number: > 2 s at 1,000 packets/s

	burstSpan = 5 * time.Millisecond // packets sent within this form one group (the draft's burst_time)

	trendWindow   = 20  // groups in the delay trend's regression (libwebrtc)
	trendSmooth   = 0.9 // smoothing of the accumulated delay
	trendGain     = 4.0 // the trend's gain against the threshold
	overuseTime   = 10 * time.Millisecond
	thresholdInit = 12.5 // ms
	thresholdUp   = 0.0087
	thresholdDown = 0.039

	beta          = 0.85 // a decrease goes to this share of what arrived
	decreaseEvery = 200 * time.Millisecond

	lossLow   = 0.02 // below: the loss-based estimate grows
	lossHigh  = 0.10 // above: it falls
	lossEvery = 200 * time.Millisecond

	rateWindow = 500 * time.Millisecond // what arrived is measured over this
)

// EstimatorOptions bound an Estimator.
type EstimatorOptions struct {
	Initial, Min, Max int // bits/s
}

// Estimator is the send-side bandwidth estimator of one peer connection: the sender tells it
// of each packet sent (Sent), the reader of the connection's RTCP gives it the transport-wide
// feedback (Feedback).
type Estimator struct {
	opts   EstimatorOptions
	start  time.Time // the clock's origin: times below are durations since it
	target atomic.Int64

	sentMu sync.Mutex
	sent   [historySize]sentPacket

	mu        sync.Mutex // serialises feedback
	ref       int64      // unwrapped reference time of the last feedback, in 64 ms units
	refSet    bool
	group     arrivalGroup // being gathered
	prev      arrivalGroup // the last complete one
	trend     trendline
	detector  overuseDetector
	rate      delayRate
	loss      lossRate
	arrivals  [16]arrivalSample // bytes arrived per feedback, for the rate that arrived
	nArrivals int
}

type sentPacket struct {
	seq  uint16
	ok   bool
	size uint16
	at   time.Duration
}

// NewEstimator returns an estimator starting from opts.Initial bits/s.
func NewEstimator(opts EstimatorOptions) *Estimator {
	e := &Estimator{opts: opts, start: time.Now()}
	e.target.Store(int64(opts.Initial))
	e.detector.threshold = thresholdInit
	e.detector.overusing = -1
	e.rate.bps = float64(opts.Initial)
	e.loss.bps = float64(opts.Initial)
	return e
}

// Sent notes that the packet with transport-wide sequence number seq, of size bytes (RTP
// header and payload), leaves now.
func (e *Estimator) Sent(seq uint16, size int) {
	e.onSent(seq, size, time.Since(e.start))
}

// onSent notes that the packet seq of size bytes left at.
func (e *Estimator) onSent(seq uint16, size int, at time.Duration) {
	e.sentMu.Lock()
	e.sent[seq%historySize] = sentPacket{seq: seq, ok: true, size: uint16(min(size, math.MaxUint16)), at: at}
	e.sentMu.Unlock()
}

// Feedback updates the estimate with transport-wide feedback fb received now.
func (e *Estimator) Feedback(fb *rtcp.TransportLayerCC) {
	e.onFeedback(fb, time.Since(e.start))
}

// FeedbackPacket updates the estimate with the transport-wide feedback packet b (one RTCP
// packet, as received) received now, read where it lies, without allocating (pion's
// rtcp.Unmarshal allocates each chunk and delta); false for a packet that is not one.
func (e *Estimator) FeedbackPacket(b []byte) bool {
	return e.onFeedbackPacket(b, time.Since(e.start))
}

// GetTargetBitrate returns the estimate in bits/s.
func (e *Estimator) GetTargetBitrate() int { return int(e.target.Load()) }

// ack is a packet the feedback reports on.
type ack struct {
	sent    time.Duration
	arrived time.Duration // in the receiver's clock
	size    int
}

// onFeedback reads one feedback report, received at now.
func (e *Estimator) onFeedback(fb *rtcp.TransportLayerCC, now time.Duration) {
	deltas, chunks := fb.RecvDeltas, fb.PacketChunks
	var vector []uint16 // what is left of a status vector chunk
	var run, runSymbol uint16
	e.apply(fb.ReferenceTime, fb.BaseSequenceNumber, fb.PacketStatusCount, now, func() (uint16, int64, bool) {
		for run == 0 && len(vector) == 0 {
			if len(chunks) == 0 {
				return 0, 0, false
			}
			switch c := chunks[0].(type) {
			case *rtcp.RunLengthChunk:
				run, runSymbol = c.RunLength, c.PacketStatusSymbol
			case *rtcp.StatusVectorChunk:
				vector = c.SymbolList
			}
			chunks = chunks[1:]
		}
		var symbol uint16
		if run > 0 {
			symbol, run = runSymbol, run-1
		} else {
			symbol, vector = vector[0], vector[1:]
		}
		if symbol != rtcp.TypeTCCPacketReceivedSmallDelta && symbol != rtcp.TypeTCCPacketReceivedLargeDelta {
			return symbol, 0, true
		}
		if len(deltas) == 0 {
			return 0, 0, false // malformed: fewer deltas than received packets
		}
		d := deltas[0].Delta
		deltas = deltas[1:]
		return symbol, d, true
	})
}

// The transport-wide feedback packet's layout (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 §3.1): the RTCP header and the two SSRCs, the base sequence number, the status
// count, the reference time and the feedback count, then the chunks of 16 bits, then a receive
// delta of 8 bits (a small delta) or 16 bits (a large one, signed) for each packet received,
// in 250 µs units.
const (
	fbHeaderLen = 20
	deltaUnit   = 250 // µs
)

// onFeedbackPacket reads the feedback packet b, received at now.
func (e *Estimator) onFeedbackPacket(b []byte, now time.Duration) bool {
	if len(b) < fbHeaderLen || b[0]>>6 != 2 || b[0]&0x1f != rtcp.FormatTCC || rtcp.PacketType(b[1]) != rtcp.TypeTransportSpecificFeedback {
		return false
	}
	n := 4 * (int(binary.BigEndian.Uint16(b[2:4])) + 1)
	if n < fbHeaderLen || n > len(b) {
		return false
	}
	b = b[:n]
	base, count := binary.BigEndian.Uint16(b[12:14]), binary.BigEndian.Uint16(b[14:16])
	ref := uint32(b[16])<<16 | uint32(b[17])<<8 | uint32(b[18])
	// A first pass over the count statuses finds where the chunks end and the deltas begin,
	// and how many bytes of deltas they call for: a packet cut short changes nothing (pion's
	// parse refuses it too).
	first, need := statuses{chunks: b[fbHeaderLen:]}, 0
	for range count {
		symbol, ok := first.next()
		if !ok {
			return false
		}
		need += deltaLen(symbol)
	}
	deltas := b[fbHeaderLen+first.read:]
	if need > len(deltas) {
		return false
	}
	st := statuses{chunks: b[fbHeaderLen:]}
	e.apply(ref, base, count, now, func() (uint16, int64, bool) {
		symbol, _ := st.next()
		var d int64
		switch deltaLen(symbol) {
		case 1:
			d = int64(deltas[0]) * deltaUnit
		case 2:
			d = int64(int16(binary.BigEndian.Uint16(deltas))) * deltaUnit
		}
		deltas = deltas[deltaLen(symbol):]
		return symbol, d, true
	})
	return true
}

// deltaLen is the bytes of receive delta a status symbol calls for: one for a packet received
// with a small delta, two with a large one, none for one not received.
func deltaLen(symbol uint16) int {
	switch symbol {
	case rtcp.TypeTCCPacketReceivedSmallDelta:
		return 1
	case rtcp.TypeTCCPacketReceivedLargeDelta:
		return 2
	}
	return 0
}

// statuses reads a feedback packet's status chunks one status symbol at a time: run-length
// chunks, and status vectors of 14 one-bit or 7 two-bit symbols.
type statuses struct {
	chunks     []byte
	read       int    // bytes of chunks read
	run        uint16 // symbols left of the run-length chunk being read
	runSymbol  uint16
	vector     uint16 // the status vector being read, its next symbol in the top bits
	vectorLeft uint16
	two        bool // the vector's symbols are two bits
}

// next returns the next status symbol; false when the chunks end.
func (s *statuses) next() (uint16, bool) {
	for s.run == 0 && s.vectorLeft == 0 {
		if len(s.chunks) < s.read+2 {
			return 0, false
		}
		c := binary.BigEndian.Uint16(s.chunks[s.read:])
		s.read += 2
		switch {
		case c&0x8000 == 0:
			s.run, s.runSymbol = c&0x1fff, c>>13&3
		case c&0x4000 == 0:
			s.vector, s.vectorLeft, s.two = c<<2, 14, false
		default:
			s.vector, s.vectorLeft, s.two = c<<2, 7, true
		}
	}
	var symbol uint16
	switch {
	case s.run > 0:
		symbol, s.run = s.runSymbol, s.run-1
	case s.two:
		symbol, s.vector, s.vectorLeft = s.vector>>14, s.vector<<2, s.vectorLeft-1
	default:
		symbol, s.vector, s.vectorLeft = s.vector>>15, s.vector<<1, s.vectorLeft-1
	}
	return symbol, true
}

// apply updates the estimate with a feedback report received at now: reference time ref (24
// bits of 64 ms), the status of count packets from base, which next gives in order (the
// symbol, and the receive delta in µs of a packet received; false when the report ends early).
func (e *Estimator) apply(ref32 uint32, base, count uint16, now time.Duration, next func() (uint16, int64, bool)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	// The reference time is 24 bits of 64 ms: take the wrap nearest the last one.
	ref := int64(ref32 & 0xffffff)
	if e.refSet {
		ref = e.ref + (ref-e.ref+1<<23)&0xffffff - 1<<23
	}
	if count > 0 {
		e.ref, e.refSet = ref, true
	}
	arrival := time.Duration(ref) * 64 * time.Millisecond

	seq := base
	var received, lost, bytes int
	var lastArrival time.Duration
	for range count {
		symbol, delta, ok := next()
		if !ok {
			break
		}
		switch symbol {
		case rtcp.TypeTCCPacketReceivedSmallDelta, rtcp.TypeTCCPacketReceivedLargeDelta:
			arrival += time.Duration(delta) * time.Microsecond
			if p, ok := e.lookup(seq, true); ok {
				if received == 0 || arrival > lastArrival {
					lastArrival = arrival
				}
				received++
				bytes += p.size
				e.onAck(ack{sent: p.sent, arrived: arrival, size: p.size})
			}
		case rtcp.TypeTCCPacketNotReceived:
			if _, ok := e.lookup(seq, false); ok {
				lost++
			}
		}
		seq++
	}
	if received > 0 {
		e.arrivals[e.nArrivals%len(e.arrivals)] = arrivalSample{at: lastArrival, bytes: bytes}
		e.nArrivals++
	}
	if received+lost == 0 {
		return
	}
	arrived := e.arrivedRate()
	e.rate.update(e.detector.usage, arrived, now, e.opts)
	e.loss.update(float64(lost)/float64(received+lost), e.rate.bps, now, e.opts)
	e.setTarget(int(math.Min(e.rate.bps, e.loss.bps)))
}

// lookup returns the packet seq from the history, if it is still there. A packet reported
// received is taken out, so that a receiver reporting it again (browsers move their feedback
// window back for a late packet) does not count it twice; a lost one stays, as a resend may
// still arrive.
func (e *Estimator) lookup(seq uint16, received bool) (ack, bool) {
	e.sentMu.Lock()
	p := &e.sent[seq%historySize]
	ok := p.ok && p.seq == seq
	a := ack{sent: p.at, size: int(p.size)}
	if ok && received {
		p.ok = false
	}
	e.sentMu.Unlock()
	return a, ok
}

// onAck feeds a received packet to the delay-based estimate: packets are gathered into
// groups sent within burstSpan, and the change in delay between consecutive groups feeds the
// trend. The detector's clock is the groups' arrival, as libwebrtc's.
func (e *Estimator) onAck(a ack) {
	g := &e.group
	switch {
	case g.n == 0:
		*g = arrivalGroup{first: a.sent, last: a.sent, arrived: a.arrived, n: 1}
		return
	case a.sent < g.first:
		return // sent before the group: reordered or resent, no use for the delay
	case a.sent-g.first <= burstSpan:
		g.last = max(g.last, a.sent)
		g.arrived = max(g.arrived, a.arrived)
		g.n++
		return
	}
	if e.prev.n > 0 {
		sendDelta := g.last - e.prev.last
		arriveDelta := g.arrived - e.prev.arrived
		trend := e.trend.add(ms(arriveDelta-sendDelta), ms(g.arrived))
		e.detector.detect(trend, e.trend.deltas, ms(sendDelta), g.arrived)
	}
	e.prev = *g
	*g = arrivalGroup{first: a.sent, last: a.sent, arrived: a.arrived, n: 1}
}

// arrivedRate returns the bits/s that arrived over the last rateWindow, 0 if unknown.
func (e *Estimator) arrivedRate() float64 {
	n := min(e.nArrivals, len(e.arrivals))
	if n < 2 {
		return 0
	}
	latest := e.arrivals[(e.nArrivals-1)%len(e.arrivals)].at
	var bytes int
	earliest := latest
	for i := range n - 1 { // the oldest sample in the window only marks its start
		s := e.arrivals[(e.nArrivals-1-i)%len(e.arrivals)]
		prev := e.arrivals[(e.nArrivals-2-i)%len(e.arrivals)]
		if latest-prev.at > rateWindow {
			break
		}
		bytes += s.bytes
		earliest = prev.at
	}
	span := latest - earliest
	if span < 50*time.Millisecond {
		return 0
	}
	return float64(bytes*8) / span.Seconds()
}

func (e *Estimator) setTarget(bps int) {
	e.target.Store(int64(min(max(bps, e.opts.Min), e.opts.Max)))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type arrivalGroup struct {
	first, last time.Duration // departures of its first and last packets
	arrived     time.Duration // arrival of its last packet
	n           int
}

type arrivalSample struct {
	at    time.Duration
	bytes int
}

// trendline is libwebrtc's trend of the queueing delay: the slope of a least-squares line
// through the smoothed accumulated delay changes of the last trendWindow groups.
type trendline struct {
	accumulated, smoothed float64
	first                 float64 // arrival of the first group, ms
	xs, ys                [trendWindow]float64
	n                     int // samples held, up to trendWindow
	next                  int
	deltas                int     // groups seen, for the gain
	last                  float64 // the last trend returned
}

// add takes the delay change d (ms) of a group that arrived at arrivedMs and returns the
// trend scaled for the detector.
func (t *trendline) add(d, arrivedMs float64) float64 {
	if t.deltas == 0 {
		t.first = arrivedMs
	}
	t.deltas = min(t.deltas+1, 1000)
	t.accumulated += d
	t.smoothed = trendSmooth*t.smoothed + (1-trendSmooth)*t.accumulated
	t.xs[t.next], t.ys[t.next] = arrivedMs-t.first, t.smoothed
	t.next = (t.next + 1) % trendWindow
	t.n = min(t.n+1, trendWindow)
	if t.n < trendWindow {
		return 0
	}
	var sx, sy float64
	for i := range t.n {
		sx += t.xs[i]
		sy += t.ys[i]
	}
	mx, my := sx/float64(t.n), sy/float64(t.n)
	var num, den float64
	for i := range t.n {
		num += (t.xs[i] - mx) * (t.ys[i] - my)
		den += (t.xs[i] - mx) * (t.xs[i] - mx)
	}
	if den == 0 {
		return t.last // all in one instant: no slope to read, keep the last
	}
	t.last = num / den * float64(min(t.deltas, 60)) * trendGain
	return t.last
}

// usage is what the delay trend says of the path.
type usage int

const (
	usageNormal usage = iota
	usageOver
	usageUnder
)

func (u usage) String() string {
	switch u {
	case usageOver:
		return "overuse"
	case usageUnder:
		return "underuse"
	}
	return "normal"
}

// overuseDetector compares the trend with an adaptive threshold (draft section 5.4,
// libwebrtc's OveruseDetector).
type overuseDetector struct {
	threshold   float64
	lastUpdate  time.Duration
	overusing   float64 // ms the trend has been over the threshold; -1 when it is not
	overCount   int
	prevTrend   float64
	usage       usage
	initialised bool
}

func (d *overuseDetector) detect(trend float64, deltas int, sendDeltaMs float64, now time.Duration) {
	if deltas < 2 {
		return
	}
	switch {
	case trend > d.threshold:
		if d.overusing < 0 {
			d.overusing = sendDeltaMs / 2
		} else {
			d.overusing += sendDeltaMs
		}
		d.overCount++
		if d.overusing > ms(overuseTime) && d.overCount > 1 && trend >= d.prevTrend {
			d.overusing, d.overCount = 0, 0
			d.usage = usageOver
		}
	case trend < -d.threshold:
		d.overusing, d.overCount = -1, 0
		d.usage = usageUnder
	default:
		d.overusing, d.overCount = -1, 0
		d.usage = usageNormal
	}
	d.prevTrend = trend
	d.adapt(trend, now)
}

// adapt moves the threshold towards the trend: slowly up, faster down, so that the detector
// stays sensitive on a quiet path and does not starve against loss-based flows.
func (d *overuseDetector) adapt(trend float64, now time.Duration) {
	if !d.initialised {
		d.lastUpdate, d.initialised = now, true
	}
	abs := math.Abs(trend)
	if abs > d.threshold+15 { // a spike: do not chase it
		d.lastUpdate = now
		return
	}
	k := thresholdUp
	if abs < d.threshold {
		k = thresholdDown
	}
	dt := math.Min(ms(now-d.lastUpdate), 100)
	d.threshold = math.Min(math.Max(d.threshold+k*(abs-d.threshold)*dt, 6), 600)
	d.lastUpdate = now
}

// delayRate is the delay-based estimate (draft section 5.5): it grows while the path is
// normal, holds while the queue drains, and falls to beta of what arrived on overuse.
type delayRate struct {
	bps        float64
	holding    bool
	lastUpdate time.Duration
	lastCut    time.Duration
	cuts       int
}

func (r *delayRate) update(u usage, arrived float64, now time.Duration, o EstimatorOptions) {
	dt := now - r.lastUpdate
	if r.lastUpdate == 0 {
		dt = 0
	}
	r.lastUpdate = now
	switch u {
	case usageOver:
		if r.cuts > 0 && now-r.lastCut < decreaseEvery {
			return
		}
		base := r.bps
		if arrived > 0 {
			base = math.Min(base, arrived)
		}
		r.bps = beta * base
		r.lastCut, r.cuts, r.holding = now, r.cuts+1, true
	case usageUnder:
		r.holding = true
	default:
		if r.holding {
			r.holding = false
			return
		}
		next := r.bps * math.Pow(1.08, math.Min(dt.Seconds(), 1))
		if arrived > 0 {
			// Do not run ahead of what the path showed it carries.
			next = math.Min(next, math.Max(r.bps, 1.5*arrived+10_000))
		}
		r.bps = next
	}
	r.bps = math.Min(math.Max(r.bps, float64(o.Min)), float64(o.Max))
}

// lossRate is the loss-based estimate (draft section 6): up 5 % while under 2 % of the
// packets are lost, down by half the loss while over 10 %, never above the delay-based one.
type lossRate struct {
	bps              float64
	average          float64
	lastInc, lastDec time.Duration
}

func (r *lossRate) update(loss, delayBps float64, now time.Duration, o EstimatorOptions) {
	r.average = 0.7*r.average + 0.3*loss
	switch {
	case math.Max(loss, r.average) < lossLow && now-r.lastInc >= lossEvery:
		r.bps *= 1.05
		r.lastInc = now
	case math.Min(loss, r.average) > lossHigh && now-r.lastDec >= lossEvery:
		r.bps *= 1 - 0.5*math.Min(loss, r.average)
		r.lastDec = now
	}
	r.bps = math.Min(math.Max(math.Min(r.bps, delayBps), float64(o.Min)), float64(o.Max))
}
