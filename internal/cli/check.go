package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newCheckCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "validate the configuration",
		Long:  "check reads the configuration file and reports its first error with file, line and key; it touches neither the screen nor the network.",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := e.loadConfig()
			if err != nil {
				return err
			}
			for _, w := range c.Warnings {
				fmt.Fprintln(e.stderr, "perch: warning: "+w)
			}
			fmt.Fprintf(e.stdout, "%s: ok (%d profiles: %s; %d servers)\n", c.Path, len(c.Order), strings.Join(c.Order, ", "), len(c.Servers))
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
}
