// Package claims is the locations' protocol on the server: which perch
// agent (at which location) holds which xpra display, with leases, kept by
// one small shell watcher per connection; Decide, the pure rule that
// places a display session from a snapshot of the claims; and Session, a
// display session's side of them (claim before its client starts, wait
// while the display is elsewhere).
package claims

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Config is this agent's part in the claims. Claims say which location holds which xpra display, so that several
// agents (a desk, a sofa) share the displays without fighting: xpra gives
// a display to its newest client, and the client it displaced only says
// "Connection lost". Each display has one small file on the server,
// claims/N under ${XDG_STATE_HOME:-~/.local/state}/perch, naming the agent
// and location that last took it; each agent renews agents/ID at every
// keepalive. A claim counts only while its agent's lease runs: the agent
// that was killed or cut off frees its displays once its lease is over.
//
// One long-running `sh` per connection (the claim watcher) does the file
// work: it reads one command a line from its stdin and answers each with
// a snapshot of every claim and lease, read with the server's own clock.
type Config struct {
	Location string // this place's name: letters, digits, '.', '_', '-'
	AgentID  string // this agent; "" makes one up
	// TakeAlways: a display session that starts takes its display from
	// wherever it is (as xpra does); otherwise only a display that no live
	// location holds is attached, and the others are "elsewhere".
	TakeAlways bool
}

// NewAgentID makes a random agent id.
func NewAgentID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Claim is one display's claim file.
type Claim struct {
	Agent    string
	At       int64 // server time of the take, in seconds
	Location string
}

// Lease is one agent's lease file.
type Lease struct {
	Renewed, Lease int64 // server seconds
	Location       string
}

// Snapshot is what the watcher printed after one command.
type Snapshot struct {
	Seq    int
	Now    int64
	Claims map[int]Claim
	Agents map[string]Lease
	// XClients: for each display a "look" asked about, how many xpra
	// clients its server has (-1: xpra info failed, e.g. not running).
	XClients map[int]int
}

// Holder returns the live claim on display d, if any.
func (s *Snapshot) Holder(d int) (Claim, bool) {
	c, ok := s.Claims[d]
	if !ok {
		return Claim{}, false
	}
	l, ok := s.Agents[c.Agent]
	if !ok || s.Now-l.Renewed > l.Lease {
		return c, false
	}
	return c, true
}

// claimScript is the watcher (commands: tick, take N, look N..., free;
// look asks each display's xpra server with `xpra info`, which is not a
// client that displaces anyone, how many clients it has); @ID@, @LEASE@,
// @PRUNE@ and @LOC@ are replaced (they are hex, digits and a location
// name: nothing to quote). At its start it prunes leases that ran out
// over pruneAfter ago. Files are written to
// a dot-name first and renamed, so readers never see half a claim. Where
// each person sits is theirs: the directories are 0700 and the files 0600
// whatever the umask, and an older, looser directory is closed.
const claimScript = `umask 077
d="${XDG_STATE_HOME:-$HOME/.local/state}/perch"
mkdir -p "$d/claims" "$d/agents" && chmod -R go= "$d" || exit 1
now=$(date +%s)
for f in "$d"/agents/*; do
  [ -f "$f" ] && read -r r l _ <"$f" && case $r$l in *[!0-9]*|'') ;; *) [ $((now - r - l)) -gt @PRUNE@ ] && rm -f "$f";; esac
done
while read -r seq cmd arg; do
  x=
  case $cmd in
  look) for n in $arg; do case $n in *[!0-9]*) ;; *)
    c=$(XPRA_CONNECT_TIMEOUT=0 xpra info ":$n" </dev/null 2>/dev/null | sed -n 's/^clients=//p')
    x="$x
xclients $n ${c:--1}";; esac; done;;
  take) case $arg in *[!0-9]*|'') ;; *)
    printf '%s %s %s\n' @ID@ "$(date +%s)" @LOC@ >"$d/claims/.$arg.@ID@" && mv -f "$d/claims/.$arg.@ID@" "$d/claims/$arg";;
    esac;;
  free) rm -f "$d/agents/@ID@"; printf 'snap %s 0\nend\n' "$seq"; exit 0;;
  esac
  printf '%s @LEASE@ @LOC@\n' "$(date +%s)" >"$d/agents/.@ID@" && mv -f "$d/agents/.@ID@" "$d/agents/@ID@"
  printf 'snap %s %s\n' "$seq" "$(date +%s)"
  for f in "$d"/claims/*; do [ -f "$f" ] && printf 'claim %s %s\n' "${f##*/}" "$(head -n 1 "$f")"; done
  for f in "$d"/agents/*; do [ -f "$f" ] && printf 'agent %s %s\n' "${f##*/}" "$(head -n 1 "$f")"; done
  [ -n "$x" ] && printf '%s\n' "$x"
  echo end
done
`

// Watcher is the claim watcher of one connection.
type Watcher struct {
	id    string
	reqMu sync.Mutex // one command at a time
	seq   int
	stdin io.WriteCloser
	sess  *ssh.Session
	dead  chan struct{} // closed when its output ended

	mu      sync.Mutex
	looks   map[int]int // displays each keepalive looks at, with how many sessions ask
	last    *Snapshot
	updated chan struct{} // closed and replaced at every snapshot
}

// pruneAfter: a watcher starting removes the lease files of agents whose
// lease ran out longer ago than this (killed, or cut off for good: each
// agent has an id of its own, and their files would pile up).
const pruneAfter = 24 * time.Hour

// startTimeout bounds the watcher's first answer, at least.
const startTimeout = 10 * time.Second

// Start starts the watcher on client, with a lease of at least lease,
// and reads the claims once (renewing the lease), waiting for the answer
// up to firstAnswer (10 s at least: the first answer starts a shell on
// the server, and a busy one needs time).
func Start(client *ssh.Client, c Config, lease, firstAnswer time.Duration) (*Watcher, error) {
	w, err := start(client, c, lease)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(firstAnswer, startTimeout))
	defer cancel()
	if _, err := w.Request(ctx, "tick"); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// start starts the watcher on client, with a lease of at least lease.
func start(client *ssh.Client, c Config, lease time.Duration) (*Watcher, error) {
	sess, err := client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("start the claim watcher: %w", err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	// sh, whatever the user's login shell is, which it replaces (exec:
	// one process fewer per seat on the server).
	script := Script(c, lease)
	if err := sess.Start("exec sh -c '" + strings.ReplaceAll(script, "'", `'\''`) + "'"); err != nil {
		sess.Close()
		return nil, fmt.Errorf("start the claim watcher: %w", err)
	}
	w := NewWatcher(c.AgentID, stdin, stdout)
	w.sess = sess
	return w, nil
}

// Script is the watcher's script for c, with a lease of at least lease
// (whole seconds, at least 2).
func Script(c Config, lease time.Duration) string {
	secs := int64((lease + time.Second - 1) / time.Second)
	return strings.NewReplacer("@ID@", c.AgentID, "@LEASE@", strconv.FormatInt(max(secs, 2), 10), "@LOC@", c.Location,
		"@PRUNE@", strconv.Itoa(int(pruneAfter/time.Second))).Replace(claimScript)
}

// NewWatcher reads the answers of a watcher already started (Script)
// from stdout; commands go to stdin.
func NewWatcher(id string, stdin io.WriteCloser, stdout io.Reader) *Watcher {
	w := &Watcher{id: id, stdin: stdin, dead: make(chan struct{}), updated: make(chan struct{})}
	go w.read(stdout)
	return w
}

// read parses snapshots until the watcher's output ends.
func (w *Watcher) read(r io.Reader) {
	defer close(w.dead)
	sc := bufio.NewScanner(r)
	var cur *Snapshot
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "snap":
			seq, _ := strconv.Atoi(f[1])
			now, _ := strconv.ParseInt(f[2], 10, 64)
			cur = &Snapshot{Seq: seq, Now: now, Claims: map[int]Claim{}, Agents: map[string]Lease{}, XClients: map[int]int{}}
		case cur == nil:
		case len(f) == 5 && f[0] == "claim":
			d, err1 := strconv.Atoi(f[1])
			at, err2 := strconv.ParseInt(f[3], 10, 64)
			if err1 == nil && err2 == nil {
				cur.Claims[d] = Claim{Agent: f[2], At: at, Location: f[4]}
			}
		case len(f) == 5 && f[0] == "agent":
			ren, err1 := strconv.ParseInt(f[2], 10, 64)
			ls, err2 := strconv.ParseInt(f[3], 10, 64)
			if err1 == nil && err2 == nil {
				cur.Agents[f[1]] = Lease{Renewed: ren, Lease: ls, Location: f[4]}
			}
		case len(f) == 3 && f[0] == "xclients":
			d, err1 := strconv.Atoi(f[1])
			n, err2 := strconv.Atoi(f[2])
			if err1 == nil && err2 == nil {
				cur.XClients[d] = n
			}
		case len(f) == 1 && f[0] == "end":
			w.mu.Lock()
			w.last = cur
			close(w.updated)
			w.updated = make(chan struct{})
			w.mu.Unlock()
			cur = nil
		}
	}
}

// ErrGone: the watcher ended (the connection is going).
var ErrGone = errors.New("the claim watcher ended")

// Request sends one command ("tick", "take N", "look N...", "free") and
// returns the snapshot that answers it.
func (w *Watcher) Request(ctx context.Context, cmd string) (*Snapshot, error) {
	w.reqMu.Lock()
	defer w.reqMu.Unlock()
	return w.requestLocked(ctx, cmd)
}

func (w *Watcher) requestLocked(ctx context.Context, cmd string) (*Snapshot, error) {
	w.seq++
	seq := w.seq
	if _, err := fmt.Fprintf(w.stdin, "%d %s\n", seq, cmd); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	for {
		w.mu.Lock()
		last, updated := w.last, w.updated
		w.mu.Unlock()
		if last != nil && last.Seq >= seq {
			return last, nil
		}
		select {
		case <-updated:
		case <-w.dead:
			return nil, ErrGone
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Watch returns a channel closed at the next snapshot, and the last one.
func (w *Watcher) Watch() (<-chan struct{}, *Snapshot) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.updated, w.last
}

// Tick renews the lease, unless a command is under way (which renews it);
// it looks at the displays LookAt asked for.
func (w *Watcher) Tick(timeout time.Duration) {
	if !w.reqMu.TryLock() {
		return
	}
	defer w.reqMu.Unlock()
	w.mu.Lock()
	cmd := "tick"
	if len(w.looks) > 0 {
		// xpra info takes a while: wait for its answer (later ticks are
		// skipped meanwhile) rather than queue looks behind it.
		cmd, timeout = "look", max(timeout, lookTimeout)
		for _, d := range slices.Sorted(maps.Keys(w.looks)) {
			cmd += " " + strconv.Itoa(d)
		}
	}
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, _ = w.requestLocked(ctx, cmd)
}

// lookTimeout bounds the wait for a look's answer.
const lookTimeout = 10 * time.Second

// LookAt adds display d to (on) or removes it from (off) what each Tick
// looks at.
func (w *Watcher) LookAt(d int, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.looks == nil {
		w.looks = map[int]int{}
	}
	if on {
		w.looks[d]++
	} else if w.looks[d]--; w.looks[d] <= 0 {
		delete(w.looks, d)
	}
}

// Free gives the lease up (a clean stop): the claims of this agent no
// longer count, and other locations may take its displays.
func (w *Watcher) Free(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, _ = w.Request(ctx, "free")
	if w.sess != nil {
		w.sess.Close()
	}
}

// ID is this agent's id, as its claims name it.
func (w *Watcher) ID() string { return w.id }

// Close ends the watcher's session.
func (w *Watcher) Close() {
	if w.sess != nil {
		w.sess.Close()
	}
}

// DisplayOf returns N for a display session named ":N".
func DisplayOf(name string) (int, bool) {
	if !strings.HasPrefix(name, ":") {
		return 0, false
	}
	n, err := strconv.Atoi(name[1:])
	return n, err == nil && n >= 0
}
