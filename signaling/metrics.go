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
	m := &metrics{
		rooms: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "rooms", Help: "Hearing rooms open on this node."}),
		participants: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "participants", Help: "Participants in the rooms, waiting, admitted or dropped."}),
		tracks: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "tracks", Help: "Tracks published in the rooms."}),
		packets: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "forwarded_packets_total", Help: "RTP packets forwarded to subscribers."}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "forwarded_bytes_total", Help: "RTP payload bytes forwarded to subscribers."}),
		nacks: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "nacks_total", Help: "Packets NACKed by subscribers."}),
		resent: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "resent_packets_total", Help: "RTP packets resent to subscribers that NACKed them."}),
		plis: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "plis_total", Help: "Keyframe requests (PLI) sent to publishers."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "dropped_packets_total", Help: "RTP packets dropped because a subscriber's queue was full."}),
		switches: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "layer_switches_total", Help: "Simulcast layer switches asked for by bandwidth adaptation."}),
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
