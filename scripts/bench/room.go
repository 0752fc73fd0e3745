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

// roomFault is what one fault did to the room: when each seat was back, and
// what sshd saw.
type roomFault struct {
	back    []time.Duration
	counts  room.Counts
	notBack string // the seats not back within the timeout
}

// missing counts the seats not back (a zero time).
func (f roomFault) missing() int { return len(f.back) - len(f.backOnly()) }

func (f roomFault) backOnly() []time.Duration {
	var c []time.Duration
	for _, d := range f.back {
		if d > 0 {
			c = append(c, d)
		}
	}
	return c
}

// last is when the last seat was back; 0 when one is missing.
func (f roomFault) last() time.Duration {
	if f.missing() > 0 {
		return 0
	}
	return slices.Max(f.back)
}

// median is the median of the seats that came back.
func (f roomFault) median() time.Duration {
	c := f.backOnly()
	if len(c) == 0 {
		return 0
	}
	slices.Sort(c)
	return c[len(c)/2]
}

// medianCell is median for the table, "—" when no seat came back.
func (f roomFault) medianCell() string {
	if len(f.backOnly()) == 0 {
		return "—"
	}
	return secs(f.median())
}

// lastCell is last for the table, or how many seats never came back.
func (f roomFault) lastCell() string {
	if n := f.missing(); n > 0 {
		return fmt.Sprintf("%d of %d not back", n, len(f.back))
	}
	return secs(f.last())
}

// roomFaults are the faults, in the order a room meets them.
var roomFaults = []string{"sshd stopped 10 s", "kill -9 of every session", "network cut 20 s"}

// roomRun is one room's figures.
type roomRun struct {
	seats   int
	byFault map[string]roomFault
	cost    room.Cost       // before the faults, every seat attached
	one     time.Duration   // one seat alone after an sshd restart: the median
	ones    []time.Duration // every run of it
}

func (r roomRun) restart() roomFault { return r.byFault[roomFaults[0]] }

// roomOnce starts a room, waits for all its seats, measures the server's
// cost, restarts sshd after a 10 s outage and waits for every seat, then
// kills every session, then cuts the network for 20 s.
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
	run := roomRun{seats: o.Seats, byFault: map[string]roomFault{}}
	if run.cost, err = r.ServerCost(); err != nil {
		return run, err
	}
	const timeout = 3 * time.Minute
	do := []func() ([]time.Duration, room.Counts, error){
		func() ([]time.Duration, room.Counts, error) { return r.Restart(ctx, 10*time.Second, timeout) },
		func() ([]time.Duration, room.Counts, error) { return r.KillAll(ctx, timeout) },
		func() ([]time.Duration, room.Counts, error) { return r.CutNetwork(ctx, 20*time.Second, timeout) },
	}
	for i, f := range do {
		var ft roomFault
		ft.back, ft.counts, err = f()
		if ft.back == nil {
			return run, fmt.Errorf("%s: %w", roomFaults[i], err)
		}
		if err != nil {
			ft.notBack = err.Error()
		}
		// A client that gave up (autossh, when its remote command
		// was killed) is started again for the next fault; the wait
		// for it is not measured.
		if n, err := r.Revive(); err != nil {
			return run, err
		} else if n > 0 {
			ft.notBack += fmt.Sprintf(". %d clients had exited and were started again for the next fault.", n)
			if _, err := r.WaitBack(ctx, time.Now(), nil, timeout); err != nil {
				return run, fmt.Errorf("after %s, the clients started again: %w", roomFaults[i], err)
			}
		}
		run.byFault[roomFaults[i]] = ft
		time.Sleep(5 * time.Second) // settle
	}
	return run, nil
}

// oneSeat restarts sshd under one seat alone runs times and returns the
// median time it was back, and every time.
func oneSeat(ctx context.Context, o room.Options, runs int) (time.Duration, []time.Duration, error) {
	o.Seats = 1
	r, err := room.Start(ctx, o)
	if err != nil {
		return 0, nil, err
	}
	defer r.Close()
	if _, err := r.WaitBack(ctx, time.Now(), nil, time.Minute); err != nil {
		return 0, nil, fmt.Errorf("one seat coming up: %w", err)
	}
	var all []time.Duration
	for range runs {
		time.Sleep(5 * time.Second) // settle
		back, _, err := r.Restart(ctx, 10*time.Second, 3*time.Minute)
		if err != nil {
			return 0, nil, fmt.Errorf("one seat after an sshd restart: %w", err)
		}
		all = append(all, back[0])
	}
	c := slices.Clone(all)
	slices.Sort(c)
	return c[len(c)/2], all, nil
}

// roomSide is one tool's runs: one seat alone (sshd restarts), then the
// whole room (every fault).
func roomSide(ctx context.Context, o room.Options, oneRuns int) (roomRun, error) {
	one, ones, err := oneSeat(ctx, o, oneRuns)
	if err != nil {
		return roomRun{}, err
	}
	all, err := roomOnce(ctx, o)
	if err != nil {
		return roomRun{}, err
	}
	all.one, all.ones = one, ones
	return all, nil
}

// roomSideSpec is one side of the comparison.
type roomSideSpec struct {
	name string
	o    room.Options
}

// benchRoom compares a room of seats after faults of the server: perch up
// against autossh -M 0 + ssh -Y, and perch before this work (before, when
// given).
func benchRoom(w *strings.Builder, perch, before string, seats, oneRuns int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	sides := []roomSideSpec{
		{"perch up", room.Options{Seats: seats, Perch: perch}},
		{"autossh -M 0 + ssh -Y", room.Options{Seats: seats, Anchor: true}},
	}
	if before != "" {
		sides = append(sides, roomSideSpec{"perch up before", room.Options{Seats: seats, Perch: before}})
	}
	runs := map[string]roomRun{}
	for _, s := range sides {
		r, err := roomSide(ctx, s.o, oneRuns)
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
		"back within 2 × one seat alone + 5 s.", seats, seats)
	if before != "" {
		fmt.Fprintf(w, " \"perch up before\" is perch as it was before the room work (%s).", before)
	}
	fmt.Fprintf(w, "\n\n| side | one seat alone (median; each restart) | median of %d | last of %d | goal 2×one+5 s | MaxStartups drops | attempts sshd saw | peak attempts/s |\n|---|---|---|---|---|---|---|---|\n", seats, seats)
	for _, s := range sides {
		r := runs[s.name]
		f, goal, met := r.restart(), 2*r.one+5*time.Second, "met"
		if f.missing() > 0 || f.last() > goal {
			met = "missed"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s (%s) | %d | %d | %d |\n", s.name, oneCell(r), f.medianCell(), f.lastCell(), secs(goal), met,
			f.counts.Drops, f.counts.Attempts(), f.counts.PeakPerSec)
	}
	p, a := runs[sides[0].name].restart(), runs[sides[1].name].restart()
	if a.missing() == 0 && p.missing() == 0 {
		fmt.Fprintf(w, "\nLast seat back: autossh ÷ perch = %.2f.\n", a.last().Seconds()/p.last().Seconds())
	}
	w.WriteString("\n")
	writeRoomFaults(w, sides, runs, seats)
	return nil
}

// writeRoomFaults writes every fault's figures and the server's cost.
func writeRoomFaults(w *strings.Builder, sides []roomSideSpec, runs map[string]roomRun, seats int) {
	fmt.Fprintf(w, "Every fault, %d seats (times from the fault's end: sshd listening, the kill, the network back):\n\n", seats)
	fmt.Fprintf(w, "| fault | side | median | last | MaxStartups drops | attempts sshd saw | peak attempts/s |\n|---|---|---|---|---|---|---|\n")
	var notes []string
	for _, name := range roomFaults {
		for _, s := range sides {
			f := runs[s.name].byFault[name]
			fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %d | %d |\n", name, s.name, f.medianCell(), f.lastCell(), f.counts.Drops, f.counts.Attempts(), f.counts.PeakPerSec)
			if f.notBack != "" {
				notes = append(notes, fmt.Sprintf("%s, %s: %s", name, s.name, f.notBack))
			}
		}
	}
	for _, n := range notes {
		fmt.Fprintf(w, "\n%s\n", n)
	}
	fmt.Fprintf(w, "\nServer-side cost per seat, every seat attached (processes in the namespace but the listening sshd, ÷ %d):\n\n", seats)
	fmt.Fprintf(w, "| side | processes per seat | RSS per seat | by program (processes, RSS per seat) |\n|---|---|---|---|\n")
	for _, s := range sides[:2] {
		c := runs[s.name].cost
		fmt.Fprintf(w, "| %s | %.1f | %.1f MB | %s |\n", s.name, float64(c.Processes)/float64(seats), float64(c.RSSKB)/1024/float64(seats), byName(c, seats))
	}
	w.WriteString("\n")
}

// oneCell is one seat's median time back and every run's.
func oneCell(r roomRun) string {
	var each []string
	for _, d := range r.ones {
		each = append(each, fmt.Sprintf("%.1f", d.Seconds()))
	}
	return fmt.Sprintf("%s (%s)", secs(r.one), strings.Join(each, ", "))
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
