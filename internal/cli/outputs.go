package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/desktop"
	"github.com/perchdesk/perch/internal/app"
	"github.com/perchdesk/perch/xrandr"
)

func newOutputsCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "outputs [--json]",
		Short: "list outputs, modes and EDID fingerprints",
		Long: `outputs lists the outputs as xrandr does, with the fingerprint a profile's
match list can name (of the EDID under X11, of make, model and serial on
Wayland), and says what arranges them: randr (X11), wlroots
(wlr-output-management) or mutter (GNOME's DisplayConfig).`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, st, err := e.openLayout(true)
			var we *app.WaylandError
			if err != nil && !errors.As(err, &we) {
				return err
			}
			defer s.Close()
			v := st.View()
			v.Backend = s.backend()
			if we != nil {
				v.Backend = "none"
				fmt.Fprintf(e.stderr, "note: layouts are refused here: %v\n", we)
			}
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
	if v.Backend != "" {
		fmt.Fprintf(w, "Backend: %s\n", v.Backend)
	}
	if v.Backend != "" && v.Backend != desktop.RandR && v.Backend != "none" {
		fmt.Fprintf(w, "Layout: %dx%d\n", v.Width, v.Height)
	} else {
		printScreenLine(w, v)
	}
	printOutputList(w, v)
}

func printScreenLine(w io.Writer, v xrandr.ScreenView) {
	fmt.Fprintf(w, "Screen: current %dx%d (%dmm x %dmm), minimum %dx%d, maximum %dx%d\n",
		v.Width, v.Height, v.MmWidth, v.MmHeight, v.MinWidth, v.MinHeight, v.MaxWidth, v.MaxHeight)
}

func printOutputList(w io.Writer, v xrandr.ScreenView) {
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
			fmt.Fprintf(&b, " %s %s", fingerprintWord(v.Backend), o.Fingerprint)
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

// fingerprintWord says what a fingerprint is a hash of.
func fingerprintWord(backend string) string {
	if backend == desktop.Wlroots || backend == desktop.Mutter {
		return "id"
	}
	return "edid"
}
