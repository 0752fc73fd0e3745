// Command perch is perch's command line and headless agent: it arranges the
// thin client's monitors and attaches the remote desktop's sessions.
package main

import (
	"os"

	"github.com/perchdesk/perch/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
