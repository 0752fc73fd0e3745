package sessions

// The xpra 6.5.3 bed in both modes: kill and freeze recovery, locations
// (elsewhere, held_by, take) and another client's detection.

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/faultproxy"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/sessions/claims"
	"github.com/perchdesk/perch/sessions/x11fwd"
)

// xpra6Modes are the two modes against the 6.5.3 bed: remote (the login's
// `xpra attach` is 6.5.3) and local with the 6.5.3 client.
func xpra6Modes(t *testing.T) (b *testBed, modes map[string]func(d int, location string) Spec) {
	b = needBed6(t)
	bin6, err := testbed.Xpra6()
	if err != nil {
		t.Fatal(err)
	}
	withLocalXpra(t, bin6)
	return b, map[string]func(int, string) Spec{
		"remote": func(d int, _ string) Spec { return DisplaySpec(d) },
		"local":  func(d int, location string) Spec { return LocalDisplaySpec(d, localArgs, location) },
	}
}

// x11On is an Options change drawing on display d.
func x11On(t *testing.T, d *testbed.Display, more func(*Options)) func(*Options) {
	return func(o *Options) {
		x11, err := x11fwd.FindLocal(d.Name)
		if err != nil {
			t.Fatal(err)
		}
		o.X11 = x11
		if more != nil {
			more(o)
		}
	}
}

// TestXpra6Recovery: against the 6.5.3 server, in both modes, a killed
// server-side sshd and a frozen link are recovered.
func TestXpra6Recovery(t *testing.T) {
	b, modes := xpra6Modes(t)
	for _, mode := range []string{"remote", "local"} {
		t.Run(mode, func(t *testing.T) {
			proxy, err := faultproxy.New(b.sshd.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			l := b.newLink(t, []Spec{modes[mode](b.displays()[0], "")}, x11On(t, b.local, func(o *Options) {
				o.Dial.NetDialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, "tcp", proxy.Addr())
				}
			}))
			stop := run(t, l)
			defer stop()
			waitFor(t, l, 60*time.Second, "attached", allAttached)
			pids, err := b.sshd.ConnectionPIDs()
			if err != nil || len(pids) == 0 {
				t.Fatalf("connection pids %v: %v", pids, err)
			}
			for _, p := range pids {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
			waitFor(t, l, 60*time.Second, "back after kill -9", func(s Status) bool { return allAttached(s) && s.Link.Reconnects >= 1 && restartedAll(s, 1) })
			proxy.Freeze()
			waitFor(t, l, 10*time.Second, "the freeze noticed", func(s Status) bool { return s.Link.State != api.LinkUp })
			proxy.Thaw()
			waitFor(t, l, 60*time.Second, "back after the freeze", func(s Status) bool { return allAttached(s) && s.Link.Reconnects >= 2 && restartedAll(s, 2) })
		})
	}
}

// TestXpra6Places: against the 6.5.3 server, in both modes: the sofa
// takes the display (the desk shows it elsewhere, held by the sofa), take
// brings it back; then someone's own 6.5.3 client takes it (held by
// another client) and, once it leaves, the desk attaches again.
func TestXpra6Places(t *testing.T) {
	b, modes := xpra6Modes(t)
	d := b.displays()[1]
	for _, mode := range []string{"remote", "local"} {
		t.Run(mode, func(t *testing.T) {
			place := func(name string) *Link {
				l := b.newLink(t, nil, x11On(t, b.local, nil))
				l.SetClaims(claims.Config{Location: name, TakeAlways: true}) // before the sessions, which take their TakeAlways
				l.SetSessions([]Spec{modes[mode](d, name)})
				return l
			}
			desk := place("desk")
			stopDesk := run(t, desk)
			defer stopDesk()
			waitFor(t, desk, 60*time.Second, "the desk attached", allAttached)
			sofa := place("sofa")
			stopSofa := run(t, sofa)
			waitFor(t, sofa, 60*time.Second, "the sofa attached", allAttached)
			waitFor(t, desk, 60*time.Second, "the desk elsewhere, at the sofa", func(s Status) bool {
				return s.Sessions[0].State == api.SessionElsewhere && s.Sessions[0].HeldBy == "sofa"
			})
			desk.Take(nil, 0)
			waitFor(t, desk, 60*time.Second, "the desk took it back", allAttached)
			waitFor(t, sofa, 60*time.Second, "the sofa elsewhere, at the desk", func(s Status) bool {
				return s.Sessions[0].State == api.SessionElsewhere && s.Sessions[0].HeldBy == "desk"
			})
			stopSofa()

			m := manual6(t, b, d)
			waitFor(t, desk, 60*time.Second, "the desk elsewhere, held by another client", func(s Status) bool {
				return s.Sessions[0].State == api.SessionElsewhere && s.Sessions[0].HeldBy == api.AnotherClient
			})
			_ = m.Process.Signal(syscall.SIGTERM)
			_ = m.Wait()
			waitFor(t, desk, 60*time.Second, "the desk attached again", allAttached)
		})
	}
}

// manual6 starts someone's own 6.5.3 `xpra attach` of display d here.
func manual6(t *testing.T, b *testBed, d int) *exec.Cmd {
	t.Helper()
	bin6, _ := testbed.Xpra6()
	sock := ""
	for _, x := range b.xpras {
		if x.Display == d {
			sock = x.Socket()
		}
	}
	cmd := exec.Command(bin6, "attach", "socket://"+sock, "--tray=no", "--opengl=no", "--splash=no", "--speaker=no", "--microphone=no")
	cmd.Env = append(os.Environ(), b.local.Env()...)
	cmd.Stdout, cmd.Stderr = nil, nil
	logPath := filepath.Join(t.TempDir(), "manual.log")
	if f, err := os.Create(logPath); err == nil {
		cmd.Stdout, cmd.Stderr = f, f
		t.Cleanup(func() { f.Close() })
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}
