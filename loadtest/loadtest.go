// Package loadtest is `chuting loadtest`: it fills N hearing rooms with M synthetic
// participants each, every one a pion client that joins through the documented protocol
// (docs/signaling.md), publishes real VP8 (1280x720, 30 frames a second) and Opus (20 ms
// frames) made by ffmpeg, subscribes to everyone else in its room and counts what arrives.
// It reports the loss per track, the time from joining to the first video packet, the
// packets the server forwards a second, and what that costs the server (CPU time per
// forwarded packet, peak RSS per participant) and the tool itself, which shares the machine.
//
// All traffic stays on loopback (../shared/TESTING.md): the tool only talks to a server on a
// loopback address, and its peer connections gather loopback candidates only.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chuting/chuting/transportcc"
	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Config is one load run.
type Config struct {
	Rooms    int           // hearing rooms, each its own hearing; 1
	PerRoom  int           // participants in each room; 5
	Bitrate  int           // video bitrate, bits/s; 1,500,000
	Duration time.Duration // the steady window that is measured; 30 s
	Stagger  time.Duration // between two joins; 100 ms
	Settle   time.Duration // after every participant receives every other, before measuring; 2 s

	// Server is the base URL (http://127.0.0.1:8080) of a running server whose store holds
	// the world in WorldFile (written by `chuting loadtest seed`); ServerPID, if set, is its
	// process, for CPU and RSS. Or Spawn: seed a world and start the server as a process of
	// Binary (default: this executable, `chuting`) on Data (default: a temporary folder).
	Server    string
	WorldFile string
	ServerPID int
	Spawn     bool
	Binary    string
	Data      string
	ServeArgs []string // more `chuting serve` flags when spawning

	Cache string    // where the encoded media is kept; the user cache folder's chuting-loadtest
	Log   io.Writer // progress lines; nil: none
}

func (c *Config) defaults() error {
	if c.Rooms == 0 {
		c.Rooms = 1
	}
	if c.PerRoom == 0 {
		c.PerRoom = 5
	}
	if c.Bitrate == 0 {
		c.Bitrate = 1_500_000
	}
	if c.Duration == 0 {
		c.Duration = 30 * time.Second
	}
	if c.Stagger == 0 {
		c.Stagger = 100 * time.Millisecond
	}
	if c.Settle == 0 {
		c.Settle = 2 * time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.Cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		c.Cache = filepath.Join(dir, "chuting-loadtest")
	}
	switch {
	case c.Rooms < 1 || c.PerRoom < 2:
		return fmt.Errorf("want at least 1 room of 2 participants, got %d × %d", c.Rooms, c.PerRoom)
	case c.Bitrate < 100_000 || c.Bitrate > 20_000_000:
		return fmt.Errorf("bitrate %d: want 100k to 20M bits/s", c.Bitrate)
	case c.Duration < time.Second:
		return fmt.Errorf("duration %s: want at least 1s", c.Duration)
	case c.Spawn == (c.Server != ""):
		return errors.New("want either a server URL or spawn")
	case c.Server != "" && c.WorldFile == "":
		return errors.New("a server URL needs the world file that `chuting loadtest seed` wrote")
	}
	if c.Server != "" {
		if err := loopbackURL(c.Server); err != nil {
			return err
		}
	}
	return nil
}

// loopbackURL checks that the server is on loopback: the tool sends traffic nowhere else.
func loopbackURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("server %q: want a URL such as http://127.0.0.1:8080", s)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("server %q: the load tool only talks to a server on loopback (127.0.0.0/8, ::1)", s)
	}
	return nil
}

// Result is what a run measured. Times are over the steady window; rates per second of it.
type Result struct {
	Rooms        int     `json:"rooms"`
	PerRoom      int     `json:"per_room"`
	Participants int     `json:"participants"`
	Joined       int     `json:"joined"`
	Bitrate      int     `json:"bitrate"`      // asked for, bits/s
	ClipBitrate  int     `json:"clip_bitrate"` // of the encoded clip, bits/s
	Window       float64 `json:"window_s"`     // the steady window measured, s
	LoadAvg      string  `json:"loadavg"`      // /proc/loadavg at the start: others' load on the machine

	Tracks []TrackResult `json:"tracks"`
	Video  Count         `json:"video"`
	Audio  Count         `json:"audio"`
	Total  Count         `json:"total"`
	// Leaked counts packets received of audio the room holds back (a party without the
	// floor): it must be 0.
	Leaked int64 `json:"leaked"`

	JoinToVideo    Latency `json:"join_to_first_video"`    // join sent → first video packet, per subscriber and publisher
	JoinToKeyframe Latency `json:"join_to_first_keyframe"` // … → first packet of a keyframe

	ForwardedPPS float64 `json:"forwarded_pps"` // the server's chuting_room_forwarded_packets_total
	ReceivedPPS  float64 `json:"received_pps"`  // packets the subscribers received
	Dropped      float64 `json:"server_dropped"`
	NACKs        float64 `json:"server_nacks"`
	PLIs         float64 `json:"server_plis"`
	KeyAsks      int64   `json:"keyframe_requests"` // PLI/FIR the publishers received
	// UDPDatagrams are the datagrams the server gave the kernel per packet it sent, and
	// UDPSegmented the share of its packets that left in segmented datagrams (udpbatch).
	UDPDatagrams float64 `json:"udp_datagrams_per_packet"`
	UDPSegmented float64 `json:"udp_segmented_share"`
	// OwnSRTP is the share of the packets forwarded that the server encrypted itself rather
	// than through pion's write path (signaling/srtpout.go).
	OwnSRTP float64 `json:"own_srtp_share"`
	// OwnSRTPReadPPS are the publishers' packets per second the server decrypted itself
	// rather than reading them through pion (signaling/srtpin.go).
	OwnSRTPReadPPS float64 `json:"own_srtp_read_pps"`
	// OwnSRTCPReadPPS are the subscribers' SRTCP packets per second the server decrypted
	// itself rather than reading them through pion (signaling/rtcpin.go).
	OwnSRTCPReadPPS float64 `json:"own_srtcp_read_pps"`
	// OwnSRTCPSentPPS are the SRTCP packets per second to publishers (transport-wide feedback,
	// NACKs and receiver reports in one compound every 100 ms) the server encrypted itself.
	OwnSRTCPSentPPS float64 `json:"own_srtcp_sent_pps"`
	// UDPRcvbufErrors are datagrams the kernel dropped for a full socket receive buffer
	// (machine-wide; on loopback, the run's).
	UDPRcvbufErrors int64 `json:"udp_rcvbuf_errors"`

	// ServerProcs is the processors (GOMAXPROCS) the server ran on at the window's start and
	// end (it sizes them to its load: --adapt-procs).
	ServerProcs [2]int `json:"server_procs"`

	ServerCPU         float64 `json:"server_cpu_s"` // user+system, s
	ServerCores       float64 `json:"server_cores"` // ServerCPU / Window
	CPUPerPacket      float64 `json:"server_cpu_us_per_packet"`
	ServerPeakRSS     int64   `json:"server_peak_rss"` // bytes, sampled over the window
	ServerIdleRSS     int64   `json:"server_idle_rss"` // bytes, before the first join
	RSSPerParticipant float64 `json:"rss_mb_per_participant"`
	RSSAboveIdle      float64 `json:"rss_mb_per_participant_above_idle"`
	ToolCPU           float64 `json:"tool_cpu_s"`
	ToolCores         float64 `json:"tool_cores"`
	// OthersCores is what the rest of the machine used meanwhile (busy cores less the server
	// and the tool): other work on a shared machine skews the figures.
	OthersCores float64 `json:"others_cores"`

	Errors []string `json:"errors,omitempty"`
}

// TrackResult is one published track as all its subscribers received it.
type TrackResult struct {
	Room        int     `json:"room"`
	Publisher   int     `json:"publisher"` // index in the room
	Role        string  `json:"role"`
	Kind        string  `json:"kind"`
	Forwarded   bool    `json:"forwarded"` // false: audio the room holds back
	Subscribers int     `json:"subscribers"`
	Expected    int64   `json:"expected"`
	Received    int64   `json:"received"`
	Loss        float64 `json:"loss_pct"`
}

// Count is expected and received packets.
type Count struct {
	Expected int64   `json:"expected"`
	Received int64   `json:"received"`
	Loss     float64 `json:"loss_pct"`
}

func (c *Count) add(e, r int64) {
	c.Expected += e
	c.Received += r
	c.Loss = lossPct(c.Expected, c.Received)
}

func lossPct(expected, received int64) float64 {
	if expected <= 0 {
		return 0
	}
	return 100 * float64(expected-received) / float64(expected)
}

// Latency is a distribution of times, in milliseconds.
type Latency struct {
	N       int     `json:"n"`
	Missing int     `json:"missing"` // pairs that never got one
	P50     float64 `json:"p50_ms"`
	P95     float64 `json:"p95_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
}

func latency(ms []float64, missing int) Latency {
	l := Latency{N: len(ms), Missing: missing}
	if len(ms) == 0 {
		return l
	}
	sort.Float64s(ms)
	q := func(p float64) float64 { return ms[min(len(ms)-1, int(p*float64(len(ms))))] }
	l.P50, l.P95, l.P99, l.Max = q(0.50), q(0.95), q(0.99), ms[len(ms)-1]
	return l
}

// runner is one run's shared state.
type runner struct {
	cfg  Config
	clip *clip
	api  *api
	base string

	mu   sync.Mutex
	byID map[string]*client
}

func (r *runner) register(id string, c *client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[id] = c
}

func (r *runner) lookup(id string) *client {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

func (r *runner) rand16() uint16 { return uint16(rand.Uint32()) }
func (r *runner) rand32() uint32 { return rand.Uint32() }

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, "loadtest: "+format+"\n", args...)
}

// Run runs a load: it makes or reads the media, starts the server if asked, joins the
// participants one Stagger apart, waits until each receives everyone else, measures for
// Duration, and tears everything down.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	// A sequence number space of 2^16 per track: keep a run's packets per track below it.
	perTrack := float64(cfg.Bitrate)/8/1100*(cfg.Duration.Seconds()+cfg.Settle.Seconds()) +
		float64(cfg.Rooms*cfg.PerRoom)*cfg.Stagger.Seconds()*float64(cfg.Bitrate)/8/1100
	if perTrack > 50_000 {
		return nil, fmt.Errorf("a %s run at %d bits/s sends too many packets per track to count by sequence number; shorten it", cfg.Duration, cfg.Bitrate)
	}
	r := &runner{cfg: cfg, byID: map[string]*client{}}
	r.logf("media: encoding or reading the clip in %s", cfg.Cache)
	var err error
	if r.clip, err = loadClip(ctx, cfg.Cache, cfg.Bitrate); err != nil {
		return nil, err
	}
	world, pid := (*World)(nil), cfg.ServerPID
	if cfg.Spawn {
		binary := cfg.Binary
		if binary == "" {
			if binary, err = os.Executable(); err != nil {
				return nil, err
			}
		}
		r.logf("seeding %d hearings and starting %s serve", cfg.Rooms, binary)
		srv, w, err := spawn(ctx, binary, cfg.Data, cfg.Rooms, cfg.ServeArgs)
		if err != nil {
			return nil, err
		}
		defer srv.stop()
		world, pid, r.base = w, srv.pid(), srv.url
		r.logf("server pid %d at %s", pid, srv.url)
	} else {
		if world, err = ReadWorld(cfg.WorldFile); err != nil {
			return nil, err
		}
		if len(world.Hearings) < cfg.Rooms {
			return nil, fmt.Errorf("the world file has %d hearings, fewer than %d rooms", len(world.Hearings), cfg.Rooms)
		}
		r.base = strings.TrimRight(cfg.Server, "/")
	}
	r.api = newAPI(r.base)
	return r.run(ctx, world, pid)
}

func (r *runner) run(ctx context.Context, world *World, pid int) (*Result, error) {
	cfg := r.cfg
	res := &Result{Rooms: cfg.Rooms, PerRoom: cfg.PerRoom, Participants: cfg.Rooms * cfg.PerRoom,
		Bitrate: cfg.Bitrate, ClipBitrate: r.clip.Bitrate()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.LoadAvg = strings.TrimSpace(string(b))
	}
	if pid > 0 {
		res.ServerIdleRSS, _ = rss(pid)
	}

	// Join, one Stagger apart, room after room.
	var clients []*client
	var wg sync.WaitGroup
	var errMu sync.Mutex
	joinErrs := map[*client]error{}
	defer func() {
		var cw sync.WaitGroup
		for _, c := range clients {
			cw.Go(c.close)
		}
		cw.Wait()
	}()
	r.logf("joining %d rooms × %d, one every %s", cfg.Rooms, cfg.PerRoom, cfg.Stagger)
	for room := range cfg.Rooms {
		for i := range cfg.PerRoom {
			c := &client{r: r, room: room, index: i, role: roleOf(i), stop: make(chan struct{})}
			clients = append(clients, c)
			wg.Go(func() {
				if err := c.join(ctx, world.Hearings[room]); err != nil {
					errMu.Lock()
					joinErrs[c] = err
					errMu.Unlock()
				}
			})
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(cfg.Stagger):
			}
		}
	}
	wg.Wait()
	for c, err := range joinErrs {
		res.Errors = append(res.Errors, c.name()+": join: "+err.Error())
	}

	// Wait until every participant receives video from every other in its room.
	deadline := time.Now().Add(30 * time.Second)
	for !r.flowing(clients) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !r.flowing(clients) {
		r.logf("not every participant receives every other after 30 s; measuring anyway")
	}
	time.Sleep(cfg.Settle)

	// The steady window.
	r.logf("measuring for %s", cfg.Duration)
	names := []string{"chuting_room_forwarded_packets_total", "chuting_room_dropped_packets_total",
		"chuting_room_nacks_total", "chuting_room_plis_total",
		"chuting_udp_packets_total", "chuting_udp_datagrams_total", "chuting_udp_segmented_packets_total",
		"chuting_room_own_srtp_packets_total", "chuting_room_own_srtp_read_packets_total",
		"chuting_room_own_srtcp_read_packets_total", "chuting_room_own_srtcp_packets_total",
		"go_sched_gomaxprocs_threads"}
	m0, err := r.api.metrics(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("server metrics: %w", err)
	}
	var cpu0 time.Duration
	if pid > 0 {
		if cpu0, err = CPUTime(pid); err != nil {
			return nil, fmt.Errorf("server process %d: %w", pid, err)
		}
	}
	tool0, busy0, t0 := selfCPU(), machineBusy(), time.Now()
	asks0, udp0 := keyAsks(clients), udpRcvbufErrors()
	for _, c := range clients {
		if c.video != nil {
			c.video.s0, c.audio.s0 = uint16(c.video.seq.Load()), uint16(c.audio.seq.Load())
		}
	}
	peak := make(chan int64, 1)
	stopRSS := make(chan struct{})
	go func() {
		var p int64
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			if pid > 0 {
				if v, err := rss(pid); err == nil && v > p {
					p = v
				}
			}
			select {
			case <-stopRSS:
				peak <- p
				return
			case <-t.C:
			}
		}
	}()
	select {
	case <-ctx.Done():
		close(stopRSS)
		return nil, ctx.Err()
	case <-time.After(cfg.Duration):
	}
	for _, c := range clients {
		if c.video != nil {
			c.video.s1, c.audio.s1 = uint16(c.video.seq.Load()), uint16(c.audio.seq.Load())
		}
	}
	window := time.Since(t0)
	toolCPU, busy := selfCPU()-tool0, machineBusy()-busy0
	var serverCPU time.Duration
	if pid > 0 {
		if cpu1, err := CPUTime(pid); err == nil {
			serverCPU = cpu1 - cpu0
		}
	}
	m1, err := r.api.metrics(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("server metrics: %w", err)
	}
	close(stopRSS)
	res.ServerPeakRSS = <-peak
	res.KeyAsks = keyAsks(clients) - asks0
	if udp1 := udpRcvbufErrors(); udp0 >= 0 && udp1 >= 0 {
		res.UDPRcvbufErrors = udp1 - udp0
	}
	time.Sleep(time.Second) // the last packets of the window, and their repairs, arrive

	res.Window = window.Seconds()
	forwarded := m1[names[0]] - m0[names[0]]
	res.ForwardedPPS = forwarded / window.Seconds()
	if forwarded > 0 {
		res.OwnSRTP = (m1[names[7]] - m0[names[7]]) / forwarded
	}
	res.OwnSRTPReadPPS = (m1[names[8]] - m0[names[8]]) / window.Seconds()
	res.OwnSRTCPReadPPS = (m1[names[9]] - m0[names[9]]) / window.Seconds()
	res.OwnSRTCPSentPPS = (m1[names[10]] - m0[names[10]]) / window.Seconds()
	res.ServerProcs = [2]int{int(m0[names[11]]), int(m1[names[11]])}
	res.Dropped = m1[names[1]] - m0[names[1]]
	res.NACKs = m1[names[2]] - m0[names[2]]
	res.PLIs = m1[names[3]] - m0[names[3]]
	if sent := m1[names[4]] - m0[names[4]]; sent > 0 {
		res.UDPDatagrams = (m1[names[5]] - m0[names[5]]) / sent
		res.UDPSegmented = (m1[names[6]] - m0[names[6]]) / sent
	}
	res.ToolCPU = toolCPU.Seconds()
	res.ToolCores = toolCPU.Seconds() / window.Seconds()
	res.OthersCores = max(0, (busy-toolCPU-serverCPU).Seconds()/window.Seconds())
	if pid > 0 {
		res.ServerCPU = serverCPU.Seconds()
		res.ServerCores = serverCPU.Seconds() / window.Seconds()
		if forwarded > 0 {
			res.CPUPerPacket = serverCPU.Seconds() * 1e6 / forwarded
		}
		res.RSSPerParticipant = float64(res.ServerPeakRSS) / float64(res.Participants) / (1 << 20)
		res.RSSAboveIdle = float64(res.ServerPeakRSS-res.ServerIdleRSS) / float64(res.Participants) / (1 << 20)
	}
	r.count(clients, res)
	for _, c := range clients {
		if p := c.failed.Load(); p != nil {
			res.Errors = append(res.Errors, *p)
		}
		if c.id.Load() != nil {
			res.Joined++
		}
	}
	slices.Sort(res.Errors)
	return res, nil
}

func keyAsks(clients []*client) int64 {
	var n int64
	for _, c := range clients {
		n += c.keyAsks.Load()
	}
	return n
}

// flowing reports whether every participant receives video from every other in its room.
func (r *runner) flowing(clients []*client) bool {
	for _, sub := range clients {
		for _, pub := range clients {
			if pub == sub || pub.room != sub.room {
				continue
			}
			if received(sub, pub, webrtc.RTPCodecTypeVideo) == nil {
				return false
			}
		}
	}
	return true
}

// received returns what sub received of pub's track of kind, nil if nothing yet.
func received(sub, pub *client, kind webrtc.RTPCodecType) *recvTrack {
	id := pub.id.Load()
	if id == nil {
		return nil
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	t := sub.recv[*id+"/"+kind.String()]
	if t == nil || t.packets.Load() == 0 {
		return nil
	}
	return t
}

// count fills in the per-track counts, the totals and the join latencies.
func (r *runner) count(clients []*client, res *Result) {
	var toVideo, toKey []float64
	missVideo, missKey := 0, 0
	var received64 int64
	for _, pub := range clients {
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			tr := TrackResult{Room: pub.room, Publisher: pub.index, Role: pub.role, Kind: kind.String(),
				Forwarded: kind == webrtc.RTPCodecTypeVideo || audioForwarded(pub.index)}
			out := pub.video
			if kind == webrtc.RTPCodecTypeAudio {
				out = pub.audio
			}
			for _, sub := range clients {
				if sub == pub || sub.room != pub.room {
					continue
				}
				tr.Subscribers++
				var s0, s1 uint16
				if out != nil {
					s0, s1 = out.s0, out.s1
				}
				rt := received(sub, pub, kind)
				var got int64
				if rt != nil {
					got = rt.count(s0, s1)
					received64 += rt.packets.Load()
				}
				if tr.Forwarded {
					tr.Expected += int64(s1 - s0)
					tr.Received += got
				} else {
					res.Leaked += got
				}
				if kind != webrtc.RTPCodecTypeVideo {
					continue
				}
				// From the later of the subscriber's join and the publisher's first packet.
				start := sub.joinSent.UnixNano()
				if out != nil {
					start = max(start, out.started.Load())
				}
				if rt == nil {
					missVideo++
					missKey++
					continue
				}
				toVideo = append(toVideo, float64(rt.first.Load()-start)/1e6)
				if k := rt.firstKey.Load(); k > 0 {
					toKey = append(toKey, float64(k-start)/1e6)
				} else {
					missKey++
				}
			}
			if !tr.Forwarded {
				res.Tracks = append(res.Tracks, tr)
				continue
			}
			tr.Loss = lossPct(tr.Expected, tr.Received)
			res.Tracks = append(res.Tracks, tr)
			if kind == webrtc.RTPCodecTypeVideo {
				res.Video.add(tr.Expected, tr.Received)
			} else {
				res.Audio.add(tr.Expected, tr.Received)
			}
			res.Total.add(tr.Expected, tr.Received)
		}
	}
	res.ReceivedPPS = float64(res.Total.Received) / res.Window
	res.JoinToVideo = latency(toVideo, missVideo)
	res.JoinToKeyframe = latency(toKey, missKey)
}

// socketBuffer is the receive and send buffer asked for on each UDP socket of the tool. The
// default (208 KiB) holds about 10 ms of a busy subscriber's packets on loopback, so that a
// client descheduled for longer on a loaded machine would lose packets for its own sake.
const socketBuffer = 4 << 20

// clientAPI is one synthetic participant's WebRTC stack: Opus and VP8 with the feedback a
// browser sends (NACK, PLI, FIR, REMB, transport-cc, reports), the audio level extension, and
// the loopback-only network settings of ../shared/TESTING.md, over one UDP socket of its own
// with a large buffer. Its SRTP profiles are those a browser offers, in its order.
func clientAPI() (*webrtc.API, io.Closer, error) {
	m := &webrtc.MediaEngine{}
	video := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
		{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "transport-cc"}}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}}}}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, nil, err
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: video}}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, nil, err
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI},
		webrtc.RTPCodecTypeAudio); err != nil {
		return nil, nil, err
	}
	// What a browser runs: NACK both ways, sender and receiver reports, transport-wide
	// congestion control feedback on what it receives and sequence numbers on what it sends.
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, ir); err != nil {
		return nil, nil, err
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, nil, err
	}
	if err := transportcc.Configure(m, ir); err != nil { // the feedback pion's would send, cheaper
		return nil, nil, err
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		return nil, nil, err
	}
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	lf.Writer = io.Discard
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, nil, err
	}
	_ = conn.SetReadBuffer(socketBuffer)
	_ = conn.SetWriteBuffer(socketBuffer)
	mux := webrtc.NewICEUDPMux(lf.NewLogger("udpmux"), conn)
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICEUDPMux(mux)
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AEAD_AES_128_GCM,
		dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	se.LoggerFactory = lf
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), mux, nil
}
