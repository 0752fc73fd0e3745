package room

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StartSSHD starts the room's sshd (again) and returns once it listens.
func (r *Room) StartSSHD(ctx context.Context) error {
	logf, err := os.OpenFile(filepath.Join(r.Dir, "sshd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := r.Netns.Command(r.sshdBin, "-D", "-e", "-f", r.config)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start sshd: %w", err)
	}
	r.sshd, r.sshdDone = cmd, make(chan struct{})
	done := r.sshdDone
	go func() {
		r.log.read(stderr, logf)
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	want := fmt.Sprintf("Server listening on %s port 22.", r.Netns.NSAddr)
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, ln := range r.log.since(start, time.Now().Add(time.Hour)) {
			if strings.Contains(ln.text, want) {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("sshd exited at start: %s", r.SSHDLog())
		case <-ctx.Done():
			return ctx.Err()
		case <-r.log.changed():
		case <-time.After(time.Until(deadline)):
			return fmt.Errorf("sshd did not listen within 15s: %s", r.SSHDLog())
		}
	}
}

// Restart stops sshd (everything of the server dies: see StopSSHD),
// waits outage, starts it and waits for every seat to be back; it returns
// when each was back after sshd returned, and what sshd saw meanwhile.
func (r *Room) Restart(ctx context.Context, outage, timeout time.Duration) ([]time.Duration, Counts, error) {
	if err := r.StopSSHD(); err != nil {
		return nil, Counts{}, err
	}
	select {
	case <-time.After(outage):
	case <-ctx.Done():
		return nil, Counts{}, ctx.Err()
	}
	if err := r.StartSSHD(ctx); err != nil {
		return nil, Counts{}, err
	}
	from := time.Now()
	back, err := r.WaitBack(ctx, from, nil, timeout)
	return back, r.Count(from, time.Now()), err
}

// KillAll kills -9 every seat's session process and waits for every seat
// to be back; it returns when each was back after the kill, and what
// sshd saw meanwhile.
func (r *Room) KillAll(ctx context.Context, timeout time.Duration) ([]time.Duration, Counts, error) {
	killed, err := r.KillSessions()
	if err != nil {
		return nil, Counts{}, err
	}
	from := time.Now()
	back, err := r.WaitBack(ctx, from, killed, timeout)
	return back, r.Count(from, time.Now()), err
}

// CutNetwork cuts the namespace's link for outage (no reset either way,
// as a pulled cable), restores it and waits for every seat to be back
// with a new session process; it returns when each was back after the
// network returned, and what sshd saw meanwhile.
func (r *Room) CutNetwork(ctx context.Context, outage, timeout time.Duration) ([]time.Duration, Counts, error) {
	old, err := r.Sessions()
	if err != nil {
		return nil, Counts{}, err
	}
	if err := r.Netns.Cut(); err != nil {
		return nil, Counts{}, err
	}
	select {
	case <-time.After(outage):
	case <-ctx.Done():
	}
	if err := r.Netns.Restore(); err != nil {
		return nil, Counts{}, err
	}
	from := time.Now()
	back, err := r.WaitBack(ctx, from, old, timeout)
	return back, r.Count(from, time.Now()), err
}

// SSHDLog returns the end of sshd's log.
func (r *Room) SSHDLog() string {
	b, _ := os.ReadFile(filepath.Join(r.Dir, "sshd.log"))
	s := string(b)
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

func (l *sshdLog) changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.wait == nil {
		l.wait = make(chan struct{})
	}
	return l.wait
}

// StopSSHD makes the server go away as if its machine died: it kills
// every process in the namespace (the listener, the connections' sshd
// processes, the sessions), all of which the room started.
func (r *Room) StopSSHD() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids, err := r.Netns.PIDs()
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			break
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v in the namespace outlived SIGKILL for 10s", pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r.sshdDone != nil {
		<-r.sshdDone
		r.sshd, r.sshdDone = nil, nil
	}
	return nil
}

// proc is one process of the namespace.
type proc struct {
	pid, uid int
	comm     string
	rssKB    int
}

// procs returns the processes running in the namespace.
func (r *Room) procs() ([]proc, error) {
	pids, err := r.Netns.PIDs()
	if err != nil {
		return nil, err
	}
	var out []proc
	for _, p := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			continue // gone
		}
		pr := proc{pid: p}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			f := strings.Fields(v)
			if len(f) == 0 {
				continue
			}
			switch k {
			case "Name":
				pr.comm = f[0]
			case "Uid":
				pr.uid, _ = strconv.Atoi(f[0])
			case "VmRSS":
				pr.rssKB, _ = strconv.Atoi(f[0])
			}
		}
		out = append(out, pr)
	}
	return out, nil
}

// KillSessions kills -9 every seat's session process (xlogo) and returns
// their pids.
func (r *Room) KillSessions() ([]int, error) {
	ps, err := r.procs()
	if err != nil {
		return nil, err
	}
	var killed []int
	for _, p := range ps {
		if p.comm == "xlogo" {
			if err := syscall.Kill(p.pid, syscall.SIGKILL); err == nil {
				killed = append(killed, p.pid)
			}
		}
	}
	if len(killed) == 0 {
		return nil, errors.New("no session process to kill")
	}
	return killed, nil
}

// sessions returns, for each seat's uid, its session processes (xlogo).
func (r *Room) sessions() (map[int][]int, error) {
	ps, err := r.procs()
	if err != nil {
		return nil, err
	}
	m := map[int][]int{}
	for _, p := range ps {
		if p.comm == "xlogo" {
			m[p.uid] = append(m[p.uid], p.pid)
		}
	}
	return m, nil
}

// Sessions returns every session process (xlogo) now running.
func (r *Room) Sessions() ([]int, error) {
	m, err := r.sessions()
	var all []int
	for _, ps := range m {
		all = append(all, ps...)
	}
	slices.Sort(all)
	return all, err
}

// WaitBack waits until every seat has a session process that is not in
// old, polling every 100 ms, and returns when each seat was seen back
// (relative to from), in seat order. On timeout it returns the seats not
// back.
func (r *Room) WaitBack(ctx context.Context, from time.Time, old []int, timeout time.Duration) ([]time.Duration, error) {
	back := make([]time.Duration, len(r.Seats))
	missing := len(r.Seats)
	deadline := time.Now().Add(timeout)
	for missing > 0 {
		m, err := r.sessions()
		if err != nil {
			return nil, err
		}
		now := time.Now()
		for i, s := range r.Seats {
			if back[i] != 0 {
				continue
			}
			for _, p := range m[s.UID] {
				if !slices.Contains(old, p) {
					back[i], missing = max(now.Sub(from), time.Nanosecond), missing-1
					break
				}
			}
		}
		if missing == 0 {
			break
		}
		if now.After(deadline) || r.allGaveUp(back) {
			var names []string
			exited := ""
			for i, s := range r.Seats {
				if back[i] == 0 {
					names = append(names, s.Name)
					if s.Exited() {
						exited = fmt.Sprintf("; %s's client exited: %s", s.Name, lastLine(s.Log()))
					}
				}
			}
			which := strings.Join(names, ", ")
			if missing == len(r.Seats) {
				which = "every seat"
			}
			return back, fmt.Errorf("%d seats not back after %s: %s%s", missing, now.Sub(from).Round(time.Second), which, exited)
		}
		select {
		case <-ctx.Done():
			return back, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return back, nil
}

// allGaveUp reports whether every seat not back has no client left to
// come back with.
func (r *Room) allGaveUp(back []time.Duration) bool {
	for i, s := range r.Seats {
		if back[i] == 0 && !s.Exited() {
			return false
		}
	}
	return true
}

// Counts are what sshd's log says of a time window.
type Counts struct {
	Accepted   int     // "Connection from": connections sshd took on
	Drops      int     // "drop connection ... past MaxStartups"
	PeakPerSec int     // most attempts (accepted or dropped) in one second
	MeanPerSec float64 // attempts per second from the first to the last
}

// Attempts is every connection attempt sshd saw.
func (c Counts) Attempts() int { return c.Accepted + c.Drops }

// Count reads sshd's log between from and to.
func (r *Room) Count(from, to time.Time) Counts {
	var c Counts
	per := map[int64]int{}
	var first, last time.Time
	for _, ln := range r.log.since(from, to) {
		switch {
		case strings.HasPrefix(ln.text, "Connection from "):
			c.Accepted++
		case strings.Contains(ln.text, "past MaxStartups"):
			c.Drops++
		default:
			continue
		}
		sec := ln.at.Unix()
		per[sec]++
		c.PeakPerSec = max(c.PeakPerSec, per[sec])
		if first.IsZero() {
			first = ln.at
		}
		last = ln.at
	}
	if n := c.Attempts(); n > 0 {
		c.MeanPerSec = float64(n) / max(last.Sub(first).Seconds(), 1)
	}
	return c
}

// Cost is the server's processes and memory for the room's seats.
type Cost struct {
	Processes int
	RSSKB     int
	ByName    map[string][2]int // comm: processes, RSS kB
}

// ServerCost sums the processes in the namespace other than the
// listening sshd.
func (r *Room) ServerCost() (Cost, error) {
	ps, err := r.procs()
	if err != nil {
		return Cost{}, err
	}
	c := Cost{ByName: map[string][2]int{}}
	for _, p := range ps {
		if r.sshd != nil && p.pid == r.sshd.Process.Pid {
			continue
		}
		c.Processes++
		c.RSSKB += p.rssKB
		v := c.ByName[p.comm]
		c.ByName[p.comm] = [2]int{v[0] + 1, v[1] + p.rssKB}
	}
	return c, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
