package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/sessions/xpraclient"
	"github.com/perchdesk/perch/xrandr"
)

const doctorLong = `doctor walks the whole chain of a profile (default: the configuration's
default) and prints one line per step, OK or what is wrong and how to fix
it: ssh_config resolution, the TCP connection, the host key,
authentication, X11 forwarding (X11Forwarding, xauth on the server), xpra
on the server and its version, each display running with its socket,
another client on each display (sharing), the local xpra and its version
pair (client = "local"), the layout against the connected monitors, and
the locations' claims directory on the server. It changes nothing: no
layout applied, no display attached, no claim written.

Exit status 0 only when every step passes; 1 otherwise; 2 for a bad
configuration.`

func newDoctorCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "doctor [--json] [PROFILE]",
		Short: "check every step from here to the profile's displays, with the fix for each failure",
		Long:  doctorLong,
		Args:  maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return e.doctor(c.Context(), name, asJSON)
		},
		ValidArgsFunction: e.completeProfiles(false),
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON: {profile, server, ok, steps: [{step, ok, detail, fix}]}")
	return c
}

// DoctorStep is one line of perch doctor.
type DoctorStep struct {
	Step   string `json:"step"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// DoctorReport is perch doctor's whole answer (--json).
type DoctorReport struct {
	Profile string       `json:"profile"`
	Server  string       `json:"server,omitempty"`
	OK      bool         `json:"ok"`
	Steps   []DoctorStep `json:"steps"`
}

func (r *DoctorReport) pass(step, detail string) {
	r.Steps = append(r.Steps, DoctorStep{Step: step, OK: true, Detail: oneLine(detail)})
}

func (r *DoctorReport) fail(step, detail, fix string) {
	r.Steps = append(r.Steps, DoctorStep{Step: step, Detail: oneLine(detail), Fix: fix})
}

// oneLine joins a multi-line text (a server's output) into one line,
// without sshd's note that the login has no home directory.
func oneLine(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Could not chdir to home directory") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " | ")
}

// skip records steps that could not be checked because an earlier one
// failed.
func (r *DoctorReport) skip(because string, steps ...string) {
	for _, s := range steps {
		r.fail(s, "not checked: "+because, "")
	}
}

// doctor is perch doctor.
func (e *env) doctor(ctx context.Context, name string, asJSON bool) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if name == "" || name == "auto" {
		name = cfg.Default
	}
	if name == "" || name == "auto" {
		return usagef("doctor needs a PROFILE (or default = \"NAME\" in %s)", cfg.Path)
	}
	prof, err := cfg.Profile(name)
	if err != nil {
		return err
	}
	r := &DoctorReport{Profile: prof.Name, Server: prof.Server}
	if prof.Server != "" {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		e.doctorServer(ctx, r, prof, cfg.Servers[prof.Server])
		cancel()
	}
	e.doctorLayout(r, cfg, prof)
	r.OK = true
	for _, s := range r.Steps {
		r.OK = r.OK && s.OK
	}
	if asJSON {
		if err := writeJSON(e.stdout, r); err != nil {
			return err
		}
	} else {
		printDoctor(e.stdout, r)
	}
	if !r.OK {
		return exitStatus(1)
	}
	return nil
}

// printDoctor writes one line per step: OK or FAIL, the step, what was
// found and, for a failure, the fix.
func printDoctor(w io.Writer, r *DoctorReport) {
	for _, s := range r.Steps {
		word := "OK  "
		if !s.OK {
			word = "FAIL"
		}
		line := fmt.Sprintf("%s  %-22s %s", word, s.Step, s.Detail)
		if s.Fix != "" {
			line += "; fix: " + s.Fix
		}
		fmt.Fprintln(w, line)
	}
	if r.OK {
		fmt.Fprintf(w, "profile %s: every step passes\n", r.Profile)
	} else {
		fmt.Fprintf(w, "profile %s: some steps fail (above)\n", r.Profile)
	}
}

// doctorLayout checks the profile's layout against the monitors connected
// here, as `perch layout apply --dry-run` plans it.
func (e *env) doctorLayout(r *DoctorReport, cfg *config.Config, prof *config.Profile) {
	if prof.KeepsLayout() {
		r.pass("layout", "the profile lists no outputs: the layout is left as it is")
		return
	}
	c, st, err := e.layoutState("layout")
	if err != nil {
		r.fail("layout", err.Error(), "run perch on the thin client's X display (--display or $DISPLAY)")
		return
	}
	defer c.Close()
	plan, err := xrandr.MakePlan(st, prof.Layout())
	if err != nil {
		r.fail("layout", fmt.Sprintf("profile %s (%s:%d): %v", prof.Name, cfg.Path, prof.Line, err),
			"see `perch outputs` for the connected monitors and change the profile, or `perch layout save` the screen as it is")
		return
	}
	var outs []string
	for _, cr := range plan.Crtcs {
		outs = append(outs, fmt.Sprintf("%s %s", cr.OutputName, cr.Mode.Name))
	}
	r.pass("layout", fmt.Sprintf("fits the connected monitors: %s, screen %dx%d", strings.Join(outs, ", "), plan.Width, plan.Height))
}

// localXpra checks the local xpra and its version against the server's
// (local mode).
func localXpra(ctx context.Context, r *DoctorReport, server xpraclient.Version) {
	bin, err := lookPath(xpraclient.Binary)
	if err != nil {
		r.fail("local xpra", "not installed", `install xpra here (xpra.org's package, or apt install xpra), or use client = "remote"`)
		return
	}
	v, err := xpraclient.LocalVersion(ctx, bin)
	if err != nil {
		r.fail("local xpra", err.Error(), "reinstall xpra here")
		return
	}
	if why := xpraclient.Incompatible(v, server); why != "" {
		detail, fix, _ := strings.Cut(why, ": install")
		r.fail("local xpra", fmt.Sprintf("%s (%s)", detail, bin), "install"+fix)
		return
	}
	r.pass("local xpra", fmt.Sprintf("xpra %s (%s), talks to the server's %s", v, bin, server))
}
