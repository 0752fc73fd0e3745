package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/control"
)

func newTakeCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:               "take [SESSION...]",
		Short:             "bring the sessions here from another location",
		Long:              "take makes the running agent bring display sessions (:N) here from the location that holds them: those named, or all of the running profile's displays when none is named. An unknown session is refused and nothing moves.",
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: e.completeSessions,
	}
	return e.clientCmd(c, -1, func(c *cobra.Command, cl *control.Client, args []string) error {
		for _, a := range args {
			if !strings.HasPrefix(a, ":") {
				return usagef("take: %q is not a display session (such as :10)", a)
			}
		}
		st, err := cl.Take(c.Context(), args)
		if err != nil {
			return clientErr(err)
		}
		what := "every session"
		if len(args) > 0 {
			what = strings.Join(args, ", ")
		}
		fmt.Fprintf(e.stdout, "taking %s to %s\n", what, st.Location)
		return nil
	})
}
