package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/control"
)

func newStatusCmd(e *env) *cobra.Command {
	var asJSON, follow bool
	c := &cobra.Command{
		Use:   "status [--json] [--follow]",
		Short: "the running agent: profile, link, layout, sessions",
		Long:  "status prints the running agent's profile, layout, link and sessions; --follow prints it again at every change until interrupted.",
	}
	e.clientCmd(c, 0, func(c *cobra.Command, cl *control.Client, _ []string) error {
		if follow {
			return e.followStatus(c, cl, asJSON)
		}
		st, err := cl.Status(c.Context())
		if err != nil {
			return clientErr(err)
		}
		if asJSON {
			return writeJSON(e.stdout, st)
		}
		printStatus(e.stdout, st)
		return nil
	})
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&follow, "follow", false, "print the status again at every change, until interrupted")
	return c
}

// followStatus prints the status at every change until interrupted or the
// agent stops.
func (e *env) followStatus(c *cobra.Command, cl *control.Client, asJSON bool) error {
	ctx := c.Context()
	enc := json.NewEncoder(e.stdout)
	err := cl.Watch(ctx, func(st api.Status) {
		if asJSON {
			_ = enc.Encode(st) // one object per line
			return
		}
		fmt.Fprintf(e.stdout, "--- %s\n", time.Now().Format(time.TimeOnly))
		printStatus(e.stdout, st)
	})
	switch {
	case ctx.Err() != nil: // interrupted: the normal end
		return nil
	case errors.Is(err, control.ErrStreamEnded):
		fmt.Fprintln(e.stderr, "perch: the agent stopped")
		return nil
	}
	return clientErr(err)
}

func ms(d api.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f ms", float64(time.Duration(d).Microseconds())/1000)
}

// printStatus is the status for people.
func printStatus(w io.Writer, st api.Status) {
	fmt.Fprintf(w, "profile   %s (%s), since %s; agent pid %d, config %s\n", st.Profile, st.Mode, st.Since.Format("15:04:05"), st.PID, st.Config)
	if st.ProfileFile != "" {
		from := "profile: " + st.ProfileFile
		if st.ServerFile != "" {
			from += "; server: " + st.ServerFile
		}
		fmt.Fprintf(w, "origin    %s\n", from)
	}
	fmt.Fprintf(w, "location  %s\n", st.Location)
	if st.LastError != "" {
		fmt.Fprintf(w, "error     %s\n", st.LastError)
	}
	var outs []string
	for _, o := range st.Screen.Outputs {
		s := fmt.Sprintf("%s %s+%d+%d %s", o.Name, o.Mode, o.X, o.Y, o.Rotation)
		if o.Primary {
			s += " primary"
		}
		outs = append(outs, s)
	}
	if st.LayoutKept {
		fmt.Fprintln(w, "layout    left as it is (the profile lists no outputs)")
	} else {
		fmt.Fprintf(w, "layout    %dx%d: %s\n", st.Screen.Width, st.Screen.Height, strings.Join(outs, "; "))
	}
	if st.Link == nil {
		fmt.Fprintln(w, "link      none (the profile has no server)")
		return
	}
	l := st.Link
	fmt.Fprintf(w, "link      %s (%s): %s since %s, rtt %s, reconnects %d, connect %s\n",
		l.Server, l.Address, l.State, l.Since.Format("15:04:05"), ms(l.RTT), l.Reconnects, ms(l.Timings.Total))
	if l.LastError != "" {
		fmt.Fprintf(w, "          last error: %s\n", l.LastError)
	}
	if v := l.XpraVersions(); v != "" {
		fmt.Fprintf(w, "xpra      %s\n", v)
	}
	if l.XpraLimit > 0 {
		fmt.Fprintf(w, "          local xpra clients limited to %.1f Mbit/s: the link was full at %.1f Mbit/s\n",
			float64(l.XpraLimit)/1e6, float64(l.Carried)/1e6)
	}
	fmt.Fprintf(w, "%-10s %-9s %-8s %-10s %s\n", "SESSION", "STATE", "RESTARTS", "FIRST-X11", "LAST ERROR")
	for _, s := range st.Sessions {
		last := s.LastError
		if s.State == api.SessionElsewhere {
			last = fmt.Sprintf("%s since %s (perch take brings it here)", s.Where(), s.Since.Format("15:04:05"))
		}
		fmt.Fprintf(w, "%-10s %-9s %-8d %-10s %s\n", s.Name, s.State, s.Restarts, ms(s.Timings.FirstX11), last)
	}
	for _, f := range st.Forwards {
		fmt.Fprintf(w, "forward   %s → %s: %d open, %d in all %s\n", f.Listen, f.To, f.Active, f.Total, f.LastError)
	}
}
