// Command bench runs perch's comparisons against the tools it replaces, on
// one test bed, alternating perch and the anchor in the same run, and
// rewrites docs/benchmarks.md with the figures and the command.
//
//	go run ./scripts/bench [-n 40] [-out docs/benchmarks.md]
//
// One file per comparison: layout.go (xrandr), wayland.go (wlr-randr,
// kanshi, gdbus on sway and nested mutter), cli.go (the CLI before
// cobra), x11.go (ssh -Y), cold.go (the original script), recovery.go
// (autossh), idle.go, tray.go, handoff.go (the manual handoff),
// xlocal.go (X11-forwarded xpra) and room.go (a room of seats after an
// sshd restart, against autossh); bed.go is the remote bed they share.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// options are the command line's flags.
type options struct {
	n, remoteRuns, x11Runs int
	only, out, perch       string
	appendTo               bool // -append: add the sections to -out, before its notes
	roomSeats, roomOneRuns int
	roomBefore             string
	idle, xlocalFor        time.Duration
	xlocalExtra            []string
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 40, "runs of each side per layout comparison")
	flag.IntVar(&o.remoteRuns, "remote-runs", 7, "runs of each side per cold start and recovery comparison")
	flag.IntVar(&o.x11Runs, "x11-runs", 8, "runs of each side per X11 tunnel test")
	flag.StringVar(&o.only, "only", "", "run only these comparisons, comma-separated: "+strings.Join(partNames(), ", "))
	flag.BoolVar(&o.appendTo, "append", false, "add the sections to -out (before its notes) instead of rewriting it: the variant runs of make bench")
	xlocalArgs := flag.String("xlocal-args", "--bandwidth-limit=4M", "xpra options, comma-separated, of the xlocal comparison's tuned rows")
	flag.DurationVar(&o.xlocalFor, "xlocal-for", time.Minute, "how long each xlocal measurement (open link, 5 Mbit/s link) lasts")
	flag.DurationVar(&o.idle, "idle", time.Minute, "how long the idle measurement lasts")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "report to rewrite")
	flag.StringVar(&o.perch, "perch", "bin/perch", "perch binary")
	flag.IntVar(&o.roomSeats, "room-seats", 50, "seats of the room comparison")
	flag.IntVar(&o.roomOneRuns, "room-one-runs", 3, "sshd restarts under one seat alone, per side, for the room comparison's goal")
	flag.StringVar(&o.roomBefore, "room-before", "", "an older perch binary the room comparison also runs, as a before row")
	flag.BoolVar(&variant.xpra6, "xpra6", false, "cold, recovery, xlocal: xpra 6.5.3 ($PERCH_XPRA6) on both ends")
	flag.StringVar(&variant.client, "client", "remote", "cold, recovery: perch's client mode, remote or local")
	flag.Parse()
	if err := setVariant(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if *xlocalArgs != "" {
		o.xlocalExtra = strings.Split(*xlocalArgs, ",")
	}
	for _, name := range onlyList(o.only) {
		if !slices.Contains(partNames(), name) {
			fmt.Fprintf(os.Stderr, "bench: -only %q: no such comparison (%s)\n", name, strings.Join(partNames(), ", "))
			os.Exit(2)
		}
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type stats struct {
	samples []time.Duration
}

func (s *stats) add(d time.Duration) { s.samples = append(s.samples, d) }

func (s *stats) median() time.Duration {
	c := slices.Clone(s.samples)
	slices.Sort(c)
	if len(c) == 0 {
		return 0
	}
	return c[len(c)/2]
}

func (s *stats) min() time.Duration { return slices.Min(s.samples) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// part is one comparison; the remote ones share one bed of 4 displays.
type part struct {
	name   string // for -only
	label  string // in errors
	remote bool
	run    func(w *strings.Builder, o options, b *remoteBed) error
}

// parts lists the comparisons in the report's order.
var parts = []part{
	{"layout", "layout", false, func(w *strings.Builder, o options, _ *remoteBed) error { return benchLayout(w, o.n, o.perch) }},
	{"wlroots", "wlroots", false, func(w *strings.Builder, o options, _ *remoteBed) error {
		return benchWlroots(w, o.n, o.remoteRuns, o.perch)
	}},
	{"gnome", "gnome", false, func(w *strings.Builder, o options, _ *remoteBed) error { return benchGnome(w, o.n, o.perch) }},
	{"cli", "cli", false, func(w *strings.Builder, o options, _ *remoteBed) error { return benchCLI(w, o.n, o.perch) }},
	{"x11", "x11", true, func(w *strings.Builder, o options, b *remoteBed) error { return benchX11(w, b, o.perch, o.x11Runs) }},
	{"cold", "cold start", true, func(w *strings.Builder, o options, b *remoteBed) error {
		return benchColdStart(w, b, o.perch, o.remoteRuns)
	}},
	{"recovery", "recovery", true, func(w *strings.Builder, o options, b *remoteBed) error {
		return benchRecovery(w, b, o.perch, o.remoteRuns)
	}},
	{"idle", "idle", true, func(w *strings.Builder, o options, b *remoteBed) error { return benchIdle(w, b, o.perch, o.idle) }},
	{"tray", "tray", true, func(w *strings.Builder, _ options, b *remoteBed) error { return benchTray(w, b) }},
	{"handoff", "handoff", false, func(w *strings.Builder, o options, _ *remoteBed) error {
		return benchHandoff(w, o.perch, o.remoteRuns)
	}},
	{"xlocal", "xlocal", false, func(w *strings.Builder, o options, _ *remoteBed) error {
		return benchLocal(w, o.perch, o.xlocalFor, o.xlocalExtra)
	}},
	{"room", "room", false, func(w *strings.Builder, o options, _ *remoteBed) error {
		return benchRoom(w, o.perch, o.roomBefore, o.roomSeats, o.roomOneRuns)
	}},
}

func partNames() []string {
	var names []string
	for _, p := range parts {
		names = append(names, p.name)
	}
	return names
}

func run(o options) error {
	handleInterrupts()
	perchAbs, err := filepath.Abs(o.perch)
	if err != nil {
		return err
	}
	if _, err := os.Stat(perchAbs); err != nil {
		return fmt.Errorf("%s is missing: run `make build` first", o.perch)
	}
	var report strings.Builder
	fmt.Fprintf(&report, "# Benchmarks\n\nWritten by `make bench` (`go run ./scripts/bench -n %d -remote-runs %d -x11-runs %d`) on %s, %s/%s, %d CPUs.\n"+
		"Every comparison alternates perch and the anchor in one run on the same test bed; ratios are\n"+
		"anchor ÷ perch of the medians, so above 1.00 means perch is faster.\n\n",
		o.n, o.remoteRuns, o.x11Runs, time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	o.perch = perchAbs
	var bed *remoteBed
	for _, p := range parts {
		if o.only != "" && !slices.Contains(onlyList(o.only), p.name) {
			continue
		}
		if p.remote && bed == nil {
			if bed, err = startRemote(4); err != nil {
				return fmt.Errorf("start sshd and xpra: %w", err)
			}
			defer bed.close()
		}
		if err := p.run(&report, o, bed); err != nil {
			return fmt.Errorf("%s: %w", p.label, err)
		}
	}
	if o.appendTo {
		return appendSections(o.out, report.String())
	}
	report.WriteString(notes)
	if err := os.WriteFile(o.out, []byte(report.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(report.String())
	return nil
}

// onlyList is -only's comma-separated comparisons.
func onlyList(only string) []string {
	if only == "" {
		return nil
	}
	return strings.Split(only, ",")
}

// appendSections puts a variant run's sections (its report without the
// title) into the report at path, before its notes, with the command that
// measured them.
func appendSections(path, report string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("-append: %w", err)
	}
	_, body, _ := strings.Cut(report, "\n\n")              // the title goes
	_, body, _ = strings.Cut(body, "perch is faster.\n\n") // and the line on ratios
	cmd := "`go run ./scripts/bench " + strings.Join(os.Args[1:], " ") + "`"
	body = strings.Replace(body, "\n\n", "\n\nMeasured by "+cmd+" in the same `make bench`.\n\n", 1)
	text := string(old)
	i := strings.Index(text, "## Notes\n")
	if i < 0 {
		i = len(text)
	}
	text = text[:i] + body + text[i:]
	fmt.Print(body)
	return os.WriteFile(path, []byte(text), 0o644)
}

// notes end the report: what the figures mean on this machine.
const notes = "## Notes\n\n" +
	"- Everything runs on one 2-core machine: the X server, sshd, the xpra servers and clients, and the\n" +
	"  tool measured. Ratios near 1.00 move by ±10–20 % between runs; look at several runs before\n" +
	"  reading a difference of that size.\n" +
	"- X11 tunnel: each round trip (`-getimage10`) wakes perch twice, and a wake-up on this virtual\n" +
	"  machine costs more than the work done. Go's net package wraps each read and write in the\n" +
	"  scheduler's syscall state; a write that wakes the X server or sshd outlasts a tick of the\n" +
	"  runtime's monitor (20 µs), which then hands the processor to another thread: per round trip\n" +
	"  two threads took turns and perch was at 0.75–0.80 of `ssh -Y`. perch now makes the reads and\n" +
	"  writes on its sockets as raw system calls (internal/sys/rawconn; the sockets are non-blocking, the\n" +
	"  netpoller still does the waiting), which the monitor does not see: one thread does the work,\n" +
	"  and -getimage10 went to about parity with `ssh -Y` (per-run ratios on both sides of 1.00,\n" +
	"  medians 0.98–1.04 over full runs) at less CPU per operation.\n" +
	"  What is left is x/crypto/ssh's receive path (transport reader → mux → channel reader goroutines)\n" +
	"  against OpenSSH's single poll loop. perch runs with GOMAXPROCS=1 unless the environment sets it:\n" +
	"  with 2 it is about a fifth slower here (a second processor means futex wake-ups of a second thread).\n" +
	"- Cold start: perch starts its sessions one at a time, 80 ms apart, because sshd runs xauth for each\n" +
	"  X11 session and concurrent xauth runs on one ~/.Xauthority collide on its lock and sleep 2 s.\n" +
	"  Opening the gate as soon as the remote shell has started (xauth done) gained ~20 ms of ~1.1 s:\n" +
	"  both ways are bound by four xpra clients starting on two cores (0.98–1.30 across runs).\n" +
	"- Recovery after a kill: both reconnect as soon as the connection is reset (0.99–1.21 across\n" +
	"  runs). After a freeze both detect the dead link at the same 3 s limit; perch is back sooner\n" +
	"  because one new connection carries every session.\n" +
	"- Room: one seat alone is a single draw from its retry schedule (where in its wait it was when sshd came\n" +
	"  back), hence the median of 3. Before, a seat's backoff grew through the 10 s outage (0.5, 1, 2, 4, 8 s):\n" +
	"  the last of 50 came back up to 8 s after sshd, autossh's up to ~20–50 s (its own schedule; 13 of its 63\n" +
	"  attempts dropped past MaxStartups). Now a refused connect waits 0.25–2 s and a drop 0.1–2 s at random,\n" +
	"  so the 50 arrive spread over ~2 s (25–30 attempts/s; none dropped). After the\n" +
	"  20 s cut every link's connect, hanging in SYN retransmits, lands at once (65 attempts/s, 16 drops past\n" +
	"  MaxStartups): the drops retry within 2 s, the last seat is back 2.3 s after the network. After kill -9\n" +
	"  of every session the restarts are spread over the first second (1.1 s for the last; 0.6 s before,\n" +
	"  when all 50 restarted at 0.4–0.6 s); autossh does not restart a remote command that was killed.\n" +
	"  Server cost: RSS sums count shared pages in each process; perch's extra process per seat is its claim\n" +
	"  watcher (`sh`, which sshd starts through the login shell: two `sh`).\n"
