package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jezek/xgb/xproto"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// remoteBed is sshd, xpra servers and the local display for the session
// comparisons.
type remoteBed struct {
	remote *testbed.Remote
	local  *testbed.Display
	sshd   *testbed.SSHD
	xpras  []*testbed.Xpra
	dir    string
	cfg    string // perch configuration
	env    []string
	done   func() // stops it (see cleanOnInterrupt)
}

func startRemote(displays int) (*remoteBed, error) {
	b := &remoteBed{}
	b.done = cleanOnInterrupt(b.shut)
	var err error
	if b.dir, err = os.MkdirTemp("", "perch-bench-remote-"); err != nil {
		return nil, err
	}
	if b.remote, err = testbed.StartRemoteWith(testbed.RemoteOptions{Screen: "1920x1080x24", Xpras: displays, First: 40,
		Child: "xeyes", Xpra6: variant.xpra6}); err != nil {
		b.close()
		return nil, err
	}
	b.local, b.sshd, b.xpras = b.remote.Local, b.remote.SSHD, b.remote.Xpras
	var ds []string
	for _, d := range b.remote.Displays() {
		ds = append(ds, strconv.Itoa(d))
	}
	b.cfg = filepath.Join(b.dir, "config.toml")
	conf := fmt.Sprintf(`[server.bed]
ssh = %q
ssh_config = %q
keepalive = "2s"
client = %q

[profile.desk]
server = "bed"
displays = [%s]
[[profile.desk.output]]
name = "screen"
`, b.sshd.HostAlias, b.sshd.SSHConfig, variant.client, strings.Join(ds, ", "))
	if err := os.WriteFile(b.cfg, []byte(conf), 0o600); err != nil {
		b.close()
		return nil, err
	}
	b.env = append(os.Environ(), b.local.Env()...)
	return b, nil
}

func (b *remoteBed) close() { b.done() }

func (b *remoteBed) shut() {
	if b.remote != nil {
		b.remote.Close()
	}
	os.RemoveAll(b.dir)
}

// windows counts top-level windows named like the remote app.
func (b *remoteBed) windows(name string) int {
	c, err := b.local.Dial()
	if err != nil {
		return -1
	}
	defer c.Close()
	x := c.X()
	root := xproto.Setup(x).DefaultScreen(x).Root
	tree, err := xproto.QueryTree(x, root).Reply()
	if err != nil {
		return -1
	}
	n := 0
	for _, ch := range tree.Children {
		p, err := xproto.GetProperty(x, false, ch, xproto.AtomWmName, xproto.GetPropertyTypeAny, 0, 256).Reply()
		if err == nil && strings.Contains(string(p.Value), name) {
			n++
		}
	}
	return n
}

func (b *remoteBed) waitWindows(want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for b.windows("xeyes") != want {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d xeyes windows after %s, want %d", b.windows("xeyes"), timeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// attaching counts the processes that attach to the bed's displays: the
// xpra clients and the shells and ssh commands that spell "xpra attach :N"
// for one of them. Other beds on the machine (other displays) do not count.
func (b *remoteBed) attaching() (int, error) {
	var ds []string
	for _, x := range b.xpras {
		ds = append(ds, strconv.Itoa(x.Display))
	}
	re := regexp.MustCompile(`xpra attach :(` + strings.Join(ds, "|") + `)\b`)
	files, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		return 0, fmt.Errorf("read the process table: %w", err)
	}
	n := 0
	for _, f := range files {
		c, err := os.ReadFile(f)
		if err == nil && re.Match(bytes.ReplaceAll(c, []byte{0}, []byte{' '})) {
			n++
		}
	}
	return n, nil
}

// waitNoAttach waits until nothing attaches to the bed's displays.
func (b *remoteBed) waitNoAttach(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := b.attaching()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d processes still attaching to the bed's xpra displays", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// xeyesWindows returns the IDs of the top-level xeyes windows.
func (b *remoteBed) xeyesWindows() map[xproto.Window]bool {
	ids := map[xproto.Window]bool{}
	c, err := b.local.Dial()
	if err != nil {
		return ids
	}
	defer c.Close()
	x := c.X()
	tree, err := xproto.QueryTree(x, xproto.Setup(x).DefaultScreen(x).Root).Reply()
	if err != nil {
		return ids
	}
	for _, ch := range tree.Children {
		p, err := xproto.GetProperty(x, false, ch, xproto.AtomWmName, xproto.GetPropertyTypeAny, 0, 256).Reply()
		if err == nil && strings.Contains(string(p.Value), "xeyes") {
			ids[ch] = true
		}
	}
	return ids
}
