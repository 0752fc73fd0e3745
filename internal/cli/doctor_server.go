package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/internal/server"
	"github.com/perchdesk/perch/sessions/hostkey"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
	"github.com/perchdesk/perch/sessions/xpraclient"
)

// lookPath finds a program; a variable for tests.
var lookPath = exec.LookPath

// The steps after the connection, for skip.
var afterConnect = []string{"x11 forwarding", "xpra on the server", "displays", "claims"}

// doctorServer checks everything from ssh_config to the displays and the
// claims directory on the server.
func (e *env) doctorServer(ctx context.Context, r *DoctorReport, prof *config.Profile, srv *config.Server) {
	t, dopts, err := server.Resolve(prof.Server, srv)
	if err != nil {
		r.fail("ssh_config", err.Error(), "correct the file and line named (`perch resolve "+prof.Server+"` shows the result)")
		r.skip("ssh_config failed", append([]string{"connection"}, afterConnect...)...)
		return
	}
	r.pass("ssh_config", fmt.Sprintf("%s as %s (port %d)", srv.SSH, t.User+"@"+t.HostName, t.Port))
	client, ok := doctorDial(ctx, r, t, dopts)
	if !ok {
		r.skip("no connection", afterConnect...)
		return
	}
	defer client.Close()
	needX11 := prof.Client != config.ClientLocal || len(prof.Sessions) > 0
	doctorX11(r, client, needX11)
	server := doctorServerXpra(r, client)
	for _, d := range prof.Displays {
		doctorDisplay(ctx, r, client, d)
	}
	if prof.Client == config.ClientLocal && len(prof.Displays) > 0 {
		localXpra(ctx, r, server)
	}
	doctorClaims(r, client)
}

// doctorDial connects as the agent does, and tells which step failed: the
// TCP connection, the host key or authentication.
func doctorDial(ctx context.Context, r *DoctorReport, t *sshconf.Target, dopts sshdial.Options) (*ssh.Client, bool) {
	client, tm, err := sshdial.Dial(ctx, t, dopts)
	var hk *hostkey.HostKeyError
	var ae *sshdial.AuthError
	switch {
	case err == nil:
		r.pass("connection", t.Addr()+" reached")
		r.pass("host key", "known and matching ("+t.String()+")")
		r.pass("authentication", "accepted in "+tm.Auth.Round(time.Millisecond).String())
		return client, true
	case errors.As(err, &hk):
		r.pass("connection", t.Addr())
		fix := "if the server was reinstalled, remove the line named and connect once with ssh to check the new key"
		if hk.Kind == "unknown" {
			fix = "connect once with `ssh " + t.String() + "` and check the key, or set known_hosts = \"accept-new\""
		}
		r.fail("host key", err.Error(), fix)
		r.skip("the host key was refused", "authentication")
	case errors.As(err, &ae) || tm.Auth > 0:
		r.pass("connection", t.Addr())
		r.pass("host key", "known and matching")
		r.fail("authentication", err.Error(), "check that `ssh "+t.String()+" true` logs in with the same key (ssh-add it to ssh-agent if it has a passphrase)")
	default:
		r.fail("connection", err.Error(), "check the host name and port (`perch resolve`), the network and that sshd runs there")
		r.skip("no connection", "host key", "authentication")
	}
	return nil, false
}

// x11Request is the x11-req payload (RFC 4254 6.3.1).
type x11Request struct {
	Single bool
	Proto  string
	Cookie string
	Screen uint32
}

// doctorX11 asks for X11 forwarding as the agent does (a random cookie;
// nothing connects), and tells a server that forbids it from one without
// xauth.
func doctorX11(r *DoctorReport, client *ssh.Client, need bool) {
	const step = "x11 forwarding"
	sess, err := client.NewSession()
	if err != nil {
		r.fail(step, "cannot open a session: "+err.Error(), "check the server's MaxSessions")
		return
	}
	defer sess.Close()
	cookie := make([]byte, 16)
	_, _ = rand.Read(cookie)
	ok, err := sess.SendRequest("x11-req", true, ssh.Marshal(x11Request{Proto: "MIT-MAGIC-COOKIE-1", Cookie: hex.EncodeToString(cookie)}))
	switch {
	case err == nil && ok:
		r.pass(step, "granted")
		return
	case !need:
		r.pass(step, "refused, and not needed: every display runs its client here (client = \"local\")")
		return
	}
	out, _ := doctorRun(client, "command -v xauth || echo missing")
	if strings.TrimSpace(out) == "missing" {
		r.fail(step, "the server has no xauth, which sshd runs for X11 forwarding", "install xauth on the server (Debian: apt install xauth)")
		return
	}
	r.fail(step, "the server refuses X11 forwarding", `set "X11Forwarding yes" in the server's sshd_config and restart sshd, or use client = "local"`)
}

// doctorRun runs a command in sh on the server and returns its output.
func doctorRun(client *ssh.Client, script string) (string, error) {
	sess, err := client.NewSession()
	if err != nil {
		return "", err
	}
	defer sess.Close()
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errOut
	err = sess.Run("sh -c " + xpraclient.ShellQuote(script))
	if err != nil && errOut.Len() > 0 {
		err = fmt.Errorf("%w: %s", err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), err
}

// doctorServerXpra runs `xpra --version` on the server.
func doctorServerXpra(r *DoctorReport, client *ssh.Client) xpraclient.Version {
	const step = "xpra on the server"
	v, err := xpraclient.RemoteVersion(client)
	if err != nil {
		r.fail(step, fmt.Sprintf("no xpra there: %v", err),
			"install xpra on the server (xpra.org's package, or apt install xpra), on the login's PATH")
		return xpraclient.Version{}
	}
	r.pass(step, "xpra "+v.String())
	return v
}

func orText(err error, text string) string {
	if err != nil {
		return err.Error()
	}
	return "it printed " + strconv.Quote(text)
}

// doctorDisplay checks that display d has a socket on the server that
// answers, and whether another client is attached to it.
func doctorDisplay(ctx context.Context, r *DoctorReport, client *ssh.Client, d int) {
	step := fmt.Sprintf("display :%d", d)
	path, err := xpraclient.FindSocket(ctx, client, d)
	if err != nil {
		r.fail(step, err.Error(), fmt.Sprintf("start it on the server (`xpra start :%d --start=…`), or remove %d from the profile's displays", d, d))
		r.skip("the display is not running", fmt.Sprintf("sharing :%d", d))
		return
	}
	c, err := xpraclient.DialStreamLocal(ctx, client, path)
	if err != nil {
		r.fail(step, fmt.Sprintf("its socket %s does not answer: %v", path, err),
			fmt.Sprintf("the server of :%d died and left its socket: start it again (`xpra start :%d`); or allow unix socket forwarding (AllowStreamLocalForwarding)", d, d))
		r.skip("the display does not answer", fmt.Sprintf("sharing :%d", d))
		return
	}
	c.Close()
	r.pass(step, "running, socket "+path)
	out, err := doctorRun(client, "XPRA_CONNECT_TIMEOUT=5 xpra info "+xpraclient.ShellQuote("socket://"+path)+" 2>&1 | sed -n 's/^clients=//p'")
	n, cerr := strconv.Atoi(strings.TrimSpace(out))
	switch {
	case err != nil || cerr != nil:
		r.fail("sharing :"+strconv.Itoa(d), "`xpra info` on the server cannot read the display's clients (the login's xpra and the display's are versions that cannot talk?)",
			"use the same xpra for the login and the display")
	case n == 0:
		r.pass("sharing :"+strconv.Itoa(d), "no client attached")
	default:
		r.pass("sharing :"+strconv.Itoa(d), fmt.Sprintf("%d client(s) attached now (another location's perch, or someone's `xpra attach`): perch takes the display from them (take = \"always\") or leaves it (\"if-free\")", n))
	}
}

// claimsScript says whether the claims directory exists and is this
// user's alone, or can be created.
const claimsScript = `d=${XDG_STATE_HOME:-$HOME/.local/state}/perch/claims
if [ -d "$d" ]; then
	if [ ! -w "$d" ]; then echo "notwritable $d"; elif [ -n "$(find "$d" -maxdepth 0 -perm -o+w)" ]; then echo "open $d"; else echo "ok $d"; fi
	exit 0
fi
p=$d
while [ ! -e "$p" ]; do p=$(dirname "$p"); done
if [ -d "$p" ] && [ -w "$p" ]; then echo "new $d"; else echo "cannot $d $p"; fi
`

// doctorClaims checks the locations' claims directory on the server.
func doctorClaims(r *DoctorReport, client *ssh.Client) {
	out, err := doctorRun(client, claimsScript)
	f := strings.Fields(out)
	if err != nil || len(f) < 2 {
		r.fail("claims", fmt.Sprintf("cannot look at the claims directory (%v)", orText(err, out)), "check that the login runs a POSIX sh")
		return
	}
	switch f[0] {
	case "ok":
		r.pass("claims", f[1])
	case "new":
		r.pass("claims", f[1]+" (created at the first claim)")
	case "open":
		r.fail("claims", f[1]+" is writable by other users", "chmod 700 "+f[1])
	case "notwritable":
		r.fail("claims", f[1]+" is not writable by the login", "chown it to the login user, or remove it")
	default:
		r.fail("claims", fmt.Sprintf("%s cannot be created (%s is not a writable directory)", f[1], f[len(f)-1]), "make $XDG_STATE_HOME (or ~/.local/state) writable on the server")
	}
}
