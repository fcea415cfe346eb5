package signaling

import (
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chuting/chuting/srtpgcm"
	"github.com/chuting/chuting/transportcc"
	"github.com/chuting/chuting/udpbatch"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// sink is a TrackLocalWriter that marshals what it is given, as SRTP would, into its own
// buffer; delay makes it a slow subscriber. The writer numbers each packet with a
// transport-wide sequence number and tells the connection's bandwidth estimator (est), so that
// the forwarding benchmark and allocation check cover the estimator too.
type sink struct {
	delay time.Duration
	buf   [mtu]byte
	n     atomic.Int64
	last  atomic.Uint32 // the sequence number last written
	w     interceptor.RTPWriter
	est   *transportcc.Estimator
	seen  func(h *rtp.Header, payload []byte) // if set, called with each packet written
}

func newSink(delay time.Duration) *sink {
	s := &sink{delay: delay}
	s.est = transportcc.NewEstimator(transportcc.EstimatorOptions{Initial: initialBitrate, Min: 30_000, Max: 20_000_000})
	s.w = interceptor.RTPWriterFunc(s.write)
	return s
}

func (s *sink) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	return s.w.Write(h, payload, nil)
}

func (s *sink) write(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	n, err := h.MarshalTo(s.buf[:])
	if err != nil {
		return 0, err
	}
	n += copy(s.buf[n:], payload)
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if s.seen != nil {
		s.seen(h, payload)
	}
	s.n.Add(1)
	s.last.Store(uint32(h.SequenceNumber))
	return n, nil
}

func (s *sink) Write(b []byte) (int, error) { return len(b), nil }

// fanout is an upTrack with subscribers writing to sinks, without peer connections.
type fanout struct {
	up    *upTrack
	conn  *udpbatch.Conn // the socket the writers encrypt to, when they do (newOwnFanout)
	sinks []*sink
	ws    []*writer
	wg    sync.WaitGroup
	m     *metrics
	raw   []byte
	seq   uint16 // the last packet's sequence number
}

func newFanout(tb testing.TB, delays ...time.Duration) *fanout {
	tb.Helper()
	m, _ := newMetrics(nil)
	f := &fanout{m: m, up: &upTrack{kind: webrtc.RTPCodecTypeVideo, source: SourceCamera, m: m,
		owner: &participant{id: "p-pub"}}}
	f.up.public.Store(true)
	for _, d := range delays {
		sub := &participant{id: "p-sub"}
		sub.receiving.Store(true)
		w := newWriter(512, m)
		s := newSink(d)
		dt := &downTrack{up: f.up, sub: sub, w: w, bwe: s.est}
		dt.bound.Store(&binding{ssrc: 1234, pt: 96, nack: true, twcc: 5, stream: s})
		f.up.addDown(dt)
		f.sinks, f.ws = append(f.sinks, s), append(f.ws, w)
		f.wg.Add(1)
		go func() { defer f.wg.Done(); w.run() }()
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: 1, Timestamp: 9000, SSRC: 42},
		Payload: make([]byte, 1000)}
	_ = p.SetExtension(3, []byte{0x10, 0x20})
	raw, err := p.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	f.raw = raw
	tb.Cleanup(f.stop)
	return f
}

// newOwnFanout is newFanout with k subscribers whose writers encrypt each packet with their
// own SRTP context (AEAD-AES-128-GCM) and queue it on one batched loopback socket, as the
// server's writers do (srtpout.go); a second socket takes the packets.
func newOwnFanout(tb testing.TB, k int) *fanout {
	tb.Helper()
	f := newFanout(tb, make([]time.Duration, k)...)
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	src, dst := listen(), listen()
	f.conn = udpbatch.New(src, batchSize, batchInterval)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, err := dst.Read(buf); err != nil {
				return
			}
		}
	}()
	tb.Cleanup(func() {
		f.stop()
		_ = f.conn.Close()
		_ = dst.Close()
		<-done
	})
	addr := dst.LocalAddr().(*net.UDPAddr).AddrPort()
	for _, d := range *f.up.downs.Load() {
		gcm, err := srtpgcm.New(srtp.ProtectionProfileAeadAes128Gcm, make([]byte, 16), make([]byte, 12))
		if err != nil {
			tb.Fatal(err)
		}
		d.out = &srtpOut{}
		d.out.path.Store(&srtpPath{gcm: gcm, conn: f.conn, addr: addr, peer: f.conn.Peer(addr)})
		d.out.mode.Store(ownPath) // as arm decides when the connection comes up
	}
	return f
}

// next reads the publisher's next packet (f.raw with the next sequence number) into a pooled
// buffer.
func (f *fanout) next() (*packet, int) {
	p := packets.Get().(*packet)
	n := copy(p.buf[:], f.raw)
	f.seq++
	binary.BigEndian.PutUint16(p.buf[2:4], f.seq)
	return p, n
}

// send forwards the publisher's next packet.
func (f *fanout) send() {
	p, n := f.next()
	f.up.forward(p, n, nil)
}

func (f *fanout) stop() {
	for _, w := range f.ws {
		w.stop()
	}
	f.wg.Wait()
}

// TestForwardAllocs checks that forwarding a packet to nine subscribers, through their
// writers to a marshalled header (pion's path) or encrypted by the writers onto a socket
// (srtpout.go), allocates nothing.
func TestForwardAllocs(t *testing.T) {
	// The quietest round measures 0 on pion's path and about 8 on the own path (the socket's
	// batches and the test's waiting); an allocation on every tenth packet would be 25.
	t.Run("pion", func(t *testing.T) { testForwardAllocs(t, newFanout(t, 0, 0, 0, 0, 0, 0, 0, 0, 0), 4) })
	t.Run("own", func(t *testing.T) { testForwardAllocs(t, newOwnFanout(t, 9), 20) })
}

func testForwardAllocs(t *testing.T, f *fanout, limit uint64) {
	runtime.GC()                                     // then none, so that no collection empties the pool while we count
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // (a collection drops what sync.Pool holds)
	// Warm the pool, fill the writers' NACK histories, and then make as many packets as the
	// rounds below hold at once (a history and a round).
	sent := int64(nackHistory + 100)
	for range sent {
		f.send()
	}
	f.drain(sent)
	for range 251 {
		f.send()
	}
	sent += 251
	f.drain(sent)
	// Rounds of 250 packets (the writers' queues hold them), each counted from before its first
	// packet is sent until every subscriber was sent its last, so that the writers' part is
	// counted too. A packet's allocation would show in every round, 250 times at least; the
	// quietest round counts, and may hold a few that are not a packet's (limit): the test's own
	// waiting (drain), and on the own path the socket's batches.
	least := uint64(math.MaxUint64)
	var ms runtime.MemStats
	for range 8 {
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		for range 250 {
			f.send()
		}
		sent += 250
		f.drain(sent)
		runtime.ReadMemStats(&ms)
		least = min(least, ms.Mallocs-before)
	}
	if dropped := testutil.ToFloat64(f.m.dropped); dropped != 0 || f.written() != sent {
		t.Fatalf("%v dropped; each subscriber was sent %d of %d", dropped, f.written(), sent)
	}
	t.Logf("%d allocations in the quietest round of 250 packets forwarded to %d subscribers", least, len(f.ws))
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items on purpose: run without -race to check")
	}
	if least > limit { // one per packet would be 250 at least (per write, 250 per subscriber)
		t.Fatalf("forwarding 250 packets allocates %d times, want at most %d", least, limit)
	}
}

// TestNACK checks that a subscriber's writer answers its NACKs from the packets it sent
// lately, each as it was sent, once within resendInterval; and not those it no longer holds.
func TestNACK(t *testing.T) {
	f := newFanout(t, 0)
	d := (*f.up.downs.Load())[0]
	var sn uint16
	send := func() {
		p := packets.Get().(*packet)
		n := copy(p.buf[:], f.raw)
		sn++
		p.buf[2], p.buf[3] = byte(sn>>8), byte(sn)
		f.up.forward(p, n, nil)
	}
	for range nackHistory + 10 {
		send()
	}
	s := f.sinks[0]
	eventually(t, time.Second, "the packets to be sent", func() bool { return s.n.Load() == nackHistory+10 })
	// 20 and 22 (held), 22 again at once (not resent), 5 (no longer held: 11 to 138 are); then
	// the next packet, which comes after what was resent
	d.w.enqueueNACK(d, rtcp.NackPair{PacketID: 20, LostPackets: 1 << 1}, 0)
	d.w.enqueueNACK(d, rtcp.NackPair{PacketID: 22}, 0)
	d.w.enqueueNACK(d, rtcp.NackPair{PacketID: 5}, 0)
	send()
	eventually(t, time.Second, "the next packet", func() bool { return s.last.Load() == nackHistory+11 })
	if got := s.n.Load(); got != nackHistory+13 {
		t.Fatalf("%d packets written, want %d: 2 resent and the next", got, nackHistory+13)
	}
	time.Sleep(resendInterval)
	d.w.enqueueNACK(d, rtcp.NackPair{PacketID: 22}, 0)
	eventually(t, time.Second, "the resend", func() bool { return s.n.Load() == nackHistory+14 })
	if got := s.last.Load(); got != 22 {
		t.Fatalf("resent %d, want 22", got)
	}
}

// TestSlowSubscriber checks that a subscriber that cannot keep up loses packets (counted)
// instead of slowing the publisher or the other subscribers.
func TestSlowSubscriber(t *testing.T) {
	f := newFanout(t, 0, 5*time.Millisecond, 0)
	const n = 3000
	start := time.Now()
	for i := range n {
		f.send()
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // ~50 packets a millisecond: a fast publisher
		}
	}
	took := time.Since(start)
	eventually(t, 5*time.Second, "the fast subscribers to get every packet", func() bool {
		return f.sinks[0].n.Load() == n && f.sinks[2].n.Load() == n
	})
	if took > 2*time.Second {
		t.Fatalf("forwarding %d packets took %s: the slow subscriber stalled it", n, took)
	}
	slow, dropped := f.sinks[1].n.Load(), testutil.ToFloat64(f.m.dropped)
	if slow >= n || dropped == 0 {
		t.Fatalf("slow subscriber got %d of %d, %v dropped", slow, n, dropped)
	}
	t.Logf("forwarded %d packets in %s; the slow subscriber got %d, %v dropped", n, took, slow, dropped)
}

// TestGate checks the per-packet rules: nothing to a subscriber that is not receiving (the
// waiting room), nothing of a waiting publisher but to judge and clerk, muted audio to nobody.
func TestGate(t *testing.T) {
	f := newFanout(t, 0, 0)
	d := *f.up.downs.Load()
	d[1].privileged = true
	f.send()
	eventually(t, time.Second, "both to receive", func() bool { return f.sinks[0].n.Load() == 1 && f.sinks[1].n.Load() == 1 })

	f.up.public.Store(false) // the publisher went to the waiting room
	f.send()
	eventually(t, time.Second, "the judge to receive", func() bool { return f.sinks[1].n.Load() == 2 })
	d[1].sub.receiving.Store(false) // the judge dropped
	f.send()
	f.up.public.Store(true)
	d[0].sub.receiving.Store(false) // the subscriber went to the waiting room
	f.send()
	f.up.kind = webrtc.RTPCodecTypeAudio // muted audio
	d[0].sub.receiving.Store(true)
	f.send()
	time.Sleep(100 * time.Millisecond)
	if a, b := f.sinks[0].n.Load(), f.sinks[1].n.Load(); a != 1 || b != 2 {
		t.Fatalf("received %d and %d packets, want 1 and 2", a, b)
	}
}

// BenchmarkForward measures forwarding one packet to K subscribers, through their writers to
// a marshalled header (without SRTP and the network, which pion does): K=4 is a room of five.
// The publisher is paced as a real one is: every benchPace packets it waits until the writers
// have written them, so that no queue overflows and the time per packet covers the fan-out and
// all K writes (a benchmark that outran the writers would time mostly drops). dropped/op must
// stay 0.
//
// The "own" cases encrypt each packet with SRTP (AEAD-AES-128-GCM) and queue it on a loopback
// socket, as the server's writers do (srtpout.go): the time per packet then includes the
// encryption, and the batch flusher's system calls on a core of their own.
func BenchmarkForward(b *testing.B) {
	const benchPace = 128 // well below the writers' queue of 512
	for _, c := range []struct {
		k   int
		own bool
	}{{1, false}, {4, false}, {9, false}, {16, false}, {1, true}, {4, true}, {9, true}} {
		name := fmt.Sprintf("K=%d", c.k)
		if c.own {
			name += "/own"
		}
		b.Run(name, func(b *testing.B) {
			k := c.k
			var f *fanout
			if c.own {
				f = newOwnFanout(b, k)
			} else {
				f = newFanout(b, make([]time.Duration, k)...)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(f.raw)) * int64(k))
			var sent int64
			for b.Loop() {
				f.send()
				if sent++; sent%benchPace == 0 {
					f.drain(sent)
				}
			}
			f.drain(sent)
			b.StopTimer()
			f.stop()
			b.ReportMetric(testutil.ToFloat64(f.m.dropped)/float64(b.N*k), "dropped/op")
		})
	}
}

// drain waits until every subscriber was sent n packets. A dropped packet never arrives, nor
// one the writers do not send: the drop counter (which allocates to read) and the time are
// looked at only now and then, to give up on a drop or after 10 s (the caller checks what was
// written).
func (f *fanout) drain(n int64) {
	var deadline time.Time
	for spins := 1; f.written() < n; spins++ {
		if spins%(1<<14) == 0 {
			if deadline.IsZero() {
				deadline = time.Now().Add(10 * time.Second)
			}
			if testutil.ToFloat64(f.m.dropped) > 0 || time.Now().After(deadline) {
				return
			}
		}
		runtime.Gosched()
	}
}

// written returns the fewest packets a subscriber was sent: written to its sink, or (all
// subscribers sharing one socket) sent on the socket, divided among them.
func (f *fanout) written() int64 {
	if f.conn != nil {
		return int64(f.conn.Stats().Packets) / int64(len(f.sinks)) //nolint:gosec // counts
	}
	least := int64(math.MaxInt64)
	for _, s := range f.sinks {
		least = min(least, s.n.Load())
	}
	return least
}

// TestWakesOncePerRun checks that a run of packets forwarded with a wake list (as the reader
// of a UDP socket forwards a burst) wakes each waiting writer once, when the list is flushed,
// not before. The writers here have no goroutine: a wake is the token in their channel.
func TestWakesOncePerRun(t *testing.T) {
	f := newFanout(t)
	var ws []*writer
	for range 3 {
		sub := &participant{id: "p-sub"}
		sub.receiving.Store(true)
		w := newWriter(512, f.m)
		w.asleep = true // as run leaves it when it found nothing to write
		f.up.addDown(&downTrack{up: f.up, sub: sub, w: w})
		ws = append(ws, w)
	}
	var wk wakes
	const run = 10
	for range run {
		p, n := f.next()
		f.up.forward(p, n, &wk)
	}
	if len(wk.ws) != len(ws) {
		t.Fatalf("%d wakes listed for %d writers", len(wk.ws), len(ws))
	}
	for i, w := range ws {
		if w.n != run || len(w.wake) != 0 {
			t.Fatalf("writer %d: %d queued, woken %d times before the flush", i, w.n, len(w.wake))
		}
	}
	wk.flush()
	for i, w := range ws {
		if len(w.wake) != 1 {
			t.Fatalf("writer %d woken %d times by the flush", i, len(w.wake))
		}
	}
	if len(wk.ws) != 0 {
		t.Fatalf("%d wakes left after the flush", len(wk.ws))
	}
}

// TestWriterStopped checks that a packet queued to a writer that has stopped is dropped,
// counted, and released.
func TestWriterStopped(t *testing.T) {
	f := newFanout(t, 0)
	d := (*f.up.downs.Load())[0]
	f.stop()
	before := testutil.ToFloat64(f.m.dropped)
	p := packets.Get().(*packet)
	p.refs.Store(1)
	d.w.enqueue(d, p, nil)
	if got := testutil.ToFloat64(f.m.dropped) - before; got != 1 || p.refs.Load() != 0 {
		t.Fatalf("dropped %v, references left %d", got, p.refs.Load())
	}
}

// TestSequence checks how a stream's sequence numbers are shown to a subscriber: as they came,
// gaps included, up to gapLimit; a larger jump (forward, or back: a restart) and a simulcast
// switch closed up to the next number; a packet seen again dropped; a late one passed, unless it came from before the
// last jump or simulcast switch; and late ones still passed after the numbers went round.
func TestSequence(t *testing.T) {
	d := &downTrack{}
	check := func(in, want uint16, ok bool) {
		t.Helper()
		got, gotOK := d.sequence(in)
		if gotOK != ok || ok && got != want {
			t.Fatalf("%d shown as %d (%v), want %d (%v)", in, got, gotOK, want, ok)
		}
	}
	check(100, 100, true)
	check(101, 101, true)
	check(105, 105, true) // a gap, kept: the subscriber asks for what is missing
	check(103, 103, true) // late
	check(105, 0, false)  // seen again
	check(99, 0, false)   // from before the first
	check(105+gapLimit, 105+gapLimit, true)
	check(45000, 106+gapLimit, true) // a jump: closed up
	check(45001, 107+gapLimit, true)
	check(44999, 0, false)        // late, from before the jump
	check(50, 108+gapLimit, true) // a jump back (a restart): closed up too
	check(51, 109+gapLimit, true)
	d.seq.switched = true                  // a simulcast switch (rewrite): closed up like a jump
	check(60, 110+gapLimit, true)          // its first packet
	check(55, 0, false)                    // late, from before the switch
	for sn := uint16(61); sn != 60; sn++ { // round the sequence space, 50 lost
		if sn != 50 {
			check(sn, sn+50+gapLimit, true)
		}
	}
	check(50, 100+gapLimit, true) // late, after the numbers went round: passed
}
