package sshconf

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// Env is what resolution reads from the local system; tests replace it.
type Env struct {
	Home     string              // the user's home from the password database: ~, %d, ~/.ssh/config
	HomeVar  string              // $HOME: Include patterns starting with ~ (glob's tilde)
	User     string              // local user name (%u, Match localuser)
	UID      int                 // %i
	Hostname string              // local host name (%l; %L is its first label)
	Shell    string              // $SHELL, for Match exec (default /bin/sh)
	Getenv   func(string) string // nil: this process's environment
	// Exec runs a Match exec command and reports whether it exited 0; nil
	// runs it with Shell -c as ssh does (tests and fuzzing replace it).
	Exec func(cmd string) (bool, error)
}

// SystemEnv reads Env from this process and the password database.
func SystemEnv() (Env, error) {
	e := Env{HomeVar: os.Getenv("HOME"), UID: os.Getuid(), Shell: os.Getenv("SHELL")}
	if u, err := osuser.Current(); err == nil {
		e.Home, e.User = u.HomeDir, u.Username
	}
	if e.Home == "" {
		e.Home = e.HomeVar
	}
	if e.User == "" {
		e.User = os.Getenv("USER")
	}
	if e.Home == "" || e.User == "" {
		return e, fmt.Errorf("cannot find the local user's name and home directory")
	}
	if e.HomeVar == "" {
		e.HomeVar = e.Home
	}
	e.Hostname, _ = os.Hostname()
	return e, nil
}

// tokens are the values of %-tokens for one expansion.
type tokens map[byte]string

// expand is OpenSSH's percent_dollar_expand: ${VAR} from the environment
// when dollar is set (an unset variable is an error), and %x from toks
// (%% is '%'; an unknown token is an error). Values are not re-expanded.
func (e *Env) expand(s string, toks tokens, dollar bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if dollar && c == '$' && i+1 < len(s) && s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("%q: unterminated ${", s)
			}
			name := s[i+2 : i+end]
			v, ok := os.LookupEnv(name)
			if e.Getenv != nil {
				v = e.Getenv(name)
				ok = v != ""
			}
			if name == "" || !ok {
				return "", fmt.Errorf("%q: environment variable ${%s} is not set", s, name)
			}
			b.WriteString(v)
			i += end
			continue
		}
		if c != '%' || toks == nil {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", fmt.Errorf("%q ends with a lone '%%'", s)
		}
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := toks[s[i]]
		if !ok {
			return "", fmt.Errorf("%q: unknown token %%%c", s, s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// tilde is OpenSSH's tilde_expand_filename: "~" and "~/" are the user's
// home (from the password database), "~name/" that user's.
func (e *Env) tilde(p string) (string, error) {
	if !strings.HasPrefix(p, "~") {
		return p, nil
	}
	name, rest, _ := strings.Cut(p[1:], "/")
	dir := e.Home
	if name != "" {
		u, err := osuser.Lookup(name)
		if err != nil {
			return "", fmt.Errorf("%q: no user %q", p, name)
		}
		dir = u.HomeDir
	}
	if rest == "" {
		return dir, nil
	}
	return strings.TrimSuffix(dir, "/") + "/" + rest, nil
}

// connTokens are the tokens of DEFAULT_CLIENT_PERCENT_EXPAND_ARGS (ssh.c)
// for host (the remote host name), port, remote user, the target as given
// (%n) and the host key alias (%k, default the target as given).
func (e *Env) connTokens(host string, port int, ruser, orig, keyAlias string) tokens {
	short, _, _ := strings.Cut(e.Hostname, ".")
	p := strconv.Itoa(port)
	sum := sha1.Sum([]byte(e.Hostname + host + p + ruser))
	return tokens{
		'C': hex.EncodeToString(sum[:]), 'L': short, 'i': strconv.Itoa(e.UID),
		'k': keyAlias, 'l': e.Hostname, 'n': orig, 'p': p, 'd': e.Home,
		'h': host, 'r': ruser, 'u': e.User,
	}
}

// includePath anchors an Include pattern as ssh does: relative patterns
// live in ~/.ssh (user files) or /etc/ssh (system files); ~ is $HOME, as
// glob(3) with GLOB_TILDE reads it.
func (e *Env) includePath(arg string, user bool) (string, error) {
	if strings.HasPrefix(arg, "~") && !user {
		return "", fmt.Errorf("bad include path %s (~ is for user configuration files)", arg)
	}
	if !filepath.IsAbs(arg) && !strings.HasPrefix(arg, "~") {
		if user {
			arg = "~/.ssh/" + arg
		} else {
			arg = "/etc/ssh/" + arg
		}
	}
	if arg == "~" || strings.HasPrefix(arg, "~/") {
		return e.HomeVar + arg[1:], nil
	}
	if strings.HasPrefix(arg, "~") {
		return e.tilde(arg)
	}
	return arg, nil
}
