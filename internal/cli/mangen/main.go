// Command mangen writes perch's man pages (perch.1, perch-layout-apply.1,
// ...) from the command definitions, with cobra/doc: `make man`.
//
//	go run ./internal/cli/mangen DIR
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/perchdesk/perch/internal/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mangen DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
	root := cli.Command()
	root.DisableAutoGenTag = true // the same input gives the same pages
	// perch runs on Linux: no page for cobra's PowerShell completion.
	if c, _, err := root.Find([]string{"completion", "powershell"}); err == nil && c.Name() == "powershell" {
		c.Hidden = true
	}
	// No Title: each page gets its own (PERCH-UP for perch-up.1).
	hdr := &doc.GenManHeader{Section: "1", Source: "perch", Manual: "perch manual"}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}
