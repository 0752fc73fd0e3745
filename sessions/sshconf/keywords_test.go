package sshconf

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestKeywordsLikeSSH asks the local ssh which keywords it accepts: every
// lower-case word in its binary is tried with ssh -G -o; each one ssh
// does not call a "Bad configuration option" must be one perch parses (a
// value perch checks may still be refused, but never the keyword), and
// each keyword perch knows that ssh calls bad must be a newer OpenSSH's
// (README: perch follows Debian 12's 9.2 and knows later keywords).
func TestKeywordsLikeSSH(t *testing.T) {
	needSSH(t)
	bin, _ := exec.LookPath("ssh")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]bool{}
	for _, m := range regexp.MustCompile(`\x00([a-z][a-z0-9]{3,40})\x00`).FindAllSubmatch(data, -1) {
		words[string(m[1])] = true
	}
	for k := range keywords {
		words[k] = true
	}
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	accepted, newer := 0, 0
	for w := range words {
		out, _ := exec.Command("ssh", "-G", "-F", "/dev/null", "-o", w+"=yes", "host").CombinedOutput()
		sshKnows := !strings.Contains(string(out), "Bad configuration option")
		cfg := filepath.Join(dir, "config")
		os.WriteFile(cfg, []byte(w+" yes\n"), 0o600)
		_, err := ResolveSpec(Spec{Host: "host"}, Options{Files: []string{cfg}, Env: &env})
		perchKnows := err == nil || !strings.Contains(err.Error(), "Bad configuration option")
		switch {
		case sshKnows && !perchKnows:
			t.Errorf("ssh accepts the keyword %q, perch calls it unknown: %v", w, err)
		case sshKnows:
			accepted++
		case perchKnows && !newerKeywords[w] && w != "host" && w != "match":
			t.Errorf("perch knows %q, which this ssh calls a bad option (not one of a newer OpenSSH's)", w)
		case perchKnows:
			newer++
		}
	}
	t.Logf("%d words tried: %d keywords ssh -G accepts, all parsed by perch; %d of newer OpenSSH releases", len(words), accepted, newer)
	if accepted < 100 {
		t.Errorf("only %d keywords found in %s", accepted, bin)
	}
}

// newerKeywords are keywords of OpenSSH releases after 9.2 that perch
// parses (Tag and Match tagged with OpenSSH 9.4's meaning; the others are
// accepted and ignored, as they only change what perch does not do).
var newerKeywords = map[string]bool{
	"tag": true, "channeltimeout": true, "enableescapecommandline": true, "obscurekeystroketiming": true,
	"refuseconnection": true, "versionaddendum": true, "warnweakcrypto": true,
}
