//go:build pprof

package main

// A profiling build (go build -tags pprof) serves net/http/pprof on the loopback address in
// CHUTING_PPROF (e.g. 127.0.0.1:6060), so that the server can be profiled under the load
// tool (docs/perf.md). It is a build tag rather than a flag so that a production binary holds
// no profiling endpoint at all.

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
)

func init() {
	addr := os.Getenv("CHUTING_PPROF")
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "CHUTING_PPROF=%q: want a loopback host:port such as 127.0.0.1:6060\n", addr)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "CHUTING_PPROF: %v\n", err)
		os.Exit(2)
	}
	// CHUTING_PPROF_BLOCK=1 samples blocking and lock contention too (/debug/pprof/block,
	// /debug/pprof/mutex), at some cost: leave it off for CPU figures.
	if os.Getenv("CHUTING_PPROF_BLOCK") == "1" {
		runtime.SetBlockProfileRate(100_000) // one sample per 100 µs blocked
		runtime.SetMutexProfileFraction(10)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	slog.Info("pprof listening", "addr", ln.Addr().String())
	go func() { _ = http.Serve(ln, mux) }()
}
