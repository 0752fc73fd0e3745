package config

import (
	"fmt"
	"net"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/perchdesk/perch/xrandr"
)

// fileChecker checks one file: it names the file and line in errors and
// collects the configuration as it goes.
type fileChecker struct {
	path string
	ix   *lineIndex
	c    *Config
}

// errAt is an *Error at the line of key, with the key's indices stripped.
func (ps *fileChecker) errAt(key, format string, args ...any) error {
	return &Error{File: ps.path, Line: ps.ix.line(key), Key: stripIndices(key), Msg: fmt.Sprintf(format, args...)}
}

// Parse validates configuration text; path is used in messages.
func Parse(path string, data []byte) (*Config, error) { return parseOn(nil, path, data) }

// parseOn validates the text of the file at path on top of base (the
// files read before it; nil when none): its servers and profiles replace
// base's of the same name, its top-level keys base's, and its profiles
// may name base's servers.
func parseOn(base *Config, path string, data []byte) (*Config, error) {
	ix := indexLines(string(data))
	ps := &fileChecker{path: path, ix: ix}
	var raw rawConfig
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		return nil, decodeError(path, data, ix, err)
	}
	if err := ps.checkKeys(md, reflect.TypeOf(raw)); err != nil {
		return nil, err
	}

	c := base.onTop(path)
	ps.c = c
	if md.IsDefined("default") {
		c.Default, c.Origins["default"] = raw.Default, path
	}
	if md.IsDefined("location") {
		if !validLocation(raw.Location) {
			return nil, ps.errAt("location", "%q is not a location name: 1 to 64 letters, digits, '.', '_' or '-'", raw.Location)
		}
		c.Location, c.Origins["location"] = raw.Location, path
	} else if base == nil {
		c.Location = DefaultLocation()
	}

	for _, name := range sortedKeys(raw.Server) {
		s, err := ps.server(name, raw.Server[name])
		if err != nil {
			return nil, err
		}
		c.Servers[name] = s
	}

	names := sortedKeys(raw.Profile)
	sort.SliceStable(names, func(i, j int) bool { return ix.line("profile."+names[i]) < ix.line("profile."+names[j]) })
	for _, name := range names {
		p, err := ps.profile(name, raw.Profile[name])
		if err != nil {
			return nil, err
		}
		if _, ok := c.Profiles[name]; !ok {
			c.Order = append(c.Order, name)
		}
		c.Profiles[name] = p
	}
	sort.Strings(c.Warnings)
	if c.Default != "" && c.Default != Auto {
		if _, ok := c.Profiles[c.Default]; !ok {
			// Only this file's default can miss: base's was checked, and
			// profiles are never taken away.
			return nil, ps.errAt("default", "no profile %q (profiles: %s, or %q)", c.Default, orNone(c.Order), Auto)
		}
	}
	return c, nil
}

// server checks the [server.NAME] table rs.
func (ps *fileChecker) server(name string, rs rawServer) (*Server, error) {
	key := "server." + name
	s := &Server{Name: name, File: ps.path, Line: ps.ix.line(key), SSH: rs.SSH, SSHConfig: rs.SSHConfig, KnownHosts: rs.KnownHosts}
	if rs.SSH == "" {
		return nil, ps.errAt(key, "ssh is required: the server's [user@]host[:port]")
	}
	if strings.ContainsAny(rs.SSH, " \t'\"$`;|&") {
		return nil, ps.errAt(key+".ssh", "%q is not [user@]host[:port]", rs.SSH)
	}
	if rs.Keepalive != "" {
		d, err := time.ParseDuration(rs.Keepalive)
		if err != nil || d <= 0 {
			return nil, ps.errAt(key+".keepalive", "%q is not a positive duration such as \"2s\"", rs.Keepalive)
		}
		s.Keepalive = d
	}
	switch rs.KnownHosts {
	case "", "strict", "accept-new": // "": not given, ssh_config's StrictHostKeyChecking decides
	default:
		return nil, ps.errAt(key+".known_hosts", "%q: want \"strict\" or \"accept-new\"", rs.KnownHosts)
	}
	switch rs.X11 {
	case "", "trusted":
	case "untrusted":
		return nil, ps.errAt(key+".x11", "untrusted X11 forwarding (ssh -X) is not supported yet; remove the key for trusted forwarding as with ssh -Y")
	default:
		return nil, ps.errAt(key+".x11", "%q: want \"trusted\"", rs.X11)
	}
	var err error
	if s.Client, err = client(rs.Client, ClientRemote); err != nil {
		return nil, ps.errAt(key+".client", "%v", err)
	}
	return s, nil
}

// profile checks the [profile.NAME] table rp against the servers already
// checked, in the order its errors are reported: locations, outputs,
// match, server, displays and sessions, client, forwards.
func (ps *fileChecker) profile(name string, rp rawProfile) (*Profile, error) {
	key := "profile." + name
	if name == Auto {
		return nil, ps.errAt(key, "%q is reserved: it means pick the profile by the connected monitors", Auto)
	}
	p := &Profile{
		Name: name, File: ps.path, Line: ps.ix.line(key), Match: rp.Match, Server: rp.Server,
		Displays: rp.Displays, Before: rp.Before, After: rp.After,
	}
	if err := p.parseLocations(rp, key, ps.errAt); err != nil {
		return nil, err
	}
	if err := ps.outputs(p, rp, key); err != nil {
		return nil, err
	}
	for i, m := range rp.Match {
		if strings.TrimSpace(m) == "" {
			return nil, ps.errAt(key+".match", "entry %d is empty", i+1)
		}
	}
	if rp.Server != "" {
		if _, ok := ps.c.Servers[rp.Server]; !ok {
			return nil, ps.errAt(key+".server", "no [server.%s] table (servers: %s)", rp.Server, orNone(sortedKeys(ps.c.Servers)))
		}
	}
	if (len(rp.Displays) > 0 || len(rp.Session) > 0 || len(rp.Forward) > 0) && rp.Server == "" {
		return nil, ps.errAt(key, "the profile has sessions or forwards but no server = \"NAME\"")
	}
	if err := ps.sessions(p, rp, key); err != nil {
		return nil, err
	}
	if err := ps.clientKeys(p, rp, key); err != nil {
		return nil, err
	}
	if err := ps.forwards(p, rp, key); err != nil {
		return nil, err
	}
	return p, nil
}

// outputs checks the profile's [[output]] tables: first that each has a
// name, listed once, then each one's mode, rotation and placement (relative
// to an output the profile lists), and that at most one is primary.
func (ps *fileChecker) outputs(p *Profile, rp rawProfile, key string) error {
	listed := map[string]bool{}
	for i, ro := range rp.Output {
		ok := fmt.Sprintf("%s.output[%d]", key, i)
		if ro.Name == "" {
			return ps.errAt(ok, "name is required: the output's name as `perch outputs` shows it")
		}
		if listed[ro.Name] {
			return ps.errAt(ok+".name", "output %s is listed twice", ro.Name)
		}
		listed[ro.Name] = true
	}
	primaries := 0
	for i, ro := range rp.Output {
		ok := fmt.Sprintf("%s.output[%d]", key, i)
		if _, err := xrandr.ParseMode(ro.Mode); err != nil {
			return ps.errAt(ok+".mode", "%v", err)
		}
		if _, err := xrandr.ParseRotation(ro.Rotate); err != nil {
			return ps.errAt(ok+".rotate", "%v", err)
		}
		if err := ps.placement(ro, ok, listed, rp.Output); err != nil {
			return err
		}
		if ro.Primary {
			primaries++
			if primaries > 1 {
				return ps.errAt(ok+".primary", "more than one output of the profile is primary")
			}
		}
		p.Outputs = append(p.Outputs, Output{
			Name: ro.Name, Line: ps.ix.line(ok), Mode: ro.Mode, Primary: ro.Primary, RightOf: ro.RightOf,
			LeftOf: ro.LeftOf, Above: ro.Above, Below: ro.Below, Pos: ro.Pos, Rotate: ro.Rotate, Force: ro.Force,
		})
	}
	return nil
}

// placement checks output ro's one placement, at key ok: a valid pos, or
// right-of, left-of, above or below an output the profile lists.
func (ps *fileChecker) placement(ro rawOutput, ok string, listed map[string]bool, all []rawOutput) error {
	var rel []string
	for _, r := range []struct{ k, v string }{{"right-of", ro.RightOf}, {"left-of", ro.LeftOf}, {"above", ro.Above}, {"below", ro.Below}, {"pos", ro.Pos}} {
		if r.v == "" {
			continue
		}
		rel = append(rel, r.k)
		if r.k == "pos" {
			if _, err := xrandr.ParsePos(r.v); err != nil {
				return ps.errAt(ok+".pos", "%v", err)
			}
		} else if !listed[r.v] {
			return ps.errAt(ok+"."+r.k, "output %s is not in this profile, so it will be off; place %s relative to an output the profile lists (%s)",
				r.v, ro.Name, strings.Join(outputNames(all), ", "))
		}
	}
	if len(rel) > 1 {
		return ps.errAt(ok+"."+rel[1], "output %s has both %s and %s; give one placement", ro.Name, rel[0], rel[1])
	}
	return nil
}

// sessions checks the profile's displays and named sessions, which share
// one namespace (a display :N is named ":N").
func (ps *fileChecker) sessions(p *Profile, rp rawProfile, key string) error {
	seen := map[string]bool{}
	for _, d := range rp.Displays {
		if d < 0 || d > 65535 {
			return ps.errAt(key+".displays", "display %d is out of range (0 to 65535)", d)
		}
		n := ":" + strconv.Itoa(d)
		if seen[n] {
			return ps.errAt(key+".displays", "display %d is listed twice", d)
		}
		seen[n] = true
	}
	for i, rs := range rp.Session {
		sk := fmt.Sprintf("%s.session[%d]", key, i)
		switch {
		case rs.Name == "":
			return ps.errAt(sk, "name is required")
		case strings.HasPrefix(rs.Name, ":"):
			return ps.errAt(sk+".name", "%q: names starting with ':' are kept for displays", rs.Name)
		case seen[rs.Name]:
			return ps.errAt(sk+".name", "session %q is defined twice", rs.Name)
		case strings.TrimSpace(rs.Command) == "":
			return ps.errAt(sk+".command", "command is required")
		}
		seen[rs.Name] = true
		p.Sessions = append(p.Sessions, Session{Name: rs.Name, Command: rs.Command})
	}
	return nil
}

// clientKeys sets where the profile's xpra clients run (its server's client key
// is the default) and checks its extra xpra options.
func (ps *fileChecker) clientKeys(p *Profile, rp rawProfile, key string) error {
	def := ClientRemote
	if srv := ps.c.Servers[rp.Server]; srv != nil {
		def = srv.Client
	}
	var err error
	if p.Client, err = client(rp.Client, def); err != nil {
		return ps.errAt(key+".client", "%v", err)
	}
	for i, a := range rp.XpraArgs {
		if !strings.HasPrefix(a, "-") {
			return ps.errAt(key+".xpra_args", "entry %d, %q, is not an option: write each as \"--name=value\"", i+1, a)
		}
	}
	p.XpraArgs = rp.XpraArgs
	return nil
}

// forwards checks the profile's [[forward]] tables and adds a warning for
// each that other machines can reach.
func (ps *fileChecker) forwards(p *Profile, rp rawProfile, key string) error {
	for i, rf := range rp.Forward {
		fk := fmt.Sprintf("%s.forward[%d]", key, i)
		f, msg := forwardListen(rf)
		if msg != "" {
			return ps.errAt(fk+".listen", "%s", msg)
		}
		host, port, err := net.SplitHostPort(rf.To)
		if err != nil || rf.To == "" || host == "" {
			return ps.errAt(fk+".to", "%q is not host:port", rf.To)
		}
		if !validPort(port, false) {
			return ps.errAt(fk+".to", "%q: the port must be a number from 1 to 65535", rf.To)
		}
		if f.Exposed {
			ps.c.Warnings = append(ps.c.Warnings, fmt.Sprintf("%s:%d: %s.listen: forward %s listens on %s: other machines can reach %s through it",
				ps.path, ps.ix.line(fk+".listen"), stripIndices(fk), f.Listen, exposedWhere(f.Listen), rf.To))
		}
		f.To = rf.To
		p.Forwards = append(p.Forwards, f)
	}
	return nil
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

// outputNames lists the names of outs, in order.
func outputNames(outs []rawOutput) []string {
	var n []string
	for _, o := range outs {
		n = append(n, o.Name)
	}
	return n
}
