// Resolving a server through ssh_config, as ssh(1) does, but strictly:
// anything perch cannot honour is an error naming the file and the line.

package sshconf

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	osuser "os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	sshconfig "github.com/kevinburke/ssh_config"
)

// Target is a server as resolved from "[user@]host[:port]" and ssh_config.
type Target struct {
	Alias                 string        // the host as written (the ssh_config Host pattern is matched against it)
	HostName              string        // the host to connect to: HostName from ssh_config, else Alias
	Port                  int           // default 22
	User                  string        // default: current user
	IdentityFiles         []string      // ~ expanded; default ~/.ssh/id_ed25519, id_ecdsa, id_rsa (only those that exist, when none configured)
	IdentitiesOnly        bool          // offer only the IdentityFiles' keys, also from ssh-agent
	KnownHostsFiles       []string      // UserKnownHostsFile (may list several), default ~/.ssh/known_hosts (~/.ssh/known_hosts2 too if it exists)
	StrictHostKeyChecking string        // "yes" | "accept-new" | "no" | "ask" as written; "" if unset
	ServerAliveInterval   time.Duration // 0 if unset
	ServerAliveCountMax   int           // default 3
	ConnectTimeout        time.Duration // 0 if unset
	ProxyJump             string        // "" = none; "[user@]host[:port]", several hops comma-separated

	// configFiles are the ssh_config files Resolve read (nil for a Target
	// built by hand); jump hosts are resolved through the same files.
	ConfigFiles []string
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

// Resolve parses target ("[user@]host[:port]"; anything with spaces or
// shell metacharacters is rejected) and looks its options up in the
// ssh_config files, in order: the first obtained value wins, as in ssh(1),
// except IdentityFile, which accumulates. files nil means ~/.ssh/config then
// /etc/ssh/ssh_config; missing files are skipped. Values in target (user,
// port) override ssh_config's User and Port, as on the ssh command line.
//
// Files are read strictly: a line ssh(1) would refuse (an unknown keyword,
// a bad value) or that perch cannot honour (Match blocks other than
// "Match all" and "Match final all", ProxyCommand, unknown %-tokens) is an error naming the file
// and the line. Differences from ssh(1): ~ is the $HOME of this process,
// Host patterns match case-insensitively, and HostKeyAlias,
// CanonicalizeHostname and GlobalKnownHostsFile are not honoured.
func Resolve(target string, files []string) (*Target, error) {
	spec, err := parseSpec(target)
	if err != nil {
		return nil, err
	}
	home, err := sshHomeDir()
	if err != nil {
		return nil, err
	}
	if files == nil {
		files = []string{filepath.Join(home, ".ssh", "config"), "/etc/ssh/ssh_config"}
	}
	r := &resolver{home: home, ignoreUnknown: nil}
	var loaded []*configFile
	for _, name := range files {
		f, err := r.load(name, isSystemConfig(name), 0)
		if err != nil {
			return nil, err
		}
		if f != nil {
			loaded = append(loaded, f)
		}
	}
	var set, final []configSetting
	for _, f := range loaded {
		f.active(strings.ToLower(spec.host), false, &set, &final)
	}
	set = append(set, final...)
	t, err := buildTarget(spec, set, home)
	if err != nil {
		return nil, err
	}
	t.ConfigFiles = append([]string{}, files...)
	return t, nil
}

// targetSpec is a parsed "[user@]host[:port]".
type targetSpec struct {
	user string // "" if not given
	host string // without brackets
	port int    // 0 if not given
}

var (
	userRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
	hostRe = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9._-]*[A-Za-z0-9_])?$`)
)

// parseSpec parses "[user@]host[:port]" (also "[user@][v6addr][:port]",
// a bare IPv6 address, and an ssh:// prefix as ssh -J accepts).
func parseSpec(s string) (targetSpec, error) {
	var spec targetSpec
	orig := s
	if s == "" {
		return spec, errors.New("empty server name")
	}
	if i := strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("'\"`$\\;&|<>(){}*?!#~^,=", r)
	}); i >= 0 {
		return spec, fmt.Errorf("server %q: %q is not allowed in a server name (spaces, control and shell characters are refused)", orig, s[i])
	}
	s = strings.TrimPrefix(s, "ssh://")
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		spec.user, s = s[:i], s[i+1:]
		if !userRe.MatchString(spec.user) {
			return spec, fmt.Errorf("server %q: user name %q is not allowed (letters, digits, '.', '_' and '-', not starting with '-' or '.')", orig, spec.user)
		}
	}
	port := ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return spec, fmt.Errorf("server %q: missing ']' after the IPv6 address", orig)
		}
		spec.host, s = s[1:end], s[end+1:]
		if ip := net.ParseIP(spec.host); ip == nil || ip.To4() != nil && !strings.Contains(spec.host, ":") {
			return spec, fmt.Errorf("server %q: %q in brackets is not an IPv6 address", orig, spec.host)
		}
		if s != "" {
			if s[0] != ':' {
				return spec, fmt.Errorf("server %q: unexpected %q after ']'", orig, s)
			}
			port = s[1:]
			if port == "" {
				return spec, fmt.Errorf("server %q: empty port after ':'", orig)
			}
		}
	case strings.Count(s, ":") > 1:
		if net.ParseIP(s) == nil {
			return spec, fmt.Errorf("server %q: %q is not an IPv6 address (write [address]:port for a port)", orig, s)
		}
		spec.host = s
	default:
		host, p, found := strings.Cut(s, ":")
		spec.host = host
		if found {
			if p == "" {
				return spec, fmt.Errorf("server %q: empty port after ':'", orig)
			}
			port = p
		}
		if !hostRe.MatchString(host) {
			return spec, fmt.Errorf("server %q: host name %q is not allowed (letters, digits, '.', '_' and '-', not starting with '-')", orig, host)
		}
	}
	if port != "" {
		n, err := parseSSHPort(port)
		if err != nil {
			return spec, fmt.Errorf("server %q: %w", orig, err)
		}
		spec.port = n
	}
	return spec, nil
}

func parseSSHPort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || s[0] == '+' {
		return 0, fmt.Errorf("bad port %q (want a number from 1 to 65535)", s)
	}
	return n, nil
}

// configSetting is one keyword line that applies to the alias being resolved.
type configSetting struct {
	key  string // lower case
	args []string
	file string
	line int
}

func (s configSetting) errorf(format string, a ...any) error {
	return fmt.Errorf("%s: line %d: %s", s.file, s.line, fmt.Sprintf(format, a...))
}

// configFile is one decoded ssh_config file.
type configFile struct {
	name     string
	cfg      *sshconfig.Config
	lines    map[int]configSetting // every keyword line, by line number
	includes map[int][]*configFile // the files an Include line read, by line number
	patterns [][]string            // each Host (or Match) line's patterns, in order
	final    []bool                // whether that block is "Match final" (or canonical)
}

// includeKey replaces the keyword of Include lines before the library sees
// them, so it never reads included files itself: perch reads them, with
// file names in its errors and ~ taken from $HOME.
const includeKey = "perch-include"

// maxIncludeDepth bounds nested Include directives.
const maxIncludeDepth = 16

type resolver struct {
	home          string
	ignoreUnknown []string // IgnoreUnknown patterns seen so far
}

func isSystemConfig(name string) bool {
	return strings.HasPrefix(filepath.Clean(name), "/etc/ssh/")
}

// load reads and checks one file. A missing top-level file is skipped (nil).
func (r *resolver) load(name string, system bool, depth int) (*configFile, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && depth == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("read ssh config: %w", err)
	}
	f := &configFile{name: name, lines: map[int]configSetting{}, includes: map[int][]*configFile{}}
	raw := bytes.Split(data, []byte("\n"))
	for i, b := range raw {
		n := i + 1
		key, args, err := splitConfigLine(string(bytes.TrimSuffix(b, []byte("\r"))))
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", name, n, err)
		}
		if key == "" {
			continue
		}
		s := configSetting{key: strings.ToLower(key), args: args, file: name, line: n}
		if err := r.checkLine(s, key); err != nil {
			return nil, err
		}
		f.lines[n] = s
		switch s.key {
		case "host":
			f.patterns = append(f.patterns, args)
			f.final = append(f.final, false)
		case "match":
			f.patterns = append(f.patterns, []string{"*"})
			f.final = append(f.final, !strings.EqualFold(strings.Join(args, " "), "all"))
			// The library knows "Match all" only.
			raw[i] = []byte("Match all")
		}
		if s.key == "ignoreunknown" {
			for _, a := range args {
				r.ignoreUnknown = append(r.ignoreUnknown, strings.Split(a, ",")...)
			}
		}
		if s.key == "include" {
			if depth >= maxIncludeDepth {
				return nil, s.errorf("Include nested more than %d deep (does a file include itself?)", maxIncludeDepth)
			}
			for _, pattern := range args {
				path := expandSSHTilde(pattern, r.home)
				if !filepath.IsAbs(path) {
					if system {
						path = filepath.Join("/etc/ssh", path)
					} else {
						path = filepath.Join(r.home, ".ssh", path)
					}
				}
				matches, err := filepath.Glob(path)
				if err != nil {
					return nil, s.errorf("bad Include pattern %q: %v", pattern, err)
				}
				for _, m := range matches {
					if st, err := os.Stat(m); err == nil && st.IsDir() {
						continue
					}
					inc, err := r.load(m, system, depth+1)
					if err != nil {
						return nil, err
					}
					f.includes[n] = append(f.includes[n], inc)
				}
			}
			// Hide the directive from the library, keeping the line count.
			raw[i] = []byte(includeKey + " " + strconv.Itoa(n))
		}
	}
	cfg, err := sshconfig.DecodeBytes(bytes.Join(raw, []byte("\n")))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, libraryError(err))
	}
	// The library reads Host patterns split on spaces only and with its
	// own wildcard rules; perch matches the patterns it split itself, so
	// both must see the same blocks.
	if len(cfg.Hosts) != len(f.patterns)+1 {
		return nil, fmt.Errorf("%s: perch and the ssh_config library disagree on the number of Host blocks (%d, %d): please report this file", name, len(f.patterns), len(cfg.Hosts)-1)
	}
	f.cfg = cfg
	return f, nil
}

var libPosRe = regexp.MustCompile(`^\((\d+), \d+\): `)

// libraryError rewrites the library's "(LINE, COL): msg" as "line LINE: msg".
func libraryError(err error) error {
	msg := err.Error()
	if m := libPosRe.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("line %s: %s", m[1], strings.TrimSpace(msg[len(m[0]):]))
	}
	return err
}

// checkLine validates one line as ssh(1) would, and refuses what perch cannot
// honour.
func (r *resolver) checkLine(s configSetting, key string) error {
	if _, ok := sshKeywords[s.key]; !ok {
		for _, p := range r.ignoreUnknown {
			if sshMatchPattern(strings.ToLower(p), s.key) {
				return nil
			}
		}
		return s.errorf("unknown keyword %q (ssh refuses unknown keywords too; if it is meant for another program, add \"IgnoreUnknown %s\" before it)", key, key)
	}
	if len(s.args) == 0 {
		return s.errorf("%s has no value", key)
	}
	one := func() error {
		if len(s.args) != 1 {
			return s.errorf("%s takes one value, not %d", key, len(s.args))
		}
		return nil
	}
	var err error
	switch s.key {
	case "match":
		switch strings.ToLower(strings.Join(s.args, " ")) {
		case "all", "final", "final all", "canonical", "canonical all":
		default:
			return s.errorf("Match blocks are not supported by perch; use Host blocks (only \"Match all\" and \"Match final all\" are)")
		}
	case "host":
		for _, p := range s.args {
			if strings.TrimPrefix(p, "!") == "" {
				return s.errorf("empty Host pattern")
			}
		}
	case "proxycommand":
		if len(s.args) != 1 || !strings.EqualFold(s.args[0], "none") {
			return s.errorf("ProxyCommand is not supported by perch; use ProxyJump")
		}
	case "port":
		if err = one(); err == nil {
			_, err = parseSSHPort(s.args[0])
		}
	case "hostname", "user", "identityfile":
		err = one()
	case "identitiesonly":
		if err = one(); err == nil {
			_, err = parseSSHYesNo(s.args[0])
		}
	case "stricthostkeychecking":
		if err = one(); err == nil {
			_, err = parseStrict(s.args[0])
		}
	case "serveraliveinterval", "connecttimeout":
		if err = one(); err == nil {
			_, err = parseSSHDuration(s.args[0])
		}
	case "serveralivecountmax":
		if err = one(); err == nil {
			if n, e := strconv.Atoi(s.args[0]); e != nil || n < 0 {
				err = fmt.Errorf("bad count %q (want a whole number, 0 or more)", s.args[0])
			}
		}
	case "proxyjump":
		if err = one(); err == nil && !strings.EqualFold(s.args[0], "none") {
			_, err = parseJumps(s.args[0])
		}
	}
	if err != nil && !strings.HasPrefix(err.Error(), s.file+":") {
		return s.errorf("%s: %v", key, err)
	}
	return err
}

// splitConfigLine splits a line as ssh(1) does: the keyword ends at
// whitespace or '=', then the arguments are split on whitespace with double
// or single quotes and backslash escapes; an unquoted '#' starts a comment.
func splitConfigLine(line string) (key string, args []string, err error) {
	s := strings.TrimLeft(line, " \t\f\v\r")
	if s == "" || s[0] == '#' {
		return "", nil, nil
	}
	i := strings.IndexAny(s, " \t=")
	if i == 0 {
		return "", nil, errors.New("missing keyword before '='")
	}
	if i < 0 {
		return s, nil, nil
	}
	key, s = s[:i], strings.TrimLeft(s[i:], " \t")
	if strings.HasPrefix(s, "=") {
		s = strings.TrimLeft(s[1:], " \t")
	}
	var cur strings.Builder
	inArg := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote, inArg = c, true
		case c == '\\' && i+1 < len(s) && strings.IndexByte(`"'\ `+"\t", s[i+1]) >= 0 && (quote == 0 || s[i+1] == quote || s[i+1] == '\\'):
			i++
			cur.WriteByte(s[i])
			inArg = true
		case quote == 0 && (c == ' ' || c == '\t'):
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case quote == 0 && c == '#' && !inArg:
			i = len(s)
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if quote != 0 {
		return "", nil, errors.New("unterminated quote")
	}
	if inArg {
		args = append(args, cur.String())
	}
	return key, args, nil
}

// active appends, in file order, the settings that apply to alias (lower
// case), descending into Include directives inside active blocks. Settings
// in "Match final" (or "Match canonical") blocks go to final instead: ssh
// reads them in a second pass, after every other setting. Without
// CanonicalizeHostname (which perch does not honour) that pass is the only
// difference such blocks make.
func (f *configFile) active(alias string, inFinal bool, first, final *[]configSetting) {
	for i, h := range f.cfg.Hosts {
		blockFinal := inFinal
		// The first block is the library's implicit "Host *".
		if i > 0 {
			if !hostMatches(f.patterns[i-1], alias) {
				continue
			}
			blockFinal = inFinal || f.final[i-1]
		}
		out := first
		if blockFinal {
			out = final
		}
		for _, node := range h.Nodes {
			kv, ok := node.(*sshconfig.KV)
			if !ok {
				continue
			}
			n := kv.Pos().Line
			if strings.EqualFold(kv.Key, includeKey) {
				if incs, ok := f.includes[n]; ok || f.lines[n].key == "include" {
					for _, inc := range incs {
						inc.active(alias, blockFinal, first, final)
					}
					continue
				}
			}
			s, ok := f.lines[n]
			if !ok || s.key == "host" || s.key == "match" || s.key == "include" {
				continue
			}
			*out = append(*out, s)
		}
	}
}

// hostMatches applies a Host line's patterns as ssh(1) does: a matching
// negated pattern rules the block out, else any matching pattern selects it.
func hostMatches(patterns []string, alias string) bool {
	found := false
	for _, p := range patterns {
		ps := strings.ToLower(p)
		neg := strings.HasPrefix(ps, "!")
		if sshMatchPattern(strings.TrimPrefix(ps, "!"), alias) {
			if neg {
				return false
			}
			found = true
		}
	}
	return found
}

// sshMatchPattern is ssh's match_pattern: '*' matches any run of characters
// and '?' exactly one.
func sshMatchPattern(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			pattern = strings.TrimLeft(pattern, "*")
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if sshMatchPattern(pattern, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// buildTarget applies the first obtained value of each keyword.
func buildTarget(spec targetSpec, set []configSetting, home string) (*Target, error) {
	first := map[string]configSetting{}
	var idents []configSetting
	for _, s := range set {
		if s.key == "identityfile" {
			idents = append(idents, s)
			continue
		}
		if _, ok := first[s.key]; !ok {
			first[s.key] = s
		}
	}
	t := &Target{Alias: spec.host, HostName: spec.host, Port: 22, ServerAliveCountMax: 3}
	if s, ok := first["hostname"]; ok {
		h, err := expandTokens(s.args[0], map[byte]string{'h': spec.host})
		if err != nil {
			return nil, s.errorf("HostName: %v", err)
		}
		if net.ParseIP(h) == nil && !hostRe.MatchString(h) {
			return nil, s.errorf("HostName %q is not a host name or address perch accepts", h)
		}
		t.HostName = h
	}
	if spec.port != 0 {
		t.Port = spec.port
	} else if s, ok := first["port"]; ok {
		t.Port, _ = parseSSHPort(s.args[0])
	}
	local, err := localUserName()
	if err != nil {
		return nil, err
	}
	switch s, ok := first["user"]; {
	case spec.user != "":
		t.User = spec.user
	case ok:
		if !userRe.MatchString(s.args[0]) {
			return nil, s.errorf("User %q is not a user name perch accepts (letters, digits, '.', '_' and '-')", s.args[0])
		}
		t.User = s.args[0]
	default:
		t.User = local
	}
	if s, ok := first["identitiesonly"]; ok {
		t.IdentitiesOnly, _ = parseSSHYesNo(s.args[0])
	}
	if s, ok := first["stricthostkeychecking"]; ok {
		t.StrictHostKeyChecking, _ = parseStrict(s.args[0])
	}
	if s, ok := first["serveraliveinterval"]; ok {
		t.ServerAliveInterval, _ = parseSSHDuration(s.args[0])
	}
	if s, ok := first["connecttimeout"]; ok {
		t.ConnectTimeout, _ = parseSSHDuration(s.args[0])
	}
	if s, ok := first["serveralivecountmax"]; ok {
		t.ServerAliveCountMax, _ = strconv.Atoi(s.args[0])
	}
	// ProxyCommand and ProxyJump exclude each other: the first one wins
	// (a ProxyCommand other than "none" was refused when reading).
	for _, s := range set {
		if s.key == "proxycommand" {
			break
		}
		if s.key == "proxyjump" {
			if !strings.EqualFold(s.args[0], "none") {
				t.ProxyJump = s.args[0]
			}
			break
		}
	}

	tokens := map[byte]string{
		'd': home, 'h': t.HostName, 'p': strconv.Itoa(t.Port), 'r': t.User,
		'u': local, 'n': spec.host, 'k': spec.host, 'i': strconv.Itoa(os.Getuid()),
	}
	if hn, err := os.Hostname(); err == nil {
		tokens['L'], _, _ = strings.Cut(hn, ".")
		tokens['l'] = hn
		sum := sha1.Sum([]byte(hn + t.HostName + strconv.Itoa(t.Port) + t.User))
		tokens['C'] = hex.EncodeToString(sum[:])
	}
	expandPath := func(s configSetting, arg string) (string, error) {
		p, err := expandTokens(expandSSHTilde(arg, home), tokens)
		if err != nil {
			return "", s.errorf("%s: %v", s.key, err)
		}
		return p, nil
	}
	noIdentities := false
	for _, s := range idents {
		if strings.EqualFold(s.args[0], "none") {
			noIdentities = true
			continue
		}
		p, err := expandPath(s, s.args[0])
		if err != nil {
			return nil, err
		}
		if !slices.Contains(t.IdentityFiles, p) {
			t.IdentityFiles = append(t.IdentityFiles, p)
		}
	}
	if len(t.IdentityFiles) == 0 && !noIdentities {
		for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			p := filepath.Join(home, ".ssh", name)
			if _, err := os.Stat(p); err == nil {
				t.IdentityFiles = append(t.IdentityFiles, p)
			}
		}
	}
	if s, ok := first["userknownhostsfile"]; ok {
		if !(len(s.args) == 1 && strings.EqualFold(s.args[0], "none")) {
			for _, a := range s.args {
				p, err := expandPath(s, a)
				if err != nil {
					return nil, err
				}
				t.KnownHostsFiles = append(t.KnownHostsFiles, p)
			}
		}
	} else {
		t.KnownHostsFiles = []string{filepath.Join(home, ".ssh", "known_hosts")}
		if p := filepath.Join(home, ".ssh", "known_hosts2"); sshFileExists(p) {
			t.KnownHostsFiles = append(t.KnownHostsFiles, p)
		}
	}
	return t, nil
}

func sshFileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// expandTokens replaces %x tokens from tokens; %% is a literal '%'. An
// unknown token is an error, as in ssh(1).
func expandTokens(s string, tokens map[byte]string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("%q ends with a lone '%%'", s)
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := tokens[s[i]]
		if !ok {
			return "", fmt.Errorf("%q: unknown or unsupported token %%%c", s, s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// expandSSHTilde expands a leading "~" or "~/" to home and "~user/" to that
// user's home directory.
func expandSSHTilde(p, home string) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	name, rest, _ := strings.Cut(p[1:], "/")
	dir := home
	if name != "" {
		u, err := osuser.Lookup(name)
		if err != nil {
			return p
		}
		dir = u.HomeDir
	}
	if rest == "" {
		return dir
	}
	return filepath.Join(dir, rest)
}

func sshHomeDir() (string, error) {
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return h, nil
	}
	u, err := osuser.Current()
	if err != nil || u.HomeDir == "" {
		return "", fmt.Errorf("cannot find the home directory: set $HOME")
	}
	return u.HomeDir, nil
}

func localUserName() (string, error) {
	if u, err := osuser.Current(); err == nil && u.Username != "" {
		return u.Username, nil
	}
	for _, v := range []string{"USER", "LOGNAME"} {
		if s := os.Getenv(v); s != "" {
			return s, nil
		}
	}
	return "", errors.New("cannot find the local user name: set $USER")
}

func parseSSHYesNo(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, fmt.Errorf("bad value %q (want yes or no)", s)
}

// parseStrict normalises a StrictHostKeyChecking value as ssh(1) reads it.
func parseStrict(s string) (string, error) {
	switch v := strings.ToLower(s); v {
	case "yes", "true":
		return "yes", nil
	case "no", "false", "off":
		return "no", nil
	case "ask", "accept-new":
		return v, nil
	}
	return "", fmt.Errorf("bad value %q (want yes, accept-new, no or ask)", s)
}

var durationRe = regexp.MustCompile(`^(\d+)([sSmMhHdDwW]?)`)

// parseSSHDuration reads a time as ssh(1)'s convtime does: plain seconds,
// or a sequence like 1h30m with s, m, h, d, w units. "none" is 0.
func parseSSHDuration(s string) (time.Duration, error) {
	if strings.EqualFold(s, "none") {
		return 0, nil
	}
	bad := fmt.Errorf("bad time %q (want seconds, or e.g. 30s, 5m, 1h30m)", s)
	if s == "" {
		return 0, bad
	}
	var total time.Duration
	for rest := s; rest != ""; {
		m := durationRe.FindStringSubmatch(rest)
		if m == nil {
			return 0, bad
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return 0, bad
		}
		unit := map[string]time.Duration{"": time.Second, "s": time.Second, "m": time.Minute,
			"h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[strings.ToLower(m[2])]
		// ssh caps a time at INT_MAX seconds; compare before multiplying,
		// which could overflow (170000000m).
		if limit := time.Duration(math.MaxInt32) * time.Second; n > int64((limit-total)/unit) {
			return 0, fmt.Errorf("time %q is too long", s)
		}
		total += time.Duration(n) * unit
		rest = rest[len(m[0]):]
	}
	return total, nil
}

// parseJumps splits a ProxyJump value into its hops.
func parseJumps(s string) ([]targetSpec, error) {
	var hops []targetSpec
	for _, h := range strings.Split(s, ",") {
		spec, err := parseSpec(h)
		if err != nil {
			return nil, fmt.Errorf("ProxyJump: %w", err)
		}
		hops = append(hops, spec)
	}
	return hops, nil
}

// sshKeywords are the keywords OpenSSH's ssh(1) accepts in ssh_config (as
// of 10.x, with Debian's GSSAPI additions and the deprecated ones it still
// parses), lower case. ssh(1) refuses any other keyword.
var sshKeywords = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, k := range strings.Fields(`
		host match include ignoreunknown
		addkeystoagent addressfamily batchmode bindaddress bindinterface
		canonicaldomains canonicalizefallbacklocal canonicalizehostname
		canonicalizemaxdots canonicalizepermittedcnames casignaturealgorithms
		certificatefile channeltimeout checkhostip ciphers clearallforwardings
		compression connectionattempts connecttimeout controlmaster controlpath
		controlpersist dynamicforward enableescapecommandline enablesshkeysign
		escapechar exitonforwardfailure fingerprinthash forkafterauthentication
		forwardagent forwardx11 forwardx11timeout forwardx11trusted gatewayports
		globalknownhostsfile gssapiauthentication gssapidelegatecredentials
		gssapiclientidentity gssapikeyexchange gssapikexalgorithms
		gssapirenewalforcesrekey gssapiserveridentity gssapitrustdns
		hashknownhosts hostbasedacceptedalgorithms hostbasedauthentication
		hostbasedkeytypes hostkeyalgorithms hostkeyalias hostname identitiesonly
		identityagent identityfile ipqos kbdinteractiveauthentication
		kbdinteractivedevices kexalgorithms knownhostscommand localcommand
		localforward loglevel logverbose macs nohostauthenticationforlocalhost
		numberofpasswordprompts obscurekeystroketiming passwordauthentication
		permitlocalcommand permitremoteopen pkcs11provider port
		preferredauthentications proxycommand proxyjump proxyusefdpass
		pubkeyacceptedalgorithms pubkeyacceptedkeytypes pubkeyauthentication
		refuseconnection rekeylimit remotecommand remoteforward requesttty
		requiredrsasize revokedhostkeys securitykeyprovider sendenv
		serveralivecountmax serveraliveinterval sessiontype setenv stdinnull
		streamlocalbindmask streamlocalbindunlink stricthostkeychecking
		syslogfacility tag tcpkeepalive tunnel tunneldevice updatehostkeys
		user userknownhostsfile verifyhostkeydns versionaddendum visualhostkey
		warnweakcrypto xauthlocation
		afstokenpassing challengeresponseauthentication cipher compressionlevel
		dsaauthentication fallbacktorsh gssapienabledelegation keepalive
		kerberosauthentication kerberostgtpassing protocol rhostsauthentication
		rhostsrsaauthentication rsaauthentication skeyauthentication
		smartcarddevice tisauthentication useblacklistedkeys useprivilegedport
		useroaming usersh
	`) {
		m[k] = struct{}{}
	}
	return m
}()
