package udpbatch

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestKernelRefuses: a segmented datagram the kernel refuses (a socket that sends without UDP
// checksums cannot be segmented: EINVAL) is sent again packet by packet, and its address gets
// no segmented datagram for a while.
func TestKernelRefuses(t *testing.T) {
	tx := listen(t, "udp4", "127.0.0.1:0")
	rc, err := tx.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_NO_CHECK, 1)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	c := New(tx, 64, time.Millisecond)
	defer c.Close()
	if !c.Segmenting() {
		t.Fatal("no segmentation here")
	}
	rx := listen(t, "udp4", "127.0.0.1:0")
	for range 3 {
		exchange(t, c, rx, nil, 2)
	}
	s := waitStats(t, c, func(s Stats) bool { return s.Datagrams == s.Packets })
	if s.Failed != 0 || s.Segmented != 0 {
		t.Fatalf("stats %+v; want every packet sent alone", s)
	}
}

// TestRefusalPerAddress: a refusal for one address (here port 0, which the kernel refuses
// outright) does not stop the segmentation of what goes to the others.
func TestRefusalPerAddress(t *testing.T) {
	tx := listen(t, "udp4", "127.0.0.1:0")
	c := New(tx, 64, time.Millisecond)
	defer c.Close()
	rx := listen(t, "udp4", "127.0.0.1:0")
	bad := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0}
	sendFramesTo(t, c, bad, 1)
	before := waitStats(t, c, func(s Stats) bool { return s.Failed == uint64(len(frame())) })
	sent := exchange(t, c, rx, nil, 20)
	after := waitStats(t, c, func(s Stats) bool { return s.Segmented-before.Segmented >= uint64(len(sent))/2 })
	t.Logf("before %+v after %+v", before, after)
}
