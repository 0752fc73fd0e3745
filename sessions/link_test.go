package sessions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/cli/sshexec"
	"github.com/perchdesk/perch/internal/sys/rawconn"
	"github.com/perchdesk/perch/internal/testrig/faultproxy"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/sessions/forward"
	"github.com/perchdesk/perch/sessions/hostkey"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
	"github.com/perchdesk/perch/sessions/x11fwd"
	"golang.org/x/crypto/ssh"
)

func displaySpecs(ds []int) []Spec {
	var specs []Spec
	for _, d := range ds {
		specs = append(specs, DisplaySpec(d))
	}
	return specs
}

// fdList lists this process's open file descriptors and what they are,
// less pipes: Go's splice keeps a pool of pipes (the echo server's
// io.Copy between TCP connections uses it), which are no leak of ours.
func fdList(t *testing.T) []string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range ents {
		target, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if !strings.HasPrefix(target, "pipe:") {
			fds = append(fds, e.Name()+"→"+target)
		}
	}
	return fds
}

func roundTrip(t *testing.T, addr, msg string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial forward %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read back through the forward: %v", err)
	}
	if string(buf) != msg {
		t.Fatalf("forward returned %q, want %q", buf, msg)
	}
}

// TestFourDisplays is the desk: four xpra displays over one connection,
// a forward beside them; then the server-side sshd is killed, and at the
// end a clean stop leaves nothing behind.
func TestFourDisplays(t *testing.T) {
	b := needBed(t)
	displays := b.displays()
	echo := testbed.Echo(t)
	goroutines, fds := runtime.NumGoroutine(), fdList(t)
	l := b.newLink(t, displaySpecs(displays), nil)
	l.SetForwards([]forward.Spec{{Listen: "127.0.0.1:0", To: echo}})
	stop := run(t, l)

	st := waitFor(t, l, 60*time.Second, "four displays attached", allAttached)
	for _, s := range st.Sessions {
		if s.Timings.FirstX11 <= 0 || s.Timings.Start <= 0 || s.Restarts != 0 {
			t.Errorf("session %s: timings %+v restarts %d", s.Name, s.Timings, s.Restarts)
		}
	}
	if st.Link.Timings.Total <= 0 || st.Link.Timings.X11Ready <= 0 {
		t.Errorf("link timings %+v", st.Link.Timings)
	}
	waitRemote(t, displays, 1, 20*time.Second)
	// The remote apps' windows are on the local display.
	deadline := time.Now().Add(30 * time.Second)
	for countTitles(windowTitles(t, b.local), "xeyes") < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("windows on the local display: %q; want four xeyes", windowTitles(t, b.local))
		}
		time.Sleep(200 * time.Millisecond)
	}
	fwd := l.ForwardAddrs()[0]
	roundTrip(t, fwd, "hello through the link")

	t.Run("kill -9 the server-side sshd", func(t *testing.T) {
		pids, err := b.sshd.ConnectionPIDs()
		if err != nil || len(pids) == 0 {
			t.Fatalf("connection pids %v: %v", pids, err)
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		waitFor(t, l, 20*time.Second, "the link noticed", func(s Status) bool { return s.Link.Reconnects >= 1 || s.Link.State != api.LinkUp })
		st := waitFor(t, l, 60*time.Second, "all four back", func(s Status) bool { return allAttached(s) && s.Link.Reconnects >= 1 })
		for _, s := range st.Sessions {
			if s.Restarts < 1 {
				t.Errorf("session %s restarts %d after the kill", s.Name, s.Restarts)
			}
		}
		waitRemote(t, displays, 1, 30*time.Second)
		roundTrip(t, fwd, "and again after the reconnect")
	})

	// Clean stop (in this goroutine, so the counts compare like with like).
	{
		stop()
		if st := l.Status(); st.Link.State != api.LinkStopped {
			t.Errorf("link state %s after stop", st.Link.State)
		}
		for _, s := range l.Status().Sessions {
			if s.State != api.SessionStopped {
				t.Errorf("session %s is %s after stop", s.Name, s.State)
			}
		}
		waitRemote(t, displays, 0, 15*time.Second)
		if _, err := net.DialTimeout("tcp", fwd, time.Second); err == nil {
			t.Errorf("the forward still listens after stop")
		}
		// Nothing left behind in this process.
		deadline := time.Now().Add(10 * time.Second)
		for {
			g, f := runtime.NumGoroutine(), fdList(t)
			if g <= goroutines && len(f) <= len(fds) {
				break
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				t.Fatalf("goroutines %d (before %d), fds %q (before %q)\n%s", g, goroutines, f, fds, buf[:n])
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// TestMissingDisplay: a display without an xpra server backs off with
// xpra's own message while the real one stays attached.
func TestMissingDisplay(t *testing.T) {
	b := needBed(t)
	missing := testbed.FreeDisplay(90)
	good := b.displays()[0]
	l := b.newLink(t, []Spec{DisplaySpec(good), DisplaySpec(missing)}, nil)
	run(t, l)
	name := fmt.Sprintf(":%d", missing)
	st := waitFor(t, l, 60*time.Second, "the good display attached and the missing one backing off", func(s Status) bool {
		return len(s.Sessions) == 2 && s.Sessions[0].State == api.SessionAttached &&
			s.Sessions[1].Restarts >= 1 && s.Sessions[1].LastError != ""
	})
	bad := st.Sessions[1]
	if bad.Name != name || !strings.Contains(bad.LastError, "exited with status") {
		t.Errorf("missing display: %+v", bad)
	}
	// xpra says why it cannot attach.
	if !strings.Contains(strings.ToLower(bad.LastError), "xpra") && !strings.Contains(bad.LastError, name) {
		t.Errorf("last error %q does not carry xpra's message", bad.LastError)
	}
	if st.Sessions[0].Restarts != 0 {
		t.Errorf("the good display restarted %d times", st.Sessions[0].Restarts)
	}
}

// TestFreeze is the integration layer of TestFreezeVirtual (which holds
// the timing): through a real sshd and a proxy that stops forwarding, a
// frozen link is noticed and recovered after the thaw, forwards included.
func TestFreeze(t *testing.T) {
	b := needBed(t)
	proxy, err := faultproxy.New(b.sshd.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	echo := testbed.Echo(t)
	interval, count := time.Second, 3
	l := b.newLink(t, nil, func(o *Options) {
		o.Keepalive, o.KeepaliveMax = interval, count
		o.Dial.NetDialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", proxy.Addr())
		}
	})
	l.SetForwards([]forward.Spec{{Listen: "127.0.0.1:0", To: echo}})
	run(t, l)
	waitFor(t, l, 20*time.Second, "link up", func(s Status) bool { return s.Link.State == api.LinkUp && s.Link.RTT > 0 })
	limit := interval * time.Duration(count)

	proxy.Freeze()
	frozen := time.Now()
	waitFor(t, l, limit+30*time.Second, "the freeze noticed", func(s Status) bool { return s.Link.State != api.LinkUp })
	t.Logf("freeze noticed after %s (interval × count: %s)", time.Since(frozen).Round(time.Millisecond), limit)
	proxy.Thaw()
	waitFor(t, l, 30*time.Second, "link back", func(s Status) bool { return s.Link.State == api.LinkUp && s.Link.Reconnects == 1 })
	roundTrip(t, l.ForwardAddrs()[0], "after the thaw")
}

// TestHostKeys: a changed key and an unknown key are refused, and nothing
// ran on the server.
func TestHostKeys(t *testing.T) {
	b := needBed(t)
	marker := filepath.Join(t.TempDir(), "ran")
	for _, tc := range []struct {
		name, known, want string
	}{
		{"changed", "[127.0.0.1]:%d ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHnWfcGVr6RkR1uDqaWXI0cs7nGkIYbbNR7nL7bqJgP4\n", "changed"},
		{"unknown", "", "not known"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			if tc.known != "" {
				if err := os.WriteFile(kh, []byte(fmt.Sprintf(tc.known, b.sshd.Port)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			tg := b.target(t)
			tg.KnownHostsFiles = []string{kh}
			var out bytes.Buffer
			code, err := sshexec.Run(context.Background(), tg, sshdial.Options{Policy: "strict"}, "touch "+marker,
				sshexec.Options{Stdout: &out, Stderr: &out, Log: testLogger(t)})
			var hk *hostkey.HostKeyError
			if code != sshexec.ExitConnect || !errors.As(err, &hk) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("exec: %d %v, want a %s host key refusal", code, err, tc.want)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("the command ran on the server")
			}
			// The link does not retry a refused host key in a loop.
			l := b.newLink(t, nil, func(o *Options) { o.Target = tg })
			run(t, l)
			st := waitFor(t, l, 10*time.Second, "link failed", func(s Status) bool { return s.Link.State == api.LinkFailed })
			if !strings.Contains(st.Link.LastError, tc.want) {
				t.Errorf("link error %q", st.Link.LastError)
			}
		})
	}
}

// TestExec is `ssh -Y host command`: streams, stdin, exit status, X11.
func TestExec(t *testing.T) {
	b := needBed(t)
	tg := b.target(t)
	x11, err := x11fwd.FindLocal(b.local.Name)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code, err := sshexec.Run(context.Background(), tg, sshdial.Options{Policy: "strict"}, "cat; echo to-stderr >&2; exit 7",
		sshexec.Options{Stdin: strings.NewReader("from stdin\n"), Stdout: &out, Stderr: &errb, X11: x11, Log: testLogger(t)})
	// (sshd's xauth may first say it created ~/.Xauthority, as with ssh -Y.)
	if err != nil || code != 7 || out.String() != "from stdin\n" || !strings.HasSuffix(errb.String(), "to-stderr\n") {
		t.Errorf("exec: code %d err %v stdout %q stderr %q", code, err, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	code, err = sshexec.Run(context.Background(), tg, sshdial.Options{Policy: "strict"}, "xdpyinfo | grep -E 'name of display|dimensions'",
		sshexec.Options{Stdout: &out, Stderr: &errb, X11: x11, Log: testLogger(t)})
	if err != nil || code != 0 || !strings.Contains(out.String(), "1920x1080 pixels") {
		t.Errorf("remote xdpyinfo through X11 forwarding: code %d err %v\n%s%s", code, err, out.String(), errb.String())
	}
}

// TestX11Cookies: remote clients with no cookie or a forged one are
// refused; the genuine one works a byte at a time, in both byte orders.
func TestX11Cookies(t *testing.T) {
	b := needBed(t)
	tg := b.target(t)
	x11, err := x11fwd.FindLocal(b.local.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ mode, order, want string }{
		{"none", "l", "rejected"},
		{"forged", "l", "rejected"},
		{"forged", "B", "rejected"},
		{"genuine", "l", "accepted"},
		{"genuine", "B", "accepted"},
	} {
		t.Run(tc.mode+"-"+tc.order, func(t *testing.T) {
			var out, errb bytes.Buffer
			code, err := sshexec.Run(context.Background(), tg, sshdial.Options{Policy: "strict"}, b.probe+" "+tc.mode+" "+tc.order,
				sshexec.Options{Stdout: &out, Stderr: &errb, X11: x11, Log: testLogger(t)})
			if err != nil || code != 0 || strings.TrimSpace(out.String()) != tc.want {
				t.Errorf("probe %s %s: code %d err %v out %q err %q; want %s", tc.mode, tc.order, code, err, out.String(), errb.String(), tc.want)
			}
		})
	}
	// On a link, rejected connections are counted and the sessions go on.
	l := b.newLink(t, []Spec{{Name: "probe", Command: b.probe + " forged l; sleep 60"}, DisplaySpec(b.displays()[1])}, nil)
	run(t, l)
	st := waitFor(t, l, 60*time.Second, "a rejection counted and the display attached", func(s Status) bool {
		return s.Link.X11Rejected >= 1 && len(s.Sessions) == 2 && s.Sessions[1].State == api.SessionAttached
	})
	if st.Sessions[0].State == api.SessionAttached {
		t.Errorf("the forged client's session counts as attached")
	}
}

// TestNetDialerIsRaw: the link's own connection to the server (dialled
// plainly or through a dialer of the caller's) gets the raw reads and
// writes, and the link's watch on the server's bytes sits on top of them:
// the dialer hands Dial the socket itself.
func TestNetDialerIsRaw(t *testing.T) {
	b := needBed(t)
	var d net.Dialer
	for name, inner := range map[string]func(context.Context, string, string) (net.Conn, error){"plain": nil, "caller's dialer": d.DialContext} {
		var seen net.Conn
		l := b.newLink(t, nil, func(o *Options) {
			o.X11, o.Dial.NetDialer = nil, inner
			o.dial = func(ctx context.Context, tg *sshconf.Target, do sshdial.Options) (*ssh.Client, sshdial.Timings, error) {
				wrap := do.Wrap
				do.Wrap = func(c net.Conn) net.Conn { seen = c; return wrap(c) }
				return sshdial.Dial(ctx, tg, do)
			}
		})
		conn, err := l.connect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !rawconn.Wrapped(seen) {
			t.Errorf("%s: the link's connection is %T, not raw", name, seen)
		}
		if l.from.Received() == 0 {
			t.Errorf("%s: no byte from the server counted", name)
		}
		conn.client.Close()
	}
}
