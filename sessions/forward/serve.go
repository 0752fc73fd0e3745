package forward

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/perchdesk/perch/internal/sys/rawconn"
)

// serve accepts until ctx ends; every connection it started is closed
// before it returns.
func (f *fwd) serve(ctx context.Context) {
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

func (f *fwd) setErr(err error) {
	f.set.mu.Lock()
	f.status.LastError = err.Error()
	f.set.mu.Unlock()
	f.set.changed()
	f.set.log.Warn("forward failed", "listen", f.spec.Listen, "to", f.spec.To, "err", err)
}

// track adds c to the connections serve closes when it ends, or removes it.
func (f *fwd) track(c net.Conn, on bool) {
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
func (f *fwd) count(on bool) {
	f.set.mu.Lock()
	if on {
		f.status.Active++
		f.status.Total++
	} else {
		f.status.Active--
	}
	f.set.mu.Unlock()
	f.set.changed()
}

func (f *fwd) handle(ctx context.Context, c net.Conn) {
	f.count(true)
	defer f.count(false)
	f.track(c, true)
	defer f.track(c, false)
	defer c.Close()
	// While the link is down, wait a little for it rather than refuse.
	wctx, cancel := context.WithTimeout(ctx, linkWait)
	dial, dead, ok := f.set.link(wctx)
	cancel()
	if !ok {
		f.setErr(fmt.Errorf("the link to the server is down"))
		return
	}
	rc, err := dial(ctx, "tcp", f.spec.To)
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
	case <-dead:
		c.Close()
		rc.Close()
		<-done
		<-done
	}
}
