package sshconf

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// execTimeout bounds one Match exec command; ssh waits without a bound,
// perch gives up (an error naming the line) rather than hang a connect.
const execTimeout = 30 * time.Second

// match evaluates a Match line's criteria (readconf.c match_cfg_line):
// all, canonical, final, exec, host, originalhost, user, localuser and
// tagged (OpenSSH 9.4), each possibly negated with '!'; the block is
// active when all of them hold.
// Criteria after a failed one are still checked for syntax, but exec
// commands are not run.
func (p *pass) match(s *setting, cond string) (bool, error) {
	host, port, ruser := p.matchHost(), p.port(), p.ruser()
	result, attrs := true, 0
	for {
		attr, ok := strdelim(&cond)
		if !ok {
			return false, s.errorf("Bad Match condition: unterminated quote")
		}
		if attr == "" {
			break
		}
		if attr[0] == '#' {
			break
		}
		neg := strings.HasPrefix(attr, "!")
		name := strings.ToLower(strings.TrimPrefix(attr, "!"))
		if name == "all" {
			next := cond
			arg, _ := strdelim(&next)
			if attrs > 1 || (arg != "" && arg[0] != '#') {
				return false, s.errorf("Bad Match condition: %q cannot be combined with other Match attributes", attr)
			}
			return result && !neg, nil
		}
		attrs++
		if name == "canonical" || name == "final" {
			if name == "final" {
				p.wantFinal = true
			}
			if p.final == neg {
				result = false
			}
			continue
		}
		arg, ok := strdelim(&cond)
		if !ok || arg == "" || arg[0] == '#' {
			return false, s.errorf("Bad Match condition: missing criteria for %s", attr)
		}
		if name == "exec" && !result {
			continue // ssh skips the command once a criterion failed
		}
		r, err := p.criterion(s, name, attr, arg, host, port, ruser)
		if err != nil {
			return false, err
		}
		if r == neg {
			result = false
		}
	}
	if attrs == 0 {
		return false, s.errorf("Bad Match condition: one or more attributes required for Match")
	}
	return result, nil
}

// criterion evaluates one Match criterion (name, written attr, with its
// argument) for the connection to host:port as ruser.
func (p *pass) criterion(s *setting, name, attr, arg, host string, port int, ruser string) (bool, error) {
	switch name {
	case "host":
		return MatchHostname(host, arg) == 1, nil
	case "originalhost":
		return MatchHostname(p.orig, arg) == 1, nil
	case "user":
		return matchPatternList(ruser, arg, false) == 1, nil
	case "localuser":
		return matchPatternList(p.env.User, arg, false) == 1, nil
	case "tagged": // OpenSSH 9.4: the first Tag obtained, "" if none
		return matchPatternList(p.st.str("tag"), arg, false) == 1, nil
	case "exec":
		alias := p.st.str("hostkeyalias")
		if alias == "" {
			alias = host
		}
		cmd, err := p.env.expand(arg, p.env.connTokens(host, port, ruser, p.orig, alias), false)
		if err != nil {
			return false, s.errorf("Match exec: %v", err)
		}
		r, err := p.env.run(cmd)
		if err != nil {
			return false, s.errorf("Match exec %q: %v", cmd, err)
		}
		return r, nil
	}
	return false, s.errorf("Bad Match condition: unsupported Match attribute %s", attr)
}

// matchHost is the host Match host compares: the final host name in the
// final pass, else HostName (with %h) if set, else the target as given.
func (p *pass) matchHost() string {
	if p.final {
		return p.host
	}
	if h := p.st.str("hostname"); h != "" {
		if x, err := p.env.expand(h, tokens{'h': p.orig}, false); err == nil {
			return x
		}
	}
	return p.orig
}

func (p *pass) port() int {
	if s := p.st.get("port"); s != nil {
		if n, err := parsePort(s.args[0]); err == nil {
			return n
		}
	}
	return defaultPort()
}

func (p *pass) ruser() string {
	if u := p.st.str("user"); u != "" {
		return u
	}
	return p.env.User
}

// run runs a Match exec command as ssh does: $SHELL -c, stdin and stdout on
// /dev/null, stderr inherited; exit status 0 is a match.
func (e *Env) run(cmd string) (bool, error) {
	if e.Exec != nil {
		return e.Exec(cmd)
	}
	shell := e.Shell
	if shell == "" {
		shell = "/bin/sh"
	}
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, shell, "-c", cmd)
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case ctx.Err() != nil:
		return false, errors.New("no answer after " + execTimeout.String())
	case errors.As(err, &ee) && ee.Exited():
		return false, nil
	case errors.As(err, &ee):
		return false, errors.New("exited abnormally (" + ee.String() + ")")
	}
	return false, errors.New("cannot run " + strconv.Quote(shell) + ": " + err.Error())
}
