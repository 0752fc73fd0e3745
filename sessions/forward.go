package sessions

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// forward is a local listener whose connections reach spec.To through the
// link (direct-tcpip). The listener survives reconnects.
type forward struct {
	l      *Link
	spec   ForwardSpec
	ln     net.Listener
	status ForwardStatus

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// SetForwards sets the forwards; it must be called before Run.
func (l *Link) SetForwards(specs []ForwardSpec) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forwards = nil
	for _, sp := range specs {
		l.forwards = append(l.forwards, &forward{l: l, spec: sp, conns: map[net.Conn]struct{}{},
			status: ForwardStatus{Listen: sp.Listen, To: sp.To}})
	}
}

// listen opens every forward's listener; on failure none stays open.
func (l *Link) listen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, f := range l.forwards {
		ln, err := net.Listen("tcp", f.spec.Listen)
		if err != nil {
			for _, g := range l.forwards[:i] {
				g.ln.Close()
			}
			return fmt.Errorf("forward %s → %s: %w", f.spec.Listen, f.spec.To, err)
		}
		f.ln = ln
		f.status.Listen = ln.Addr().String()
	}
	return nil
}

func (l *Link) closeForwards() {
	l.mu.Lock()
	fs := l.forwards
	l.mu.Unlock()
	for _, f := range fs {
		if f.ln != nil {
			f.ln.Close()
		}
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

func (f *forward) track(c net.Conn, on bool) {
	f.mu.Lock()
	if on {
		f.conns[c] = struct{}{}
	} else {
		delete(f.conns, c)
	}
	f.mu.Unlock()
	f.l.mu.Lock()
	if on {
		f.status.Active++
		f.status.Total++
	} else {
		f.status.Active--
	}
	f.l.mu.Unlock()
}

func (f *forward) handle(ctx context.Context, c net.Conn) {
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
