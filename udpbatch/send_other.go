//go:build !linux

package udpbatch

import (
	"net/netip"

	"golang.org/x/net/ipv4"
)

// rawAddr is empty: writes go through x/net's WriteBatch.
type rawAddr struct{}

func (c *Conn) rawAddr(netip.AddrPort) rawAddr { return rawAddr{} }

type sender struct{}

func (c *Conn) initSender() {}

// writeBatch sends msgs through x/net, which sends them one by one here.
func (c *Conn) writeBatch(msgs []ipv4.Message, _ []*Peer) (int, error) {
	return c.bw.WriteBatch(msgs, 0)
}
