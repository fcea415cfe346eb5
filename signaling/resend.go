package signaling

import (
	"sync"

	"github.com/pion/interceptor"
)

// resender gives a subscriber's writer the place in its connection's interceptor chain where
// pion's NACK responder sat: below the transport-wide sequence numbers and sender reports,
// above the bandwidth estimator and SRTP. A resend written there goes out as pion's responder
// sent it, with the transport-wide sequence number of the first sending, and does not count in
// the sender reports; the estimator sees it as that packet sent again. (Sent through the
// whole chain, resends took new sequence numbers and kept the estimate of a lossy link too
// high for simulcast adaptation, TestSimulcastAdaptation.) Nothing is done per packet sent: it
// only keeps each stream's writer.
type resender struct {
	interceptor.NoOp
	mu      sync.Mutex
	writers map[uint32]interceptor.RTPWriter
}

// writer returns the writer below the resender of the local stream ssrc, nil if none.
func (r *resender) writer(ssrc uint32) interceptor.RTPWriter {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writers[ssrc]
}

// BindLocalStream implements interceptor.Interceptor: it keeps the writer and returns it.
func (r *resender) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writers[info.SSRC] = w
	return w
}

// UnbindLocalStream implements interceptor.Interceptor.
func (r *resender) UnbindLocalStream(info *interceptor.StreamInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.writers, info.SSRC)
}

// resenders makes a resender for each peer connection and holds it until its peer takes it.
type resenders struct{ byConn[*resender] }

// NewInterceptor implements interceptor.Factory.
func (rs *resenders) NewInterceptor(id string) (interceptor.Interceptor, error) {
	r := &resender{writers: map[uint32]interceptor.RTPWriter{}}
	rs.put(id, r)
	return r, nil
}
