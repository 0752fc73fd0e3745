package claims

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// localWatcher runs the claim watcher's script with the local sh (dash on
// Debian: POSIX), as sshd would on the server, in a HOME of the test's.
func localWatcher(t *testing.T, home string, c Config) *Watcher {
	t.Helper()
	cmd := exec.Command("sh", "-c", Script(c, 2*time.Second))
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	return NewWatcher(c.AgentID, stdin, stdout)
}

func ask(t *testing.T, w *Watcher, cmd string) *Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := w.Request(ctx, cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return s
}

// TestClaimScript: the newest take holds a display; a freed lease does not
// count; files land under the state directory, written whole.
func TestClaimScript(t *testing.T) {
	home := t.TempDir()
	desk := localWatcher(t, home, Config{Location: "desk", AgentID: "a1"})
	sofa := localWatcher(t, home, Config{Location: "sofa", AgentID: "b2"})

	s := ask(t, desk, "take 10")
	if c, live := s.Holder(10); !live || c.Agent != "a1" || c.Location != "desk" {
		t.Fatalf("after desk's take: %+v live %v (%+v)", c, live, s)
	}
	if _, live := s.Holder(11); live {
		t.Error("display 11 held without a claim")
	}
	ask(t, sofa, "take 10")
	ask(t, sofa, "take ../x") // not a display number: nothing written
	s = ask(t, desk, "tick")
	if c, live := s.Holder(10); !live || c.Agent != "b2" || c.Location != "sofa" {
		t.Fatalf("after sofa's take the desk sees %+v live %v", c, live)
	}
	if len(s.Claims) != 1 {
		t.Errorf("claims %+v, want only display 10", s.Claims)
	}
	// look asks xpra about each display named; 99 has no server here.
	s = ask(t, desk, "look 99 x")
	if n, ok := s.XClients[99]; !ok || n != -1 || len(s.XClients) != 1 {
		t.Errorf("look 99 x: %v, want just 99: -1 (no server)", s.XClients)
	}
	ask(t, sofa, "free")
	s = ask(t, desk, "tick")
	if c, live := s.Holder(10); live {
		t.Errorf("the sofa freed its lease, yet %+v counts", c)
	}
	ents, err := os.ReadDir(filepath.Join(home, ".local/state/perch/claims"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "10" {
		t.Errorf("claim files %v, want just 10 (no temporary file left)", ents)
	}
}

// TestLease: a claim counts while its agent renewed its lease within the
// lease, by the server's clock.
func TestLease(t *testing.T) {
	s := &Snapshot{Now: 1000, Claims: map[int]Claim{10: {Agent: "a", At: 990, Location: "desk"}, 11: {Agent: "gone", At: 990}},
		Agents: map[string]Lease{"a": {Renewed: 996, Lease: 4}}}
	if _, live := s.Holder(10); !live {
		t.Error("renewed 4 s ago with a 4 s lease: should count")
	}
	s.Now = 1001
	if _, live := s.Holder(10); live {
		t.Error("renewed 5 s ago with a 4 s lease: should not count")
	}
	if _, live := s.Holder(11); live {
		t.Error("a claim without a lease file counts")
	}
}

// TestPruneLeases: a watcher starting removes the lease files of agents
// whose lease ran out over a day ago, and keeps the others (and files it
// cannot read as a lease).
func TestPruneLeases(t *testing.T) {
	home := t.TempDir()
	agents := filepath.Join(home, ".local/state/perch/agents")
	if err := os.MkdirAll(agents, 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	for name, line := range map[string]string{
		"dead":   fmt.Sprintf("%d 20 kitchen", now-int64(pruneAfter/time.Second)-100),
		"recent": fmt.Sprintf("%d 20 sofa", now-3600),
		"odd":    "not a lease",
	} {
		if err := os.WriteFile(filepath.Join(agents, name), []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := ask(t, localWatcher(t, home, Config{Location: "desk", AgentID: "a1"}), "tick")
	if _, ok := s.Agents["dead"]; ok {
		t.Errorf("a lease that ran out over %s ago was kept: %+v", pruneAfter, s.Agents)
	}
	for _, keep := range []string{"recent", "a1"} {
		if _, ok := s.Agents[keep]; !ok {
			t.Errorf("lease %s pruned: %+v", keep, s.Agents)
		}
	}
	if _, err := os.Stat(filepath.Join(agents, "odd")); err != nil {
		t.Errorf("a file that is no lease: %v", err)
	}
}
