package transportcc

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
)

// path is a simulated network path: a bottleneck of capacity bits/s with a drop-tail queue
// of at most maxQueue, a one-way delay, and random loss.
type path struct {
	capacity float64
	maxQueue time.Duration
	delay    time.Duration
	loss     float64
	free     time.Duration // when the bottleneck has sent what it holds
	rng      *rand.Rand
}

// send returns when a packet of size bytes sent at t arrives, or false if it is lost.
func (p *path) send(t time.Duration, size int) (time.Duration, bool) {
	if p.rng.Float64() < p.loss {
		return 0, false
	}
	start := max(t, p.free)
	if start-t > p.maxQueue {
		return 0, false
	}
	p.free = start + time.Duration(float64(size*8)/p.capacity*float64(time.Second))
	return p.free + p.delay, true
}

// sim sends media through a path to a receiver that returns transport-wide feedback every
// 100 ms (built by pion's recorder, marshalled and read as on the wire, in place), at the
// estimator's target but never above appRate, as an encoder following the estimate does. A
// twin estimator gets the same packets and the feedback as pion parses it: the two must stay
// the same, state for state.
type sim struct {
	t       *testing.T
	e, twin *Estimator
	p       *path
	rec     *twcc.Recorder
	appRate float64
	credit  float64 // bytes the sender may send, carried between runs
	now     time.Duration
	seq     uint16
	inbox   []delivery      // feedback on its way back
	queue   []time.Duration // the bottleneck's queue every millisecond
	trace   []float64       // the target every 100 ms
}

type delivery struct {
	at time.Duration
	fb []byte
}

func newSim(t *testing.T, p *path, appRate float64) *sim {
	p.rng = rand.New(rand.NewPCG(1, 2))
	opts := EstimatorOptions{Initial: 1_000_000, Min: 30_000, Max: 20_000_000}
	s := &sim{t: t, p: p, appRate: appRate, rec: twcc.NewRecorder(1), e: NewEstimator(opts), twin: NewEstimator(opts)}
	s.twin.start = s.e.start
	return s
}

// run simulates d more: 1,200-byte packets paced at the rate, in 1 ms steps.
func (s *sim) run(d time.Duration) {
	const size = 1200
	end := s.now + d
	for ; s.now < end; s.now += time.Millisecond {
		rate := min(float64(s.e.GetTargetBitrate()), s.appRate)
		s.credit += rate / 8 / 1000
		for s.credit >= size {
			s.credit -= size
			s.e.onSent(s.seq, size, s.now)
			s.twin.onSent(s.seq, size, s.now)
			if at, ok := s.p.send(s.now, size); ok {
				s.rec.Record(5, s.seq, int64(at/time.Microsecond))
			}
			s.seq++
		}
		s.queue = append(s.queue, s.p.free-s.now)
		if s.now%(100*time.Millisecond) == 0 {
			for _, p := range s.rec.BuildFeedbackPacket() {
				b, err := p.Marshal()
				if err != nil {
					s.t.Fatal(err)
				}
				s.inbox = append(s.inbox, delivery{at: s.now + s.p.delay, fb: b})
			}
			s.trace = append(s.trace, float64(s.e.GetTargetBitrate()))
		}
		for len(s.inbox) > 0 && s.inbox[0].at <= s.now {
			fb := s.inbox[0].fb
			pkts, err := rtcp.Unmarshal(fb)
			if err != nil || len(pkts) != 1 {
				s.t.Fatal(len(pkts), err)
			}
			if !s.e.onFeedbackPacket(fb, s.now) {
				s.t.Fatalf("feedback not read: %x", fb)
			}
			s.twin.onFeedback(pkts[0].(*rtcp.TransportLayerCC), s.now)
			if !reflect.DeepEqual(s.e, s.twin) {
				s.t.Fatalf("at %v the feedback read in place and pion's parse of it differ: %x", s.now, fb)
			}
			s.inbox = s.inbox[1:]
		}
	}
}

// mean returns the mean target over the last d.
func (s *sim) mean(d time.Duration) float64 {
	n := int(d / (100 * time.Millisecond))
	tail := s.trace[len(s.trace)-n:]
	var sum float64
	for _, v := range tail {
		sum += v
	}
	return sum / float64(len(tail))
}

func TestEstimatorFindsCapacity(t *testing.T) {
	for _, c := range []float64{300_000, 2_500_000} {
		s := newSim(t, &path{capacity: c, maxQueue: 300 * time.Millisecond, delay: 20 * time.Millisecond}, 5_000_000)
		s.run(30 * time.Second)
		m := s.mean(10 * time.Second)
		t.Logf("capacity %.0f kb/s: mean estimate over the last 10 s %.0f kb/s", c/1000, m/1000)
		if m < 0.5*c || m > 1.2*c {
			t.Errorf("capacity %.0f: estimate %.0f, want 50–120 %% of it", c, m)
		}
	}
}

// TestEstimatorKeepsQueueShort: on a path whose buffer holds seconds (no drop-tail loss to
// react to), the delay trend alone keeps the queue short. Without the overuse detector the
// queue grows to 1.8–3 s.
func TestEstimatorKeepsQueueShort(t *testing.T) {
	for _, c := range []float64{500_000, 2_500_000} {
		s := newSim(t, &path{capacity: c, maxQueue: 3 * time.Second, delay: 20 * time.Millisecond}, 10_000_000)
		s.run(30 * time.Second)
		var sum time.Duration
		tail := s.queue[10_000:]
		for _, q := range tail {
			sum += max(q, 0)
		}
		mean := sum / time.Duration(len(tail))
		t.Logf("capacity %.0f kb/s: mean queue after 10 s %v, estimate %.0f kb/s", c/1000, mean, s.mean(10*time.Second)/1000)
		if mean > 150*time.Millisecond {
			t.Errorf("capacity %.0f: the queue averaged %v, want the delay trend to keep it under 150 ms", c, mean)
		}
	}
}

// TestEstimatorDuplicateReport: a packet reported received twice counts once.
func TestEstimatorDuplicateReport(t *testing.T) {
	e := NewEstimator(EstimatorOptions{Initial: 1_000_000, Min: 30_000, Max: 20_000_000})
	rec := twcc.NewRecorder(1)
	for i := range 100 {
		e.onSent(uint16(i), 1200, time.Duration(i)*time.Millisecond)
		rec.Record(5, uint16(i), int64(i)*1000+20_000)
	}
	fb := rec.BuildFeedbackPacket()[0].(*rtcp.TransportLayerCC)
	e.onFeedback(fb, 150*time.Millisecond)
	e.onFeedback(fb, 160*time.Millisecond)
	var bytes int
	for i := range min(e.nArrivals, len(e.arrivals)) {
		bytes += e.arrivals[i].bytes
	}
	if bytes != 100*1200 {
		t.Errorf("%d bytes counted as arrived, want %d", bytes, 100*1200)
	}
}

func TestEstimatorFollowsCapacityDown(t *testing.T) {
	p := &path{capacity: 3_000_000, maxQueue: 300 * time.Millisecond, delay: 20 * time.Millisecond}
	s := newSim(t, p, 5_000_000)
	s.run(20 * time.Second)
	before := s.mean(5 * time.Second)
	p.capacity = 800_000
	s.run(5 * time.Second)
	after := s.mean(2 * time.Second)
	t.Logf("3 Mb/s: %.0f kb/s; 3 s after the drop to 800 kb/s: %.0f kb/s", before/1000, after/1000)
	if before < 1_500_000 {
		t.Errorf("estimate %.0f on a 3 Mb/s path", before)
	}
	if after > 1_000_000 {
		t.Errorf("estimate %.0f after the path fell to 800 kb/s", after)
	}
}

func TestEstimatorLoss(t *testing.T) {
	s := newSim(t, &path{capacity: 50_000_000, maxQueue: time.Second, delay: 20 * time.Millisecond, loss: 0.2}, 5_000_000)
	s.run(10 * time.Second)
	if m := s.mean(2 * time.Second); m > 300_000 {
		t.Errorf("estimate %.0f with 20 %% loss, want it well down from 1 Mb/s", m)
	}
	clean := newSim(t, &path{capacity: 50_000_000, maxQueue: time.Second, delay: 20 * time.Millisecond, loss: 0.01}, 5_000_000)
	clean.run(10 * time.Second)
	if m := clean.mean(2 * time.Second); m < 1_500_000 { // 8 %/s of growth: 2.2 times in 10 s
		t.Errorf("estimate %.0f with 1 %% loss on a wide path, want it up from 1 Mb/s", m)
	}
}

// TestEstimatorAppLimited: a sender that sends less than the path carries does not drive
// the estimate up without bound; it stays near what the path showed it carries.
func TestEstimatorAppLimited(t *testing.T) {
	s := newSim(t, &path{capacity: 50_000_000, maxQueue: time.Second, delay: 20 * time.Millisecond}, 400_000)
	s.run(20 * time.Second)
	if m := s.mean(5 * time.Second); m > 1_000_000 {
		t.Errorf("estimate %.0f from a 400 kb/s sender, want at most 1.5 times that and the initial 1 Mb/s", m)
	}
}

func TestEstimatorReferenceWrap(t *testing.T) {
	e := NewEstimator(EstimatorOptions{Initial: 1_000_000, Min: 30_000, Max: 20_000_000})
	fb := func(ref uint32) *rtcp.TransportLayerCC {
		return &rtcp.TransportLayerCC{ReferenceTime: ref, PacketStatusCount: 1, BaseSequenceNumber: 0,
			PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketNotReceived, RunLength: 1}}}
	}
	e.onFeedback(fb(0xfffffe), 0)
	e.onFeedback(fb(1), 0)
	if e.ref != 0xffffff+2 {
		t.Fatalf("reference after the wrap %#x, want %#x", e.ref, 0xffffff+2)
	}
	e.onFeedback(fb(0xffffff), 0) // late, from before the wrap
	if e.ref != 0xffffff {
		t.Fatalf("reference of a late report %#x, want %#x", e.ref, 0xffffff)
	}
}

// TestEstimatorAllocs: neither a packet sent nor a feedback allocates.
func TestEstimatorAllocs(t *testing.T) {
	e := NewEstimator(EstimatorOptions{Initial: 1_000_000, Min: 30_000, Max: 20_000_000})
	rec := twcc.NewRecorder(1)
	for i := range 100 {
		e.onSent(uint16(i), 1200, time.Duration(i)*time.Millisecond)
		if i%10 != 3 {
			rec.Record(5, uint16(i), int64(i)*1000+20_000)
		}
	}
	fb := rec.BuildFeedbackPacket()[0].(*rtcp.TransportLayerCC)
	var seq uint16
	if n := testing.AllocsPerRun(1000, func() { e.onSent(seq, 1200, time.Second); seq++ }); n != 0 {
		t.Errorf("a packet sent: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { e.onFeedback(fb, time.Second) }); n != 0 {
		t.Errorf("a feedback: %v allocations", n)
	}
}

// FuzzFeedbackPacket reads arbitrary bytes as a feedback packet: no panic; a packet refused
// changes nothing; and where pion parses them as one transport-wide feedback packet, the
// estimate read in place is the one read from pion's parse.
func FuzzFeedbackPacket(f *testing.F) {
	rec := twcc.NewRecorder(1)
	for i := range 300 {
		if i%7 != 3 { // some lost
			rec.Record(5, uint16(i), int64(i*1000+(i%13)*9000)) // some far apart: large deltas
		}
		if i%50 == 49 {
			for _, p := range rec.BuildFeedbackPacket() {
				b, err := p.Marshal()
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		opts := EstimatorOptions{Initial: 1_000_000, Min: 30_000, Max: 20_000_000}
		raw, parsed := NewEstimator(opts), NewEstimator(opts)
		parsed.start = raw.start
		for seq := range uint16(400) {
			raw.onSent(seq, 1200, time.Duration(seq)*time.Millisecond)
			parsed.onSent(seq, 1200, time.Duration(seq)*time.Millisecond)
		}
		ok := raw.onFeedbackPacket(b, time.Second)
		if !ok && !reflect.DeepEqual(raw, parsed) {
			t.Fatalf("a packet refused changed the estimate: %x", b)
		}
		pkts, err := rtcp.Unmarshal(b)
		if err != nil || len(pkts) != 1 {
			return
		}
		fb, isCC := pkts[0].(*rtcp.TransportLayerCC)
		if !isCC {
			return
		}
		if !ok {
			t.Fatalf("pion parses feedback the estimator does not read: %x", b)
		}
		parsed.onFeedback(fb, time.Second)
		if !reflect.DeepEqual(raw, parsed) {
			t.Fatalf("read in place and from pion's parse differ: %x", b)
		}
	})
}
