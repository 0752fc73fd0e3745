package sshconf

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Target is a server as ssh would connect to it, resolved from
// "[user@]host[:port]" and ssh_config.
type Target struct {
	Alias                 string   // the target as given (%n)
	HostName              string   // to connect to: HostName (with %h), lower-cased as ssh does for names
	Port                  int      // default ssh_config.Default("Port")
	User                  string   // default: the local user
	IdentityFiles         []string // expanded (~, %-tokens, ${VAR}); default ~/.ssh/id_* that exist
	CertificateFiles      []string // CertificateFile, expanded as IdentityFile
	IdentitiesOnly        bool     // offer only the IdentityFiles' keys, also from ssh-agent
	IdentityAgent         string   // "" = $SSH_AUTH_SOCK; "none" = no agent
	KnownHostsFiles       []string // UserKnownHostsFile, expanded; default ssh_config.Default's (~/.ssh/known_hosts ~/.ssh/known_hosts2)
	GlobalKnownHostsFiles []string // GlobalKnownHostsFile; default ssh_config.Default's (/etc/ssh/ssh_known_hosts{,2})
	StrictHostKeyChecking string   // "yes" | "accept-new" | "ask" | "no"; "" if unset (ssh: ask)
	HostKeyAlias          string   // lower-cased, "" if unset
	HostKeyAlgorithms     []string // as configured (+, -, ^ applied); nil: ssh's default
	// HostKeyAlgorithmsExact: HostKeyAlgorithms was given whole (or with
	// ^), so ssh offers it as is instead of putting known key types first.
	HostKeyAlgorithmsExact bool
	RevokedHostKeys        string        // expanded path, "" if unset
	HashKnownHosts         bool          // record new hosts hashed
	ServerAliveInterval    time.Duration // 0 if unset
	ServerAliveCountMax    int           // default ssh_config.Default's (3)
	ConnectTimeout         time.Duration // 0 if unset
	ProxyJump              []Spec        // the hops, in order; nil if none
	ProxyCommand           string        // expanded, to run with $SHELL -c; "" if none
	// ProxyUseFdpass: ProxyCommand passes a connected socket back over its
	// stdout (SCM_RIGHTS) instead of carrying the stream itself (without a
	// ProxyCommand it changes nothing; ProxyJump turns it off).
	ProxyUseFdpass bool
	Tag            string // the first Tag obtained (Match tagged), "" if none

	// ConfigFiles are the files the target was resolved from (nil: ssh's
	// defaults); jump hosts are resolved from the same files.
	ConfigFiles []string
	env         *Env
	raw         map[string]string // values as written, for comparing with ssh -G

	// What Final needs to resolve again with the connection's context.
	spec     Spec
	opts     Options
	deferred bool // a CanonicalizeHostname lookup waits for Final
}

// Addr returns "host:port" for net.Dial, with an IPv6 address bracketed.
func (t *Target) Addr() string {
	return net.JoinHostPort(t.HostName, strconv.Itoa(t.Port))
}

// String names the target for messages: "user@alias (host:port)", or
// "user@host:port" when the alias is the host name.
func (t *Target) String() string {
	if t.Alias != "" && t.Alias != t.HostName {
		return fmt.Sprintf("%s@%s (%s)", t.User, t.Alias, t.Addr())
	}
	return fmt.Sprintf("%s@%s", t.User, t.Addr())
}

// Env is the environment the target was resolved in (for its jump hosts).
func (t *Target) Env() *Env { return t.env }

// Options tune Resolve.
type Options struct {
	// Files are read instead of ssh's defaults, as with ssh -F (the first
	// one must exist). nil: ~/.ssh/config, which must belong to the user
	// and not be writable by others, then /etc/ssh/ssh_config.
	Files []string
	// Env is the local system; nil reads it (SystemEnv).
	Env *Env
	// JumpOverride replaces ssh_config's ProxyJump, as ssh -J does (for
	// the last hop of a chain, which goes through the hops before it).
	JumpOverride []Spec
	// Context bounds the name lookups of CanonicalizeHostname and
	// CanonicalizePermittedCNAMEs. nil: no lookup now; the name is looked
	// up when the connection is made (Target.Final with its context).
	Context context.Context
	// Resolver looks names up; nil: the system's (net.DefaultResolver).
	Resolver Resolver
}

// Resolve resolves target ("[user@]host[:port]") through ssh_config with
// ssh's semantics (see the package doc). A user or port in target wins over
// ssh_config's, as on ssh's command line. Errors name the file and line.
func Resolve(target string, files []string) (*Target, error) {
	return ResolveWith(target, Options{Files: files})
}

// ResolveWith is Resolve with options.
func ResolveWith(target string, o Options) (*Target, error) {
	spec, err := ParseSpec(target)
	if err != nil {
		return nil, err
	}
	return ResolveSpec(spec, o)
}

// ResolveSpec resolves a parsed target.
func ResolveSpec(spec Spec, o Options) (*Target, error) {
	if err := checkHost(spec.Host); err != nil {
		return nil, fmt.Errorf("server %q: %w", spec.String(), err)
	}
	if spec.User != "" {
		if err := checkUser(spec.User); err != nil {
			return nil, fmt.Errorf("server %q: %w", spec.String(), err)
		}
	}
	env := o.Env
	if env == nil {
		e, err := SystemEnv()
		if err != nil {
			return nil, err
		}
		env = &e
	}
	st := &state{first: map[string]*setting{}}
	if spec.User != "" {
		st.first["user"] = &setting{key: "user", args: []string{spec.User}, file: "command line"}
	}
	if spec.Port != 0 {
		st.first["port"] = &setting{key: "port", args: []string{strconv.Itoa(spec.Port)}, file: "command line"}
	}
	if o.JumpOverride != nil {
		hops := make([]string, len(o.JumpOverride))
		for i, h := range o.JumpOverride {
			hops[i] = h.String()
		}
		st.first["proxyjump"] = &setting{key: "proxyjump", args: []string{strings.Join(hops, ",")}, raw: strings.Join(hops, ","), file: "jump chain"}
	}
	p := &pass{env: env, host: spec.Host, orig: spec.Host, st: st}
	if err := p.readAll(o.Files); err != nil {
		return nil, err
	}
	host, err := p.hostName(spec)
	if err != nil {
		return nil, err
	}
	r := o.Resolver
	if r == nil {
		r = systemResolver
	}
	c := &canonicalizer{ctx: o.Context, r: r, st: st}
	host, deferred, err := c.canonicalize(host)
	if err != nil {
		return nil, err
	}
	if p.wantFinal || st.canonMode() != "no" {
		p.final, p.host = true, host
		if err := p.readAll(o.Files); err != nil {
			return nil, err
		}
	}
	t, err := build(spec, host, st, env)
	if err != nil {
		return nil, err
	}
	t.ConfigFiles = o.Files
	t.spec, t.opts, t.deferred = spec, o, deferred
	t.opts.Env = env
	return t, nil
}

// hostName is the host name ssh connects to after the first pass:
// HostName with %h, lower-cased unless it is an address.
func (p *pass) hostName(spec Spec) (string, error) {
	host := spec.Host
	if s := p.st.get("hostname"); s != nil {
		h, err := p.env.expand(s.args[0], tokens{'h': spec.Host}, false)
		if err != nil {
			return "", s.errorf("HostName: %v", err)
		}
		host = h
	}
	if !isAddr(host) {
		host = strings.ToLower(host)
	}
	return host, nil
}

// Final is t with the name lookups of CanonicalizeHostname done with ctx
// (the connection's), and the configuration read again with the canonical
// name, as ssh does when it starts. t itself when no lookup was deferred.
func (t *Target) Final(ctx context.Context) (*Target, error) {
	if !t.deferred {
		return t, nil
	}
	o := t.opts
	o.Context = ctx
	return ResolveSpec(t.spec, o)
}

// readAll reads the files of one pass: each top-level file starts active.
func (p *pass) readAll(files []string) error {
	user := files != nil
	if files == nil {
		files = []string{filepath.Join(p.env.Home, ".ssh", "config"), "/etc/ssh/ssh_config"}
	}
	for i, name := range files {
		active := true
		isUser := user || i == 0
		err := p.readFile(name, isUser, !user && i == 0, false, &active, 0)
		switch {
		case errors.Is(err, fs.ErrNotExist) && (!user || i > 0):
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("ssh config %s does not exist", name)
		case err != nil:
			var ce *Error
			if errors.As(err, &ce) {
				return err
			}
			return fmt.Errorf("read ssh config: %w", err)
		}
	}
	return nil
}

// build turns the obtained options into a Target, expanding tokens where
// ssh does and refusing what perch cannot honour (naming file and line).
func build(spec Spec, host string, st *state, env *Env) (*Target, error) {
	t := &Target{Alias: spec.Host, HostName: host, User: env.User, env: env, raw: map[string]string{}}
	for _, s := range st.idents {
		t.raw["identityfile"] += s.args[0] + "\n"
	}
	for _, k := range []string{"proxycommand", "proxyjump"} {
		if s := st.get(k); s != nil {
			v, _, _ := strings.Cut(s.raw, "#")
			if k == "proxycommand" {
				v = s.raw
			}
			t.raw[k] = strings.TrimRight(v, whitespace)
		}
	}
	if s := st.get("revokedhostkeys"); s != nil {
		t.raw["revokedhostkeys"] = s.args[0]
	}
	if st.get("serveraliveinterval") == nil && flag(st, "batchmode") {
		// Debian's ssh: with BatchMode, ServerAliveInterval defaults to 300.
		st.first["serveraliveinterval"] = &setting{key: "serveraliveinterval", args: []string{"300"}, file: "Debian's default with BatchMode"}
	}
	st.withDefaults()
	t.Port, _ = parsePort(st.str("port"))
	if u := st.str("user"); u != "" {
		if strings.ContainsFunc(u, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return nil, st.get("user").errorf("User %q has control characters", u)
		}
		t.User = u
	}
	if err := refuseUnsupported(st); err != nil {
		return nil, err
	}
	if s := st.get("stricthostkeychecking"); s != nil {
		t.StrictHostKeyChecking, _ = parseStrict(s.args[0])
	}
	t.Tag = st.str("tag")
	t.IdentitiesOnly = flag(st, "identitiesonly")
	t.HashKnownHosts = flag(st, "hashknownhosts")
	t.ServerAliveInterval, _ = parseTime(st.str("serveraliveinterval"))
	if s := st.get("connecttimeout"); s != nil {
		t.ConnectTimeout, _ = parseTime(s.args[0])
	}
	t.ServerAliveCountMax, _ = parseCount(st.str("serveralivecountmax"))
	if a := st.str("hostkeyalias"); a != "" {
		t.HostKeyAlias = strings.ToLower(a)
	}
	if s := st.get("hostkeyalgorithms"); s != nil {
		t.HostKeyAlgorithms, _ = hostKeyAlgorithms(s.args[0])
		t.HostKeyAlgorithmsExact = !strings.HasPrefix(s.args[0], "+") && !strings.HasPrefix(s.args[0], "-")
	}
	if err := t.proxy(spec, st); err != nil {
		return nil, err
	}
	if err := t.files(st); err != nil {
		return nil, err
	}
	return t, nil
}

func flag(st *state, key string) bool {
	s := st.get(key)
	if s == nil {
		return false
	}
	v, _ := parseFlag(s.args[0])
	return v
}

// refuseUnsupported refuses options perch cannot honour, when they apply.
func refuseUnsupported(st *state) error {
	why := map[string]func(v string) bool{
		"checkhostip":       func(v string) bool { b, _ := parseFlag(v); return b },
		"knownhostscommand": func(v string) bool { return !strings.EqualFold(v, "none") },
		"pkcs11provider":    func(v string) bool { return !strings.EqualFold(v, "none") },
	}
	for _, k := range []string{"checkhostip", "knownhostscommand", "pkcs11provider"} {
		if s := st.get(k); s != nil && len(s.args) > 0 && why[k](s.args[0]) {
			return s.errorf("%s %s is not supported by perch (it applies to this server)", s.key, strings.Join(s.args, " "))
		}
	}
	return nil
}

// proxy sets ProxyJump or ProxyCommand (the first one set wins).
func (t *Target) proxy(spec Spec, st *state) error {
	if s := st.get("proxyjump"); s != nil && !jumpNone(s) {
		v, _, _ := strings.Cut(s.raw, "#")
		hops, err := ParseJump(strings.TrimRight(v, whitespace))
		if err != nil {
			return s.errorf("%v", err)
		}
		t.ProxyJump = hops
		return nil // ssh turns ProxyUseFdpass off for ProxyJump
	}
	t.ProxyUseFdpass = flag(st, "proxyusefdpass")
	s := st.get("proxycommand")
	if s == nil || strings.EqualFold(s.raw, "none") {
		return nil
	}
	if s.raw == "-" {
		return s.errorf("ProxyCommand - is not supported by perch")
	}
	keyAlias := t.HostKeyAlias
	if keyAlias == "" {
		keyAlias = spec.Host
	}
	cmd, err := t.env.expand(s.raw, tokens{'h': t.HostName, 'k': keyAlias, 'n': spec.Host, 'p': strconv.Itoa(t.Port), 'r': t.User}, false)
	if err != nil {
		return s.errorf("ProxyCommand: %v", err)
	}
	t.ProxyCommand = cmd
	return nil
}

// files expands IdentityFile, UserKnownHostsFile, RevokedHostKeys and
// IdentityAgent as ssh does (~, %-tokens, ${VAR}); GlobalKnownHostsFile is
// taken as written.
func (t *Target) files(st *state) error {
	keyAlias := t.HostKeyAlias
	if keyAlias == "" {
		keyAlias = t.Alias
	}
	toks := t.env.connTokens(t.HostName, t.Port, t.User, t.Alias, keyAlias)
	path := func(s *setting, arg string) (string, error) {
		p, err := t.env.tilde(arg)
		if err == nil {
			p, err = t.env.expand(p, toks, true)
		}
		if err != nil {
			return "", s.errorf("%s: %v", s.key, err)
		}
		return p, nil
	}
	if err := t.keyFiles(st, path); err != nil {
		return err
	}
	return t.hostFiles(st, path)
}

// pathFunc expands one argument of a setting as a path.
type pathFunc func(s *setting, arg string) (string, error)

// keyFiles sets IdentityFiles (ssh's defaults that exist when none is
// given) and CertificateFiles.
func (t *Target) keyFiles(st *state, path pathFunc) error {
	for _, s := range st.idents {
		p, err := path(s, s.args[0])
		if err != nil {
			return err
		}
		if !slices.Contains(t.IdentityFiles, p) {
			t.IdentityFiles = append(t.IdentityFiles, p)
		}
	}
	if len(st.idents) == 0 {
		for _, name := range []string{"id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa"} {
			p := filepath.Join(t.env.Home, ".ssh", name)
			if _, err := os.Stat(p); err == nil {
				t.IdentityFiles = append(t.IdentityFiles, p)
			}
		}
	}
	t.IdentityFiles = slices.DeleteFunc(t.IdentityFiles, func(p string) bool { return strings.EqualFold(p, "none") })
	for _, s := range st.certs {
		p, err := path(s, s.args[0])
		if err != nil {
			return err
		}
		if !strings.EqualFold(p, "none") && !slices.Contains(t.CertificateFiles, p) {
			t.CertificateFiles = append(t.CertificateFiles, p)
		}
	}
	return nil
}

// hostFiles sets the known hosts files, RevokedHostKeys and
// IdentityAgent.
func (t *Target) hostFiles(st *state, path pathFunc) error {
	if s := st.get("userknownhostsfile"); !strings.EqualFold(s.args[0], "none") {
		for _, a := range s.args {
			p, err := path(s, a)
			if err != nil {
				return err
			}
			t.KnownHostsFiles = append(t.KnownHostsFiles, p)
		}
	}
	if s := st.get("globalknownhostsfile"); !strings.EqualFold(s.args[0], "none") {
		for _, a := range s.args {
			p, err := t.env.tilde(a)
			if err != nil {
				return s.errorf("%s: %v", s.key, err)
			}
			t.GlobalKnownHostsFiles = append(t.GlobalKnownHostsFiles, p)
		}
	}
	if s := st.get("revokedhostkeys"); s != nil && !strings.EqualFold(s.args[0], "none") {
		t.RevokedHostKeys = s.args[0] // ssh expands nothing here, not even ~
	}
	if s := st.get("identityagent"); s != nil {
		switch v := s.args[0]; {
		case strings.EqualFold(v, "none"):
			t.IdentityAgent = "none"
		case v == "SSH_AUTH_SOCK":
		default:
			p, err := path(s, v)
			if err != nil {
				return err
			}
			t.IdentityAgent = p
		}
	}
	return nil
}
