package cli

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// echoes says whether addr answers through the forward.
func echoes(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	b := make([]byte, 5)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping\n" {
		return fmt.Errorf("echo: %q %v", b, err)
	}
	return nil
}

// TestForwardsListenOnLoopback runs perch up against the bed's sshd with
// three forwards: ":PORT" listens on loopback only, a taken port is that
// forward's error (the agent and the other forwards work on), and
// gateway = true listens on every interface with a warning in the log and
// in perch check.
func TestForwardsListenOnLoopback(t *testing.T) {
	needRemote(t)
	echo := testbed.Echo(t)
	plain, open := freePort(t), freePort(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := writeConfig(t, fmt.Sprintf(`default = "desk"
[server.bed]
ssh = %q
ssh_config = %q

[profile.desk]
server = "bed"
[[profile.desk.output]]
name = "DUMMY0"
mode = "1024x768@60"
[[profile.desk.forward]]
listen = ":%d"
to = %q
[[profile.desk.forward]]
listen = %q
to = %q
[[profile.desk.forward]]
listen = ":%d"
gateway = true
to = %q
`, remoteBed.sshd.HostAlias, remoteBed.sshd.SSHConfig, plain, echo, taken.Addr().String(), echo, open, echo))
	warning := fmt.Sprintf("profile.desk.forward.listen: forward :%d listens on every network interface: other machines can reach %s through it", open, echo)
	r := perch(t, map[string]string{"PERCH_CONFIG": cfg}, "check")
	if r.code != 0 || !strings.Contains(r.stderr, "perch: warning: "+cfg+":") || !strings.Contains(r.stderr, warning) {
		t.Errorf("perch check: %d %q; want the warning %q", r.code, r.stderr, warning)
	}
	vars := map[string]string{"DISPLAY": bed.Name, "PERCH_CONFIG": cfg}
	up := upInProcess(t, vars)
	sock, logs := up.sock, up.logs
	st := waitStatus(t, sock, "the link up and the taken port's error", 60*time.Second, func(s api.Status) bool {
		return s.Link != nil && s.Link.State == "up" && len(s.Forwards) == 3 && s.Forwards[1].LastError != ""
	})
	if got := st.Forwards[0].Listen; got != fmt.Sprintf("127.0.0.1:%d", plain) {
		t.Errorf("listen :%d binds %s, want loopback", plain, got)
	}
	if !strings.Contains(st.Forwards[1].LastError, "cannot listen") || !strings.Contains(st.Forwards[1].LastError, "address already in use") {
		t.Errorf("the taken port's error: %q", st.Forwards[1].LastError)
	}
	if !strings.Contains(logs.String(), warning) {
		t.Errorf("no warning in the log:\n%s", logs.String())
	}
	// 127.0.0.2 is this machine but not the address bound: a stand-in for
	// another interface.
	if err := echoes(fmt.Sprintf("127.0.0.1:%d", plain)); err != nil {
		t.Errorf("the loopback forward: %v", err)
	}
	if err := echoes(fmt.Sprintf("127.0.0.2:%d", plain)); err == nil {
		t.Errorf("listen :%d answers on 127.0.0.2: it is not loopback only", plain)
	}
	if err := echoes(fmt.Sprintf("127.0.0.2:%d", open)); err != nil {
		t.Errorf("gateway = true: not reachable on 127.0.0.2: %v", err)
	}
	// Once the port is free, a reload makes that forward listen.
	takenAddr := taken.Addr().String()
	taken.Close()
	if r := perch(t, nil, "reload", "--socket", sock); r.code != 0 {
		t.Fatalf("reload: %d %s", r.code, r.stderr)
	}
	waitStatus(t, sock, "the freed port listened on", 20*time.Second, func(s api.Status) bool {
		return len(s.Forwards) == 3 && s.Forwards[1].LastError == ""
	})
	if err := echoes(takenAddr); err != nil {
		t.Errorf("the forward on the freed port: %v", err)
	}
}
