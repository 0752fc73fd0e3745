package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/control"
)

func newReloadCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "reload",
		Short: "re-read the configuration (as SIGHUP)",
		Long:  "reload makes the running agent re-read its configuration file; a broken file or one the screen refuses leaves the previous configuration in effect.",
	}
	return e.clientCmd(c, 0, func(c *cobra.Command, cl *control.Client, _ []string) error {
		st, err := cl.Reload(c.Context())
		if err != nil {
			return clientErr(err)
		}
		fmt.Fprintf(e.stdout, "reloaded %s; profile %s\n", st.Config, st.Profile)
		return nil
	})
}
