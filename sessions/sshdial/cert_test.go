package sshdial

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRealCertificate: a user key the server does not list, signed by the
// user CA it trusts (TrustedUserCAKeys), logs in with its certificate from
// CertificateFile or from "-cert.pub" beside the key, with ssh and perch
// alike; without a certificate, or with one from another CA, neither does.
func TestRealCertificate(t *testing.T) {
	needRealBed(t)
	a := bed.a
	dir := t.TempDir()
	keygen := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen %v: %v: %s", args, err, out)
		}
	}
	key := filepath.Join(dir, "id_user")
	other := filepath.Join(dir, "other_ca")
	keygen("-q", "-N", "", "-t", "ed25519", "-f", key)
	keygen("-q", "-N", "", "-t", "ed25519", "-f", other)
	sign := func(ca, out string) string {
		tmp := filepath.Join(dir, "tmp.pub")
		data, _ := os.ReadFile(key + ".pub")
		os.WriteFile(tmp, data, 0o600)
		keygen("-q", "-s", ca, "-I", "perch-user-"+filepath.Base(out), "-n", a.User, tmp)
		cert, err := os.ReadFile(filepath.Join(dir, "tmp-cert.pub"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(out, cert, 0o600)
		return out
	}
	good := sign(filepath.Join(a.Dir, "user_ca"), filepath.Join(dir, "good-cert.pub"))
	bad := sign(other, filepath.Join(dir, "bad-cert.pub"))
	kh := khLine("", "[127.0.0.1]:"+strconv.Itoa(a.Port), a.HostKey)
	cases := []struct {
		name, extra string
		beside      string // copied to the key's "-cert.pub"
		want        bool
	}{
		{"CertificateFile", "  CertificateFile " + good + "\n", "", true},
		{"-cert.pub beside the key", "", good, true},
		{"no certificate", "", "", false},
		{"another CA's certificate", "  CertificateFile " + bad + "\n", "", false},
		{"CertificateFile missing", "  CertificateFile " + filepath.Join(dir, "nope-cert.pub") + "\n", "", false},
		{"wrong one first, right one second", "  CertificateFile " + bad + "\n  CertificateFile " + good + "\n", "", true},
	}
	agree := 0
	for _, c := range cases {
		cfgFor := func(cdir string) string {
			k := filepath.Join(cdir, "id_user")
			data, _ := os.ReadFile(key)
			os.WriteFile(k, data, 0o600)
			if c.beside != "" {
				cert, _ := os.ReadFile(c.beside)
				os.WriteFile(k+"-cert.pub", cert, 0o600)
			}
			os.WriteFile(filepath.Join(cdir, "user_kh"), []byte(kh), 0o600)
			cfg := hostCfg("target", a, cdir, "yes", "  UserKnownHostsFile "+filepath.Join(cdir, "user_kh")+"\n  GlobalKnownHostsFile /dev/null\n"+c.extra)
			cfg = strings.Replace(cfg, "IdentityFile "+a.UserKey, "IdentityFile "+k, 1)
			p := filepath.Join(cdir, "config")
			os.WriteFile(p, []byte(cfg), 0o600)
			return p
		}
		s, p := connectBoth(t, realCase{user: kh}, "target", cfgFor)
		if agreeWant(t, c.name, s, p, c.want) {
			agree++
		}
	}
	t.Logf("certificate differential: %d cases, %d agree", len(cases), agree)
}
