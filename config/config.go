// Package config loads perch's TOML configuration: profiles (one per place
// the user sits: outputs, server, sessions) and servers. Every error names
// the file, the line and the key, and wraps ErrInvalid.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/perchdesk/perch/xrandr"
)

// ErrInvalid marks a configuration the user must fix.
var ErrInvalid = errors.New("invalid configuration")

// Error is a configuration error at a place in a file.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // dotted key path, "" when none
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes every *Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Auto is the profile name that picks a profile by the connected monitors.
const Auto = "auto"

// Config is a loaded, validated configuration.
type Config struct {
	Path     string
	Default  string              // profile for `perch up` without argument; may be "auto"
	Location string              // this place's name, as other locations see it; default the host name
	Profiles map[string]*Profile // by name
	Order    []string            // profile names in file order
	Servers  map[string]*Server
	// Warnings are settings that work but that the user should know of
	// (a forward reachable from other machines), by file line.
	Warnings []string
	// Files are the files read, system files first (the least important
	// first), the user's last; Origins names the file that set each
	// top-level key ("default", "location"). A Server's and a Profile's
	// File say where each came from.
	Files   []string
	Origins map[string]string
}

// Profile is one place: its layout and, optionally, its server and sessions.
type Profile struct {
	Name     string
	File     string // the file it came from
	Line     int
	Match    []string // output names or EDID fingerprints that must be connected for auto
	Outputs  []Output
	Server   string
	Displays []int
	Sessions []Session
	Forwards []Forward
	Before   []string
	After    []string
	// Take is what starting or switching to the profile does with
	// sessions another location holds: TakeAlways or TakeIfFree.
	Take string
	// Follow is FollowActivity or FollowOff; FollowAfter is the idleness
	// after which input here takes the sessions.
	Follow      string
	FollowAfter time.Duration
	// Client runs each display's xpra client: ClientRemote (on the
	// server, drawing through X11 forwarding) or ClientLocal (here, xpra's
	// protocol through the link). The server's client key is the default.
	Client   string
	XpraArgs []string // extra `xpra attach` options of a local client
}

// Values of a profile's take and follow keys.
const (
	TakeAlways     = "always"
	TakeIfFree     = "if-free"
	FollowActivity = "activity"
	FollowOff      = "off"
)

// DefaultFollowAfter is follow_after when the profile does not say.
const DefaultFollowAfter = 30 * time.Second

// Where a profile's xpra clients run.
const (
	ClientRemote = "remote"
	ClientLocal  = "local"
)

// Output is one output of a profile, as written.
type Output struct {
	Name    string
	Line    int
	Mode    string
	Primary bool
	RightOf string
	LeftOf  string
	Above   string
	Below   string
	Pos     string
	Rotate  string
	Force   bool
}

// Session is a named remote command.
type Session struct {
	Name    string
	Command string
}

// Forward is a local port reaching a service beside the server.
type Forward struct {
	// Listen is the address to bind: a loopback address unless the file
	// says otherwise (gateway = true, or a written non-loopback address).
	Listen string
	To     string
	// Exposed: Listen reaches beyond this machine (Warnings says so).
	Exposed bool
}

// Server is one SSH server.
type Server struct {
	Name       string
	File       string // the file it came from
	Line       int
	SSH        string        // [user@]host[:port]
	SSHConfig  string        // "" = ~/.ssh/config then /etc/ssh/ssh_config
	Keepalive  time.Duration // 0: ServerAliveInterval from ssh_config, else 5 s
	KnownHosts string        // strict | accept-new; "" when not given (ssh_config decides)
	Client     string        // default of its profiles: ClientRemote or ClientLocal
}

// DefaultPath is $PERCH_CONFIG, else $XDG_CONFIG_HOME/perch/config.toml,
// else ~/.config/perch/config.toml.
func DefaultPath() string {
	if p := os.Getenv("PERCH_CONFIG"); p != "" {
		return p
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "perch", "config.toml")
}

// ErrNoFile is returned (wrapped, with ErrInvalid) when the file does not exist.
var ErrNoFile = errors.New("no configuration file")

// Load reads and validates the system configuration files (SystemPaths)
// and the user's file at path on top of them.
func Load(path string) (*Config, error) { return loadFiles(SystemPaths(), path) }

// Profile returns the named profile, with an error listing the known ones.
func (c *Config) Profile(name string) (*Profile, error) {
	p, ok := c.Profiles[name]
	if !ok {
		return nil, &Error{File: c.Path, Msg: fmt.Sprintf("no profile %q (profiles: %s)", name, orNone(c.Order))}
	}
	return p, nil
}

// KeepsLayout reports whether the profile lists no outputs: running it
// leaves the screen's layout as it is (no RandR request) and still runs
// its server, sessions and hooks.
func (p *Profile) KeepsLayout() bool { return len(p.Outputs) == 0 }

// Layout turns the profile's outputs into the layout the planner takes. The
// values were validated by Parse.
func (p *Profile) Layout() xrandr.Layout {
	var l xrandr.Layout
	for _, o := range p.Outputs {
		rot, _ := xrandr.ParseRotation(o.Rotate)
		sp := xrandr.OutputSpec{
			Name: o.Name, Mode: o.Mode, Primary: o.Primary, Rotate: rot,
			RightOf: o.RightOf, LeftOf: o.LeftOf, Above: o.Above, Below: o.Below, Force: o.Force,
		}
		if o.Pos != "" {
			pt, _ := xrandr.ParsePos(o.Pos)
			sp.Pos = &pt
		}
		l.Outputs = append(l.Outputs, sp)
	}
	return l
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
