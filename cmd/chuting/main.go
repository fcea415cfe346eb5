// Command chuting is the chuting server and its administration tool.
//
//	chuting serve [flags]              run the server
//	chuting user add|passwd|list       manage accounts offline, against the store
//	chuting backup --out FILE          snapshot the embedded store (online, through the server)
//	chuting restore --in FILE          bring a snapshot back (server stopped)
//	chuting schedule --in P --out S    solve a court-sched-v1 problem file offline
//	chuting loadtest --spawn [flags]   load a server with synthetic participants (docs/perf.md)
//	chuting verify [--key FILE] DIR    check a hearing's recording against its signed manifest
//
// Run `chuting <command> -h` for the flags of each.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // court time zones without the system's database (the distroless image has none)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], &stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Getenv))
}

// stdio is the terminal a subcommand talks to; tests pass buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

const usage = `chuting (出庭): remote court testimony for forensic appraisers

usage:
  chuting serve [flags]            run the server (--demo seeds demo data)
  chuting user add|passwd|list     manage accounts against the store
  chuting backup --out FILE        snapshot the embedded store
  chuting restore --in FILE        bring a snapshot back (server stopped)
  chuting schedule --in problem.json --out schedule.json
                                   solve a court-sched-v1 scheduling problem offline
  chuting loadtest --spawn [flags] load a server with synthetic hearing participants
  chuting verify [--key FILE] DIR  check a hearing's recording folder against its signed
                                   manifest (校验录像完整性)

Run 'chuting <command> -h' for the flags of a command.
`

// run dispatches a command line and returns the process exit code.
func run(ctx context.Context, args []string, io *stdio, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(io.err, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], io, getenv)
	case "user":
		err = runUser(ctx, args[1:], io, getenv)
	case "backup":
		err = runBackup(ctx, args[1:], io, getenv)
	case "restore":
		err = runRestore(ctx, args[1:], io, getenv)
	case "schedule":
		err = runSchedule(ctx, args[1:], io, getenv)
	case "loadtest":
		return runLoadtest(ctx, args[1:], io)
	case "verify":
		return runVerify(args[1:], io)
	case "help", "-h", "--help":
		fmt.Fprint(io.out, usage)
		return 0
	default:
		fmt.Fprintf(io.err, "chuting: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		fmt.Fprintf(io.err, "chuting %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
