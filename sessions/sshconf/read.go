package sshconf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxDepth bounds nested Include directives (READCONF_MAX_DEPTH).
const maxDepth = 16

// setting is one keyword line that took effect for the target.
type setting struct {
	key  string   // lower case
	args []string // split as argv_split does
	raw  string   // the rest of the line after the keyword (ProxyCommand)
	file string
	line int
}

func (s *setting) errorf(format string, a ...any) error {
	return &Error{File: s.file, Line: s.line, Msg: fmt.Sprintf(format, a...)}
}

// Error is a refusal naming the ssh_config file and line.
type Error struct {
	File string
	Line int // 0: the file as a whole
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// state is the options obtained so far in a pass: the first value of each
// keyword wins, IdentityFile and CertificateFile accumulate.
type state struct {
	first  map[string]*setting
	idents []*setting
	certs  []*setting
}

func (st *state) get(key string) *setting { return st.first[key] }

// str is the first value of a one-argument keyword, "" if unset.
func (st *state) str(key string) string {
	if s := st.first[key]; s != nil && len(s.args) > 0 {
		return s.args[0]
	}
	return ""
}

// pass reads the files once for one host, as one of ssh's two passes.
type pass struct {
	env       *Env
	host      string // what Host patterns match: the target as given (pass 1) or the final host name (pass 2)
	orig      string // the target as given (Match originalhost, %n)
	final     bool
	wantFinal bool // a "Match final" was seen
	st        *state
}

// readFile reads one file; active is shared with the including file, as in
// readconf.c. user: a user configuration (Include anchors in ~/.ssh);
// check: refuse a file others may write.
func (p *pass) readFile(name string, user, check, never bool, active *bool, depth int) error {
	if depth > maxDepth {
		return &Error{File: name, Msg: fmt.Sprintf("Include nested more than %d deep (does a file include itself?)", maxDepth)}
	}
	data, err := os.ReadFile(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && errors.Is(err, syscall.EISDIR) {
			return nil
		}
		return err
	}
	if check {
		if err := checkPerm(name); err != nil {
			return err
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if err := p.line(name, n, sc.Text(), user, never, active, depth); err != nil {
			return err
		}
	}
	return sc.Err()
}

// checkPerm refuses a file owned by another user (root excepted) or
// writable by group or others, as ssh does for ~/.ssh/config and the files
// it includes.
func checkPerm(name string) error {
	fi, err := os.Stat(name)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if (st.Uid != 0 && int(st.Uid) != os.Getuid()) || fi.Mode().Perm()&0o022 != 0 {
		return &Error{File: name, Msg: fmt.Sprintf("Bad owner or permissions (owner uid %d, mode %04o): ssh refuses it too; fix with `chown %d %s && chmod go-w %s`",
			st.Uid, fi.Mode().Perm(), os.Getuid(), name, name)}
	}
	return nil
}

// line processes one line as process_config_line_depth does.
func (p *pass) line(file string, n int, text string, user, never bool, active *bool, depth int) error {
	text = strings.TrimRight(text, whitespace+"\f")
	rest := text
	kw, ok := strdelim(&rest)
	if ok && kw == "" {
		kw, ok = strdelim(&rest)
	}
	if !ok || kw == "" || kw[0] == '#' {
		return nil
	}
	key := strings.ToLower(kw)
	s := &setting{key: key, file: file, line: n}
	rest = strings.TrimLeft(rest, whitespace)
	if rest == "" {
		return s.errorf("no argument after keyword %q", key)
	}
	if _, known := keywords[key]; !known {
		if ign := p.st.str("ignoreunknown"); ign != "" && matchPatternList(key, ign, true) == 1 {
			return nil
		}
		return s.errorf("Bad configuration option: %s (ssh refuses it too; if it is meant for another program, add \"IgnoreUnknown %s\" before it)", kw, kw)
	}
	args, err := splitArgs(rest)
	if err != nil {
		return s.errorf("invalid quotes")
	}
	switch key { // names ssh still reads for others (readconf.c, Debian)
	case "protocolkeepalives", "setuptimeout":
		s.key = "serveraliveinterval"
	case "identityfile2":
		s.key = "identityfile"
	case "userknownhostsfile2", "globalknownhostsfile2":
		return nil // deprecated: ssh ignores them
	}
	key = s.key
	s.args = args
	s.raw = strings.TrimLeft(rest, whitespace+"=")
	switch key {
	case "host":
		return p.hostLine(s, never, active)
	case "match":
		on, err := p.match(s, rest)
		if err != nil {
			return err
		}
		*active = on && !never
		return nil
	case "include":
		return p.include(s, user, never, active, depth)
	}
	if err := checkValue(s); err != nil {
		return err
	}
	if *active {
		p.st.apply(s)
	}
	return nil
}

// hostLine evaluates a Host line: active if a pattern matches the host and
// no negated one does.
func (p *pass) hostLine(s *setting, never bool, active *bool) error {
	*active = false
	if never {
		return nil
	}
	for _, a := range s.args {
		neg := strings.HasPrefix(a, "!")
		if matchGlob(p.host, strings.TrimPrefix(a, "!")) {
			if neg {
				*active = false
				return nil
			}
			*active = true
		}
	}
	return nil
}

// include reads the files an Include line names; files included from an
// inactive block are read for errors only, and their Host and Match lines
// do not change the including file's state.
func (p *pass) include(s *setting, user, never bool, active *bool, depth int) error {
	for _, a := range s.args {
		pattern, err := p.env.includePath(a, user)
		if err != nil {
			return s.errorf("%v", err)
		}
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return s.errorf("bad Include pattern %q: %v", a, err)
		}
		was := *active
		for _, m := range matches {
			err := p.readFile(m, user, true, never || !was, active, depth+1)
			*active = was
			if err != nil {
				var ce *Error
				if errors.As(err, &ce) {
					return err
				}
				return s.errorf("Include %s: %v", m, err)
			}
		}
	}
	return nil
}

// apply records s if it is the first value of its keyword.
func (st *state) apply(s *setting) {
	switch s.key {
	case "identityfile":
		for _, o := range st.idents {
			if o.args[0] == s.args[0] {
				return
			}
		}
		st.idents = append(st.idents, s)
		return
	case "certificatefile":
		st.certs = append(st.certs, s)
		return
	case "proxycommand":
		// The first of ProxyCommand and ProxyJump wins (readconf.c), but
		// "ProxyJump none" does not hide a later ProxyCommand (as ssh 9.2).
		if j := st.first["proxyjump"]; j != nil && !jumpNone(j) {
			return
		}
	case "proxyjump":
		if st.first["proxycommand"] != nil {
			return
		}
	}
	if timeNone(s) {
		return // "none" leaves the option unset: a later line may set it
	}
	if st.first[s.key] == nil {
		st.first[s.key] = s
	}
}

// jumpNone reports a "ProxyJump none" line.
func jumpNone(s *setting) bool {
	v, _, _ := strings.Cut(s.raw, "#")
	return strings.EqualFold(strings.TrimRight(v, whitespace), "none")
}
