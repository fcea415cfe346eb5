package main

import (
	"context"

	"github.com/chuting/chuting/loadtest"
)

// runLoadtest is `chuting loadtest`: it loads a server (one it spawns from this executable, or
// a running one on loopback) with synthetic hearing participants and prints what arrived and
// what it cost (docs/perf.md). It returns the exit code of loadtest.Main.
func runLoadtest(ctx context.Context, args []string, io *stdio) int {
	return loadtest.Main(ctx, args, io.out, io.err)
}
