package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestResolveCommand(t *testing.T) {
	dir := t.TempDir()
	sshCfg := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(sshCfg, []byte("Host other\n  StrictHostKeyChecking no\nHost box\n  HostName box.example\n  User me\n  Port 2200\n"+
		"  StrictHostKeyChecking accept-new\n  ProxyJump jump\nHost bad\n  KnownHostsCommand /bin/true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, "[server.quiet]\nssh = \"box\"\nssh_config = \""+sshCfg+"\"\nknown_hosts = \"strict\"\n")
	vars := map[string]string{}

	r := perch(t, vars, "resolve", "--json", "--config", cfg, "--ssh-config", sshCfg, "box")
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); r.code != 0 || err != nil {
		t.Fatalf("resolve --json box: %d %v %s %s", r.code, err, r.stdout, r.stderr)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"connect_timeout_s", "hostname", "identities_only", "identity_files", "known_hosts_files", "port",
		"proxy_command", "proxy_jump", "server_alive_count_max", "server_alive_interval_s", "strict_host_key_checking", "user"}
	if !slices.Equal(keys, want) {
		t.Errorf("JSON keys %v, want %v", keys, want)
	}
	if got["hostname"] != "box.example" || got["port"] != 2200.0 || got["user"] != "me" || got["strict_host_key_checking"] != "accept-new" {
		t.Errorf("resolved %v", got)
	}
	if j, _ := got["proxy_jump"].([]any); len(j) != 1 || !strings.HasSuffix(j[0].(string), "@jump:22") {
		t.Errorf("proxy_jump %v", got["proxy_jump"])
	}
	// The authority rule: perch's known_hosts (strict) wins over ssh_config's accept-new.
	r = perch(t, vars, "resolve", "--config", cfg, "quiet")
	if r.code != 0 || !strings.Contains(r.stdout, "strict_host_key_checking") || !strings.Contains(r.stdout, " strict\n") {
		t.Errorf("resolve quiet: %d %q %s", r.code, r.stdout, r.stderr)
	}
	// A refusal exits 2 naming file and line; a block for another host does not stop box.
	r = perch(t, vars, "resolve", "--config", cfg, "--ssh-config", sshCfg, "bad")
	if r.code != 2 || !strings.Contains(strings.ToLower(r.stderr), strings.ToLower(sshCfg+": line 10: KnownHostsCommand")) {
		t.Errorf("resolve bad: %d %q", r.code, r.stderr)
	}
}
