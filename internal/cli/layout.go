package cli

import "github.com/spf13/cobra"

func newLayoutCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "layout apply|save",
		Short: "apply a profile's layout, or save the current one as a profile",
		Args:  cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("layout needs a subcommand: apply or save")
			}
			return usagef("unknown layout subcommand %q (want apply or save)", args[0])
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	c.AddCommand(newLayoutApplyCmd(e), newLayoutSaveCmd(e))
	return c
}
