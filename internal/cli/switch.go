package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/control"
)

func newSwitchCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "switch PROFILE|auto",
		Short: "switch the running agent's profile",
		Long:  "switch makes the running agent run PROFILE (its layout, server and sessions), or choose by the connected outputs with auto.",
		Args: func(c *cobra.Command, args []string) error {
			if err := maxArgs(1)(c, args); err != nil {
				return err
			}
			if len(args) != 1 {
				return usagef("switch needs a PROFILE or auto")
			}
			return nil
		},
		ValidArgsFunction: e.completeAgentProfiles,
	}
	return e.clientCmd(c, 1, func(c *cobra.Command, cl *control.Client, args []string) error {
		st, err := cl.Switch(c.Context(), args[0])
		if err != nil {
			return clientErr(err)
		}
		fmt.Fprintf(e.stdout, "profile %s (%s)\n", st.Profile, st.Mode)
		return nil
	})
}
