package sshconf

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestValuesLikeSSH tries odd values of the keywords whose values perch
// checks, with ssh -G and perch: a value ssh accepts must not be refused
// by perch (and one ssh refuses, perch should refuse too).
func TestValuesLikeSSH(t *testing.T) {
	needSSH(t)
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string][]string{
		"port":                        {"22", "+22", "022", "0x16", "ssh", "SSH", "65535", "65536", "0", "-1", "http", "22 ", `"22"`, "2 2"},
		"identitiesonly":              {"yes", "YES", "True", "no", "FALSE", "1", "on", "y"},
		"batchmode":                   {"yes", "no", "true", "maybe"},
		"stricthostkeychecking":       {"yes", "no", "off", "OFF", "Ask", "accept-new", "Accept-New", "true", "false", "new", "on"},
		"canonicalizehostname":        {"yes", "no", "always", "ALWAYS", "true", "false", "never"},
		"canonicalizemaxdots":         {"0", "1", "10", "-1", "x", "1.5", "+2", "2147483648"},
		"canonicalizefallbacklocal":   {"yes", "no", "maybe"},
		"canonicaldomains":            {"example.com", "Example.COM", "example.com.", "a.b c.d", "none", "none a", "-x.com", "x..com", "x_y.com", "x/y"},
		"canonicalizepermittedcnames": {"*", "none", "*.a:*.b", "*.a:*.b,*.c", "*.a", "*.a:", "none *", "A:B"},
		"serveraliveinterval":         {"0", "30", "1m", "1h30m", "1M", "10s5", "none", "-5", "5x", "2147483647", "2147483648"},
		"connecttimeout":              {"0", "10", "none", "1w", "1W2d", "x"},
		"serveralivecountmax":         {"0", "3", "-1", "x", "3.0"},
		"hostkeyalgorithms":           {"ssh-ed25519", "+ssh-rsa", "-ssh-rsa", "^ssh-ed25519", "ssh-ed25519*", "nope", "+nope", "-nope", "ssh-ed25519,,rsa-sha2-512", ""},
		"userknownhostsfile":          {"~/a", "none", "none ~/a", "~/a ~/b", "/dev/null"},
		"proxyjump":                   {"a", "a,b", "u@a:22", "none", "NONE", "ssh://u@a:22", "a:b", "[::1]:22", "a:0", "a:", "@a", `"a"`, "'a'", "a b"},
		"tag":                         {"x"},
		"proxyusefdpass":              {"yes", "no", "maybe"},
		"checkhostip":                 {"no", "maybe"},
		"hostname":                    {"a", "%h.x", "%%", "a b"},
		"user":                        {"a", "a b", `"a b"`, "a@b"},
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	tried, agree, stricter := 0, 0, 0
	for k, vs := range values {
		for _, v := range vs {
			line := k + " " + v
			os.WriteFile(cfg, []byte(line+"\n"), 0o600)
			tried++
			out, sshErr := exec.Command("ssh", "-G", "-F", cfg, "host").CombinedOutput()
			_, err := ResolveSpec(Spec{Host: "host"}, Options{Files: []string{cfg}, Env: &env})
			bad := strings.Contains(string(out), "line 1")
			switch {
			case sshErr == nil && err != nil && !intended(err) && !strings.Contains(err.Error(), "is not supported by perch"):
				t.Errorf("%q: ssh accepts, perch refuses: %v", line, err)
			case sshErr != nil && bad && err == nil:
				stricter++ // ssh is stricter about a value perch does not use
				if testing.Verbose() {
					t.Logf("%q: ssh refuses (%s), perch accepts", line, lastLine(string(out)))
				}
			default:
				agree++
			}
		}
	}
	t.Logf("%d values tried: %d agree, %d refused by ssh only, 0 refused by perch only", tried, agree, stricter)
}
