package udpbatch

import (
	"encoding/binary"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// segmentCmsgSpace is the room of the control message that gives a datagram's segment size.
var segmentCmsgSpace = unix.CmsgSpace(2)

// segmentationSupported reports whether the kernel segments UDP datagrams for conn (the
// UDP_SEGMENT socket option exists since Linux 4.18).
func segmentationSupported(conn *net.UDPConn) bool {
	rc, err := conn.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		_, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT)
	}); err != nil {
		return false
	}
	return serr == nil
}

// putSegmentSize writes into b the control message that asks the kernel to cut a datagram
// into segments of size bytes, and returns it.
func putSegmentSize(b []byte, size int) []byte {
	b = b[:segmentCmsgSpace]
	clear(b)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0])) // b is 8-byte aligned: a multiple of CmsgSpace into a new slice
	h.Level = unix.IPPROTO_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(b[unix.CmsgLen(0):], uint16(size))
	return b
}
