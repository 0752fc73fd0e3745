// Package config loads perch's TOML configuration: profiles (one per place
// the user sits: outputs, server, sessions) and servers. Every error names
// the file, the line and the key, and wraps ErrInvalid.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/perchdesk/perch/internal/sys/fileperm"
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
}

// Profile is one place: its layout and, optionally, its server and sessions.
type Profile struct {
	Name     string
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

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := fileperm.ReadFile(path)
	if err != nil {
		var pe *fileperm.Error
		if errors.As(err, &pe) {
			return nil, &Error{File: path, Msg: pe.Err.Error()}
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist; copy assets/config.example.toml there, "+
				"or run `perch layout save NAME` to start one from the current layout: %w", ErrNoFile, path, ErrInvalid)
		}
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(path, data)
}

// Parse validates configuration text; path is used in messages.
func Parse(path string, data []byte) (*Config, error) {
	ix := indexLines(string(data))
	errAt := func(key, format string, args ...any) error {
		return &Error{File: path, Line: ix.line(key), Key: stripIndices(key), Msg: fmt.Sprintf(format, args...)}
	}
	var raw rawConfig
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if ppe := (*toml.ParseError)(nil); errors.As(err, &ppe) {
			pe = *ppe
		}
		if pe.Message != "" || errors.As(err, &pe) {
			msg := pe.Message
			if msg == "" {
				msg = pe.Error()
			}
			// The decoder counts an error at a line's end ("got '\n'") on
			// the next line, and its last key may stand lines before the
			// error: name the line of the offending byte, and the key only
			// when it is on that line.
			line, key := pe.Position.Line, pe.LastKey
			if s := pe.Position.Start; s >= 0 && s < len(data) && pe.Position.Len > 0 {
				line = 1 + bytes.Count(data[:s], []byte("\n"))
			}
			if key != "" {
				rows := strings.Split(string(data), "\n")
				last := key[strings.LastIndex(key, ".")+1:]
				if line < 1 || line > len(rows) || !strings.Contains(rows[line-1], last) {
					key = ""
				}
			}
			return nil, &Error{File: path, Line: line, Key: key, Msg: msg}
		}
		// Type mismatches come as "toml: line N (last key "k"): msg".
		if m := decodeErr.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			if line == 0 {
				line = ix.line(m[2])
			}
			return nil, &Error{File: path, Line: line, Key: m[2], Msg: typeMsg(m[3])}
		}
		return nil, &Error{File: path, Msg: err.Error()}
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0].String()
		return nil, errAt(k, "unknown key %q%s", und[0][len(und[0])-1], hint(k))
	}
	// TOML keys are case-sensitive, but the decoder matches struct fields
	// without regard to case: "Profile" or "nAme" would pass unnoticed.
	for _, k := range md.Keys() {
		if bad, want := miscased(reflect.TypeOf(raw), k); bad >= 0 {
			return nil, errAt(k[:bad+1].String(), "unknown key %q%s", k[bad], fmt.Sprintf(" (did you mean %q?)", want))
		}
	}
	// profile, server and each profile and server are tables; the decoder
	// quietly drops an array of tables ([[profile]]) in their place.
	for _, k := range md.Keys() {
		if len(k) > 2 || (k[0] != "profile" && k[0] != "server") {
			continue
		}
		if typ := md.Type(k...); typ != "Hash" {
			want := "[" + k[0] + ".NAME]"
			if len(k) == 2 {
				want = "[" + k.String() + "]"
			}
			return nil, errAt(k.String(), "must be a table such as %s, not %s", want, tomlTypeName(typ))
		}
	}

	c := &Config{Path: path, Default: raw.Default, Location: raw.Location, Profiles: map[string]*Profile{}, Servers: map[string]*Server{}}
	if md.IsDefined("location") {
		if !validLocation(raw.Location) {
			return nil, errAt("location", "%q is not a location name: 1 to 64 letters, digits, '.', '_' or '-'", raw.Location)
		}
	} else {
		c.Location = DefaultLocation()
	}

	for _, name := range sortedKeys(raw.Server) {
		rs := raw.Server[name]
		key := "server." + name
		s := &Server{Name: name, SSH: rs.SSH, SSHConfig: rs.SSHConfig, KnownHosts: rs.KnownHosts}
		if rs.SSH == "" {
			return nil, errAt(key, "ssh is required: the server's [user@]host[:port]")
		}
		if strings.ContainsAny(rs.SSH, " \t'\"$`;|&") {
			return nil, errAt(key+".ssh", "%q is not [user@]host[:port]", rs.SSH)
		}
		if rs.Keepalive != "" {
			d, err := time.ParseDuration(rs.Keepalive)
			if err != nil || d <= 0 {
				return nil, errAt(key+".keepalive", "%q is not a positive duration such as \"2s\"", rs.Keepalive)
			}
			s.Keepalive = d
		}
		switch rs.KnownHosts {
		case "", "strict", "accept-new": // "": not given, ssh_config's StrictHostKeyChecking decides
		default:
			return nil, errAt(key+".known_hosts", "%q: want \"strict\" or \"accept-new\"", rs.KnownHosts)
		}
		switch rs.X11 {
		case "", "trusted":
		case "untrusted":
			return nil, errAt(key+".x11", "untrusted X11 forwarding (ssh -X) is not supported yet; remove the key for trusted forwarding as with ssh -Y")
		default:
			return nil, errAt(key+".x11", "%q: want \"trusted\"", rs.X11)
		}
		if s.Client, err = client(rs.Client, ClientRemote); err != nil {
			return nil, errAt(key+".client", "%v", err)
		}
		c.Servers[name] = s
	}

	names := sortedKeys(raw.Profile)
	sort.SliceStable(names, func(i, j int) bool { return ix.line("profile."+names[i]) < ix.line("profile."+names[j]) })
	for _, name := range names {
		rp := raw.Profile[name]
		key := "profile." + name
		if name == Auto {
			return nil, errAt(key, "%q is reserved: it means pick the profile by the connected monitors", Auto)
		}
		p := &Profile{
			Name: name, Line: ix.line(key), Match: rp.Match, Server: rp.Server,
			Displays: rp.Displays, Before: rp.Before, After: rp.After,
		}
		if err := p.parseLocations(rp, key, errAt); err != nil {
			return nil, err
		}
		listed := map[string]bool{}
		primaries := 0
		for i, ro := range rp.Output {
			ok := fmt.Sprintf("%s.output[%d]", key, i)
			if ro.Name == "" {
				return nil, errAt(ok, "name is required: the output's name as `perch outputs` shows it")
			}
			if listed[ro.Name] {
				return nil, errAt(ok+".name", "output %s is listed twice", ro.Name)
			}
			listed[ro.Name] = true
		}
		for i, ro := range rp.Output {
			ok := fmt.Sprintf("%s.output[%d]", key, i)
			if _, err := xrandr.ParseMode(ro.Mode); err != nil {
				return nil, errAt(ok+".mode", "%v", err)
			}
			if _, err := xrandr.ParseRotation(ro.Rotate); err != nil {
				return nil, errAt(ok+".rotate", "%v", err)
			}
			var rel []string
			for _, r := range []struct{ k, v string }{{"right-of", ro.RightOf}, {"left-of", ro.LeftOf}, {"above", ro.Above}, {"below", ro.Below}, {"pos", ro.Pos}} {
				if r.v == "" {
					continue
				}
				rel = append(rel, r.k)
				if r.k == "pos" {
					if _, err := xrandr.ParsePos(r.v); err != nil {
						return nil, errAt(ok+".pos", "%v", err)
					}
				} else if !listed[r.v] {
					return nil, errAt(ok+"."+r.k, "output %s is not in this profile, so it will be off; place %s relative to an output the profile lists (%s)",
						r.v, ro.Name, strings.Join(outputNames(rp.Output), ", "))
				}
			}
			if len(rel) > 1 {
				return nil, errAt(ok+"."+rel[1], "output %s has both %s and %s; give one placement", ro.Name, rel[0], rel[1])
			}
			if ro.Primary {
				primaries++
				if primaries > 1 {
					return nil, errAt(ok+".primary", "more than one output of the profile is primary")
				}
			}
			p.Outputs = append(p.Outputs, Output{
				Name: ro.Name, Line: ix.line(ok), Mode: ro.Mode, Primary: ro.Primary, RightOf: ro.RightOf,
				LeftOf: ro.LeftOf, Above: ro.Above, Below: ro.Below, Pos: ro.Pos, Rotate: ro.Rotate, Force: ro.Force,
			})
		}
		for i, m := range rp.Match {
			if strings.TrimSpace(m) == "" {
				return nil, errAt(key+".match", "entry %d is empty", i+1)
			}
		}
		if rp.Server != "" {
			if _, ok := c.Servers[rp.Server]; !ok {
				return nil, errAt(key+".server", "no [server.%s] table (servers: %s)", rp.Server, orNone(sortedKeys(raw.Server)))
			}
		}
		if (len(rp.Displays) > 0 || len(rp.Session) > 0 || len(rp.Forward) > 0) && rp.Server == "" {
			return nil, errAt(key, "the profile has sessions or forwards but no server = \"NAME\"")
		}
		seen := map[string]bool{}
		for _, d := range rp.Displays {
			if d < 0 || d > 65535 {
				return nil, errAt(key+".displays", "display %d is out of range (0 to 65535)", d)
			}
			n := ":" + strconv.Itoa(d)
			if seen[n] {
				return nil, errAt(key+".displays", "display %d is listed twice", d)
			}
			seen[n] = true
		}
		for i, rs := range rp.Session {
			sk := fmt.Sprintf("%s.session[%d]", key, i)
			switch {
			case rs.Name == "":
				return nil, errAt(sk, "name is required")
			case strings.HasPrefix(rs.Name, ":"):
				return nil, errAt(sk+".name", "%q: names starting with ':' are kept for displays", rs.Name)
			case seen[rs.Name]:
				return nil, errAt(sk+".name", "session %q is defined twice", rs.Name)
			case strings.TrimSpace(rs.Command) == "":
				return nil, errAt(sk+".command", "command is required")
			}
			seen[rs.Name] = true
			p.Sessions = append(p.Sessions, Session{Name: rs.Name, Command: rs.Command})
		}
		def := ClientRemote
		if srv := c.Servers[rp.Server]; srv != nil {
			def = srv.Client
		}
		if p.Client, err = client(rp.Client, def); err != nil {
			return nil, errAt(key+".client", "%v", err)
		}
		for i, a := range rp.XpraArgs {
			if !strings.HasPrefix(a, "-") {
				return nil, errAt(key+".xpra_args", "entry %d, %q, is not an option: write each as \"--name=value\"", i+1, a)
			}
		}
		p.XpraArgs = rp.XpraArgs
		for i, rf := range rp.Forward {
			fk := fmt.Sprintf("%s.forward[%d]", key, i)
			f, msg := forwardListen(rf)
			if msg != "" {
				return nil, errAt(fk+".listen", "%s", msg)
			}
			host, port, err := net.SplitHostPort(rf.To)
			if err != nil || rf.To == "" || host == "" {
				return nil, errAt(fk+".to", "%q is not host:port", rf.To)
			}
			if !validPort(port, false) {
				return nil, errAt(fk+".to", "%q: the port must be a number from 1 to 65535", rf.To)
			}
			if f.Exposed {
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s:%d: %s.listen: forward %s listens on %s: other machines can reach %s through it",
					path, ix.line(fk+".listen"), stripIndices(fk), f.Listen, exposedWhere(f.Listen), rf.To))
			}
			f.To = rf.To
			p.Forwards = append(p.Forwards, f)
		}
		c.Profiles[name] = p
		c.Order = append(c.Order, name)
	}
	sort.Strings(c.Warnings)
	if c.Default != "" && c.Default != Auto {
		if _, ok := c.Profiles[c.Default]; !ok {
			return nil, errAt("default", "no profile %q (profiles: %s, or %q)", c.Default, orNone(c.Order), Auto)
		}
	}
	return c, nil
}

// client checks a client key; "" is def.
func client(v, def string) (string, error) {
	switch v {
	case "":
		return def, nil
	case ClientRemote, ClientLocal:
		return v, nil
	}
	return "", fmt.Errorf("%q: want \"remote\" (xpra's client on the server, through X11 forwarding) or \"local\" (xpra's client on this machine)", v)
}

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

func outputNames(outs []rawOutput) []string {
	var n []string
	for _, o := range outs {
		n = append(n, o.Name)
	}
	return n
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
