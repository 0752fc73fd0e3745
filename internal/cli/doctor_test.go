package cli

// perch doctor on real parts: sshd, xpra 3.1.3 and 6.5.3 servers, and one
// failing case per step made real on the bed (an sshd with X11Forwarding
// no; one whose login has no xauth and no xpra; a display not running; the
// version pairs that cannot talk; a wrong host key).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/perchdesk/perch/internal/sandbox"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/sessions/xpraclient"
)

var (
	doctorBed3 = testbed.NewBed(testbed.BedOptions{What: "sshd, xpra and Xvfb", Screen: "1024x768x24", Xpras: 1, First: 70, Child: "xeyes"})
	doctorBed6 = testbed.NewBed(testbed.BedOptions{What: "sshd, xpra 6.5.3 and Xvfb", Screen: "1024x768x24", Xpras: 1, First: 75,
		Child: "xeyes", Xpra6: true})
)

// doctorConfig is a profile on sshd's server with displays, in mode
// client, with the Xorg bed's output.
func doctorConfig(t *testing.T, sshd *testbed.SSHD, client string, displays ...int) string {
	return doctorConfigAt(t, sshd.HostAlias, sshd.SSHConfig, client, displays...)
}

// doctorConfigAt is doctorConfig for a host alias of an ssh_config file.
func doctorConfigAt(t *testing.T, alias, sshConfig, client string, displays ...int) string {
	var ds []string
	for _, d := range displays {
		ds = append(ds, fmt.Sprint(d))
	}
	return writeConfig(t, fmt.Sprintf(`default = "desk"
[server.bed]
ssh = %q
ssh_config = %q
client = %q

[profile.desk]
server = "bed"
displays = [%s]
[[profile.desk.output]]
name = "DUMMY0"
mode = "1024x768@60"
primary = true
`, alias, sshConfig, client, strings.Join(ds, ", ")))
}

// doctorRun runs perch doctor and returns its exit code and its lines by
// step.
func runDoctor(t *testing.T, cfg string) (int, map[string]string, string) {
	t.Helper()
	r := perch(t, needX(t), "--config", cfg, "doctor")
	lines := map[string]string{}
	for _, l := range strings.Split(r.stdout, "\n") {
		if len(l) > 28 && (strings.HasPrefix(l, "OK  ") || strings.HasPrefix(l, "FAIL")) {
			lines[strings.TrimSpace(l[6:28])] = l
		}
	}
	return r.code, lines, r.stdout + r.stderr
}

// wantLines checks that each step's line starts with its OK/FAIL word and
// says each string given.
func wantLines(t *testing.T, lines map[string]string, out string, want map[string][]string) {
	t.Helper()
	for step, words := range want {
		l, ok := lines[step]
		if !ok {
			t.Errorf("no line for %q:\n%s", step, out)
			continue
		}
		for _, w := range words {
			if !strings.Contains(l, w) {
				t.Errorf("%q line %q does not say %q", step, l, w)
			}
		}
	}
}

// TestDoctorPasses: a good profile passes every step (exit 0), in text and
// JSON, against both xpra versions.
func TestDoctorPasses(t *testing.T) {
	b3, b6 := doctorBed3.Need(t), doctorBed6.Need(t)
	d3, d6 := b3.Displays()[0], b6.Displays()[0]
	code, lines, out := runDoctor(t, doctorConfig(t, b3.SSHD, "remote", d3))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, lines, out, map[string][]string{
		"ssh_config": {"OK"}, "connection": {"OK"}, "host key": {"OK"}, "authentication": {"OK"},
		"x11 forwarding": {"OK", "granted"}, "xpra on the server": {"OK", "xpra 3.1.3"},
		fmt.Sprintf("display :%d", d3): {"OK", "running, socket /"}, fmt.Sprintf("sharing :%d", d3): {"OK", "no client attached"},
		"layout": {"OK", "DUMMY0 1024x768"}, "claims": {"OK", "perch/claims"},
	})
	bin6, err := testbed.Xpra6()
	if err != nil {
		t.Fatal(err)
	}
	withBinary(t, bin6)
	r := perch(t, needX(t), "--config", doctorConfig(t, b6.SSHD, "local", d6), "doctor", "--json", "desk")
	var rep DoctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || !rep.OK {
		t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	found := false
	for _, s := range rep.Steps {
		found = found || s.Step == "local xpra" && s.OK && s.Detail == "xpra 6.5.3 ("+bin6+"), talks to the server's 6.5.3"
	}
	if !found || len(rep.Steps) != 11 {
		t.Errorf("json lacks the local xpra pair, or has not 11 steps:\n%s", r.stdout)
	}
}

func withBinary(t *testing.T, bin string) {
	old := xpraclient.Binary
	xpraclient.Binary = bin
	t.Cleanup(func() { xpraclient.Binary = old })
}

// TestDoctorFailures: each failing case, made real, has its line and the
// exit status is 1.
func TestDoctorFailures(t *testing.T) {
	b3, b6 := doctorBed3.Need(t), doctorBed6.Need(t)
	d3, d6 := b3.Displays()[0], b6.Displays()[0]
	bin6, err := testbed.Xpra6()
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, cfg string, want map[string][]string) {
		t.Helper()
		code, lines, out := runDoctor(t, cfg)
		if code != 1 {
			t.Errorf("exit %d, want 1:\n%s", code, out)
		}
		wantLines(t, lines, out, want)
	}
	t.Run("X11Forwarding no", func(t *testing.T) {
		s := startDoctorSSHD(t, testbed.SSHDOptions{Config: "X11Forwarding no\n"})
		check(t, doctorConfig(t, s, "remote", d3), map[string][]string{"x11 forwarding": {"FAIL", "refuses X11 forwarding", "X11Forwarding yes"}})
	})
	t.Run("no xauth and no xpra on the server", func(t *testing.T) {
		dir, err := os.MkdirTemp("", "perch-path-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		path, err := testbed.PathWithout(filepath.Join(dir, "bin"), "xpra", "xauth")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
		s := startDoctorSSHD(t, testbed.SSHDOptions{Path: path, Config: "XAuthLocation " + filepath.Join(dir, "no-xauth") + "\n"})
		check(t, doctorConfig(t, s, "remote", d3), map[string][]string{
			"x11 forwarding":     {"FAIL", "no xauth", "install xauth"},
			"xpra on the server": {"FAIL", "no xpra there: `xpra --version` on the server", "install xpra on the server"},
		})
	})
	t.Run("a display not running", func(t *testing.T) {
		gone := testbed.FreeDisplay(95)
		check(t, doctorConfig(t, b3.SSHD, "remote", d3, gone), map[string][]string{
			fmt.Sprintf("display :%d", d3):   {"OK"},
			fmt.Sprintf("display :%d", gone): {"FAIL", fmt.Sprintf("display :%d has no xpra socket", gone), fmt.Sprintf("xpra start :%d", gone)},
			fmt.Sprintf("sharing :%d", gone): {"FAIL", "not checked"},
		})
	})
	t.Run("local 3.1.3, server 6.5.3", func(t *testing.T) {
		withBinary(t, "/usr/bin/xpra")
		check(t, doctorConfig(t, b6.SSHD, "local", d6), map[string][]string{"local xpra": {"FAIL", "the local xpra 3.1.3 cannot attach to the server's xpra 6.5.3",
			"4.3 or later", "install xpra.org's package here", `client = "remote"`}})
	})
	t.Run("local 6.5.3, server 3.1.3", func(t *testing.T) {
		withBinary(t, bin6)
		check(t, doctorConfig(t, b3.SSHD, "local", d3), map[string][]string{"local xpra": {"FAIL", "the local xpra 6.5.3 cannot attach to the server's xpra 3.1.3",
			"install xpra.org's package on the server"}})
	})
	t.Run("wrong host key", func(t *testing.T) {
		check(t, doctorConfigAt(t, b3.SSHD.HostAlias, wrongHostKey(t, b3.SSHD), "remote", d3), map[string][]string{
			"host key": {"FAIL", "has changed", "remove the line"}, "authentication": {"FAIL", "not checked"}, "x11 forwarding": {"FAIL", "not checked"},
		})
	})
}

// startDoctorSSHD starts an sshd for one case, logging in as the beds'
// user, that finds the beds' xpra servers.
func startDoctorSSHD(t *testing.T, o testbed.SSHDOptions) *testbed.SSHD {
	t.Helper()
	o.User = testbed.RemoteUser()
	s, err := testbed.StartSSHDWith(o)
	if err == nil {
		err = s.WriteXpraClientDefaults()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// wrongHostKey writes a copy of sshd's ssh_config whose known_hosts file
// holds another key for it, and returns its path.
func wrongHostKey(t *testing.T, s *testbed.SSHD) string {
	t.Helper()
	dir := t.TempDir()
	other, err := sandbox.WriteKey(filepath.Join(dir, "other"), "another host")
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, other) + "\n"
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(s.SSHConfig)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(cfg), fmt.Sprintf("UserKnownHostsFile %q", s.KnownHosts), fmt.Sprintf("UserKnownHostsFile %q", kh), 1)
	if text == string(cfg) {
		t.Fatalf("no UserKnownHostsFile line in %s", cfg)
	}
	sc := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(sc, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return sc
}
