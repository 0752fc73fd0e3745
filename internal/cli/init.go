package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/internal/app"
	"github.com/perchdesk/perch/internal/cli/sshexec"
	"github.com/perchdesk/perch/internal/server"
)

// initOptions are perch init's flags.
type initOptions struct {
	server, sshConfig, profile, displays string
	force                                bool
}

func newInitCmd(e *env) *cobra.Command {
	var o initOptions
	c := &cobra.Command{
		Use:   "init [--server HOST] [--profile NAME] [--displays auto|N,N] [--ssh-config FILE] [--force]",
		Short: "write a first configuration from the screen and the server",
		Long: `init writes a first configuration: a profile for the layout on screen now,
the server HOST (a Host of your ssh_config, or [user@]host[:port]) and the
xpra displays running there (xpra list over SSH, or those --displays names),
then checks it as ` + "`perch check`" + ` does. Without --server on a
terminal it lists ssh_config's hosts and asks. It refuses to overwrite an
existing file unless --force, which keeps the old one as FILE.bak.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return e.init(c.Context(), o)
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	f := c.Flags()
	f.StringVar(&o.server, "server", "", "the SSH server: a Host of ssh_config or [user@]host[:port]")
	f.StringVar(&o.sshConfig, "ssh-config", "", "ssh_config file to resolve HOST with (default ~/.ssh/config)")
	f.StringVar(&o.profile, "profile", "desk", "name of the profile to write")
	f.StringVar(&o.displays, "displays", "auto", "xpra displays to attach: auto (those running) or N,N")
	f.BoolVar(&o.force, "force", false, "replace an existing configuration, keeping it as FILE.bak")
	_ = c.RegisterFlagCompletionFunc("server", func(c *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return sshHosts(o.sshConfig), noFiles
	})
	return c
}

func (e *env) init(ctx context.Context, o initOptions) error {
	if o.server == "" && e.terminal != nil && e.terminal() {
		o.server = e.askServer(sshHosts(o.sshConfig))
	}
	if o.server == "" {
		return usagef("init needs --server HOST: a host of ssh_config (%s), or a host name or address", orNone(sshHosts(o.sshConfig)))
	}
	want, err := parseDisplays(o.displays)
	if err != nil {
		return err
	}
	path := e.configPath()
	if _, err := os.Stat(path); err == nil && !o.force {
		return usagef("%s exists; pass --force to replace it (the old file is kept as %s.bak)", path, path)
	}
	prof, note, err := e.profileHere(o.profile)
	if err != nil {
		return err
	}
	srv := &config.Server{Name: serverName(o.server), SSH: o.server, SSHConfig: o.sshConfig}
	live, err := xpraList(ctx, srv)
	if err != nil {
		return err
	}
	prof.Server, prof.Displays = srv.Name, want
	if want == nil {
		if len(live) == 0 {
			return fmt.Errorf("no xpra display runs on %s (xpra list found none): start one there (xpra start :10) or pass --displays N", o.server)
		}
		prof.Displays = live
	}
	for _, d := range prof.Displays {
		if !slices.Contains(live, d) {
			fmt.Fprintf(e.stderr, "perch: warning: display :%d does not run on %s now (running: %v); perch up will retry it\n", d, o.server, live)
		}
	}
	if err := writeInit(path, renderInit(srv, prof, note)); err != nil {
		return err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return fmt.Errorf("the written configuration does not check (a bug in perch init): %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote %s: profile %s (%d outputs), server %s (%s), displays %v\n", path, prof.Name, len(prof.Outputs), srv.Name, srv.SSH, prof.Displays)
	fmt.Fprintf(e.stdout, "%s: ok (%d profiles: %s; %d servers); run it with: perch up\n", cfg.Path, len(cfg.Order), strings.Join(cfg.Order, ", "), len(cfg.Servers))
	return nil
}

// askServer asks the person at the terminal which server to use: a
// number from the list of ssh_config's hosts, or a host; "" when none.
func (e *env) askServer(hosts []string) string {
	fmt.Fprintln(e.stderr, "Which server runs your xpra sessions?")
	for i, h := range hosts {
		fmt.Fprintf(e.stderr, "  %d) %s\n", i+1, h)
	}
	fmt.Fprint(e.stderr, "Number, or a host name or address: ")
	line, _ := bufio.NewReader(e.stdin).ReadString('\n')
	line = strings.TrimSpace(line)
	if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(hosts) {
		return hosts[n-1]
	}
	return line
}

// parseDisplays reads --displays: nil for auto.
func parseDisplays(s string) ([]int, error) {
	if s == "auto" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(f), ":"))
		if err != nil || n < 0 {
			return nil, usagef("--displays %q: want auto or display numbers such as 10,11", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// profileHere is the layout on screen as profile name; under Wayland a
// profile without outputs (with note saying why).
func (e *env) profileHere(name string) (*config.Profile, string, error) {
	if name == "" || name == config.Auto {
		return nil, "", usagef("--profile %q: give the profile a name other than auto", name)
	}
	c, err := e.dial()
	if err != nil {
		return nil, "", fmt.Errorf("read the screen: %w", err)
	}
	defer c.Close()
	st, err := c.State()
	if err != nil {
		return nil, "", fmt.Errorf("read the screen: %w", err)
	}
	if why := app.Wayland(e.getenv, st); why != "" {
		return &config.Profile{Name: name}, "# No outputs: " + why + "; the compositor arranges the monitors.\n", nil
	}
	return ProfileFromState(name, st), "", nil
}

var liveRe = regexp.MustCompile(`(?m)LIVE session at :(\d+)`)

// xpraList runs `xpra list` on the server and returns its live displays.
func xpraList(ctx context.Context, srv *config.Server) ([]int, error) {
	t, dopts, err := server.Resolve(srv.Name, srv)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	code, err := sshexec.Run(ctx, t, dopts, "xpra list", sshexec.Options{Stdout: &out, Stderr: &errb, Log: log})
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", srv.SSH, err)
	}
	if code != 0 {
		return nil, fmt.Errorf("no xpra on %s? `xpra list` exited %d: %s", srv.SSH, code, strings.TrimSpace(errb.String()+" "+out.String()))
	}
	var live []int
	for _, m := range liveRe.FindAllStringSubmatch(out.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		live = append(live, n)
	}
	slices.Sort(live)
	return slices.Compact(live), nil
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// serverName names the server table after the host: me@far.example:2222 → far-example.
func serverName(host string) string {
	if _, h, ok := strings.Cut(host, "@"); ok {
		host = h
	}
	host, _, _ = strings.Cut(host, ":")
	if n := strings.Trim(nonName.ReplaceAllString(host, "-"), "-"); n != "" {
		return n
	}
	return "server"
}

func renderInit(srv *config.Server, p *config.Profile, note string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# perch configuration, written by `perch init` on %s.\n", time.Now().Format("2006-01-02"))
	b.WriteString("# See the README or assets/config.example.toml for every key; `perch check` validates.\n\n")
	fmt.Fprintf(&b, "default = %q\n\n", p.Name)
	fmt.Fprintf(&b, "# The SSH server; ssh_config (Host, User, Port, IdentityFile, ...) resolves it as ssh does.\n[server.%s]\nssh = %q\n", srv.Name, srv.SSH)
	if srv.SSHConfig != "" {
		fmt.Fprintf(&b, "ssh_config = %q\n", srv.SSHConfig)
	}
	b.WriteString("\n# The layout on screen when perch init ran, and the xpra displays to attach.\n" + note)
	prof := config.RenderProfile(p)
	head, rest, _ := strings.Cut(prof, "\n")
	var ds []string
	for _, d := range p.Displays {
		ds = append(ds, strconv.Itoa(d))
	}
	fmt.Fprintf(&b, "%s\nserver = %q\ndisplays = [%s]\n%s", head, p.Server, strings.Join(ds, ", "), rest)
	return b.String()
}

// writeInit writes the file atomically, keeping an old one as path.bak.
func writeInit(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create the configuration directory: %w", err)
	}
	if _, err := os.Stat(path); err == nil {
		if err := os.Rename(path, path+".bak"); err != nil {
			return fmt.Errorf("keep the old configuration: %w", err)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// sshHosts are the Host names (no patterns) of an ssh_config file (default
// ~/.ssh/config).
func sshHosts(file string) []string {
	if file == "" {
		home, _ := os.UserHomeDir()
		file = filepath.Join(home, ".ssh", "config")
	}
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var hosts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || !strings.EqualFold(fields[0], "host") {
			continue
		}
		for _, h := range fields[1:] {
			if !strings.ContainsAny(h, "*?!") && !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
	}
	return hosts
}
