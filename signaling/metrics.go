package signaling

import (
	"github.com/chuting/chuting/udpbatch"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the rooms' Prometheus metrics; a later issue measures and tunes the media path
// against them.
type metrics struct {
	rooms        prometheus.Gauge
	participants prometheus.Gauge
	tracks       prometheus.Gauge
	packets      prometheus.Counter
	ownSRTP      prometheus.Counter
	ownSRTPIn    prometheus.Counter
	ownSRTCPIn   prometheus.Counter
	ownSRTCPOut  prometheus.Counter
	bytes        prometheus.Counter
	nacks        prometheus.Counter
	resent       prometheus.Counter
	plis         prometheus.Counter
	dropped      prometheus.Counter
	switches     prometheus.Counter
	full         prometheus.Counter
	join         prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "chuting", "room"
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	m := &metrics{
		rooms:        gauge("rooms", "Hearing rooms open on this node."),
		participants: gauge("participants", "Participants in the rooms, waiting, admitted or dropped."),
		tracks:       gauge("tracks", "Tracks published in the rooms."),
		packets:      counter("forwarded_packets_total", "RTP packets forwarded to subscribers."),
		ownSRTP: counter("own_srtp_packets_total",
			"RTP packets forwarded (or resent) that the server encrypted itself instead of passing them down pion's write path."),
		ownSRTPIn: counter("own_srtp_read_packets_total",
			"RTP packets from publishers that the server decrypted itself instead of reading them through pion."),
		ownSRTCPIn: counter("own_srtcp_read_packets_total",
			"SRTCP packets from subscribers that the server decrypted itself instead of reading them through pion."),
		ownSRTCPOut: counter("own_srtcp_packets_total",
			"SRTCP packets to publishers (feedback, NACKs, receiver reports) that the server encrypted itself instead of writing them through pion."),
		bytes:    counter("forwarded_bytes_total", "RTP payload bytes forwarded to subscribers."),
		nacks:    counter("nacks_total", "Packets NACKed by subscribers."),
		resent:   counter("resent_packets_total", "RTP packets resent to subscribers that NACKed them."),
		plis:     counter("plis_total", "Keyframe requests (PLI) sent to publishers."),
		dropped:  counter("dropped_packets_total", "RTP packets dropped because a subscriber's queue was full."),
		switches: counter("layer_switches_total", "Simulcast layer switches asked for by bandwidth adaptation."),
		full:     counter("refused_full_total", "Joins refused because the node had as many participants as it may."),
		join: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "join_seconds", Help: "Time from the WebSocket upgrade to joined.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.rooms, m.participants, m.tracks, m.packets, m.ownSRTP, m.ownSRTPIn, m.ownSRTCPIn, m.ownSRTCPOut, m.bytes,
		m.nacks, m.resent, m.plis, m.dropped, m.switches, m.full, m.join} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// registerUDP registers the counters of the ICE UDP sockets' batched writes (udpbatch): how
// many packets left in how many datagrams, and how many the kernel refused.
func registerUDP(reg prometheus.Registerer, conns []*udpbatch.Conn) error {
	if reg == nil {
		return nil
	}
	sum := func(f func(udpbatch.Stats) uint64) func() float64 {
		return func() float64 {
			var n uint64
			for _, c := range conns {
				n += f(c.Stats())
			}
			return float64(n)
		}
	}
	counter := func(name, help string, f func(udpbatch.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "chuting", Subsystem: "udp",
			Name: name, Help: help}, sum(f))
	}
	for _, c := range []prometheus.Collector{
		counter("packets_total", "Packets written to the ICE UDP ports.", func(s udpbatch.Stats) uint64 { return s.Packets }),
		counter("datagrams_total", "Datagrams given to the kernel for them: one per packet, or one per run segmented by the kernel.",
			func(s udpbatch.Stats) uint64 { return s.Datagrams }),
		counter("segmented_packets_total", "Packets that left in a datagram the kernel segmented (UDP GSO).",
			func(s udpbatch.Stats) uint64 { return s.Segmented }),
		counter("send_failures_total", "Packets the kernel refused to send.", func(s udpbatch.Stats) uint64 { return s.Failed }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
