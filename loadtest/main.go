package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const usage = `usage:
  chuting loadtest --spawn [flags]                       seed a world, start a server, load it
  chuting loadtest --server URL --world FILE [flags]     load a running server on loopback
  chuting loadtest seed --data DIR --rooms N             write a world into a stopped server's store

The tool fills N rooms with M synthetic participants (judge, clerk, appraiser, then counsel,
party, expert…), each publishing VP8 1280x720 30 fps and Opus made with ffmpeg, and prints a
table and one JSON line. Traffic stays on loopback.

flags:
`

// Main runs `chuting loadtest` with args (after the subcommand's name), printing the table and
// the JSON line to stdout and progress and errors to stderr; it returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "seed" {
		return mainSeed(ctx, args[1:], stdout, stderr)
	}
	var cfg Config
	var bitrate string
	var tracks bool
	fs := flag.NewFlagSet("chuting loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.IntVar(&cfg.Rooms, "rooms", 1, "hearing rooms")
	fs.IntVar(&cfg.PerRoom, "per-room", 5, "participants in each room (at least 2)")
	fs.StringVar(&bitrate, "bitrate", "1.5M", "video bitrate in bits/s (k and M suffixes)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "the steady window measured")
	fs.DurationVar(&cfg.Stagger, "stagger", 100*time.Millisecond, "time between two joins")
	fs.DurationVar(&cfg.Settle, "settle", 2*time.Second, "wait once everyone receives everyone, before measuring")
	fs.StringVar(&cfg.Server, "server", "", "base URL of a running server on loopback, e.g. http://127.0.0.1:8080")
	fs.StringVar(&cfg.WorldFile, "world", "", "with --server: the world file `chuting loadtest seed` wrote ("+WorldFile+" in the data folder)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "with --server: the server's process ID, for its CPU time and RSS")
	fs.BoolVar(&cfg.Spawn, "spawn", false, "seed a world in a new data folder and start the server as a process")
	fs.StringVar(&cfg.Binary, "binary", "", "with --spawn: the chuting binary to run (default: this executable)")
	fs.StringVar(&cfg.Data, "data", "", "with --spawn: the data folder to seed and serve (default: a temporary one, removed after)")
	fs.StringVar(&cfg.Cache, "cache", "", "where the encoded media is cached (default: the user cache folder's chuting-loadtest)")
	fs.Func("serve-arg", "with --spawn: one more `chuting serve` flag (repeat for several), e.g. --serve-arg=--rtc-udp-port=50000",
		func(s string) error { cfg.ServeArgs = append(cfg.ServeArgs, s); return nil })
	fs.BoolVar(&tracks, "tracks", false, "print a row for every published track")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "chuting loadtest: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	b, err := ParseBitrate(bitrate)
	if err != nil {
		fmt.Fprintf(stderr, "chuting loadtest: --bitrate: %v\n", err)
		return 2
	}
	cfg.Bitrate = b
	cfg.Log = stderr
	res, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "chuting loadtest: %v\n", err)
		return 1
	}
	WriteTable(stdout, res, tracks)
	line, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "%s\n", line)
	return 0
}

func mainSeed(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chuting loadtest seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./chuting-data", "the data folder of the server to load (stop it first)")
	rooms := fs.Int("rooms", 1, "hearings to make, each with a judge, a clerk and an appraiser")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	w, err := Seed(ctx, *data, *rooms, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "chuting loadtest seed: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d hearings open until %s; world file %s/%s (it holds API tokens)\n",
		len(w.Hearings), w.Hearings[0].End.Add(30*time.Minute).Local().Format(time.DateTime), strings.TrimRight(*data, "/"), WorldFile)
	return 0
}

// ParseBitrate reads a bitrate such as 1500000, 800k or 1.5M (bits/s).
func ParseBitrate(s string) (int, error) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1e6, s[:len(s)-1]
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1e3, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%q: want bits/s such as 1500000, 800k or 1.5M", s)
	}
	return int(f * mult), nil
}

// WriteTable prints a run's figures for people; with tracks, a row for every published track.
func WriteTable(w io.Writer, r *Result, tracks bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if tracks {
		fmt.Fprintln(tw, "room\tpublisher\trole\tkind\tsubscribers\texpected\treceived\tloss %")
		for _, t := range r.Tracks {
			loss := fmt.Sprintf("%.3f", t.Loss)
			if !t.Forwarded {
				loss = "held back"
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d\t%d\t%d\t%s\n", t.Room, t.Publisher, t.Role, t.Kind,
				t.Subscribers, t.Expected, t.Received, loss)
		}
		fmt.Fprintln(tw)
	}
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("rooms × participants", "%d × %d (%d joined)", r.Rooms, r.PerRoom, r.Joined)
	row("video bitrate", "%.2f Mb/s asked, clip %.2f Mb/s", float64(r.Bitrate)/1e6, float64(r.ClipBitrate)/1e6)
	row("steady window", "%.1f s (load average before: %s)", r.Window, r.LoadAvg)
	row("video packets", "%d expected, %d received, loss %.3f %%", r.Video.Expected, r.Video.Received, r.Video.Loss)
	row("audio packets", "%d expected, %d received, loss %.3f %%", r.Audio.Expected, r.Audio.Received, r.Audio.Loss)
	row("all packets", "loss %.3f %%; held-back audio leaked: %d", r.Total.Loss, r.Leaked)
	worst := TrackResult{}
	for _, t := range r.Tracks {
		if t.Forwarded && t.Loss >= worst.Loss {
			worst = t
		}
	}
	row("worst track", "room %d #%d %s %s: loss %.3f %%", worst.Room, worst.Publisher, worst.Role, worst.Kind, worst.Loss)
	lat := func(l Latency) string {
		return fmt.Sprintf("p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms (%d pairs, %d missing)",
			l.P50, l.P95, l.P99, l.Max, l.N, l.Missing)
	}
	row("join → first video packet", "%s", lat(r.JoinToVideo))
	row("join → first keyframe", "%s", lat(r.JoinToKeyframe))
	row("forwarded by the server", "%.0f packets/s (subscribers received %.0f/s)", r.ForwardedPPS, r.ReceivedPPS)
	row("server drops, NACKs, PLIs", "%.0f, %.0f, %.0f (publishers got %d keyframe requests)", r.Dropped, r.NACKs, r.PLIs, r.KeyAsks)
	row("UDP receive buffer drops", "%d (kernel, machine-wide)", r.UDPRcvbufErrors)
	row("server's UDP sends", "%.2f datagrams per packet; %.0f %% of packets in segmented datagrams", r.UDPDatagrams, 100*r.UDPSegmented)
	row("encrypted by the server", "%.0f %% of forwarded packets (the rest through pion's write path)", 100*r.OwnSRTP)
	row("decrypted by the server", "%.0f publishers' packets/s (the rest read through pion)", r.OwnSRTPReadPPS)
	row("RTCP decrypted by the server", "%.0f subscribers' packets/s (the rest read through pion)", r.OwnSRTCPReadPPS)
	row("RTCP encrypted by the server", "%.0f packets/s to publishers (the rest written through pion)", r.OwnSRTCPSentPPS)
	if r.ServerCPU > 0 || r.ServerPeakRSS > 0 {
		row("server CPU", "%.2f s = %.2f cores; %.2f µs per forwarded packet; on %d processors (%d at the start)",
			r.ServerCPU, r.ServerCores, r.CPUPerPacket, r.ServerProcs[1], r.ServerProcs[0])
		row("server peak RSS", "%.1f MB (idle %.1f MB): %.2f MB per participant, %.2f above idle",
			float64(r.ServerPeakRSS)/(1<<20), float64(r.ServerIdleRSS)/(1<<20), r.RSSPerParticipant, r.RSSAboveIdle)
	} else {
		row("server CPU, RSS", "not measured (give --server-pid)")
	}
	row("load tool CPU", "%.2f s = %.2f cores (the rest of the machine: %.2f cores)", r.ToolCPU, r.ToolCores, r.OthersCores)
	for _, e := range r.Errors {
		row("error", "%s", e)
	}
	_ = tw.Flush()
}
