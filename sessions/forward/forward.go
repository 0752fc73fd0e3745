// Package forward serves local TCP ports whose connections reach a
// host:port through the SSH link (direct-tcpip), as `ssh -L` does; the
// listeners stay open across the link's reconnects.
package forward

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/perchdesk/perch/api"
)

// Spec is a local port reaching To through the link.
type Spec struct {
	Listen string // local host:port
	To     string // host:port as seen from the server
}

// Link is the way through the link for one forwarded connection: it waits
// (until ctx ends) for the link to be up, and returns its dialler and a
// channel closed when that connection dies; ok is false when it stayed
// down.
type Link func(ctx context.Context) (dial func(ctx context.Context, network, addr string) (net.Conn, error), dead <-chan struct{}, ok bool)

// linkWait is how long a new connection waits for a link that is down,
// rather than be refused at once.
const linkWait = 15 * time.Second

// Set is a link's forwards. Its methods may be called from any goroutine.
type Set struct {
	link    Link
	changed func() // called after every change of the status
	log     *slog.Logger

	mu     sync.Mutex
	fwds   []*fwd
	runCtx context.Context // set between Start and Stop
	wg     sync.WaitGroup  // the serve goroutines
}

// NewSet makes an empty set; nothing listens until Start.
func NewSet(link Link, changed func(), log *slog.Logger) *Set {
	return &Set{link: link, changed: changed, log: log}
}

// fwd is a local listener whose connections reach spec.To through the
// link.
type fwd struct {
	set    *Set
	spec   Spec
	ln     net.Listener
	status api.ForwardStatus // under set.mu

	cancel context.CancelFunc // set while it serves
	done   chan struct{}      // closed when serve returned

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// Update makes the forwards those of specs, at any time: forwards with the
// same spec keep listening untouched, the others close or open. A forward
// that cannot listen (its port taken) shows that as its error in Status;
// the others, and the link, work on.
func (s *Set) Update(specs []Spec) {
	s.mu.Lock()
	var keep, stop, added []*fwd
	for _, f := range s.fwds {
		if slices.Contains(specs, f.spec) {
			keep = append(keep, f)
		} else {
			stop = append(stop, f)
		}
	}
	for _, sp := range specs {
		if !slices.ContainsFunc(keep, func(f *fwd) bool { return f.spec == sp }) {
			added = append(added, &fwd{set: s, spec: sp, conns: map[net.Conn]struct{}{}, done: make(chan struct{}),
				status: api.ForwardStatus{Listen: sp.Listen, To: sp.To}})
		}
	}
	running := s.runCtx != nil
	s.mu.Unlock()
	for _, f := range stop {
		f.stop()
	}
	// A kept forward that could not listen tries again (perch reload).
	for _, f := range keep {
		if running && f.ln == nil && f.listen() == nil {
			s.mu.Lock()
			f.status.LastError = ""
			s.startLocked(f)
			s.mu.Unlock()
		}
	}
	for _, f := range added {
		if running && f.listen() == nil {
			s.mu.Lock()
			s.startLocked(f)
			s.mu.Unlock()
		}
		keep = append(keep, f)
	}
	slices.SortStableFunc(keep, func(a, b *fwd) int {
		return slices.Index(specs, a.spec) - slices.Index(specs, b.spec)
	})
	s.mu.Lock()
	s.fwds = keep
	s.mu.Unlock()
	s.changed()
}

// Start opens every forward's listener (one that cannot listen says so in
// its status) and serves them until ctx ends or Stop.
func (s *Set) Start(ctx context.Context) {
	s.mu.Lock()
	fs := slices.Clone(s.fwds)
	s.mu.Unlock()
	for _, f := range fs {
		_ = f.listen()
	}
	s.mu.Lock()
	s.runCtx = ctx
	for _, f := range s.fwds {
		s.startLocked(f)
	}
	s.mu.Unlock()
}

// Stop closes every listener and connection and waits for them.
func (s *Set) Stop() {
	s.mu.Lock()
	fs := slices.Clone(s.fwds)
	s.mu.Unlock()
	for _, f := range fs {
		f.stop()
	}
	s.wg.Wait()
	s.mu.Lock()
	s.runCtx = nil
	s.mu.Unlock()
}

// Status returns a copy of every forward's status, in the order of specs.
func (s *Set) Status() []api.ForwardStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := []api.ForwardStatus{}
	for _, f := range s.fwds {
		st = append(st, f.status)
	}
	return st
}

// Addrs returns the local addresses the forwards listen on (after Start;
// ":0" ports are resolved).
func (s *Set) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var a []string
	for _, f := range s.fwds {
		a = append(a, f.status.Listen)
	}
	return a
}

func (s *Set) startLocked(f *fwd) {
	if f.ln == nil {
		return // it could not listen
	}
	ctx, cancel := context.WithCancel(s.runCtx)
	f.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(f.done)
		f.serve(ctx)
	}()
}

func (f *fwd) listen() error {
	ln, err := net.Listen("tcp", f.spec.Listen)
	if err != nil {
		err = fmt.Errorf("cannot listen: %w", err)
		f.setErr(err)
		return err
	}
	f.set.mu.Lock()
	f.ln = ln
	f.status.Listen = ln.Addr().String()
	f.set.mu.Unlock()
	return nil
}

// stop closes the listener and every connection, and waits.
func (f *fwd) stop() {
	f.set.mu.Lock()
	cancel := f.cancel
	f.set.mu.Unlock()
	if cancel != nil {
		cancel()
		<-f.done
		return
	}
	if f.ln != nil {
		f.ln.Close()
	}
}
