//go:build !unix

package signaling

import "net"

// socketBuffers returns 0, 0: the sizes are not known on this platform.
func socketBuffers(*net.UDPConn) (read, write int) { return 0, 0 }
