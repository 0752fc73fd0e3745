package sessions

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/sys/rawconn"
)

// forward is a local listener whose connections reach spec.To through the
// link (direct-tcpip). The listener survives reconnects.
type forward struct {
	l      *Link
	spec   ForwardSpec
	ln     net.Listener
	status api.ForwardStatus

	cancel context.CancelFunc // set while it serves
	done   chan struct{}      // closed when serve returned

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// SetForwards makes the forwards those of specs, at any time: forwards
// with the same spec keep listening untouched, the others close or open.
// A forward that cannot listen (its port taken) shows that as its error
// in Status; the others, and the link, work on.
func (l *Link) SetForwards(specs []ForwardSpec) error {
	l.mu.Lock()
	var keep, stop, added []*forward
	for _, f := range l.forwards {
		if slices.Contains(specs, f.spec) {
			keep = append(keep, f)
		} else {
			stop = append(stop, f)
		}
	}
	for _, sp := range specs {
		if !slices.ContainsFunc(keep, func(f *forward) bool { return f.spec == sp }) {
			added = append(added, &forward{l: l, spec: sp, conns: map[net.Conn]struct{}{}, done: make(chan struct{}),
				status: api.ForwardStatus{Listen: sp.Listen, To: sp.To}})
		}
	}
	running := l.runCtx != nil
	l.mu.Unlock()
	for _, f := range stop {
		f.stop()
	}
	// A kept forward that could not listen tries again (perch reload).
	for _, f := range keep {
		if running && f.ln == nil && f.listen() == nil {
			l.mu.Lock()
			f.status.LastError = ""
			l.startForwardLocked(f)
			l.mu.Unlock()
		}
	}
	for _, f := range added {
		if running && f.listen() == nil {
			l.mu.Lock()
			l.startForwardLocked(f)
			l.mu.Unlock()
		}
		keep = append(keep, f)
	}
	slices.SortStableFunc(keep, func(a, b *forward) int {
		return slices.Index(specs, a.spec) - slices.Index(specs, b.spec)
	})
	l.mu.Lock()
	l.forwards = keep
	l.notifyLocked()
	l.mu.Unlock()
	return nil
}

func (f *forward) listen() error {
	ln, err := net.Listen("tcp", f.spec.Listen)
	if err != nil {
		err = fmt.Errorf("cannot listen: %w", err)
		f.setErr(err)
		return err
	}
	f.l.mu.Lock()
	f.ln = ln
	f.status.Listen = ln.Addr().String()
	f.l.mu.Unlock()
	return nil
}

// stop closes the listener and every connection, and waits.
func (f *forward) stop() {
	f.l.mu.Lock()
	cancel := f.cancel
	f.l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-f.done
		return
	}
	if f.ln != nil {
		f.ln.Close()
	}
}

func (l *Link) startForwardLocked(f *forward) {
	if f.ln == nil {
		return // it could not listen
	}
	ctx, cancel := context.WithCancel(l.runCtx)
	f.cancel = cancel
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(f.done)
		f.serve(ctx)
	}()
}

// listen opens every forward's listener; one that cannot listen says so in
// its status.
func (l *Link) listen() {
	l.mu.Lock()
	fs := slices.Clone(l.forwards)
	l.mu.Unlock()
	for _, f := range fs {
		_ = f.listen()
	}
}

func (l *Link) closeForwards() {
	l.mu.Lock()
	fs := slices.Clone(l.forwards)
	l.mu.Unlock()
	for _, f := range fs {
		f.stop()
	}
}

// ForwardAddrs returns the local addresses the forwards listen on (after
// Run has started them; ":0" ports are resolved).
func (l *Link) ForwardAddrs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var a []string
	for _, f := range l.forwards {
		a = append(a, f.status.Listen)
	}
	return a
}

// serve accepts until ctx ends; every connection it started is closed
// before it returns.
func (f *forward) serve(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { f.ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer func() {
		f.mu.Lock()
		for c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
	}()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		c = rawconn.Wrap(c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.handle(ctx, c)
		}()
	}
}

func (f *forward) setErr(err error) {
	f.l.mu.Lock()
	f.status.LastError = err.Error()
	f.l.notifyLocked()
	f.l.mu.Unlock()
	f.l.log.Warn("forward failed", "listen", f.spec.Listen, "to", f.spec.To, "err", err)
}

// track adds c to the connections serve closes when it ends, or removes it.
func (f *forward) track(c net.Conn, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if on {
		f.conns[c] = struct{}{}
	} else {
		delete(f.conns, c)
	}
}

// count counts a forwarded connection in the status as it opens (on) and
// closes: once, though perch holds two sockets for it.
func (f *forward) count(on bool) {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if on {
		f.status.Active++
		f.status.Total++
	} else {
		f.status.Active--
	}
	f.l.notifyLocked()
}

func (f *forward) handle(ctx context.Context, c net.Conn) {
	f.count(true)
	defer f.count(false)
	f.track(c, true)
	defer f.track(c, false)
	defer c.Close()
	// While the link is down, wait a little for it rather than refuse.
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	conn := f.l.waitConn(wctx, nil)
	cancel()
	if conn == nil {
		f.setErr(fmt.Errorf("the link to the server is down"))
		return
	}
	rc, err := conn.client.DialContext(ctx, "tcp", f.spec.To)
	if err != nil {
		f.setErr(fmt.Errorf("reach %s through the server: %w", f.spec.To, err))
		return
	}
	f.track(rc, true)
	defer f.track(rc, false)
	defer rc.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	go pipe(rc, c)
	go pipe(c, rc)
	select {
	case <-done:
		<-done
	case <-conn.dead:
		c.Close()
		rc.Close()
		<-done
		<-done
	}
}
