package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/xrandr"
)

func newOutputsCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "outputs [--json]",
		Short: "list outputs, modes and EDID fingerprints",
		Long:  "outputs lists the X screen's outputs as xrandr does, with the EDID fingerprint a profile's match list can name.",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			x, err := e.dial()
			if err != nil {
				return err
			}
			defer x.Close()
			st, err := x.Probe()
			if err != nil {
				return err
			}
			v := st.View()
			if asJSON {
				return writeJSON(e.stdout, v)
			}
			printOutputs(e.stdout, v)
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// printOutputs prints the screen in xrandr's manner, with fingerprints.
func printOutputs(w io.Writer, v xrandr.ScreenView) {
	fmt.Fprintf(w, "Screen: current %dx%d (%dmm x %dmm), minimum %dx%d, maximum %dx%d\n",
		v.Width, v.Height, v.MmWidth, v.MmHeight, v.MinWidth, v.MinHeight, v.MaxWidth, v.MaxHeight)
	for _, o := range v.Outputs {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", o.Name, o.Connection)
		if o.Primary {
			b.WriteString(" primary")
		}
		if o.On {
			fmt.Fprintf(&b, " %s+%d+%d %s", o.Mode, o.X, o.Y, o.Rotation)
		} else {
			b.WriteString(" off")
		}
		if len(o.Rotations) > 0 {
			fmt.Fprintf(&b, " (rotations: %s)", strings.Join(o.Rotations, " "))
		}
		if o.MmWidth > 0 {
			fmt.Fprintf(&b, " %dmm x %dmm", o.MmWidth, o.MmHeight)
		}
		if o.Fingerprint != "" {
			fmt.Fprintf(&b, " edid %s", o.Fingerprint)
		}
		fmt.Fprintln(w, b.String())
		// Group modes by size as xrandr does: "1920x1080  60.00*+  50.00".
		var line strings.Builder
		last := ""
		for _, m := range o.Modes {
			size := fmt.Sprintf("%dx%d", m.Width, m.Height)
			if size != last {
				if line.Len() > 0 {
					fmt.Fprintln(w, line.String())
					line.Reset()
				}
				fmt.Fprintf(&line, "   %-12s", size)
				last = size
			}
			mark := " "
			if m.Current {
				mark = "*"
			}
			pref := " "
			if m.Preferred {
				pref = "+"
			}
			fmt.Fprintf(&line, " %6.2f%s%s", m.Refresh, mark, pref)
		}
		if line.Len() > 0 {
			fmt.Fprintln(w, line.String())
		}
	}
}
