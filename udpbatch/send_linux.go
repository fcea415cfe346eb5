package udpbatch

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// rawAddr is an address as sendmmsg takes it, made once per peer.
type rawAddr struct {
	sa unix.RawSockaddrInet6 // or a RawSockaddrInet4 in its first bytes
	n  uint32
}

// makeRawAddr makes ap's sockaddr for a socket of family (an IPv4 address is given to an
// IPv6 socket as IPv4-mapped, as the net package gives it).
func makeRawAddr(ap netip.AddrPort, family int) rawAddr {
	var r rawAddr
	a := ap.Addr()
	if a.Is4() && family == unix.AF_INET {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&r.sa))
		sa.Family = unix.AF_INET
		sa.Addr = a.As4()
		putPort(&sa.Port, ap.Port())
		r.n = unix.SizeofSockaddrInet4
		return r
	}
	r.sa.Family = unix.AF_INET6
	r.sa.Addr = a.As16()
	putPort(&r.sa.Port, ap.Port())
	if z := a.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			r.sa.Scope_id = uint32(ifi.Index)
		} else if id, err := strconv.ParseUint(z, 10, 32); err == nil { // as the reader gives a gone interface's
			r.sa.Scope_id = uint32(id)
		}
	}
	r.n = unix.SizeofSockaddrInet6
	return r
}

// rawAddr returns ap's sockaddr for the socket (none without the own sendmmsg).
func (c *Conn) rawAddr(ap netip.AddrPort) rawAddr {
	if c.s == nil {
		return rawAddr{}
	}
	return makeRawAddr(ap, c.s.family)
}

// putPort writes a port in network byte order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

// sender is the flusher's state for its own sendmmsg: the message headers and their buffers'
// vectors, reused from batch to batch, and the function given to the raw connection, made
// once so that a send allocates nothing.
type sender struct {
	rc     syscall.RawConn
	family int // the socket's
	fn     func(fd uintptr) bool
	hdrs   []unix.Mmsghdr
	iovs   []unix.Iovec
	sent   int
	errno  syscall.Errno
}

func (c *Conn) initSender() {
	rc, err := c.UDPConn.SyscallConn()
	if err != nil {
		return
	}
	family := -1
	if err := rc.Control(func(fd uintptr) {
		if f, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN); err == nil {
			family = f
		}
	}); err != nil || family != unix.AF_INET && family != unix.AF_INET6 {
		return // x/net's WriteBatch then
	}
	c.s = &sender{rc: rc, family: family, hdrs: make([]unix.Mmsghdr, 0, c.size), iovs: make([]unix.Iovec, 0, c.size)}
	c.s.fn = c.s.sendmmsg
}

// writeBatch sends msgs (to[i] is msgs[i]'s peer) with one sendmmsg, as x/net's WriteBatch
// does: it returns how many left, and the error of the first that did not.
//
// The system call is made raw, outside the Go scheduler's accounting of system calls: a send
// on a non-blocking socket does not block, and a goroutine seen in a system call for more
// than 20 µs (a batch of segmented datagrams on loopback takes longer, the kernel delivering
// them as it sends) has its processor handed to another thread by the runtime's monitor,
// which wakes a thread and then parks one, per batch (docs/perf.md). MSG_DONTWAIT makes sure
// of it whatever the socket's mode. The price: a raw call is not preempted, so the goroutines
// waiting for this processor, and a collection's stop of the world, may wait for one batch's
// send (tens to a few hundred microseconds).
func (c *Conn) writeBatch(msgs []ipv4.Message, to []*Peer) (int, error) {
	s := c.s
	if s == nil {
		return c.bw.WriteBatch(msgs, 0)
	}
	s.hdrs, s.iovs = s.hdrs[:0], s.iovs[:0]
	for _, m := range msgs {
		for _, b := range m.Buffers {
			v := unix.Iovec{Base: unsafe.SliceData(b)}
			v.SetLen(len(b))
			s.iovs = append(s.iovs, v)
		}
	}
	k := 0
	for i, m := range msgs {
		var h unix.Mmsghdr
		ra := &to[i].raw
		h.Hdr.Name = (*byte)(unsafe.Pointer(&ra.sa))
		h.Hdr.Namelen = ra.n
		h.Hdr.Iov = &s.iovs[k]
		h.Hdr.SetIovlen(len(m.Buffers))
		k += len(m.Buffers)
		if len(m.OOB) > 0 {
			h.Hdr.Control = unsafe.SliceData(m.OOB)
			h.Hdr.SetControllen(len(m.OOB))
		}
		s.hdrs = append(s.hdrs, h)
	}
	s.sent, s.errno = 0, 0
	if err := s.rc.Write(s.fn); err != nil {
		return 0, &net.OpError{Op: "write", Net: "udp", Source: c.LocalAddr(), Err: err}
	}
	if s.errno != 0 {
		return 0, &net.OpError{Op: "write", Net: "udp", Source: c.LocalAddr(), Err: os.NewSyscallError("sendmmsg", s.errno)}
	}
	return s.sent, nil
}

// sendmmsg is given to the raw connection's Write: false (a full socket buffer) makes Write
// wait until the socket takes more and call it again.
func (s *sender) sendmmsg(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(unsafe.SliceData(s.hdrs))),
			uintptr(len(s.hdrs)), unix.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			s.sent = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			s.errno = errno
			return true
		}
	}
}
