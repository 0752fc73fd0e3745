package xpraclient

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFindSocketScript runs the socket search in a local sh: directories
// from xpra's configuration (with ~ and $UID expanded) are searched, the
// host's own socket wins over another host's, xpra 6's N/socket is found
// in $XDG_RUNTIME_DIR/xpra, XPRA_SESSIONS_DIR and a configured
// sessions-dir, a plain file is no socket, and a display without one exits
// 3 naming the directories.
func TestFindSocketScript(t *testing.T) {
	home := t.TempDir()
	conf := filepath.Join(home, "conf")
	uid := strconv.Itoa(os.Getuid())
	socks := filepath.Join(home, "socks"+uid)
	for _, d := range []string{conf, socks} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	xconf := "# xpra.conf\nsocket-dir = ~/elsewhere\nsocket-dirs = ~/socks$UID\nsessions-dir = ~/sess$UID\n"
	if err := os.WriteFile(filepath.Join(conf, "xpra.conf"), []byte(xconf), 0o600); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	listen := func(name string) {
		p := filepath.Join(socks, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("unix", p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
	}
	listen("otherhost-7")
	listen(host + "-7")
	listen("otherhost-8")
	listen("../run/xpra/10/socket")
	listen("../envsess/11/socket")
	listen("../sess" + uid + "/12/socket")
	if err := os.WriteFile(filepath.Join(socks, host+"-9"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	find := func(n int) (string, string, error) {
		cmd := exec.Command("sh", "-c", fmt.Sprintf(findSocketScript, n))
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "XPRA_SYSTEM_CONF_DIRS=" + filepath.Join(home, "none"),
			"XPRA_USER_CONF_DIRS=" + conf, "XDG_RUNTIME_DIR=" + filepath.Join(home, "run"), "XPRA_SESSIONS_DIR=" + filepath.Join(home, "envsess")}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), stderr.String(), err
	}
	for n, want := range map[int]string{7: host + "-7", 8: "otherhost-8", 10: "../run/xpra/10/socket",
		11: "../envsess/11/socket", 12: "../sess" + uid + "/12/socket"} {
		got, _, err := find(n)
		if err != nil || got != filepath.Join(socks, want) {
			t.Errorf("display %d: %q, %v; want %s", n, got, err, filepath.Join(socks, want))
		}
	}
	got, stderr, err := find(9)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || got != "" {
		t.Errorf("display 9 (a file, no socket): %q, %v", got, err)
	}
	for _, d := range []string{socks, filepath.Join(home, "elsewhere"), filepath.Join(home, ".xpra"), filepath.Join(home, "run", "xpra")} {
		if !strings.Contains(stderr, d) {
			t.Errorf("searched %q does not name %s", stderr, d)
		}
	}
}

// TestLineWatch: the marker is found once, however the output is split.
func TestLineWatch(t *testing.T) {
	out := "2026 Xpra X11 server version 3.1.3 64-bit\n2026 Attached t" + "o socket:///tmp/s\nmore\nAttached to again\n"
	for split := 1; split < len(out); split += 7 {
		found := 0
		lw := &LineWatch{W: &Tail{}, Marker: AttachedMarker, Found: func() { found++ }}
		for i := 0; i < len(out); i += split {
			_, _ = lw.Write([]byte(out[i:min(i+split, len(out))]))
		}
		if found != 1 {
			t.Errorf("split %d: found %d times", split, found)
		}
	}
	lw := &LineWatch{W: &Tail{}, Marker: AttachedMarker, Found: func() { t.Error("found in a line not ended") }}
	_, _ = lw.Write([]byte("Attached to socket:///tmp/s"))
}

// TestTail: the last three lines, at most about 400 bytes.
func TestTail(t *testing.T) {
	tl := &Tail{}
	for i := range 10 {
		_, _ = tl.Write([]byte("line " + string(rune('0'+i)) + "\n"))
	}
	if got := tl.LastLines(); got != "line 7 | line 8 | line 9" {
		t.Errorf("LastLines %q", got)
	}
	_, _ = tl.Write([]byte(strings.Repeat("x", 10000)))
	if got := tl.LastLines(); len(got) > 404 {
		t.Errorf("LastLines is %d bytes", len(got))
	}
}
