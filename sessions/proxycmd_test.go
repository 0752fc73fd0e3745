package sessions

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/sshconf"
)

// TestProxyCommandLinkStays: a link whose bytes come through a
// ProxyCommand (not perch's own TCP dial) sees the server's keepalive
// replies and stays up for many dead-link periods. It used to be declared
// dead after Keepalive × KeepaliveMax and reconnect forever, because only
// perch's own TCP connection was watched for the server's bytes.
func TestProxyCommandLinkStays(t *testing.T) {
	b := needBed(t)
	cfg := filepath.Join(t.TempDir(), "config")
	data, err := os.ReadFile(b.sshd.SSHConfig)
	if err != nil {
		t.Fatal(err)
	}
	// bash's /dev/tcp: a ProxyCommand that is not ssh.
	proxy := "Host " + b.sshd.HostAlias + "\n  ProxyCommand bash -c 'exec 3<>/dev/tcp/%h/%p; cat <&3 & exec cat >&3'\n"
	if err := os.WriteFile(cfg, append([]byte(proxy), data...), 0o600); err != nil {
		t.Fatal(err)
	}
	tg, err := sshconf.Resolve(b.sshd.HostAlias, []string{cfg})
	if err != nil {
		t.Fatal(err)
	}
	if tg.ProxyCommand == "" {
		t.Fatalf("no ProxyCommand resolved from %s", cfg)
	}
	l := b.newLink(t, nil, func(o *Options) { o.Target, o.X11 = tg, nil })
	stop := run(t, l)
	defer stop()
	waitFor(t, l, 20*time.Second, "up", func(s Status) bool { return s.Link.State == api.LinkUp })
	watch := time.NewTimer(5 * l.DeadAfter())
	defer watch.Stop()
	for {
		if st := l.Status().Link; st.State != api.LinkUp || st.Reconnects != 0 {
			t.Fatalf("the link through a ProxyCommand went down: %+v", st)
		}
		select {
		case <-l.Changes():
		case <-watch.C:
			if l.from.Received() == 0 {
				t.Error("no byte from the server counted")
			}
			return
		}
	}
}
