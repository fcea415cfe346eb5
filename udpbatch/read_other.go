//go:build !linux

package udpbatch

import "net/netip"

// rawReads is false: reads go through the net package, and the flush hook is called after
// each packet the intercept takes.
const rawReads = false

type reader struct{}

func (c *Conn) initReader() {}

func (c *Conn) readRaw([]byte) (int, netip.AddrPort, error) { panic("udpbatch: no raw reads here") }
