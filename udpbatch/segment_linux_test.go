package udpbatch

import (
	"net"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestKernelRefuses: a segmented datagram the kernel refuses (a socket that sends without UDP
// checksums cannot be segmented: EINVAL) is sent again packet by packet, and segmentation
// pauses.
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
	sent := sendFramesTo(t, c, rx.LocalAddr().(*net.UDPAddr), 2)
	if got := receive(t, rx, len(sent)); !slices.Equal(got, sent) {
		t.Fatalf("got %v, want %v", got, sent)
	}
	s := waitStats(t, c, func(s Stats) bool { return s.Datagrams == uint64(len(sent)) })
	if s.Failed != 0 || s.Segmented != 0 || !c.Paused() {
		t.Fatalf("stats %+v, paused %v; want every packet sent alone and segmentation paused", s, c.Paused())
	}
	// While paused, every packet still leaves, alone.
	sent = sendFramesTo(t, c, rx.LocalAddr().(*net.UDPAddr), 1)
	if got := receive(t, rx, len(sent)); !slices.Equal(got, sent) {
		t.Fatalf("got %v, want %v", got, sent)
	}
	if s2 := waitStats(t, c, func(s2 Stats) bool { return s2.Datagrams-s.Datagrams == uint64(len(sent)) }); s2.Segmented != 0 {
		t.Fatalf("stats %+v while paused", s2)
	}
}
