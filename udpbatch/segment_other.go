//go:build !linux

package udpbatch

import "net"

// segmentCmsgSpace is 0: segmentation is Linux's.
const segmentCmsgSpace = 0

func segmentationSupported(*net.UDPConn) bool { return false }

func putSegmentSize(b []byte, _ int) []byte { return b }
