// Package proctab reads Linux's process table (/proc): parents, states and
// command lines, the trees below a process, and processes marked by an
// environment variable. It lets a program stop a tree of processes it
// started, including those that were orphaned on the way.
package proctab

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is one line of the process table.
type Proc struct {
	PID, PPID int
	State     byte   // 'R', 'S', 'Z'...
	Start     string // start time in clock ticks after boot: tells a reused pid
}

// Table is a snapshot of the process table, by pid.
type Table map[int]Proc

// Read reads every process's parent, state and start time from /proc.
func Read() (Table, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	procs := make(Table, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := stat(pid); ok {
			procs[pid] = p
		}
	}
	return procs, nil
}

// stat parses /proc/PID/stat.
func stat(pid int) (Proc, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Proc{}, false // it exited
	}
	// "pid (comm) S ppid ...": comm may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return Proc{}, false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 20 {
		return Proc{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	return Proc{PID: pid, PPID: ppid, State: f[0][0], Start: f[19]}, true
}

// PIDs returns every pid in the table, in ascending order.
func (t Table) PIDs() []int {
	pids := make([]int, 0, len(t))
	for p := range t {
		pids = append(pids, p)
	}
	sort.Ints(pids)
	return pids
}

// Descendants returns every live descendant of pid, parents before
// children.
func (t Table) Descendants(pid int) []int {
	children := map[int][]int{}
	for _, p := range t {
		children[p.PPID] = append(children[p.PPID], p.PID)
	}
	for _, c := range children {
		sort.Ints(c)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if t[c].State != 'Z' {
				out = append(out, c)
			}
			queue = append(queue, c)
		}
	}
	return out
}

// KillSnapshot sends SIGKILL to the processes of t among pids that still
// run, skipping pids that now belong to another process.
func (t Table) KillSnapshot(pids []int) {
	now, err := Read()
	if err != nil {
		return
	}
	for _, p := range pids {
		if q, ok := now[p]; ok && q.Start == t[p].Start {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}
}

// State returns the state letter of pid ('R', 'S', 'Z'...), or 0 if there
// is no such process.
func State(pid int) byte {
	p, ok := stat(pid)
	if !ok {
		return 0
	}
	return p.State
}

// Alive reports whether pid runs: it exists and is no zombie.
func Alive(pid int) bool {
	s := State(pid)
	return s != 0 && s != 'Z' && s != 'X'
}

// Parent is pid's parent, 0 when unknown.
func Parent(pid int) int {
	p, _ := stat(pid)
	return p.PPID
}

// Marked returns the processes other than this one whose environment
// holds marker ("NAME=value").
func Marked(marker string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range strings.Split(string(b), "\x00") {
			if kv == marker {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// WaitGone waits up to timeout until none of pids runs any more (exited or
// a zombie) and returns those that still run. Orphaned zombies vanish only
// when init reaps them, which takes up to a second.
func WaitGone(pids []int, timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for {
		var alive []int
		for _, p := range pids {
			if Alive(p) {
				alive = append(alive, p)
			}
		}
		if len(alive) == 0 || time.Now().After(deadline) {
			return alive
		}
		pids = alive
		time.Sleep(10 * time.Millisecond)
	}
}
