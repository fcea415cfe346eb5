//go:build unix

package signaling

import (
	"net"
	"syscall"
)

// socketBuffers returns the receive and send buffer sizes the kernel gave c, in bytes; 0 when
// unknown. Linux reports twice what it grants (the other half is its bookkeeping), capped
// by net.core.rmem_max and wmem_max.
func socketBuffers(c *net.UDPConn) (read, write int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, 0
	}
	_ = rc.Control(func(fd uintptr) {
		read, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		write, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
	})
	return read, write
}
