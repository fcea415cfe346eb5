// Package udpbatch is a UDP socket whose writes go out in batches: the packets written within
// a millisecond of the first (or until a batch is full) leave in one sendmmsg system call,
// and each run of packets to one address of one size leaves as a single datagram that the
// kernel cuts into the packets (UDP generic segmentation offload, Linux 4.18 and later), so
// the kernel's send path is crossed once per run instead of once per packet.
//
// An SFU writes the packets of a video frame (five or six of one size and a shorter last one)
// to each subscriber within microseconds, so most of its packets are in such runs. On this
// project's loopback benchmarks the kernel spends about half as much per packet sent that way
// (docs/perf.md). On Linux the batch leaves through the Conn's own allocation-free sendmmsg,
// made outside the Go scheduler's accounting of system calls (writeBatch). Writes are copied
// (or handed over, GiveTo) and return at once; the order of the packets to one
// address is kept, the order between addresses is not. An idle socket costs nothing: the
// flusher waits for the first packet of a batch.
//
// Reads go straight to the socket. An intercept (SetIntercept) sees each packet first, in the
// reader's goroutine, and is told when a run of packets it took ends (on Linux the reader reads
// with its own allocation-free recvfrom, so it knows when the socket has none left), so that
// the server wakes each subscriber's writer once per burst of packets rather than per packet.
//
// It replaces pion's udp.BatchConn under the server's ICE UDP mux: that batches the system
// calls but sends each packet on its own, wakes every millisecond when idle, and hides the
// socket's allocation-free netip.AddrPort reads and writes from the mux.
package udpbatch

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
)

// Limits of one segmented datagram. The kernel takes up to 64 segments (128 since Linux 6.x)
// and a datagram of up to 64 KiB less the headers. Each segment must fit the path's MTU with
// its headers, or the kernel refuses the whole datagram: larger packets go alone (and are
// fragmented as before). After a refusal, the address gets no segmented datagram for gsoPause.
const (
	maxSegments   = 64
	maxGSOBytes   = 65000
	maxSegmentLen = 1400
	gsoPause      = 30 * time.Second
)

// Conn is a UDP socket that batches its writes. It implements net.PacketConn and pion ICE's
// AddrPortReaderWriter.
type Conn struct {
	*net.UDPConn
	bw       *ipv4.PacketConn
	size     int
	interval time.Duration
	gso      bool // the kernel cuts segmented datagrams

	mu     sync.Mutex
	room   sync.Cond // signalled when the batch being filled is taken away
	filled *batch    // being filled by writers
	spare  *batch    // empty, for the next swap; nil while the flusher sends it
	closed bool

	kick chan struct{} // a batch was started or filled
	quit chan struct{}
	done chan struct{}

	pmu   sync.Mutex
	peers map[netip.AddrPort]*Peer // the addresses written to
	gen   uint64                   // the flusher's: the number of the batch it groups

	intercept func(b []byte, from netip.AddrPort) bool // sees reads first; set before them
	runDone   func()                                   // called when a run of packets taken ends

	rmu     sync.Mutex  // serialises reads with the reader's state
	r       *reader     // reads with the socket's own recvfrom (Linux); nil elsewhere
	s       *sender     // the flusher's: writes with its own sendmmsg (Linux); nil elsewhere
	closing atomic.Bool // Close was called: a read taking packets stops

	packets, datagrams, segmented, failed atomic.Uint64
}

// Stats counts what a Conn sent.
type Stats struct {
	Packets   uint64 // packets written
	Datagrams uint64 // datagrams given to the kernel: one per packet, or one per segmented run
	Segmented uint64 // packets that left in a segmented datagram
	Failed    uint64 // packets the kernel refused (counted, not retried)
}

type packet struct {
	buf  []byte
	to   *Peer
	next int32 // the flusher's: the next packet of the batch to the same peer (-1: none)
}

// batch is a set of packets and the scratch space to send them; its buffers are reused.
type batch struct {
	pkts    []packet
	n       int
	grouped []packet // the packets grouped by peer, each peer's in the order written
	peers   []*Peer  // the peers of the batch, in the order of their first packet
	msgs    []ipv4.Message
	to      []*Peer // each message's address
	iov     [][]byte
	oob     []byte
}

func newBatch(size int) *batch {
	b := &batch{pkts: make([]packet, size), grouped: make([]packet, 0, size), msgs: make([]ipv4.Message, 0, size),
		to: make([]*Peer, 0, size), iov: make([][]byte, size), oob: make([]byte, size*segmentCmsgSpace)}
	for i := range b.pkts {
		b.pkts[i].buf = make([]byte, 0, BufferSize)
	}
	return b
}

// New wraps conn: batches of up to size packets leave when full, or interval after their first
// packet. Conn takes over conn; closing it closes conn.
func New(conn *net.UDPConn, size int, interval time.Duration) *Conn {
	c := &Conn{UDPConn: conn, bw: ipv4.NewPacketConn(conn), size: size, interval: interval,
		filled: newBatch(size), spare: newBatch(size),
		kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		peers: map[netip.AddrPort]*Peer{}}
	c.room.L = &c.mu
	c.gso = segmentationSupported(conn)
	c.initReader()
	c.initSender()
	go c.flusher()
	return c
}

// Segmenting reports whether the kernel segments datagrams for this socket.
func (c *Conn) Segmenting() bool { return c.gso }

// Stats returns what was sent so far.
func (c *Conn) Stats() Stats {
	return Stats{Packets: c.packets.Load(), Datagrams: c.datagrams.Load(),
		Segmented: c.segmented.Load(), Failed: c.failed.Load()}
}

// WriteTo queues a copy of b for addr, which must be a *net.UDPAddr.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: net.InvalidAddrError("not a UDP address")}
	}
	return c.WriteToAddrPort(b, ua.AddrPort())
}

// WriteToAddrPort queues a copy of b for addr. It waits only when a full batch is waiting to
// be sent behind another being sent.
func (c *Conn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return c.copyTo(b, c.Peer(addr))
}

// copyTo queues a copy of b for to.
func (c *Conn) copyTo(b []byte, to *Peer) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	p, err := c.slot(to)
	if err != nil {
		return 0, err
	}
	p.buf = append(p.buf[:0], b...)
	c.filledSlot()
	return len(b), nil
}

// BufferSize is the capacity of the Conn's packet buffers, which GiveTo takes and gives.
const BufferSize = 2048

// GiveTo queues b for to (taken with Peer) as WriteToAddrPort does, without copying it: the
// Conn takes b, and gives in exchange an empty buffer of capacity BufferSize or more, which it
// is done with (sent). The caller must not touch b afterwards. b of a smaller capacity is
// copied, and given back.
func (c *Conn) GiveTo(b []byte, to *Peer) ([]byte, error) {
	if cap(b) < BufferSize {
		_, err := c.copyTo(b, to)
		return b[:0], err
	}
	if len(b) == 0 {
		return b, nil
	}
	p, err := c.slot(to)
	if err != nil {
		return b[:0], err
	}
	spare := p.buf[:0]
	p.buf = b
	c.filledSlot()
	return spare, nil
}

// slot returns the next packet of the batch being filled, for to, with c.mu held: the caller
// fills its buffer, then calls filledSlot.
func (c *Conn) slot(to *Peer) (*packet, error) {
	c.mu.Lock()
	for !c.closed && c.filled.n == c.size {
		c.room.Wait()
	}
	if c.closed {
		c.mu.Unlock()
		return nil, net.ErrClosed
	}
	p := &c.filled.pkts[c.filled.n]
	p.to = to
	return p, nil
}

// filledSlot counts the packet slot returned, releases c.mu and tells the flusher of a batch
// started or full.
func (c *Conn) filledSlot() {
	c.filled.n++
	first, full := c.filled.n == 1, c.filled.n == c.size
	c.mu.Unlock()
	if first || full {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// SetIntercept makes f see each packet read from the socket before the reader does, in the
// reader's goroutine; a packet f takes (returns true for) is not returned to the reader. The
// server's SRTP input takes its publishers' media this way, before pion's ICE mux.
//
// runDone, if not nil, is called in the reader's goroutine when a run of packets f took ends:
// when the socket has nothing more to read (before the read waits for more; on Linux, where
// the reader reads with its own recvfrom and so knows), when a packet f does not take comes,
// after flushEvery packets taken in a row, and elsewhere after each one. f can leave work to runDone that is cheaper done once for
// several packets: the server wakes each subscriber's writer once for the packets of a burst
// (a video frame comes as several packets at once) rather than once for each.
//
// Call it before the first read.
func (c *Conn) SetIntercept(f func(b []byte, from netip.AddrPort) bool, runDone func()) {
	c.intercept, c.runDone = f, runDone
}

// flushEvery is the most packets taken in a row before runDone is called, so that work left
// to it waits for at most that many packets on a socket that never runs dry.
const flushEvery = 16

// ReadFromAddrPort reads a packet from the socket that the intercept does not take.
func (c *Conn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	if c.intercept == nil {
		return c.UDPConn.ReadFromUDPAddrPort(b)
	}
	if rawReads && c.r != nil {
		return c.readRaw(b)
	}
	for {
		n, from, err := c.UDPConn.ReadFromUDPAddrPort(b)
		if err != nil || !c.intercept(b[:n], from) {
			return n, from, err
		}
		if c.runDone != nil {
			c.runDone()
		}
	}
}

// ReadFrom reads a packet from the socket that the intercept does not take.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// Close sends what is queued and closes the socket.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.closed = true
	c.room.Broadcast()
	c.mu.Unlock()
	c.closing.Store(true)
	close(c.quit)
	// What is queued goes out, unless the socket stays full that long.
	_ = c.UDPConn.SetWriteDeadline(time.Now().Add(time.Second))
	<-c.done
	return c.UDPConn.Close()
}

// flusher sends the batch being filled when it is full, and at the latest an interval after
// its first packet; an idle socket costs no wake-ups.
func (c *Conn) flusher() {
	defer close(c.done)
	t := time.NewTimer(c.interval)
	t.Stop()
	for {
		select {
		case <-c.kick: // a batch was started (or filled)
		case <-c.quit:
			c.flush()
			return
		}
		n := c.count()
		if n == 0 {
			// A batch's start, left queued while the flush loop below sent that batch: the
			// next packet kicks again. (Waiting here would take the next batch's start for
			// its filling and send it with one packet.)
			continue
		}
		if n < c.size {
			t.Reset(c.interval)
			select {
			case <-c.kick: // filled
			case <-t.C:
			case <-c.quit:
				c.flush()
				return
			}
			t.Stop()
		}
		// Keep sending while writers filled the next batch during the last send.
		for c.flush() {
		}
	}
}

// count returns how many packets the batch being filled holds.
func (c *Conn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.filled.n
}

// flush sends the batch being filled, if it holds anything, and reports whether the next one
// filled up meanwhile.
func (c *Conn) flush() bool {
	c.mu.Lock()
	b := c.filled
	if b.n == 0 {
		c.mu.Unlock()
		return false
	}
	c.filled, c.spare = c.spare, nil
	c.room.Broadcast()
	c.mu.Unlock()

	c.send(b)
	b.n = 0

	c.mu.Lock()
	c.spare = b
	full := c.filled.n == c.size
	c.mu.Unlock()
	return full
}

// send writes the batch: the packets grouped by address in the order written, each run of
// one size (and a shorter last one) to an address as one segmented datagram.
func (c *Conn) send(b *batch) {
	pkts := c.group(b)
	now := time.Now()
	b.msgs, b.to = b.msgs[:0], b.to[:0]
	for i := 0; i < len(pkts); {
		to := pkts[i].to
		j := i + 1
		if c.gso && now.After(to.plainUntil) {
			j = runEnd(pkts, i)
		}
		for k := i; k < j; k++ {
			b.iov[k] = pkts[k].buf
		}
		m := ipv4.Message{Buffers: b.iov[i:j], Addr: to.addr}
		if j-i > 1 {
			m.OOB = putSegmentSize(b.oob[i*segmentCmsgSpace:(i+1)*segmentCmsgSpace], len(pkts[i].buf))
		}
		b.msgs, b.to = append(b.msgs, m), append(b.to, to)
		i = j
	}
	c.packets.Add(uint64(len(pkts)))
	msgs, to := b.msgs, b.to
	for len(msgs) > 0 {
		n, err := c.writeBatch(msgs, to)
		n = max(n, 0) // x/net passes on sendmmsg's -1 when the first message fails
		c.datagrams.Add(uint64(n))
		for _, m := range msgs[:n] {
			if len(m.Buffers) > 1 {
				c.segmented.Add(uint64(len(m.Buffers)))
			}
		}
		msgs, to = msgs[n:], to[n:]
		if err == nil || len(msgs) == 0 {
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			c.failed.Add(uint64(countPackets(msgs)))
			return
		}
		// The first message left failed. A segmented one that the kernel may not segment on
		// that path is sent again packet by packet, and its address gets no segmented datagram
		// for gsoPause, so that one client's path does not cost the others theirs; any other
		// failure fails its packets as they are.
		m := msgs[0]
		if len(m.Buffers) > 1 && refusesSegments(err) {
			to[0].plainUntil = now.Add(gsoPause)
			c.sendEach(m)
		} else {
			c.failed.Add(uint64(len(m.Buffers)))
		}
		msgs, to = msgs[1:], to[1:]
	}
}

// refusesSegments reports whether err, from sending a segmented datagram, may be the kernel
// refusing to segment on that path: no checksum offload on the device (EIO), or a path MTU
// below the segment size (EMSGSIZE, EINVAL). Other errors (no buffer space, a firewall's
// refusal, an unreachable network) are not about segmentation: the packets would fail one by
// one too.
func refusesSegments(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EMSGSIZE) || errors.Is(err, syscall.EINVAL)
}

// sendEach writes the packets of m one datagram each.
func (c *Conn) sendEach(m ipv4.Message) {
	for _, buf := range m.Buffers {
		if _, err := c.UDPConn.WriteTo(buf, m.Addr); err != nil {
			c.failed.Add(1)
			continue
		}
		c.datagrams.Add(1)
	}
}

func countPackets(msgs []ipv4.Message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.Buffers)
	}
	return n
}

// group returns b's packets grouped by peer, the peers in the order of their first packet
// and each one's packets in the order written: a list per peer through the batch, linked as
// the packets are walked once (the peers know where their list ends), rather than a sort.
func (c *Conn) group(b *batch) []packet {
	c.gen++
	pkts := b.pkts[:b.n]
	b.peers = b.peers[:0]
	for i := range pkts {
		to := pkts[i].to
		pkts[i].next = -1
		if to.gen != c.gen {
			to.gen, to.first = c.gen, int32(i)
			b.peers = append(b.peers, to)
		} else {
			pkts[to.last].next = int32(i)
		}
		to.last = int32(i)
	}
	b.grouped = b.grouped[:0]
	for _, to := range b.peers {
		for i := to.first; i >= 0; i = pkts[i].next {
			b.grouped = append(b.grouped, pkts[i])
		}
	}
	clear(b.peers)
	return b.grouped
}

// runEnd returns the end of the run that starts at pkts[i]: the packets after it to the same
// address of the same size, and one shorter one to end it, within the kernel's limits and
// maxSegmentLen.
func runEnd(pkts []packet, i int) int {
	size := len(pkts[i].buf)
	total := size
	j := i + 1
	if size > maxSegmentLen {
		return j
	}
	for j < len(pkts) && j-i < maxSegments && pkts[j].to == pkts[i].to {
		n := len(pkts[j].buf)
		if n > size || total+n > maxGSOBytes {
			break
		}
		total += n
		j++
		if n < size {
			break
		}
	}
	return j
}

// Peer is an address the Conn writes to. A writer that sends to one address takes its Peer
// once and gives packets to it (GiveTo), so that the Conn looks no address up per packet.
type Peer struct {
	addr *net.UDPAddr // for x/net's sendmmsg and single writes, made once
	raw  rawAddr      // for the own sendmmsg (Linux), made once

	// The flusher's: no segmented datagram to it before plainUntil, after a refusal; and the
	// first and last of its packets in the batch numbered gen (group).
	plainUntil  time.Time
	gen         uint64
	first, last int32
}

// Peer returns the Peer of ap (IPv4-mapped addresses taken as IPv4). The Conn's set of peers
// is dropped when it grows large, so that departed peers do not accumulate; a Peer taken
// before stays good.
func (c *Conn) Peer(ap netip.AddrPort) *Peer {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if p, ok := c.peers[ap]; ok {
		return p
	}
	if len(c.peers) >= 4096 {
		clear(c.peers)
	}
	p := &Peer{addr: net.UDPAddrFromAddrPort(ap), raw: c.rawAddr(ap)}
	c.peers[ap] = p
	return p
}
