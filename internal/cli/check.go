package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/config"
)

func newCheckCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "validate the configuration",
		Long: "check reads the system configuration files ($XDG_CONFIG_DIRS/perch/config.toml) and the user's on top, reports the first error with file, line and key, " +
			"and says which file each profile and server came from; it touches neither the screen nor the network.",
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := e.loadConfig()
			if err != nil {
				return err
			}
			for _, w := range c.Warnings {
				fmt.Fprintln(e.stderr, "perch: warning: "+w)
			}
			fmt.Fprintf(e.stdout, "%s: ok (%d profiles: %s; %d servers)\n", c.Path, len(c.Order), strings.Join(c.Order, ", "), len(c.Servers))
			printOrigins(e.stdout, c)
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
}

// printOrigins says, for each file read, which profiles, servers and
// top-level keys it gave (a later file's win over an earlier one's).
func printOrigins(w io.Writer, c *config.Config) {
	for _, f := range c.Files {
		var got []string
		for _, name := range c.Order {
			if p := c.Profiles[name]; p.File == f {
				got = append(got, fmt.Sprintf("profile %s (line %d)", name, p.Line))
			}
		}
		for _, name := range slices.Sorted(maps.Keys(c.Servers)) {
			if s := c.Servers[name]; s.File == f {
				got = append(got, fmt.Sprintf("server %s (line %d)", name, s.Line))
			}
		}
		for _, k := range []string{"default", "location"} {
			if c.Origins[k] == f {
				got = append(got, k)
			}
		}
		if len(got) == 0 {
			got = []string{"nothing"}
		}
		fmt.Fprintf(w, "  from %s: %s\n", f, strings.Join(got, ", "))
	}
}
