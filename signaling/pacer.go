package signaling

import (
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/rtp"
)

// pacer is the pacer of a connection's send-side bandwidth estimator (adapt.go): like
// gcc.NoOpPacer it sends each packet at once, but it finds the stream's writer without a lock
// and lends the estimator a pooled attributes map. gcc.NoOpPacer holds its lock across the
// whole write below it (SRTP, the ICE mux, the socket), so a subscriber's writer waited behind
// NACK resends to the same subscriber (seen in goroutine dumps under load, docs/perf.md); and
// the estimator made a new map for every packet sent (pion passes none from WriteRTP).
type pacer struct {
	mu      sync.Mutex // serialises AddStream
	writers atomic.Pointer[map[uint32]interceptor.RTPWriter]
}

var _ gcc.Pacer = (*pacer)(nil)

// attributesPool holds empty attribute maps. The estimator sets one key in the map it is given
// and the writers below it keep no reference, so a map is cleared and reused once the write
// returns.
var attributesPool = sync.Pool{New: func() any { return interceptor.Attributes{} }}

func newPacer() *pacer {
	p := &pacer{}
	p.writers.Store(&map[uint32]interceptor.RTPWriter{})
	return p
}

// AddStream implements gcc.Pacer: packets of ssrc go to w.
func (p *pacer) AddStream(ssrc uint32, w interceptor.RTPWriter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := maps.Clone(*p.writers.Load())
	next[ssrc] = w
	p.writers.Store(&next)
}

// Write implements interceptor.RTPWriter: it writes the packet to its stream's writer at once.
func (p *pacer) Write(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
	w, ok := (*p.writers.Load())[h.SSRC]
	if !ok {
		return 0, fmt.Errorf("%w: %d", gcc.ErrUnknownStream, h.SSRC)
	}
	if a != nil {
		return w.Write(h, payload, a)
	}
	a = attributesPool.Get().(interceptor.Attributes)
	n, err := w.Write(h, payload, a)
	clear(a)
	attributesPool.Put(a)
	return n, err
}

// SetTargetBitrate implements gcc.Pacer: nothing is paced.
func (p *pacer) SetTargetBitrate(int) {}

// Close implements gcc.Pacer.
func (p *pacer) Close() error { return nil }
