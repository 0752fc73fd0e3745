package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/control"
)

func newReconnectCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:               "reconnect [SESSION]",
		Short:             "reconnect the link, or restart one session",
		Long:              "reconnect makes the running agent drop and re-establish its SSH link (every session re-attaches), or, given SESSION, restart that one session only.",
		ValidArgsFunction: e.completeSessions,
	}
	return e.clientCmd(c, 1, func(c *cobra.Command, cl *control.Client, args []string) error {
		session := ""
		if len(args) == 1 {
			session = args[0]
		}
		if _, err := cl.Reconnect(c.Context(), session); err != nil {
			return clientErr(err)
		}
		if session == "" {
			fmt.Fprintln(e.stdout, "reconnecting")
		} else {
			fmt.Fprintf(e.stdout, "restarting session %s\n", session)
		}
		return nil
	})
}
