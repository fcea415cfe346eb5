package signaling

import (
	"encoding/binary"
	"errors"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chuting/chuting/keyframe"
	"github.com/chuting/chuting/srtpgcm"
	"github.com/chuting/chuting/transportcc"
	"github.com/chuting/chuting/udpbatch"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Forwarding is the hot path. A publisher's track is read by one goroutine (upTrack.run) into
// a pooled packet; the packet is queued, without copying, to the writer goroutine of each
// subscriber allowed to receive it (one per subscriber), and returned to the pool when the
// last writer is done with it. Nothing on that path allocates, holds a lock across a write,
// or waits for a subscriber: a full queue drops the packet and counts it, so a slow
// subscriber never stalls the others (the drop shows as loss, which NACK and PLI repair).
//
// Who may receive a track is decided per packet from atomics that the room sets under its
// lock, so that a participant moved to the waiting room stops receiving at once, before the
// renegotiation that takes the tracks out of its connection (#17).

// mtu is the largest RTP packet read from a publisher.
const mtu = 1500

// packet is one RTP packet from a publisher, shared by the writers it is queued to.
type packet struct {
	buf     [mtu]byte
	hdr     rtp.Header
	payload []byte
	src     *upTrack // the track (the simulcast layer) it came on
	at      int64    // when it reached the server, UnixNano
	refs    atomic.Int32
}

var packets = sync.Pool{New: func() any { return new(packet) }}

// release drops one reference, and returns p to the pool with the last one.
func (p *packet) release() {
	if p.refs.Add(-1) == 0 {
		packets.Put(p)
	}
}

// upTrack is a track a participant publishes.
type upTrack struct {
	id     string // unique in the room; the track's ID towards subscribers
	kind   webrtc.RTPCodecType
	source string
	codec  webrtc.RTPCodecCapability
	owner  *participant
	remote *webrtc.TrackRemote
	pc     *webrtc.PeerConnection // the publisher's, for keyframe requests
	ssrc   uint32
	levels uint8 // the audio level extension's ID, 0 if not negotiated
	m      *metrics
	rid    string  // the simulcast layer's RTP stream ID; "" for a single-layer track
	group  *layers // the simulcast group, nil for a single-layer track
	vp8    bool    // the codec is VP8: a simulcast layer's picture IDs are rewritten (vp8.go)
	h264   bool    // the codec is H.264

	// An H.264 simulcast layer's parameter sets (h264Switch); its reader's only: the
	// timestamp of the last SPS, and whether the last IDR came with one.
	spsAt           uint32
	spsSeen, keySPS bool

	received atomic.Int64 // bytes since the janitor last measured
	bps      atomic.Int64 // the smoothed bitrate it arrives at, bits/s

	open   atomic.Bool // audio is forwarded (not muted; holding the floor if the role needs it)
	public atomic.Bool // the owner is admitted: forwarded to all, not only judge and clerk
	shown  atomic.Bool // a screen track that is the current exhibit (#24)

	mu    sync.Mutex                   // serialises changes to downs
	downs atomic.Pointer[[]*downTrack] // read per packet without a lock

	// What has arrived, for the publisher's NACKs and receiver reports (receive.go), and the
	// transport-wide sequence number's extension ID (0 if not negotiated).
	stats *recvStats
	twcc  uint8
	// readMu serialises read: the track is read through pion (run) until the server's SRTP
	// input takes it (srtpin.go), and a packet pion holds may still come after that.
	readMu sync.Mutex
	// The input's SRTP stream for the track (srtpIn.decrypt, under the input's lock).
	opener *srtpgcm.Inbound

	lastPLI    atomic.Int64 // UnixNano of the last keyframe request
	keyPending atomic.Bool  // a request came within keyframeInterval: sent when it ends

	// Active-speaker window: the sum of (127 - level) and the count of audio packets
	// forwarded since the room last looked (RFC 6464 levels are -dBov, 0 loudest).
	loudness atomic.Int64
	samples  atomic.Int64
}

func (u *upTrack) info() TrackInfo {
	return TrackInfo{ID: u.id, Kind: u.kind.String(), Source: u.source}
}

func (u *upTrack) addDown(d *downTrack) {
	u.mu.Lock()
	defer u.mu.Unlock()
	appendShared(&u.downs, d)
}

func (u *upTrack) removeDown(d *downTrack) {
	u.mu.Lock()
	defer u.mu.Unlock()
	removeShared(&u.downs, d)
}

// appendShared stores in s a copy of the slice it holds with x appended, so that readers that
// loaded the old slice, without a lock, keep it unchanged. Callers serialise their changes.
func appendShared[T any](s *atomic.Pointer[[]T], x T) {
	var next []T
	if cur := s.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, x)
	s.Store(&next)
}

// removeShared stores in s a copy of the slice it holds without x, as appendShared does.
func removeShared[T comparable](s *atomic.Pointer[[]T], x T) {
	cur := s.Load()
	if cur == nil {
		return
	}
	next := slices.DeleteFunc(slices.Clone(*cur), func(y T) bool { return y == x })
	s.Store(&next)
}

// changeShared stores in s a copy of the map it holds, changed by f, so that readers that
// loaded the old map, without a lock, keep it unchanged. Callers serialise their changes.
func changeShared[K comparable, V any](s *atomic.Pointer[map[K]V], f func(map[K]V)) {
	next := map[K]V{}
	if cur := s.Load(); cur != nil {
		next = maps.Clone(*cur)
	}
	f(next)
	s.Store(&next)
}

// bySSRC is a connection's tracks by SSRC, which the socket's reader looks up per packet
// without a lock; changes copy the map (changeShared), one at a time.
type bySSRC[V comparable] struct {
	mu sync.Mutex
	p  atomic.Pointer[map[uint32]V]
}

// load returns the map (nil before the first set), not to be changed.
func (t *bySSRC[V]) load() map[uint32]V {
	if m := t.p.Load(); m != nil {
		return *m
	}
	return nil
}

// set makes v ssrc's.
func (t *bySSRC[V]) set(ssrc uint32, v V) {
	t.mu.Lock()
	defer t.mu.Unlock()
	changeShared(&t.p, func(m map[uint32]V) { m[ssrc] = v })
}

// remove forgets ssrc if it is v's.
func (t *bySSRC[V]) remove(ssrc uint32, v V) {
	t.mu.Lock()
	defer t.mu.Unlock()
	changeShared(&t.p, func(m map[uint32]V) {
		if m[ssrc] == v {
			delete(m, ssrc)
		}
	})
}

// keyframeInterval is the least time between two keyframe requests to one publisher, so that
// many subscribers joining, or a burst of their PLIs, cost one keyframe.
const keyframeInterval = 500 * time.Millisecond

// requestKeyframe asks the publisher for a keyframe (PLI), at most once per keyframeInterval.
// A request within the interval is not lost: one is sent when the interval ends, so that a
// subscriber whose connection came up just after another's still starts on a keyframe.
func (u *upTrack) requestKeyframe() {
	if u.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := time.Now().UnixNano()
	last := u.lastPLI.Load()
	if now-last >= int64(keyframeInterval) && u.lastPLI.CompareAndSwap(last, now) {
		if err := u.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: u.ssrc}}); err == nil {
			u.m.plis.Inc()
		}
		return
	}
	if u.keyPending.CompareAndSwap(false, true) {
		time.AfterFunc(time.Duration(last+int64(keyframeInterval)-now), func() {
			u.keyPending.Store(false)
			u.requestKeyframe()
		})
	}
}

// fanout returns the subscribers of u's packets: a simulcast layer's are its group's.
func (u *upTrack) fanout() *[]*downTrack {
	if u.group != nil {
		return u.group.primary.downs.Load()
	}
	return u.downs.Load()
}

// run reads the track until it ends and fans each packet out.
func (u *upTrack) run() {
	for {
		p := packets.Get().(*packet)
		n, _, err := u.remote.Read(p.buf[:])
		if err != nil {
			packets.Put(p)
			return
		}
		u.read(p, n, nil)
	}
}

// read forwards the packet of n bytes in p, read through pion or by the server's SRTP input
// (which wakes the writers with wk, see forward).
func (u *upTrack) read(p *packet, n int, wk *wakes) {
	u.readMu.Lock()
	u.forward(p, n, wk)
	u.readMu.Unlock()
}

// forward parses the n bytes in p.buf and queues p to every subscriber allowed to receive it.
// It takes ownership of p. Writers that wait are woken at once, or with wk when the caller
// flushes it (the end of a run of packets read from a socket).
func (u *upTrack) forward(p *packet, n int, wk *wakes) {
	hl, err := p.hdr.Unmarshal(p.buf[:n])
	if err != nil {
		packets.Put(p)
		return
	}
	now := time.Now()
	p.at = now.UnixNano()
	if u.stats != nil {
		u.stats.record(p.hdr.SequenceNumber, p.hdr.Timestamp, now)
	}
	end := n
	if p.hdr.Padding && end > hl { // forward without padding: it would count in the payload
		end -= int(p.buf[n-1])
		p.hdr.Padding = false
	}
	if end <= hl { // padding only (a bandwidth probe): nothing to forward
		packets.Put(p)
		return
	}
	p.payload = p.buf[hl:end]
	p.src = u
	u.received.Add(int64(n))
	if u.kind == webrtc.RTPCodecTypeAudio {
		if !u.open.Load() {
			packets.Put(p)
			return
		}
		if u.levels != 0 {
			if ext := p.hdr.GetExtension(u.levels); len(ext) > 0 {
				u.loudness.Add(int64(127 - ext[0]&0x7f))
				u.samples.Add(1)
			}
		}
	}
	key := -1 // unknown yet: whether p is a switch point
	if u.h264 && u.group != nil {
		key = 0 // an H.264 layer notes every packet's parameter sets
		if u.h264Switch(p) {
			key = 1
		}
	}
	downs := u.fanout()
	if downs == nil || len(*downs) == 0 {
		packets.Put(p)
		return
	}
	p.refs.Store(int32(len(*downs)) + 1) // one for this loop, released below
	for _, d := range *downs {
		if !d.allowed() {
			p.release()
			continue
		}
		if u.group != nil {
			// A simulcast layer: forwarded to the subscribers on it, and to those waiting to
			// switch to it once a keyframe starts.
			cur := d.current.Load()
			if cur != u {
				if key < 0 {
					key = 0
					if u.vp8 && keyframe.VP8(p.payload) { // H.264 layers set key above
						key = 1
					}
				}
				if key == 0 || d.target.Load() != u || !d.current.CompareAndSwap(cur, u) {
					p.release()
					continue
				}
			}
		}
		d.w.enqueue(d, p, wk)
	}
	p.release()
}

// h264Switch reports whether a subscriber may be switched to the H.264 simulcast layer u at
// p: where a decoder that has seen only another layer's parameter sets (another resolution)
// can start. That is an SPS, which browsers (Chrome, Firefox, Safari) send before each IDR
// with its PPS. An IDR without one counts only where the layer's last IDR came without one
// too, so that an encoder that sends its parameter sets once, at its start, does not keep
// its subscribers from ever switching (one keyframe later); they then decode with the
// parameter sets they have, which may fail until the layer sends its own.
func (u *upTrack) h264Switch(p *packet) bool {
	idr, sps := keyframe.H264(p.payload)
	ts := p.hdr.Timestamp
	if sps {
		u.spsAt, u.spsSeen = ts, true
		if idr { // SPS, PPS and IDR in one aggregate
			u.keySPS = true
		}
		return true
	}
	if !idr {
		return false
	}
	withSPS := u.spsSeen && u.spsAt == ts // the switch point was its SPS
	ok := !withSPS && !u.keySPS
	u.keySPS = withSPS
	return ok
}

// downTrack is one upTrack as sent to one subscriber: a webrtc.TrackLocal on the subscriber's
// sub connection, written by the subscriber's writer.
type downTrack struct {
	up         *upTrack
	sub        *participant
	w          *writer
	privileged bool // the subscriber is a judge or clerk
	sender     *webrtc.RTPSender
	bwe        *transportcc.Estimator // of the sub connection: its feedback comes here, it bounds NACK resends
	out        *srtpOut               // of the sub connection: its own RTP output
	bound      atomic.Pointer[binding]
	rec        TrackRecorder // instead of a sender: the room's recorder (record.go)

	// Simulcast (adapt.go): the layer forwarded now, and the one to switch to at its next
	// keyframe; both the group's primary for a single-layer track.
	current, target atomic.Pointer[upTrack]
	ad              adaptState // the loop's

	// The writer's: the layer last written and the offsets that make the layers one stream.
	src           *upTrack
	tsOff, lastTS uint32
	// The writer's: the sequence numbers the subscriber sees (sequence).
	seq seqState
	vp8 vp8Series // the VP8 picture IDs and TL0PICIDX (vp8.go)
	// The writer's: the packets sent lately, for NACK (nil until the first is sent, and for a
	// subscriber that did not negotiate NACK).
	sent *history
}

var _ webrtc.TrackLocal = (*downTrack)(nil)

// binding is what Bind negotiated, and what the writer has sent on it since.
type binding struct {
	ssrc   uint32
	pt     uint8
	nack   bool  // the subscriber negotiated NACK for the codec: the writer keeps a history
	twcc   uint8 // the transport-wide sequence number's extension ID, 0 if not negotiated
	stream webrtc.TrackLocalWriter

	// The writer's, for the sender reports (report.go): packets and payload bytes sent, and
	// the RTP timestamp and time (UnixNano) of the last packet.
	packets, octets uint32
	lastTS          uint32
	lastAt          int64
	reported        bool // in the writer's list of streams to report on

	// The writer's: the SRTP stream its packets are sealed with on the own path, and the
	// sender it is of (a connection's, kept when its ICE pair moves).
	sealing   *srtpgcm.Stream
	sealingOf *srtpgcm.Sender
}

// sealer returns the binding's SRTP stream of g, found once rather than per packet.
func (b *binding) sealer(g *srtpgcm.Sender) *srtpgcm.Stream {
	if b.sealingOf != g {
		b.sealing, b.sealingOf = g.Stream(b.ssrc), g
	}
	return b.sealing
}

// allowed reports whether the subscriber may receive the track now: it is in the hearing and
// connected, and takes video if the track is video (not on audio only, #47); and the
// publisher is admitted, or the subscriber runs the hearing (a witness in the waiting room is
// seen by judge and clerk only, #17, #26); and a screen is the current exhibit, or the
// subscriber runs the hearing (#24).
func (d *downTrack) allowed() bool {
	if !d.sub.receiving.Load() || d.up.kind == webrtc.RTPCodecTypeVideo && d.sub.videoOff.Load() {
		return false
	}
	if d.privileged {
		return true
	}
	return d.up.public.Load() && (d.up.source != SourceScreen || d.up.shown.Load())
}

// Bind implements webrtc.TrackLocal: it picks the negotiated codec that matches the
// publisher's, and asks the publisher for a keyframe so that video starts at once if the
// subscriber's connection is up (a renegotiation); otherwise the subscriber asks when it comes
// up (participant.loop), since a keyframe sent before then is lost.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if sameCodec(c.RTPCodecCapability, d.up.codec) {
			var twcc uint8
			for _, e := range ctx.HeaderExtensions() {
				if e.URI == sdp.TransportCCURI {
					twcc = uint8(e.ID)
				}
			}
			d.bound.Store(&binding{ssrc: uint32(ctx.SSRC()), pt: uint8(c.PayloadType),
				nack: hasNACK(c.RTCPFeedback), twcc: twcc, stream: ctx.WriteStream()})
			if d.out != nil {
				d.out.rtcp.tracks.set(uint32(ctx.SSRC()), d)
			}
			if d.sub.subUp.Load() {
				d.layer().requestKeyframe()
			}
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind implements webrtc.TrackLocal.
func (d *downTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	d.bound.Store(nil)
	if d.out != nil {
		d.out.rtcp.tracks.remove(uint32(ctx.SSRC()), d)
	}
	return nil
}

// ID implements webrtc.TrackLocal: the room's track ID.
func (d *downTrack) ID() string { return d.up.id }

// RID implements webrtc.TrackLocal.
func (d *downTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal: the publisher's participant ID, so that a client
// groups a participant's tracks in one MediaStream.
func (d *downTrack) StreamID() string { return d.up.owner.id }

// Kind implements webrtc.TrackLocal.
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.up.kind }

// readRTCP reads the subscriber's RTCP for the sender until it stops: its transport-wide
// feedback goes to the connection's bandwidth estimator, its keyframe requests to the
// publisher, its NACKs to the writer.
func (d *downTrack) readRTCP() {
	readRTCP(d.sender.Read, d.handleRTCP)
}

// handleRTCP acts on an RTCP packet of d's subscriber: what pion read for d's SSRC, or what
// the connection's own RTCP input (rtcpin.go) found for it.
func (d *downTrack) handleRTCP(p rtcp.Packet) {
	switch p := p.(type) {
	case *rtcp.TransportLayerCC:
		if d.bwe != nil {
			d.bwe.Feedback(p)
		}
	case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
		d.layer().requestKeyframe()
	case *rtcp.TransportLayerNack:
		d.up.m.nacks.Add(float64(len(p.Nacks)))
		bps := 0
		if d.bwe != nil {
			bps = d.bwe.GetTargetBitrate()
		}
		for _, pair := range p.Nacks {
			d.w.enqueueNACK(d, pair, bps)
		}
	}
}

// readRTCP reads compound RTCP packets with read, into one buffer, until it fails, and gives
// each packet in them to handle; a compound that does not parse is skipped (the peer's to get
// right; the next may be good). pion's ReadRTCP methods would allocate a buffer per call.
func readRTCP(read func([]byte) (int, interceptor.Attributes, error), handle func(rtcp.Packet)) {
	buf := make([]byte, mtu)
	for {
		n, _, err := read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			handle(p)
		}
	}
}

// layer returns the track d forwards, or is about to: the simulcast layer it switches to, or
// is on.
func (d *downTrack) layer() *upTrack {
	if u := d.target.Load(); u != nil {
		return u
	}
	return d.up
}

func hasNACK(fb []webrtc.RTCPFeedback) bool {
	for _, f := range fb {
		if f.Type == webrtc.TypeRTCPFBNACK && f.Parameter == "" {
			return true
		}
	}
	return false
}

func sameCodec(a, b webrtc.RTPCodecCapability) bool {
	if !strings.EqualFold(a.MimeType, b.MimeType) {
		return false
	}
	if strings.EqualFold(a.MimeType, webrtc.MimeTypeH264) {
		return fmtp(a.SDPFmtpLine, "packetization-mode") == fmtp(b.SDPFmtpLine, "packetization-mode") &&
			strings.EqualFold(fmtp(a.SDPFmtpLine, "profile-level-id"), fmtp(b.SDPFmtpLine, "profile-level-id"))
	}
	return true
}

// fmtp returns the value of key in an fmtp line ("a=1;b=2").
func fmtp(line, key string) string {
	for _, kv := range strings.Split(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if strings.EqualFold(k, key) {
			return v
		}
	}
	if key == "packetization-mode" {
		return "0"
	}
	return ""
}

// writer is a subscriber's writer: one goroutine that writes the packets queued for the
// subscriber's tracks, in order.
type writer struct {
	m *metrics

	// The queue: a ring of items, filled by the fan-out and taken whole by the writer. asleep is
	// set when the writer found it empty and waits for wake; the first item queued after that
	// wakes it (at once, or at the end of the reader's run of packets: wakes). closed refuses
	// items once the writer has stopped.
	qmu     sync.Mutex
	ring    []item
	head, n int
	asleep  bool
	closed  bool
	wake    chan struct{}
	taken   []item // the writer's: the items it took from the ring
	// A sender report is due; stop was called.
	due, stopping atomic.Bool

	hdr rtp.Header       // scratch, so that the header passed to WriteRTP is not allocated
	ext [4]rtp.Extension // room for the extensions the interceptors add (transport-cc)
	// The payload to write with hdr: the packet's, or a copy in scratch that continues a
	// simulcast subscriber's VP8 series (vp8.go).
	payload []byte
	scratch [mtu]byte
	// The transport-wide sequence number of the next packet sent on the subscriber's
	// connection, and the header extension that carries it.
	twSeq uint16
	twExt [2]byte
	// The buffer a packet the writer encrypts itself is sealed into (srtpout.go), which the
	// socket takes for one of its own; and the header pion's encryption parses.
	sealed  []byte
	sealHdr rtp.Header
	// The streams written to, for their sender reports (report.go).
	reported []reportedStream

	// What NACK resends may still send (bytes), and when that was last worked out (UnixNano):
	// resends are bounded by the link's estimate, as pion's NACK responder bounds them.
	resendTokens float64
	resendAt     int64
}

// item is a packet to write to d; or, with p nil, a NACK of d's subscriber to answer, with
// the bandwidth estimate of its link when it came (bits/s, 0 if unknown).
type item struct {
	d    *downTrack
	p    *packet
	nack rtcp.NackPair
	bps  int32
}

func newWriter(queue int, m *metrics) *writer {
	return &writer{ring: make([]item, queue), taken: make([]item, 0, queue), wake: make(chan struct{}, 1), m: m,
		sealed: make([]byte, 0, udpbatch.BufferSize)}
}

// enqueue queues p for d, or drops it if the queue is full. It never blocks. With wk, the
// writer, if it waits, is woken when wk is flushed; else at once.
func (w *writer) enqueue(d *downTrack, p *packet, wk *wakes) {
	if !w.push(item{d: d, p: p}, wk) {
		w.m.dropped.Inc()
		p.release()
	}
}

// enqueueNACK queues a NACK of d's subscriber, to be answered from d's history; or drops it if
// the queue is full (the subscriber asks again). It never blocks.
func (w *writer) enqueueNACK(d *downTrack, pair rtcp.NackPair, bps int) {
	w.push(item{d: d, nack: pair, bps: int32(min(bps, math.MaxInt32))}, nil)
}

// push queues it, unless the queue is full or the writer stopped, and wakes the writer if it
// waits: at once, or when wk is flushed.
func (w *writer) push(it item, wk *wakes) bool {
	w.qmu.Lock()
	if w.closed || w.n == len(w.ring) {
		w.qmu.Unlock()
		return false
	}
	i := w.head + w.n
	if i >= len(w.ring) {
		i -= len(w.ring)
	}
	w.ring[i] = it
	w.n++
	wake := w.asleep
	w.asleep = false
	w.qmu.Unlock()
	if wake {
		if wk != nil {
			wk.ws = append(wk.ws, w)
		} else {
			w.signal()
		}
	}
	return true
}

// signal wakes the writer.
func (w *writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// take takes every item queued, in order; none marks the writer asleep.
func (w *writer) take() []item {
	w.qmu.Lock()
	defer w.qmu.Unlock()
	if w.n == 0 {
		w.asleep = true
		return nil
	}
	return w.takeLocked()
}

// takeLocked takes every item queued; qmu is held.
func (w *writer) takeLocked() []item {
	first := min(w.n, len(w.ring)-w.head)
	w.taken = append(w.taken[:0], w.ring[w.head:w.head+first]...)
	w.taken = append(w.taken, w.ring[:w.n-first]...)
	clear(w.ring[w.head : w.head+first])
	clear(w.ring[:w.n-first])
	w.head = (w.head + w.n) % len(w.ring)
	w.n = 0
	return w.taken
}

// wakes is the writers a reader queued packets to during a run of packets (a burst read from a
// socket, udpbatch), which wait to be woken: each is woken once, at the run's end, for all of
// them, rather than once per packet. The reader's alone.
type wakes struct{ ws []*writer }

// flush wakes the writers.
func (k *wakes) flush() {
	for i, w := range k.ws {
		w.signal()
		k.ws[i] = nil
	}
	k.ws = k.ws[:0]
}

// run writes until stop; then it releases what is still queued. It waits on wake alone (a
// select over several channels, with a ticker's, cost more than the write of a packet):
// the report timer and stop wake it too.
func (w *writer) run() {
	due := time.AfterFunc(reportInterval, func() {
		w.due.Store(true)
		w.signal()
	})
	defer due.Stop()
	for {
		items := w.take()
		for _, it := range items {
			if it.p == nil {
				w.resend(it.d, it.nack, int(it.bps))
				continue
			}
			w.write(it.d, it.p)
			it.p.release()
		}
		clear(items)
		if w.due.Swap(false) {
			w.report(time.Now())
			due.Reset(reportInterval)
		}
		if w.stopping.Load() {
			w.close()
			return
		}
		if len(items) == 0 {
			<-w.wake
		}
	}
}

// close refuses further items and releases those queued.
func (w *writer) close() {
	w.qmu.Lock()
	w.closed = true
	items := w.takeLocked()
	w.qmu.Unlock()
	for _, it := range items {
		if it.p != nil {
			it.p.release()
		}
	}
	clear(items)
}

// stop makes run return; again, it does nothing.
func (w *writer) stop() {
	if !w.stopping.Swap(true) {
		w.signal()
	}
}

// frameTicks is the timestamp step put between the last packet of one simulcast layer and
// the first of the next: one frame at 30 frames a second of the 90 kHz video clock.
const frameTicks = 3000

// rewrite makes p, of a simulcast layer, continue the timestamps that d's subscriber has seen,
// whichever layer they came from (and the sequence numbers: a switch closes up their jump,
// sequence); false drops p (a late packet of the layer d has left).
func (w *writer) rewrite(d *downTrack, p *packet) bool {
	if p.src != d.src {
		if p.src != d.current.Load() {
			return false
		}
		if d.src != nil {
			d.seq.switched = true
			d.tsOff = d.lastTS + frameTicks - p.hdr.Timestamp
			if d.up.vp8 {
				d.vp8.follow(p.payload)
			}
		}
		d.src = p.src
	}
	w.hdr.Timestamp += d.tsOff
	if int32(w.hdr.Timestamp-d.lastTS) > 0 || d.lastTS == 0 {
		d.lastTS = w.hdr.Timestamp
	}
	return true
}

// gapLimit is the largest jump forward in a stream's sequence numbers that a subscriber is
// shown as it came: a larger one (packets the server did not forward to it: audio while its
// publisher lacked the floor, a subscriber not allowed for a while, or loss before the server)
// is closed up. The subscriber's SRTP guesses each packet's rollover counter from how far its
// sequence number is from the last (RFC 3711 §3.3.1): after a jump of half the sequence space
// it would guess wrong and drop everything after, and the server could not number the
// packets so that no SRTP index is used twice.
const gapLimit = 1 << 12

// seqState is how the sequence numbers of a stream (the publisher's, or of the simulcast
// layer forwarded) are shown to a subscriber: shifted by off since the last jump or simulcast
// switch (switched: the next packet is a switch's first), which are closed up; top the highest
// shown; first the first shown since, until top is more than gapLimit past it (settled).
type seqState struct {
	begun, switched, settled bool
	off, top, first          uint16
}

// sequence returns the sequence number sn is shown to d's subscriber as; false drops the
// packet: a repeat of the highest shown (a duplicate as networks make them), or a late one
// from before the last jump closed up or simulcast switch (its number may have gone to
// another packet). An older duplicate is not known here: on the own path srtpgcm refuses to
// seal its index again (ErrSealed), so it is not sent.
func (d *downTrack) sequence(sn uint16) (uint16, bool) {
	st := &d.seq
	sn += st.off
	switch {
	case !st.begun:
		st.begun, st.top = true, sn
		st.restart(sn)
		return sn, true
	case !st.switched && sn == st.top:
		return 0, false
	case !st.switched && st.top-sn <= gapLimit: // behind: late
		if !st.settled && st.top-sn > st.top-st.first {
			return 0, false
		}
		return sn, true
	case st.switched || sn-st.top > gapLimit: // a switch or a jump: the next number after the highest
		st.switched = false
		st.off += st.top + 1 - sn
		sn = st.top + 1
		st.restart(sn)
	}
	if sn-st.top <= gapLimit {
		st.top = sn
	}
	if !st.settled && st.top-st.first > gapLimit {
		st.settled = true
	}
	return sn, true
}

// restart makes sn the first of a series.
func (st *seqState) restart(sn uint16) { st.first, st.settled = sn, false }

// header sets w.hdr and w.payload to p as d's subscriber is to see it: a simulcast layer's
// made to continue the stream (rewrite, and vp8.go), and without the publisher's header
// extensions, whose IDs were negotiated on another connection (the subscriber's interceptors
// add the ones negotiated with it). False drops p.
func (w *writer) header(d *downTrack, p *packet) bool {
	w.hdr, w.payload = p.hdr, p.payload
	if d.up.group != nil {
		if !w.rewrite(d, p) {
			return false
		}
		if d.up.vp8 {
			w.payload = d.vp8.apply(p.payload, d.vp8.picOff, d.vp8.tl0Off, w.scratch[:], true)
		}
	}
	w.hdr.Extension, w.hdr.ExtensionProfile, w.hdr.Extensions = false, 0, w.ext[:0]
	return true
}

// write sends p on d with the subscriber's SSRC and payload type, or to the recorder.
func (w *writer) write(d *downTrack, p *packet) {
	if !d.allowed() {
		return
	}
	if d.rec != nil {
		if w.header(d, p) && d.rec.WriteRTP(time.Unix(0, p.at), &w.hdr, w.payload) != nil {
			w.m.dropped.Inc()
		}
		return
	}
	b := d.bound.Load()
	if b == nil || !w.header(d, p) {
		return
	}
	sn, ok := d.sequence(w.hdr.SequenceNumber)
	if !ok {
		return
	}
	w.hdr.SequenceNumber = sn
	w.hdr.SSRC, w.hdr.PayloadType = b.ssrc, b.pt
	binary.BigEndian.PutUint16(w.twExt[:], w.twSeq)
	ext, ok := w.withTWCC(b, w.twExt[:])
	if !ok {
		return
	}
	ts := w.hdr.Timestamp
	index, err := w.send(d, b, ext, 0)
	if err != nil {
		return
	}
	if b.twcc != 0 {
		w.twSeq++
	}
	w.m.packets.Inc()
	w.m.bytes.Add(float64(len(w.payload)))
	w.sent(d, b, len(w.payload), ts, p.at)
	if b.nack {
		if d.sent == nil {
			d.sent = new(history)
		}
		d.sent.add(p, b, sn, ts, index, ext, d.vp8.picOff, d.vp8.tl0Off)
	}
}

// send writes w.hdr and w.payload on b: encrypted by the writer and queued on the server's
// socket when the connection allows (srtpout.go), else down pion's path. ext is the packet's
// transport-wide sequence number (nil if none), which the connection's estimator notes; again
// is, for a packet sent again, the SRTP index the writer first sealed it with (0 otherwise).
// It returns the index the writer sealed it with (0 if pion's context did).
func (w *writer) send(d *downTrack, b *binding, ext []byte, again uint64) (uint64, error) {
	mode, path := d.out.current()
	if mode == undecided {
		return 0, errNotUp
	}
	var index uint64
	var size int // the RTP packet's, as the estimator counts it
	if path != nil {
		var err error
		var st *srtpgcm.Stream
		if path.gcm != nil {
			st = b.sealer(path.gcm)
		}
		if index, size, w.sealed, err = path.write(st, &w.hdr, b.twcc, w.payload, w.sealed, &w.sealHdr, again); err != nil {
			return 0, err
		}
		w.m.ownSRTP.Inc()
	} else {
		if _, err := b.stream.WriteRTP(&w.hdr, w.payload); err != nil {
			return 0, err
		}
		size = w.hdr.MarshalSize() + len(w.payload)
	}
	if d.bwe != nil && len(ext) == 2 {
		d.bwe.Sent(binary.BigEndian.Uint16(ext), size)
	}
	return index, nil
}

// withTWCC puts the transport-wide sequence number seq in w.hdr if b negotiated its extension,
// and returns it (nil if not); false if it does not fit.
func (w *writer) withTWCC(b *binding, seq []byte) ([]byte, bool) {
	if b.twcc == 0 {
		return nil, true
	}
	if w.hdr.SetExtension(b.twcc, seq) != nil {
		return nil, false
	}
	return seq, true
}

// errNotUp is a packet not sent because the subscriber's connection is not up yet.
var errNotUp = errors.New("connection not up")

// nackHistory is how many packets the server keeps of each video track it sends, to resend
// those a subscriber reports lost (NACK). 128 packets are 0.75 s of 1.5 Mb/s video (0.4 s of a
// 3 Mb/s shared screen), beyond the round trip in which a NACK is useful. The history holds
// references to the publisher's packets, which the subscribers of a track share, rather than
// a copy per subscriber as pion's NACK responder did (docs/perf.md). A power of 2.
const nackHistory = 128

// resendInterval is the least time between two resends of one packet to one subscriber, so
// that NACKs repeated within a round trip do not send it twice.
const resendInterval = 10 * time.Millisecond

// history is the packets last written to a subscriber's track, with the sequence number and
// timestamp they were sent with; the writer's only. It holds a reference to each.
type history [nackHistory]struct {
	p      *packet
	b      *binding // the stream it was sent on: sent again only on it
	sn     uint16
	ts     uint32
	index  uint64 // the SRTP index the writer sealed it with (0: pion's context did)
	resent int64  // UnixNano of the last resend
	// The offsets of the subscriber's VP8 series it was sent with (vp8.go).
	picOff uint16
	tl0Off uint8
	// The transport-wide sequence number the writer gave it (if b has the extension), to send
	// again with the packet (the estimator takes a resend for the packet sent again).
	ext [2]byte
}

// add keeps a reference to p, sent on b as sn with timestamp ts, SRTP index index, the
// transport-wide sequence number ext (nil if none) and the VP8 offsets picOff and tl0Off, and
// drops the oldest.
func (h *history) add(p *packet, b *binding, sn uint16, ts uint32, index uint64, ext []byte, picOff uint16, tl0Off uint8) {
	e := &h[sn%nackHistory]
	if e.p != nil {
		e.p.release()
	}
	p.refs.Add(1)
	e.p, e.b, e.sn, e.ts, e.index, e.resent = p, b, sn, ts, index, 0
	e.picOff, e.tl0Off = picOff, tl0Off
	copy(e.ext[:], ext)
}

// rtpHeaderSize is what a resend's header and extensions count for in its budget.
const rtpHeaderSize = 20

// resendWindow is how much of the link's estimate resends may send in a burst.
const resendWindow = 500 * time.Millisecond

// allowResend reports whether a resend of size bytes fits the budget of bps bits/s (a token
// bucket holding resendWindow of it); any does when the estimate is unknown (bps 0).
func (w *writer) allowResend(now int64, size, bps int) bool {
	if bps <= 0 {
		return true
	}
	burst := float64(bps) / 8 * resendWindow.Seconds()
	if w.resendAt == 0 {
		w.resendTokens = burst
	} else {
		w.resendTokens = min(burst, w.resendTokens+float64(now-w.resendAt)*float64(bps)/8e9)
	}
	w.resendAt = now
	if w.resendTokens < float64(size) {
		return false
	}
	w.resendTokens -= float64(size)
	return true
}

// resend writes again the packets of pair that d's history still holds, each as it was sent,
// as far as the link's estimate of bps bits/s allows.
func (w *writer) resend(d *downTrack, pair rtcp.NackPair, bps int) {
	h := d.sent
	b := d.bound.Load()
	if h == nil || b == nil || !d.allowed() {
		return
	}
	now := time.Now().UnixNano()
	pair.Range(func(sn uint16) bool {
		e := &h[sn%nackHistory]
		if e.p == nil || e.sn != sn || e.b != b || now-e.resent < int64(resendInterval) {
			return true // not held, sent on a stream since renegotiated, or resent just now
		}
		if !w.allowResend(now, rtpHeaderSize+len(e.p.payload), bps) {
			return false
		}
		e.resent = now
		w.hdr = e.p.hdr
		w.hdr.SequenceNumber, w.hdr.Timestamp = e.sn, e.ts
		w.hdr.SSRC, w.hdr.PayloadType = b.ssrc, b.pt
		w.hdr.Extension, w.hdr.ExtensionProfile, w.hdr.Extensions = false, 0, w.ext[:0]
		ext, ok := w.withTWCC(b, e.ext[:])
		if !ok {
			return false
		}
		w.payload = e.p.payload
		if d.up.group != nil && d.up.vp8 {
			w.payload = d.vp8.apply(w.payload, e.picOff, e.tl0Off, w.scratch[:], false)
		}
		if _, err := w.send(d, b, ext, e.index); err == nil {
			w.m.resent.Inc()
		}
		return true
	})
}
