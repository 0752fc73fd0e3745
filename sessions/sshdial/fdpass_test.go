package sshdial

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// buildFdpassHelper builds testdata/fdpass, the ProxyUseFdpass helper.
func buildFdpassHelper(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if testbed.InCI() {
			t.Fatalf("CI=true but go is missing: %v", err)
		}
		t.Skipf("!!! SKIPPING: no go toolchain to build the fdpass helper: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "fdpass")
	cmd := exec.Command(goBin, "build", "-o", bin, "./testdata/fdpass")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the fdpass helper: %v\n%s", err, out)
	}
	return bin
}

// TestRealFdpass connects through a ProxyCommand with ProxyUseFdpass (the
// helper connects to the bed's sshd and passes the socket back over its
// stdout) with ssh and with perch. HostName does not resolve, so a
// connection can only have come through the passed socket.
func TestRealFdpass(t *testing.T) {
	needRealBed(t)
	helper := buildFdpassHelper(t)
	a := bed.a
	port := strconv.Itoa(a.Port)
	right := khLine("", "[nowhere.invalid]:"+port, a.HostKey)
	wrong := khLine("", "[nowhere.invalid]:"+port, bed.wrongEd)
	cases := []struct {
		name, kh, proxy, strict string
		want                    bool
	}{
		{"passes a socket", right, helper + " 127.0.0.1 " + port, "yes", true},
		{"passes a socket, %h %p through a mapping", right, "sh -c 'exec " + helper + " 127.0.0.1 %p'", "yes", true},
		{"passes a socket, changed key", wrong, helper + " 127.0.0.1 " + port, "yes", false},
		{"passes a socket, unknown key, accept-new", "", helper + " 127.0.0.1 " + port, "accept-new", true},
		{"passes a socket, unknown key, no", "", helper + " 127.0.0.1 " + port, "no", true},
		{"passes nothing", right, helper + " -none", "yes", false},
		{"cannot connect", right, helper + " 127.0.0.1 1", "yes", false},
		{"not a helper (a stream on stdout)", right, "echo SSH-2.0-OpenSSH_9.2", "yes", false},
	}
	agree := 0
	for _, c := range cases {
		cfgFor := func(dir string) string {
			kh := filepath.Join(dir, "user_kh")
			os.WriteFile(kh, []byte(c.kh), 0o600)
			extra := "  UserKnownHostsFile " + kh + "\n  GlobalKnownHostsFile /dev/null\n  ProxyCommand " + c.proxy + "\n  ProxyUseFdpass yes\n"
			cfg := hostCfg("target", a, dir, c.strict, extra)
			cfg = strings.Replace(cfg, "HostName 127.0.0.1", "HostName nowhere.invalid", 1)
			p := filepath.Join(dir, "config")
			os.WriteFile(p, []byte(cfg), 0o600)
			return p
		}
		s, p := connectBoth(t, realCase{user: c.kh}, "target", cfgFor)
		if agreeWant(t, c.name, s, p, c.want) {
			agree++
		}
	}
	t.Logf("ProxyUseFdpass differential: %d cases, %d agree", len(cases), agree)
}

// agreeWant reports whether ssh and perch did the same, and what the case
// wants (and recorded the same under accept-new); else it says how not.
func agreeWant(t *testing.T, name string, s, p outcome, want bool) bool {
	t.Helper()
	switch {
	case s.ok != p.ok:
		t.Errorf("%s: ssh ok=%v (%s), perch ok=%v (%s)", name, s.ok, s.msg, p.ok, p.msg)
	case s.ok != want:
		t.Errorf("%s: both ok=%v, want %v (ssh: %s | perch: %s)", name, s.ok, want, s.msg, p.msg)
	case s.ok && recordedKind(s.recorded) != recordedKind(p.recorded):
		t.Errorf("%s: ssh recorded %q, perch %q", name, s.recorded, p.recorded)
	default:
		if testing.Verbose() {
			t.Logf("%-60s ok=%-5v ssh: %.60s | perch: %.160s", name, s.ok, lastLine(s.msg), p.msg)
		}
		return true
	}
	return false
}
