package signaling

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the rooms' Prometheus metrics; a later issue measures and tunes the media path
// against them.
type metrics struct {
	rooms        prometheus.Gauge
	participants prometheus.Gauge
	tracks       prometheus.Gauge
	packets      prometheus.Counter
	bytes        prometheus.Counter
	nacks        prometheus.Counter
	resent       prometheus.Counter
	plis         prometheus.Counter
	dropped      prometheus.Counter
	switches     prometheus.Counter
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
		bytes:        counter("forwarded_bytes_total", "RTP payload bytes forwarded to subscribers."),
		nacks:        counter("nacks_total", "Packets NACKed by subscribers."),
		resent:       counter("resent_packets_total", "RTP packets resent to subscribers that NACKed them."),
		plis:         counter("plis_total", "Keyframe requests (PLI) sent to publishers."),
		dropped:      counter("dropped_packets_total", "RTP packets dropped because a subscriber's queue was full."),
		switches:     counter("layer_switches_total", "Simulcast layer switches asked for by bandwidth adaptation."),
		join: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "join_seconds", Help: "Time from the WebSocket upgrade to joined.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.rooms, m.participants, m.tracks, m.packets, m.bytes,
		m.nacks, m.resent, m.plis, m.dropped, m.switches, m.join} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
