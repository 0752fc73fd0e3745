package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/perchdesk/perch/internal/testrig/faultproxy"
)

// recoverAfter injects a fault and returns the time from it until every
// display has a window again: first the windows must go (the tool saw
// the fault), then all of them must be back.
func (b *remoteBed) recoverAfter(fault func() error) (time.Duration, error) {
	start := time.Now()
	if err := fault(); err != nil {
		return 0, err
	}
	want := len(b.xpras)
	deadline := time.Now().Add(30 * time.Second)
	for len(b.xeyesWindows()) >= want {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the windows did not go 30 s after the fault")
		}
		time.Sleep(10 * time.Millisecond)
	}
	deadline = time.Now().Add(90 * time.Second)
	for {
		n := len(b.xeyesWindows())
		if n >= want {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("only %d windows 90 s after the fault", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killServerSide kills the server-side sshd processes of every connection.
func (b *remoteBed) killServerSide() error {
	pids, err := b.sshd.ConnectionPIDs()
	if err != nil || len(pids) == 0 {
		return fmt.Errorf("no server-side connection to kill: %v", err)
	}
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	return nil
}

// proxiedSSHConfig writes an ssh_config for the bed's host that goes
// through proxy, with the keepalive OpenSSH is best set to
// (ServerAliveInterval 1, ServerAliveCountMax 3), and a known_hosts file
// that names the proxy's address. perch and ssh read the same file.
func (b *remoteBed) proxiedSSHConfig(proxy string) (string, error) {
	conf, err := os.ReadFile(b.sshd.SSHConfig)
	if err != nil {
		return "", err
	}
	kh, err := os.ReadFile(b.sshd.KnownHosts)
	if err != nil {
		return "", err
	}
	_, port, _ := net.SplitHostPort(proxy)
	khFile := filepath.Join(b.dir, "proxy_known_hosts")
	kh = []byte(strings.Replace(string(kh), knownhosts.Normalize(b.sshd.Addr), knownhosts.Normalize(proxy), 1))
	if err := os.WriteFile(khFile, kh, 0o600); err != nil {
		return "", err
	}
	c := strings.Replace(string(conf), fmt.Sprintf("\n  Port %d\n", b.sshd.Port), "\n  Port "+port+"\n", 1)
	c = strings.Replace(c, strconv.Quote(b.sshd.KnownHosts), strconv.Quote(khFile), 1)
	c += "  ServerAliveInterval 1\n  ServerAliveCountMax 3\n"
	if !strings.Contains(c, "Port "+port) || !strings.Contains(c, khFile) {
		return "", fmt.Errorf("cannot rewrite %s for the proxy", b.sshd.SSHConfig)
	}
	f := filepath.Join(b.dir, "proxy_ssh_config")
	return f, os.WriteFile(f, []byte(c), 0o600)
}

// recoveryTool is one side of the recovery comparison.
type recoveryTool struct {
	name string
	args []string
	env  []string
}

// fault is a way to break the link.
type fault struct {
	name string
	do   func() error
}

// recoveryTools writes perch's configuration for the proxied ssh_config
// and returns perch up and autossh running the original script (also
// returned, for the report).
func (b *remoteBed) recoveryTools(perch, sshConfig string) (tools []recoveryTool, script string, err error) {
	var attach, ds []string
	for _, x := range b.xpras {
		attach = append(attach, fmt.Sprintf("xpra attach :%d &", x.Display))
		ds = append(ds, strconv.Itoa(x.Display))
	}
	script = strings.Join(attach, " ") + " wait"
	// No keepalive key: perch takes ServerAliveInterval/CountMax from the
	// ssh_config, as ssh does.
	cfg := filepath.Join(b.dir, "recovery.toml")
	conf := fmt.Sprintf("[server.bed]\nssh = %q\nssh_config = %q\nclient = %q\n\n[profile.desk]\nserver = \"bed\"\ndisplays = [%s]\n[[profile.desk.output]]\nname = \"screen\"\n",
		b.sshd.HostAlias, sshConfig, variant.client, strings.Join(ds, ", "))
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return nil, "", err
	}
	return []recoveryTool{
		{"perch up", []string{perch, "--config", cfg, "--display", b.local.Name, "up", "desk", "--socket", filepath.Join(b.dir, "rec.sock")}, nil},
		{"autossh", []string{"autossh", "-M", "0", "-F", sshConfig, "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=3",
			"-Y", b.sshd.HostAlias, script}, []string{"AUTOSSH_GATETIME=0", "AUTOSSH_POLL=1"}},
	}, script, nil
}

// recoveryRound starts tool, waits for every window, injects each fault in
// turn and adds the recovery times to res under "tool/fault"; then it
// stops the tool and cuts the connections the proxy still holds.
func (b *remoteBed) recoveryRound(tool recoveryTool, faults []fault, proxy *faultproxy.Proxy, res map[string]*stats) error {
	if err := b.waitWindows(0, 30*time.Second); err != nil {
		return err
	}
	cmd := exec.Command(tool.args[0], tool.args[1:]...)
	cmd.Env = append(append([]string{}, b.env...), tool.env...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", tool.name, err)
	}
	err := func() error {
		if err := b.waitWindows(len(b.xpras), 60*time.Second); err != nil {
			return err
		}
		for _, f := range faults {
			time.Sleep(2 * time.Second) // settled
			d, err := b.recoverAfter(f.do)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", tool.name, f.name, err)
			}
			k := tool.name + "/" + f.name
			if res[k] == nil {
				res[k] = &stats{}
			}
			res[k].add(d)
		}
		return nil
	}()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	proxy.Cut() // the black-holed connections
	_ = b.waitNoAttach(30 * time.Second)
	return err
}

// benchRecovery compares recovery after a kill -9 of the server-side sshd
// and after a link freeze: perch up against autossh running the original
// ssh -Y script, both with the keepalive OpenSSH is best set to, both
// through the same TCP proxy, alternating round by round.
func benchRecovery(w *strings.Builder, b *remoteBed, perch string, runs int) error {
	proxy, err := faultproxy.New(b.sshd.Addr)
	if err != nil {
		return err
	}
	defer proxy.Close()
	sshConfig, err := b.proxiedSSHConfig(proxy.Addr())
	if err != nil {
		return err
	}
	tools, script, err := b.recoveryTools(perch, sshConfig)
	if err != nil {
		return err
	}
	faults := []fault{
		{"kill", b.killServerSide},
		{"freeze", func() error { proxy.Blackhole(); return nil }},
	}
	res := map[string]*stats{}
	unrecovered := map[string]int{} // the anchor's rounds that did not come back
	for range runs {
		for _, tool := range tools {
			err := b.recoveryRound(tool, faults, proxy, res)
			if err != nil && tool.name == "perch up" {
				return err
			} else if err != nil {
				fmt.Fprintf(os.Stderr, "recovery: %v\n", err)
				unrecovered[tool.name]++
			}
		}
	}
	if res["perch up/kill"] == nil || res["autossh/kill"] == nil || res["perch up/freeze"] == nil || res["autossh/freeze"] == nil {
		return fmt.Errorf("no complete round (autossh did not recover in %d of %d)", unrecovered["autossh"], runs)
	}
	fmt.Fprintf(w, "## Recovery after a kill and after a freeze: `perch up` vs autossh + `ssh -Y`%s\n\n", variantNote())
	fmt.Fprintf(w, "%d xpra displays; from the fault to a new window of every display on the local Xvfb; %d rounds,\n"+
		"perch and autossh alternating, both through one TCP proxy to sshd and both with ServerAliveInterval 1 and\n"+
		"ServerAliveCountMax 3 in the ssh_config they share (perch reads them from there).\n"+
		"kill: `kill -9` of the server-side sshd processes. freeze: the proxy stops carrying the open\n"+
		"connection for good, without closing it (a NAT box that lost its state); new connections pass.\n"+
		"autossh: `autossh -M 0 -o ServerAliveInterval=1 -o ServerAliveCountMax=3 -Y server '%s'` (AUTOSSH_GATETIME=0).\n\n",
		len(b.xpras), runs, script)
	fmt.Fprintf(w, "| fault | perch up median | autossh median | ratio autossh/perch | perch best | autossh best |\n|---|---|---|---|---|---|\n")
	for _, f := range faults {
		p, a := res["perch up/"+f.name], res["autossh/"+f.name]
		fmt.Fprintf(w, "| %s | %s | %s | %.2f | %s | %s |\n", f.name, ms(p.median()), ms(a.median()),
			float64(a.median())/float64(p.median()), ms(p.min()), ms(a.min()))
	}
	if n := unrecovered["autossh"]; n > 0 {
		fmt.Fprintf(w, "\nIn %d of %d rounds autossh's `xpra attach` clients did not all come back within 90 s of a fault\n"+
			"(those rounds are left out of its figures).\n", n, runs)
	}
	fmt.Fprintln(w)
	return nil
}
