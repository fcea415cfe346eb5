package udpbatch

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// rawReads is true where the reader reads with its own recvfrom (readRun), and so knows when
// the socket has nothing more to read.
const rawReads = true

// reader is the state of the socket's reads with its own recvfrom; the reader's alone (Conn's
// rmu). The function given to the raw connection is made once, so that a read allocates
// nothing.
type reader struct {
	rc    syscall.RawConn
	fn    func(fd uintptr) bool
	buf   []byte
	n     int
	from  netip.AddrPort
	errno syscall.Errno
	taken int // packets the intercept took since the last flush
	sa    syscall.RawSockaddrAny
	salen uint32
	zones map[uint32]string // IPv6 scope IDs' interface names
}

func (c *Conn) initReader() {
	rc, err := c.UDPConn.SyscallConn()
	if err != nil {
		return
	}
	c.r = &reader{rc: rc}
	c.r.fn = c.readRun
}

// readRaw reads into b the first packet that the intercept does not take. Between packets it
// calls the flush hook when the socket has nothing more to read, before waiting, and after
// every flushEvery packets taken.
func (c *Conn) readRaw(b []byte) (int, netip.AddrPort, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	r := c.r
	r.buf, r.n, r.errno = b, 0, 0
	err := r.rc.Read(r.fn)
	r.buf = nil
	if err != nil {
		c.flushTaken()
		return 0, netip.AddrPort{}, err
	}
	if r.errno == syscall.EBADF && c.closing.Load() {
		return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: net.ErrClosed}
	}
	if r.errno != 0 {
		c.flushTaken()
		return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(),
			Err: os.NewSyscallError("recvfrom", r.errno)}
	}
	return r.n, r.from, nil
}

// readRun is given to the raw connection's Read: it reads packets until one is not taken by
// the intercept (true), or the socket has none (false: Read waits and calls it again). The
// recvfrom on the non-blocking socket is made raw, as the flusher's sendmmsg (writeBatch).
func (c *Conn) readRun(fd uintptr) bool {
	r := c.r
	for {
		r.salen = syscall.SizeofSockaddrAny
		n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(unsafe.SliceData(r.buf))),
			uintptr(len(r.buf)), syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(&r.sa)), uintptr(unsafe.Pointer(&r.salen)))
		switch errno {
		case 0:
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			c.flushTaken()
			return false
		default:
			r.errno = errno
			return true
		}
		r.n, r.from = int(n), r.addr()
		if !r.from.IsValid() || !c.intercept(r.buf[:r.n], r.from) {
			c.flushTaken() // the run ends with a packet for the reader
			return true
		}
		if r.taken++; r.taken >= flushEvery {
			c.flushTaken()
		}
		if c.closing.Load() { // the socket stays open while this runs: Close waits for it
			c.flushTaken()
			r.errno = syscall.EBADF
			return true
		}
	}
}

// flushTaken calls the flush hook if the intercept took packets since it was last called.
func (c *Conn) flushTaken() {
	if c.r.taken > 0 {
		c.r.taken = 0
		if c.runDone != nil {
			c.runDone()
		}
	}
}

// addr returns the address recvfrom gave.
func (r *reader) addr() netip.AddrPort {
	switch r.sa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&r.sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), port(&sa.Port))
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&r.sa))
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			a = a.WithZone(r.zone(sa.Scope_id))
		}
		return netip.AddrPortFrom(a, port(&sa.Port))
	}
	return netip.AddrPort{}
}

// port reads a port in network byte order.
func port(p *uint16) uint16 { return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(p))[:]) }

// zone returns the name of the interface of an IPv6 scope ID, as the net package gives it (the
// number if the interface is gone).
func (r *reader) zone(id uint32) string {
	if z, ok := r.zones[id]; ok {
		return z
	}
	z := strconv.FormatUint(uint64(id), 10)
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		z = ifi.Name
	}
	if r.zones == nil || len(r.zones) >= 64 {
		r.zones = map[uint32]string{}
	}
	r.zones[id] = z
	return z
}
