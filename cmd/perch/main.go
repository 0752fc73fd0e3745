// Command perch is perch's command line and headless agent: it arranges the
// thin client's monitors and attaches the remote desktop's sessions.
package main

import (
	"os"
	"runtime"

	"github.com/perchdesk/perch/internal/cli"
)

func main() {
	// perch's heavy work is one encrypted stream (the SSH link carrying
	// X11): one P avoids waking a second thread for every packet. In
	// alternating runs against the same x11perf work this cut perch's CPU
	// per operation by about a fifth (docs/benchmarks.md). GOMAXPROCS in
	// the environment still wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	os.Exit(cli.Main(os.Args[1:]))
}
