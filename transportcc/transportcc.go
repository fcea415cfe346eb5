// Package transportcc is transport-wide congestion control
// (draft-holmer-rmcat-transport-wide-cc-extensions-01), both sides of it. The receiving side
// notes when each RTP packet that carries a transport-wide sequence number arrives, and
// reports the arrivals to the sender in RTCP feedback at a fixed interval; the sending side,
// Estimator (estimator.go), turns that feedback into a bandwidth estimate.
//
// The receiving side replaces pion's twcc.SenderInterceptor, with the same feedback (built by pion's
// twcc.Recorder): that interceptor hands every packet received to its own goroutine over an
// unbuffered channel, so each packet read costs a goroutine switch, and parses the whole RTP
// header into a new map of attributes. Here the reading goroutine records the arrival under a
// mutex, from the header extension read in place (docs/perf.md). The server runs it on the
// connections it receives media on, the load tool on its subscribers'.
package transportcc

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Interval is how often feedback is sent, as browsers and pion do.
const Interval = 100 * time.Millisecond

// Configure registers transport-wide congestion control feedback for audio and video in m,
// and the interceptor that sends it in r, as webrtc.ConfigureTWCCSender does. It must be
// called after the codecs are registered.
func Configure(m *webrtc.MediaEngine, r *interceptor.Registry) error {
	return ConfigureWith(m, r, Factory{Interval: Interval})
}

// ConfigureWith is Configure with the interceptors made by f.
func ConfigureWith(m *webrtc.MediaEngine, r *interceptor.Registry, f Factory) error {
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, kind)
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, kind); err != nil {
			return err
		}
	}
	r.Add(f)
	return nil
}

// Factory makes an Interceptor per peer connection.
type Factory struct {
	// How often feedback is sent; 0: never by the interceptor, whose owner builds it at its
	// own pace (Feedback) and sends it with what else it sends the peer.
	Interval time.Duration
	// OnNew, if set, is given each interceptor with its peer connection's ID, for a reader
	// that takes packets past pion's interceptors and records them with Arrived.
	OnNew func(id string, i *Interceptor)
}

// NewInterceptor implements interceptor.Factory.
func (f Factory) NewInterceptor(id string) (interceptor.Interceptor, error) {
	i := &Interceptor{interval: f.Interval, start: time.Now(), closed: make(chan struct{})}
	if f.OnNew != nil {
		f.OnNew(id, i)
	}
	return i, nil
}

// Interceptor records the arrivals on one peer connection and sends their feedback.
type Interceptor struct {
	interceptor.NoOp

	interval time.Duration
	start    time.Time // arrival times are microseconds since

	mu  sync.Mutex
	rec *twcc.Recorder // nil until the RTCP writer is bound

	closed    chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// BindRTCPWriter implements interceptor.Interceptor: it starts sending feedback on w.
func (i *Interceptor) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	i.mu.Lock()
	defer i.mu.Unlock()
	select {
	case <-i.closed:
		return w
	default:
	}
	i.rec = twcc.NewRecorder(rand.Uint32())
	if i.interval > 0 {
		i.wg.Add(1)
		go i.loop(w)
	}
	return w
}

// Feedback returns the feedback of what arrived since it was last built (none before the
// RTCP writer is bound, or if nothing arrived), for an interceptor made with no interval.
func (i *Interceptor) Feedback() []rtcp.Packet {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.rec == nil {
		return nil
	}
	return i.rec.BuildFeedbackPacket()
}

// loop sends the feedback of what arrived, every interval, until Close.
func (i *Interceptor) loop(w interceptor.RTCPWriter) {
	defer i.wg.Done()
	t := time.NewTicker(i.interval)
	defer t.Stop()
	for {
		select {
		case <-i.closed:
			return
		case <-t.C:
		}
		i.mu.Lock()
		pkts := i.rec.BuildFeedbackPacket()
		i.mu.Unlock()
		if len(pkts) > 0 {
			// An error is the connection closing: Close follows.
			_, _ = w.Write(pkts, nil)
		}
	}
}

// BindRemoteStream implements interceptor.Interceptor: it records the arrival of each packet
// of the stream that carries a transport-wide sequence number.
func (i *Interceptor) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.TransportCCURI {
			id = uint8(e.ID)
		}
	}
	if id == 0 {
		return reader
	}
	ssrc := info.SSRC
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := reader.Read(b, a)
		if err != nil {
			return n, a, err
		}
		i.Arrived(ssrc, b[:n], id)
		return n, a, nil
	})
}

// Arrived records that the RTP packet b of the stream ssrc arrived now, if it carries a
// transport-wide sequence number in its header extension element id. The streams pion reads
// are recorded by the interceptor itself; a reader that takes packets past pion's
// interceptors calls it for them.
func (i *Interceptor) Arrived(ssrc uint32, b []byte, id uint8) {
	seq, ok := Sequence(b, id)
	if !ok {
		return
	}
	at := time.Since(i.start).Microseconds()
	i.mu.Lock()
	if i.rec != nil {
		i.rec.Record(ssrc, seq, at)
	}
	i.mu.Unlock()
}

// Close implements interceptor.Interceptor: it stops the feedback.
func (i *Interceptor) Close() error {
	i.closeOnce.Do(func() {
		i.mu.Lock()
		close(i.closed)
		i.mu.Unlock()
	})
	i.wg.Wait()
	return nil
}

// Sequence returns the transport-wide sequence number of the RTP packet b, carried in its
// header extension element id (RFC 8285, one-byte or two-byte form); false if b has none. It
// reads the header as pion's rtp.Header.Unmarshal does, without allocating: a malformed
// extension block reads as none, and the first element with id counts.
func Sequence(b []byte, id uint8) (uint16, bool) {
	if len(b) < 12 || b[0]&0x10 == 0 || id == 0 {
		return 0, false
	}
	off := 12 + 4*int(b[0]&0x0f) // after the CSRCs
	if len(b) < off+4 {
		return 0, false
	}
	profile := binary.BigEndian.Uint16(b[off:])
	end := off + 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	off += 4
	oneByte := profile == 0xbede
	if len(b) < end || !oneByte && profile != 0x1000 {
		return 0, false
	}
	var seq uint16
	found := false
	for off < end {
		if b[off] == 0 { // padding
			off++
			continue
		}
		var eid uint8
		var size int
		if oneByte {
			eid, size = b[off]>>4, int(b[off]&0x0f)+1
			off++
			if eid == 15 || eid == 0 { // reserved, or padding with a length: the rest is not read
				break
			}
		} else {
			eid = b[off]
			off++
			if off >= end {
				return 0, false
			}
			size = int(b[off])
			off++
		}
		if off+size > end {
			return 0, false
		}
		if eid == id && !found {
			if size < 2 {
				return 0, false
			}
			seq, found = binary.BigEndian.Uint16(b[off:]), true
		}
		off += size
	}
	return seq, found
}
