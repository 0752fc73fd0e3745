package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/control"
)

func newDisconnectCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "disconnect",
		Short: "drop the link (the layout stays)",
		Long:  "disconnect makes the running agent drop its SSH link and stop re-connecting until `perch reconnect` or a switch; the layout stays.",
	}
	return e.clientCmd(c, 0, func(c *cobra.Command, cl *control.Client, _ []string) error {
		st, err := cl.Disconnect(c.Context())
		if err != nil {
			return clientErr(err)
		}
		fmt.Fprintf(e.stdout, "disconnected; profile %s stays (perch reconnect connects again)\n", st.Profile)
		return nil
	})
}
