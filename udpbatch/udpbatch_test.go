package udpbatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// listen opens a UDP socket on loopback.
func listen(t testing.TB, network, addr string) *net.UDPConn {
	t.Helper()
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	uc := pc.(*net.UDPConn)
	_ = uc.SetReadBuffer(8 << 20)
	return uc
}

// frame returns the sizes of a video frame's packets as an SFU forwards them: five full ones
// and a shorter last one, then an audio packet.
func frame() []int { return []int{1100, 1100, 1100, 1100, 1100, 700, 120} }

// numbered returns a packet of size bytes carrying seq: its number, then the number's low
// byte repeated (what receive checks).
func numbered(seq uint32, size int) []byte {
	p := make([]byte, size)
	binary.BigEndian.PutUint32(p, seq)
	for i := 4; i < size; i++ {
		p[i] = byte(seq)
	}
	return p
}

// receive reads n packets from rx and returns the sequence numbers they carry, checking that
// each packet is intact (its bytes after the number repeat the number's low byte).
func receive(t *testing.T, rx *net.UDPConn, n int) []uint32 {
	t.Helper()
	var seqs []uint32
	buf := make([]byte, 2048)
	for len(seqs) < n {
		_ = rx.SetReadDeadline(time.Now().Add(5 * time.Second))
		m, _, err := rx.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d of %d packets: %v", len(seqs), n, err)
		}
		seq := binary.BigEndian.Uint32(buf)
		for i, b := range buf[4:m] {
			if b != byte(seq) {
				t.Fatalf("packet %d byte %d is %d, want %d", seq, i+4, b, byte(seq))
			}
		}
		seqs = append(seqs, seq)
	}
	return seqs
}

// sendFrames writes frames of packets to each receiver in turn, interleaved as the writers
// of several subscribers interleave, and returns the sequence numbers sent to each.
func sendFrames(t *testing.T, c *Conn, rxs []*net.UDPConn, frames int) [][]uint32 {
	t.Helper()
	sent := make([][]uint32, len(rxs))
	var seq uint32
	for range frames {
		for _, size := range frame() {
			for r, rx := range rxs {
				if _, err := c.WriteTo(numbered(seq, size), rx.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				sent[r] = append(sent[r], seq)
				seq++
			}
		}
	}
	return sent
}

// check sends frames through c and checks that every receiver gets its packets, intact and
// in the order written.
func check(t *testing.T, c *Conn, rxs []*net.UDPConn, frames int) {
	t.Helper()
	sent := sendFrames(t, c, rxs, frames)
	for r, rx := range rxs {
		if got := receive(t, rx, len(sent[r])); !slices.Equal(got, sent[r]) {
			t.Fatalf("receiver %d got %v, want %v", r, got, sent[r])
		}
	}
}

// exchange writes frames of packets to rx (at to, its own address unless given) and checks
// that rx gets them, intact and in order; it returns their sequence numbers.
func exchange(t *testing.T, c *Conn, rx *net.UDPConn, to *net.UDPAddr, frames int) []uint32 {
	t.Helper()
	if to == nil {
		to = rx.LocalAddr().(*net.UDPAddr)
	}
	sent := sendFramesTo(t, c, to, frames)
	if got := receive(t, rx, len(sent)); !slices.Equal(got, sent) {
		t.Fatalf("got %v, want %v", got, sent)
	}
	return sent
}

// waitStats waits (up to 2 s) until c's counters satisfy ok and returns them: datagrams are
// counted once the system call returns, which may be after the receivers have the packets.
func waitStats(t *testing.T, c *Conn, ok func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		s := c.Stats()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("counters %+v", s)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSegmented(t *testing.T) {
	tx := listen(t, "udp4", "127.0.0.1:0")
	c := New(tx, 64, time.Millisecond)
	defer c.Close()
	rxs := []*net.UDPConn{listen(t, "udp4", "127.0.0.1:0"), listen(t, "udp4", "127.0.0.1:0"),
		listen(t, "udp4", "127.0.0.1:0")}
	if runtime.GOOS == "linux" && !c.Segmenting() {
		t.Fatal("the kernel does not segment UDP (Linux 4.18 and later do)")
	}
	check(t, c, rxs, 200)
	// Most packets of a frame leave in one datagram: a frame's 7 packets to one receiver
	// are at most 2 datagrams when its packets share a batch.
	want := uint64(200 * len(frame()) * len(rxs))
	s := c.Stats()
	if runtime.GOOS == "linux" {
		s = waitStats(t, c, func(s Stats) bool { return s.Segmented >= want/2 })
	}
	t.Logf("%+v", s)
	if s.Packets != want || s.Failed != 0 || s.Datagrams > want/2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestUnsegmented(t *testing.T) {
	tx := listen(t, "udp4", "127.0.0.1:0")
	c := New(tx, 64, time.Millisecond)
	defer c.Close()
	c.gso = false
	rxs := []*net.UDPConn{listen(t, "udp4", "127.0.0.1:0"), listen(t, "udp4", "127.0.0.1:0")}
	check(t, c, rxs, 50)
	if s := waitStats(t, c, func(s Stats) bool { return s.Datagrams == s.Packets }); s.Segmented != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestGive hands buffers over without a copy: each given buffer is sent as it was (the
// receiver gets every packet intact, in order, also segmented: a buffer given back while
// still queued would be overwritten before it left, which the receiver's check of each
// packet's bytes finds), the buffer given back is another, empty, of BufferSize; a buffer too
// small for the Conn's is copied and comes back.
func TestGive(t *testing.T) {
	tx := listen(t, "udp4", "127.0.0.1:0")
	c := New(tx, 64, time.Millisecond)
	defer c.Close()
	rx := listen(t, "udp4", "127.0.0.1:0")
	to := c.Peer(rx.LocalAddr().(*net.UDPAddr).AddrPort())
	buf := make([]byte, 0, BufferSize)
	var sent []uint32
	for seq := range uint32(700) {
		size := frame()[seq%uint32(len(frame()))]
		b := append(buf[:0], numbered(seq, size)...)
		next, err := c.GiveTo(b, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(next) != 0 || cap(next) != BufferSize || unsafe.SliceData(next[:1]) == unsafe.SliceData(b) {
			t.Fatalf("given back len %d cap %d, the same: %v", len(next), cap(next), unsafe.SliceData(next[:1]) == unsafe.SliceData(b))
		}
		sent = append(sent, seq)
		buf = next
	}
	if got := receive(t, rx, len(sent)); !slices.Equal(got, sent) {
		t.Fatalf("got %v, want %v", got, sent)
	}
	small := numbered(9999, 100)
	back, err := c.GiveTo(small, to)
	if err != nil || unsafe.SliceData(back[:1]) != unsafe.SliceData(small) || len(back) != 0 {
		t.Fatalf("a small buffer: %v", err)
	}
	if got := receive(t, rx, 1); got[0] != 9999 {
		t.Fatalf("got %v", got)
	}
	if runtime.GOOS == "linux" {
		if s := waitStats(t, c, func(s Stats) bool { return s.Packets == 701 }); s.Segmented == 0 {
			t.Fatalf("nothing segmented: %+v", s)
		}
	}
}

// TestDualStack sends from a socket on the IPv6 wildcard (which also takes IPv4) to an IPv4
// receiver, as a server listening on all addresses does.
func TestDualStack(t *testing.T) {
	pc, err := net.ListenPacket("udp", "[::]:0")
	if err != nil {
		t.Skipf("no IPv6 socket here: %v", err)
	}
	c := New(pc.(*net.UDPConn), 64, time.Millisecond)
	defer c.Close()
	rx := listen(t, "udp4", "127.0.0.1:0")
	port := rx.LocalAddr().(*net.UDPAddr).Port
	// The address as a dual-stack socket reads it: IPv4-mapped.
	exchange(t, c, rx, &net.UDPAddr{IP: net.ParseIP("::ffff:127.0.0.1"), Port: port}, 20)
}

// sendFramesTo writes frames of packets to one address and returns their sequence numbers.
func sendFramesTo(t *testing.T, c *Conn, to *net.UDPAddr, frames int) []uint32 {
	t.Helper()
	var sent []uint32
	var seq uint32
	for range frames {
		for _, size := range frame() {
			if _, err := c.WriteToAddrPort(numbered(seq, size), to.AddrPort()); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, seq)
			seq++
		}
	}
	return sent
}

// TestClose: what was written before Close is sent; writes after it fail.
func TestClose(t *testing.T) {
	tx := listen(t, "udp4", "127.0.0.1:0")
	c := New(tx, 64, time.Hour) // only Close flushes
	rx := listen(t, "udp4", "127.0.0.1:0")
	sent := sendFramesTo(t, c, rx.LocalAddr().(*net.UDPAddr), 3)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, rx, len(sent)); !slices.Equal(got, sent) {
		t.Fatalf("got %v, want %v", got, sent)
	}
	if _, err := c.WriteTo([]byte{1}, rx.LocalAddr()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
}

// TestUnreachable: a packet the kernel refuses (here an IPv6 destination on an IPv4 socket)
// is counted and does not stop the others.
func TestUnreachable(t *testing.T) {
	tx := listen(t, "udp4", "127.0.0.1:0")
	c := New(tx, 64, time.Millisecond)
	defer c.Close()
	rx := listen(t, "udp4", "127.0.0.1:0")
	if _, err := c.WriteToAddrPort([]byte("lost"), netip.MustParseAddrPort("[2001:db8::1]:9")); err != nil {
		t.Fatal(err)
	}
	exchange(t, c, rx, nil, 2)
	waitStats(t, c, func(s Stats) bool { return s.Failed == 1 })
}

func TestRunEnd(t *testing.T) {
	a, b := new(Peer), new(Peer)
	pk := func(to *Peer, sizes ...int) []packet {
		var out []packet
		for _, s := range sizes {
			out = append(out, packet{buf: make([]byte, s), to: to})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		pkts []packet
		want int
	}{
		{"one", pk(a, 100), 1},
		{"equal then shorter ends", pk(a, 100, 100, 50, 50), 3},
		{"larger ends", pk(a, 100, 100, 200), 2},
		{"other address ends", append(pk(a, 100, 100), pk(b, 100)...), 2},
		{"segment limit", pk(a, slices.Repeat([]int{10}, 70)...), maxSegments},
		{"byte limit", pk(a, slices.Repeat([]int{1200}, 60)...), maxGSOBytes / 1200},
		{"too large to segment", pk(a, maxSegmentLen+1, maxSegmentLen+1), 1},
	} {
		if got := runEnd(tc.pkts, 0); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// BenchmarkSend writes frames to 4 receivers that read them in this process and reports the
// process's CPU time (user and system, both sides) per packet, segmented or not.
func BenchmarkSend(b *testing.B) {
	for _, seg := range []bool{false, true} {
		name := "plain"
		if seg {
			name = "segmented"
		}
		b.Run(name, func(b *testing.B) {
			tx := listen(b, "udp4", "127.0.0.1:0")
			c := New(tx, 64, time.Millisecond)
			defer c.Close()
			if seg && !c.Segmenting() {
				b.Skip("no segmentation here")
			}
			c.gso = seg
			var to []netip.AddrPort
			done := make(chan int)
			for range 4 {
				rx := listen(b, "udp4", "127.0.0.1:0")
				defer rx.Close()
				to = append(to, rx.LocalAddr().(*net.UDPAddr).AddrPort())
				go func() {
					buf := make([]byte, 2048)
					n := 0
					for {
						_ = rx.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
						if _, _, err := rx.ReadFrom(buf); err != nil {
							done <- n
							return
						}
						n++
					}
				}()
			}
			sizes := frame()
			bufs := make([][]byte, len(sizes))
			for i, s := range sizes {
				bufs[i] = make([]byte, s)
			}
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				for _, ap := range to {
					if _, err := c.WriteToAddrPort(bufs[i%len(bufs)], ap); err != nil {
						b.Fatal(err)
					}
				}
				if i%64 == 63 {
					time.Sleep(50 * time.Microsecond) // about the rate of a loaded server, not a flood
				}
			}
			got := 0
			for range to {
				got += <-done
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*len(to)), "cpu-ns/pkt")
			b.ReportMetric(1-float64(got)/float64(b.N*len(to)), "lost")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestRefusesSegments checks refusesSegments, the classification of a segmented datagram's
// failures: those that may mean the path cannot take segments (after which send sends its
// packets one by one and pauses segmentation for the address), not those that would fail the
// packets alone too. The resend itself is not driven here: loopback takes every segment.
func TestRefusesSegments(t *testing.T) {
	wrap := func(e error) error {
		return &net.OpError{Op: "write", Net: "udp", Err: os.NewSyscallError("sendmmsg", e)}
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{wrap(syscall.EIO), true}, {wrap(syscall.EMSGSIZE), true}, {wrap(syscall.EINVAL), true},
		{wrap(syscall.ENOBUFS), false}, {wrap(syscall.EPERM), false}, {wrap(syscall.ECONNREFUSED), false},
		{wrap(syscall.ENETUNREACH), false}, {net.ErrClosed, false},
	} {
		if got := refusesSegments(tc.err); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestInterceptRuns checks the reads of a socket with an intercept: the packets it takes are
// not returned, the first it leaves is, with the sender's address (IPv4, and IPv6 and
// IPv4-mapped on a dual-stack socket); runDone is called after flushEvery packets taken in a
// row, when a packet it leaves comes, and when the socket has nothing more to read, not
// before; and a read waiting when the socket closes fails with net.ErrClosed.
func TestInterceptRuns(t *testing.T) {
	if !rawReads { // elsewhere runDone follows each packet taken (read_other.go)
		t.Skip("runs of packets are known where the reader reads with its own recvfrom (Linux)")
	}
	for _, tc := range []struct{ name, network, listen, to string }{
		{"ipv4", "udp4", "127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "udp", "[::]:0", "::1"},
		{"ipv4 on dual stack", "udp", "[::]:0", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pc, err := net.ListenPacket(tc.network, tc.listen)
			if err != nil {
				t.Skipf("no such socket here: %v", err)
			}
			c := New(pc.(*net.UDPConn), 64, time.Millisecond)
			defer c.Close()
			snd, err := net.ListenPacket("udp", net.JoinHostPort(tc.to, "0"))
			if err != nil {
				t.Skipf("no such socket here: %v", err)
			}
			defer snd.Close()
			var (
				mu          sync.Mutex
				taken, runs []int // the packets taken, and how many were when runDone was called
				takenFrom   []netip.AddrPort
			)
			c.SetIntercept(func(b []byte, from netip.AddrPort) bool {
				if b[0] != 't' {
					return false
				}
				mu.Lock()
				defer mu.Unlock()
				taken = append(taken, int(b[1]))
				takenFrom = append(takenFrom, from)
				return true
			}, func() {
				mu.Lock()
				defer mu.Unlock()
				runs = append(runs, len(taken))
			})
			to := &net.UDPAddr{IP: net.ParseIP(tc.to), Port: pc.LocalAddr().(*net.UDPAddr).Port}
			for i := range 2*flushEvery + 8 { // all in the socket before the first read
				if _, err := snd.WriteTo([]byte{'t', byte(i)}, to); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := snd.WriteTo([]byte("kept"), to); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64)
			n, from, err := c.ReadFromAddrPort(buf)
			if err != nil || string(buf[:n]) != "kept" {
				t.Fatalf("read %q, %v", buf[:n], err)
			}
			want := snd.LocalAddr().(*net.UDPAddr).AddrPort()
			if from.Addr().Unmap() != want.Addr().Unmap() || from.Port() != want.Port() {
				t.Fatalf("from %v, want %v", from, want)
			}
			for i, f := range takenFrom {
				if f != from {
					t.Fatalf("packet %d taken from %v, the kept one from %v", i, f, from)
				}
			}
			mu.Lock()
			if len(taken) != 2*flushEvery+8 || !slices.Equal(runs, []int{flushEvery, 2 * flushEvery, 2*flushEvery + 8}) {
				t.Fatalf("taken %v, runDone after %v", taken, runs)
			}
			mu.Unlock()
			// Two more taken, then nothing: the next read ends their run when it finds the
			// socket empty, then waits until the socket closes.
			for i := range 2 {
				if _, err := snd.WriteTo([]byte{'t', byte(i)}, to); err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan error, 1)
			go func() { _, _, err := c.ReadFromAddrPort(buf); done <- err }()
			deadline := time.Now().Add(5 * time.Second)
			for {
				mu.Lock()
				n := len(runs)
				mu.Unlock()
				if n == 4 || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; !errors.Is(err, net.ErrClosed) {
				t.Fatalf("read on a closed socket: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(runs, []int{flushEvery, 2 * flushEvery, 2*flushEvery + 8, 2*flushEvery + 10}) {
				t.Fatalf("runDone after %v", runs)
			}
		})
	}
}

// TestReadAllocs checks that a read through the intercept allocates nothing.
func TestReadAllocs(t *testing.T) {
	c := New(listen(t, "udp4", "127.0.0.1:0"), 64, time.Millisecond)
	defer c.Close()
	snd := listen(t, "udp4", "127.0.0.1:0")
	c.SetIntercept(func(b []byte, _ netip.AddrPort) bool { return b[0] == 't' }, func() {})
	to := c.LocalAddr().(*net.UDPAddr)
	buf := make([]byte, 64)
	pkts := [][]byte{[]byte("t1"), []byte("t2"), []byte("kept")}
	allocs := testing.AllocsPerRun(200, func() {
		for _, p := range pkts {
			if _, err := snd.WriteToUDPAddrPort(p, to.AddrPort()); err != nil {
				t.Fatal(err)
			}
		}
		if n, _, err := c.ReadFromAddrPort(buf); err != nil || string(buf[:n]) != "kept" {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per read", allocs)
	}
}

// TestCloseWhileTaking checks that Close returns, and the read fails with net.ErrClosed, while
// packets the intercept takes keep coming (the read never finds the socket empty).
func TestCloseWhileTaking(t *testing.T) {
	c := New(listen(t, "udp4", "127.0.0.1:0"), 64, time.Millisecond)
	snd := listen(t, "udp4", "127.0.0.1:0")
	defer snd.Close()
	c.SetIntercept(func([]byte, netip.AddrPort) bool { // slower than the sender: never empty
		time.Sleep(100 * time.Microsecond)
		return true
	}, nil)
	to := c.LocalAddr().(*net.UDPAddr).AddrPort()
	stop := make(chan struct{})
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = snd.WriteToUDPAddrPort([]byte("t"), to)
			}
		}
	}()
	defer func() { close(stop); <-flooded }()
	read := make(chan error, 1)
	go func() {
		_, _, err := c.ReadFromAddrPort(make([]byte, 64))
		read <- err
	}()
	time.Sleep(50 * time.Millisecond) // the read is taking packets
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for the read while packets keep coming")
	}
	if err := <-read; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read: %v", err)
	}
}

// TestGroup checks that a batch is grouped by peer, peers in the order of their first packet
// and each one's packets in the order written, batch after batch (a peer's place in the last
// batch must not leak into the next).
func TestGroup(t *testing.T) {
	c := &Conn{}
	a, b, d := new(Peer), new(Peer), new(Peer)
	name := map[*Peer]string{a: "a", b: "b", d: "d"}
	bt := newBatch(8)
	for _, tc := range []struct {
		to   []*Peer
		want string
	}{
		{[]*Peer{a, b, a, d, b, a}, "a0 a2 a5 b1 b4 d3"},
		{[]*Peer{b, a, b}, "b0 b2 a1"},
		{[]*Peer{d}, "d0"},
		{[]*Peer{a, a, b, b, b, a, d, a}, "a0 a1 a5 a7 b2 b3 b4 d6"},
	} {
		bt.n = len(tc.to)
		for i, to := range tc.to {
			bt.pkts[i].to, bt.pkts[i].buf = to, []byte{byte(i)}
		}
		var got []string
		for _, p := range c.group(bt) {
			got = append(got, fmt.Sprintf("%s%d", name[p.to], p.buf[0]))
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%v grouped as %s, want %s", tc.to, g, tc.want)
		}
	}
}

// TestBatchTiming checks when batches leave: a batch that is not full an interval after its
// first packet (not before: packets written within it leave together), a full one at once,
// and after a full one, the next batch again an interval after its first packet.
func TestBatchTiming(t *testing.T) {
	const interval = 150 * time.Millisecond
	tx := listen(t, "udp4", "127.0.0.1:0")
	c := New(tx, 4, interval)
	defer c.Close()
	rx := listen(t, "udp4", "127.0.0.1:0")
	to := rx.LocalAddr()
	write := func(seqs ...uint32) time.Time {
		t.Helper()
		for _, seq := range seqs {
			if _, err := c.WriteTo(numbered(seq, 200), to); err != nil {
				t.Fatal(err)
			}
		}
		return time.Now()
	}
	// arrives returns how long after since the packets seqs came, in order.
	arrives := func(since time.Time, seqs ...uint32) time.Duration {
		t.Helper()
		if got := receive(t, rx, len(seqs)); !slices.Equal(got, seqs) {
			t.Fatalf("got %v, want %v", got, seqs)
		}
		return time.Since(since)
	}
	for round := range 2 {
		start := write(1)
		time.Sleep(interval / 3)
		write(2)
		if took := arrives(start, 1, 2); took < interval*9/10 {
			t.Fatalf("round %d: a batch of 2 left %v after its first packet, before the interval %v", round, took, interval)
		}
		// A full batch leaves without waiting for the interval.
		if took := arrives(write(3, 4, 5, 6), 3, 4, 5, 6); took > interval/2 {
			t.Fatalf("round %d: a full batch left after %v", round, took)
		}
	}
}
