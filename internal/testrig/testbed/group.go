package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// groupProc is a server started in a process group of its own, its output
// in a log, stopped with all its children.
type groupProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startGroup starts cmd (keeping its SysProcAttr's credential) with its
// output going to the file log.
func startGroup(cmd *exec.Cmd, log string) (*groupProc, error) {
	logf, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid, cmd.SysProcAttr.Pdeathsig = true, syscall.SIGTERM
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &groupProc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// stop sends the group SIGTERM, then SIGKILL after 5 s, and waits.
func (p *groupProc) stop() {
	if p == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}
