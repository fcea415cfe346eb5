package transportcc

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// packet marshals an RTP packet with transport-wide sequence number seq in extension id,
// among other extensions, in the one-byte form or (twoByte) the two-byte one.
func packet(t testing.TB, seq uint16, id uint8, twoByte bool, csrcs int) []byte {
	t.Helper()
	h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: 9000, SSRC: 0x1234,
		CSRC: make([]uint32, csrcs)}
	h.Extension, h.ExtensionProfile = true, 0xbede
	if twoByte {
		h.ExtensionProfile = 0x1000
	}
	tcc, err := rtp.TransportCCExtension{TransportSequence: seq}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		id      uint8
		payload []byte
	}{{1, []byte{0x90}}, {3, []byte{1, 2, 3}}, {id, tcc}, {9, make([]byte, 7)}} {
		if err := h.SetExtension(e.id, e.payload); err != nil {
			t.Fatal(err)
		}
	}
	b, err := (&rtp.Packet{Header: h, Payload: make([]byte, 100)}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSequence(t *testing.T) {
	for _, twoByte := range []bool{false, true} {
		for _, csrcs := range []int{0, 3} {
			for _, seq := range []uint16{0, 1, 0x1234, 0xffff} {
				b := packet(t, seq, 5, twoByte, csrcs)
				if got, ok := Sequence(b, 5); !ok || got != seq {
					t.Errorf("two-byte %v, %d CSRCs: Sequence = %d, %v; want %d", twoByte, csrcs, got, ok, seq)
				}
				if _, ok := Sequence(b, 7); ok {
					t.Errorf("two-byte %v: found extension 7, which the packet does not carry", twoByte)
				}
				for n := range len(b) - 100 { // every cut inside the header
					if _, ok := Sequence(b[:n], 5); ok {
						t.Errorf("two-byte %v: read a sequence number from the first %d bytes of a %d-byte header", twoByte, n, len(b)-100)
					}
				}
			}
		}
	}
	plain, err := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 7}, Payload: []byte{1}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Sequence(plain, 5); ok {
		t.Error("found a sequence number in a packet without extensions")
	}
}

// FuzzSequence checks Sequence against pion's parser: whenever pion reads the extension from
// a packet, Sequence reads the same number, and Sequence never reads one that pion does not.
func FuzzSequence(f *testing.F) {
	f.Add(packet(f, 42, 5, false, 0), uint8(5))
	f.Add(packet(f, 42, 5, true, 2), uint8(5))
	f.Add(packet(f, 42, 5, false, 1), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, id uint8) {
		got, ok := Sequence(b, id)
		var h rtp.Header
		var want uint16
		found := false
		if _, err := h.Unmarshal(b); err == nil && id != 0 {
			if ext := h.GetExtension(id); len(ext) >= 2 {
				want, found = uint16(ext[0])<<8|uint16(ext[1]), true
			}
		}
		if found && (!ok || got != want) {
			t.Fatalf("pion reads %d from extension %d, Sequence %d, %v", want, id, got, ok)
		}
		if ok && !found {
			t.Fatalf("Sequence reads %d from extension %d where pion reads none", got, id)
		}
	})
}

// replay is an RTP reader that returns packets, one per Read, then blocks until closed.
type replay struct {
	mu   sync.Mutex
	pkts [][]byte
	done chan struct{}
}

func (r *replay) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	r.mu.Lock()
	if len(r.pkts) == 0 {
		r.mu.Unlock()
		<-r.done
		return 0, nil, errClosedTest
	}
	p := r.pkts[0]
	r.pkts = r.pkts[1:]
	r.mu.Unlock()
	return copy(b, p), a, nil
}

type testError string

func (e testError) Error() string { return string(e) }

const errClosedTest = testError("closed")

// feedbacks collects the RTCP an interceptor writes.
type feedbacks struct {
	mu   sync.Mutex
	pkts []*rtcp.TransportLayerCC
}

func (f *feedbacks) Write(pkts []rtcp.Packet, _ interceptor.Attributes) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range pkts {
		if cc, ok := p.(*rtcp.TransportLayerCC); ok {
			f.pkts = append(f.pkts, cc)
		}
	}
	return len(pkts), nil
}

// statuses lists, in order, whether each sequence number reported was received.
func (f *feedbacks) statuses() (first uint16, received []bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, p := range f.pkts {
		if i == 0 {
			first = p.BaseSequenceNumber
		}
		for _, c := range p.PacketChunks {
			switch c := c.(type) {
			case *rtcp.RunLengthChunk:
				for range c.RunLength {
					received = append(received, c.PacketStatusSymbol != rtcp.TypeTCCPacketNotReceived)
				}
			case *rtcp.StatusVectorChunk:
				for _, s := range c.SymbolList {
					received = append(received, s != rtcp.TypeTCCPacketNotReceived)
				}
			}
		}
		received = received[:min(len(received), int(p.BaseSequenceNumber-first)+int(p.PacketStatusCount))]
	}
	return first, received
}

// run feeds the packets of seqs (numbered as such) through the interceptor ic, and returns
// the feedback it sent.
func run(t *testing.T, ic interceptor.Interceptor, seqs []uint16) *feedbacks {
	t.Helper()
	out := &feedbacks{}
	ic.BindRTCPWriter(out)
	src := &replay{done: make(chan struct{})}
	for _, s := range seqs {
		src.pkts = append(src.pkts, packet(t, s, 5, false, 0))
	}
	info := &interceptor.StreamInfo{SSRC: 0x1234, RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 5}}}
	r := ic.BindRemoteStream(info, src)
	buf := make([]byte, 1500)
	for range seqs {
		if _, _, err := r.Read(buf, nil); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, got := out.statuses(); len(got) >= int(seqs[len(seqs)-1]-seqs[0])+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete feedback within 5 s: %d packets of feedback", len(out.pkts))
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(src.done)
	if err := ic.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFeedback checks that the feedback reports what arrived and what did not, as pion's
// interceptor reports it for the same packets.
func TestFeedback(t *testing.T) {
	var seqs []uint16
	for s := uint16(65500); s != 80; s++ { // across the wrap
		if s%7 != 3 && s != 10 && s != 11 {
			seqs = append(seqs, s)
		}
	}
	ours, err := Factory{Interval: 20 * time.Millisecond}.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	first, got := run(t, ours, seqs).statuses()
	if first != seqs[0] {
		t.Errorf("feedback starts at %d, want %d", first, seqs[0])
	}
	var want []bool
	for s := seqs[0]; s != seqs[len(seqs)-1]+1; s++ {
		want = append(want, slices.Contains(seqs, s))
	}
	if !slices.Equal(got, want) {
		t.Errorf("received statuses\n got %v\nwant %v", got, want)
	}

	pf, err := twcc.NewSenderInterceptor(twcc.SendInterval(20 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := pf.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	pfirst, pgot := run(t, theirs, seqs).statuses()
	if pfirst != first || !slices.Equal(pgot, got) {
		t.Errorf("pion's interceptor reports from %d %v, this one from %d %v", pfirst, pgot, first, got)
	}
}

// TestCloseBeforeBind checks that a connection closed before its RTCP writer was bound starts
// no feedback loop (Close would otherwise leave it running).
func TestCloseBeforeBind(t *testing.T) {
	ic, err := Factory{Interval: time.Millisecond}.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.Close(); err != nil {
		t.Fatal(err)
	}
	out := &feedbacks{}
	ic.BindRTCPWriter(out)
	r := ic.BindRemoteStream(&interceptor.StreamInfo{RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 5}}},
		&replay{pkts: [][]byte{packet(t, 1, 5, false, 0)}, done: make(chan struct{})})
	if _, _, err := r.Read(make([]byte, 1500), nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if len(out.pkts) != 0 {
		t.Errorf("a closed interceptor sent %d feedback packets", len(out.pkts))
	}
}

// TestFeedbackOnDemand: an interceptor made with no interval sends nothing itself; its owner
// builds the feedback of what arrived (Arrived, as the server's SRTP input records) when it
// sends, and each packet is reported once.
func TestFeedbackOnDemand(t *testing.T) {
	ic, err := Factory{}.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	i := ic.(*Interceptor)
	defer func() { _ = i.Close() }()
	if got := i.Feedback(); got != nil {
		t.Fatalf("feedback before the writer was bound: %v", got)
	}
	out := &feedbacks{}
	i.BindRTCPWriter(out)
	for seq := range uint16(10) {
		i.Arrived(0x1234, packet(t, seq, 5, false, 0), 5)
	}
	time.Sleep(2 * Interval) // a loop at the default interval would have sent twice
	if first, got := out.statuses(); len(got) != 0 {
		t.Fatalf("the interceptor sent feedback itself: from %d %v", first, got)
	}
	if _, err := out.Write(i.Feedback(), nil); err != nil {
		t.Fatal(err)
	}
	first, got := out.statuses()
	if first != 0 || len(got) != 10 || slices.Contains(got, false) {
		t.Fatalf("feedback reports from %d %v, want 0-9 received", first, got)
	}
	if again := i.Feedback(); len(again) != 0 {
		t.Fatalf("the same arrivals reported again: %v", again)
	}
}

// endless is an RTP reader that returns the same packet forever.
type endless []byte

func (e endless) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	return copy(b, e), a, nil
}

// BenchmarkRead measures reading one packet through the interceptor, this package's and
// pion's, which hands each packet to its own goroutine.
func BenchmarkRead(b *testing.B) {
	pf, err := twcc.NewSenderInterceptor()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    interceptor.Factory
	}{{"chuting", Factory{Interval: Interval}}, {"pion", pf}} {
		b.Run(c.name, func(b *testing.B) {
			ic, err := c.f.NewInterceptor("")
			if err != nil {
				b.Fatal(err)
			}
			defer ic.Close()
			ic.BindRTCPWriter(&feedbacks{})
			info := &interceptor.StreamInfo{SSRC: 0x1234, RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 5}}}
			pkt := packet(b, 0xabcd, 5, false, 0)
			at := bytes.Index(pkt[12:], []byte{0xab, 0xcd}) + 12 // the transport-wide number
			r := ic.BindRemoteStream(info, endless(pkt))
			buf := make([]byte, 1500)
			b.ReportAllocs()
			seq := uint16(0)
			for b.Loop() {
				seq++
				pkt[at], pkt[at+1] = byte(seq>>8), byte(seq)
				if _, _, err := r.Read(buf, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
