package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/perchdesk/perch/internal/testrig/room"
)

// roomRun is one room's figures after an sshd restart.
type roomRun struct {
	seats    int
	back     []time.Duration // each seat, after sshd returned
	counts   room.Counts
	cost     room.Cost // before the restart, every seat attached
	notBack  string    // the seats not back within the timeout
	one      time.Duration
	oneCount room.Counts
}

func (r roomRun) last() time.Duration { return slices.Max(r.back) }

func (r roomRun) median() time.Duration {
	c := slices.Clone(r.back)
	slices.Sort(c)
	return c[len(c)/2]
}

// roomOnce starts a room of n seats, waits for all, measures the server's
// cost, restarts sshd after a 10 s outage and waits for every seat.
func roomOnce(ctx context.Context, o room.Options) (roomRun, error) {
	r, err := room.Start(ctx, o)
	if err != nil {
		return roomRun{}, err
	}
	defer r.Close()
	if _, err := r.WaitBack(ctx, time.Now(), nil, 5*time.Minute); err != nil {
		return roomRun{}, fmt.Errorf("a room of %d coming up: %w", o.Seats, err)
	}
	time.Sleep(5 * time.Second) // settle: every seat's claim shell and X client started
	run := roomRun{seats: o.Seats}
	if run.cost, err = r.ServerCost(); err != nil {
		return run, err
	}
	run.back, run.counts, err = r.Restart(ctx, 10*time.Second, 3*time.Minute)
	if err != nil {
		run.notBack = err.Error()
		for i, d := range run.back {
			if d == 0 {
				run.back[i] = 3 * time.Minute
			}
		}
	}
	return run, nil
}

// roomSide is one tool's runs: one seat alone, then the whole room.
func roomSide(ctx context.Context, o room.Options) (roomRun, error) {
	o1 := o
	o1.Seats = 1
	one, err := roomOnce(ctx, o1)
	if err != nil {
		return roomRun{}, err
	}
	all, err := roomOnce(ctx, o)
	if err != nil {
		return roomRun{}, err
	}
	all.one, all.oneCount = one.back[0], one.counts
	return all, nil
}

// benchRoom compares a room of seats after an sshd restart: perch up
// against autossh -M 0 + ssh -Y, and perch before this work (before, when
// given).
func benchRoom(w *strings.Builder, perch, before string, seats int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	sides := []struct {
		name string
		o    room.Options
	}{
		{"perch up", room.Options{Seats: seats, Perch: perch}},
		{"autossh -M 0 + ssh -Y", room.Options{Seats: seats, Anchor: true}},
	}
	if before != "" {
		sides = append(sides, struct {
			name string
			o    room.Options
		}{"perch up before (" + before + ")", room.Options{Seats: seats, Perch: before}})
	}
	runs := map[string]roomRun{}
	for _, s := range sides {
		r, err := roomSide(ctx, s.o)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		runs[s.name] = r
	}
	fmt.Fprintf(w, "## A room: %d seats on one sshd after it was stopped for 10 s: `perch up` vs autossh + `ssh -Y`\n\n", seats)
	fmt.Fprintf(w, "`go run ./scripts/bench -only room -room-seats %d` (internal/testrig/room): %d seats, each with its own server\n"+
		"account and location, on one sshd with the default MaxStartups (10:30:100) in a network namespace, one\n"+
		"xlogo each X11-forwarded to one Xvfb; ServerAliveInterval 2. sshd and everything of the server is killed,\n"+
		"started again 10 s later; a seat is back when its new xlogo runs. autossh: `autossh -M 0 -Y -T server xlogo`\n"+
		"(AUTOSSH_GATETIME=0, its own retry schedule). Times are from sshd listening again. Goal: the last seat\n"+
		"back within 2 × one seat alone + 5 s.\n\n", seats, seats)
	fmt.Fprintf(w, "| side | one seat alone | median of %d | last of %d | goal 2×one+5 s | MaxStartups drops | attempts sshd saw | peak attempts/s |\n|---|---|---|---|---|---|---|---|\n", seats, seats)
	for _, s := range sides {
		r := runs[s.name]
		goal := 2*r.one + 5*time.Second
		met := "met"
		if r.last() > goal {
			met = "missed"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s (%s) | %d | %d | %d |\n", s.name, secs(r.one), secs(r.median()), secs(r.last()), secs(goal), met,
			r.counts.Drops, r.counts.Attempts(), r.counts.PeakPerSec)
	}
	for _, s := range sides {
		if r := runs[s.name]; r.notBack != "" {
			fmt.Fprintf(w, "\n%s: %s (counted as 3 min).\n", s.name, r.notBack)
		}
	}
	p, a := runs[sides[0].name], runs[sides[1].name]
	fmt.Fprintf(w, "\nLast seat back: autossh ÷ perch = %.2f.\n\n", a.last().Seconds()/p.last().Seconds())
	fmt.Fprintf(w, "Server-side cost per seat, every seat attached (processes in the namespace but the listening sshd, ÷ %d):\n\n", seats)
	fmt.Fprintf(w, "| side | processes per seat | RSS per seat | by program (processes, RSS per seat) |\n|---|---|---|---|\n")
	for _, s := range sides[:2] {
		c := runs[s.name].cost
		fmt.Fprintf(w, "| %s | %.1f | %.1f MB | %s |\n", s.name, float64(c.Processes)/float64(seats), float64(c.RSSKB)/1024/float64(seats), byName(c, seats))
	}
	w.WriteString("\n")
	return nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func byName(c room.Cost, seats int) string {
	names := make([]string, 0, len(c.ByName))
	for n := range c.ByName {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		v := c.ByName[n]
		parts = append(parts, fmt.Sprintf("%s %.1f, %.1f MB", n, float64(v[0])/float64(seats), float64(v[1])/1024/float64(seats)))
	}
	return strings.Join(parts, "; ")
}
