// Package x11fwd forwards X11 over SSH as OpenSSH's `ssh -Y` does: it
// finds the local display and its real cookie (Local), serves the "x11"
// channels of one SSH connection (Forwarder), gives each session a fake
// cookie of its own in its x11-req, and checks that cookie in the client's
// connection setup request before swapping in the real one and touching
// the local display (setup.go).
package x11fwd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/internal/sys/rawconn"
	"github.com/perchdesk/perch/internal/sys/xauth"
)

const mitCookie = "MIT-MAGIC-COOKIE-1"

// Local is the local X display forwarded connections reach, with its
// real cookie.
type Local struct {
	Display string // as $DISPLAY
	Proto   string // auth protocol name, MIT-MAGIC-COOKIE-1
	Cookie  []byte // the real cookie; random when the display has none (OpenSSH's behaviour)
	parsed  xauth.Display
}

// FindLocal finds the local display and its real cookie: DISPLAY as given
// ("" means $DISPLAY), the cookie from $XAUTHORITY or ~/.Xauthority, read
// natively. With no cookie for the display, 16 random bytes stand in for
// it, as OpenSSH does: that works only with a server that checks none.
func FindLocal(display string) (*Local, error) {
	if display == "" {
		display = os.Getenv("DISPLAY")
	}
	if display == "" {
		return nil, errors.New("X11 forwarding needs a local display: DISPLAY is not set")
	}
	d, err := xauth.ParseDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("X11 forwarding: %w", err)
	}
	l := &Local{Display: display, Proto: mitCookie, parsed: d}
	if b, err := os.ReadFile(xauth.Path()); err == nil {
		entries, err := xauth.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("X11 forwarding: read %s: %w", xauth.Path(), err)
		}
		host, _ := os.Hostname()
		if !d.LocalAuth {
			host = d.Host
		}
		if e, ok := xauth.Find(entries, host, d.Number); ok && e.Name == mitCookie && len(e.Data) > 0 {
			l.Cookie = e.Data
		}
	}
	if l.Cookie == nil {
		l.Cookie = make([]byte, 16)
		if _, err := rand.Read(l.Cookie); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// dial connects to the local display: its unix socket, then TCP.
func (l *Local) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	n, _ := strconv.Atoi(l.parsed.Number)
	if l.parsed.Path != "" {
		return d.DialContext(ctx, "unix", l.parsed.Path)
	}
	if l.parsed.Unix {
		c, err := d.DialContext(ctx, "unix", fmt.Sprintf("/tmp/.X11-unix/X%d", n))
		if err == nil {
			return c, nil
		}
		if l.parsed.Host == "unix" {
			return nil, err
		}
	}
	host := l.parsed.Host
	if host == "" || host == "unix" {
		host = "localhost"
	}
	return d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(6000+n)))
}

// cookieOwner is a session whose fake cookie is registered.
type cookieOwner struct {
	name      string
	fake      []byte
	onConnect func()                 // called for each accepted X11 connection
	conns     map[io.Closer]struct{} // its open X11 connections, under the forwarder's mu
	released  bool
}

// Forwarder serves the "x11" channels of one SSH connection, as
// OpenSSH's client does: each remote X client must present a fake cookie
// perch sent in an x11-req; it is swapped for the real one before the
// bytes reach the local display. Each session gets its own fake cookie, so
// a connection is traced to the session that opened it.
type Forwarder struct {
	local *Local
	log   *slog.Logger

	mu     sync.Mutex
	owners []*cookieOwner
	conns  map[io.Closer]struct{}
	closed bool
	wg     sync.WaitGroup

	// setupTimeout bounds the wait for a complete X setup request.
	setupTimeout time.Duration
	// rejected counts connections refused for a wrong or missing cookie.
	rejected *atomic.Int64
	// rejections bounds the warnings about refused connections.
	rejections rateLog
}

// New registers the "x11" channel handler on client, once,
// before any request is sent. Its goroutines end when the client closes.
func New(client *ssh.Client, local *Local, log *slog.Logger, rejected *atomic.Int64) (*Forwarder, error) {
	chans := client.HandleChannelOpen("x11")
	if chans == nil {
		return nil, errors.New("X11 forwarding: an x11 channel handler is already registered on this connection")
	}
	f := &Forwarder{local: local, log: log, conns: map[io.Closer]struct{}{}, setupTimeout: 15 * time.Second, rejected: rejected,
		rejections: rateLog{every: 10 * time.Second}}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		// Hand each channel to its own goroutine at once: a slow one must
		// never stall the connection's other channels and keepalives.
		for nc := range chans {
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.handle(nc)
			}()
		}
	}()
	return f, nil
}

// Request sends x11-req on a session with a fresh fake cookie for owner
// name; release unregisters the cookie when the session ends. A refusal by
// the server is returned as an error; the session may still go on.
func (f *Forwarder) Request(sess *ssh.Session, name string, onConnect func()) (release func(), err error) {
	fake := make([]byte, len(f.local.Cookie))
	if _, err := rand.Read(fake); err != nil {
		return nil, err
	}
	o := &cookieOwner{name: name, fake: fake, onConnect: onConnect, conns: map[io.Closer]struct{}{}}
	f.mu.Lock()
	f.owners = append(f.owners, o)
	f.mu.Unlock()
	// release unregisters the cookie and closes the session's X11
	// connections: its X clients lose their display and end, even where
	// sshd cannot signal them (it signals only with privilege separation,
	// so not for root logins).
	release = func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, x := range f.owners {
			if x == o {
				f.owners = append(f.owners[:i], f.owners[i+1:]...)
				break
			}
		}
		o.released = true
		for c := range o.conns {
			c.Close()
		}
	}
	screen := uint32(f.local.parsed.Screen)
	payload := ssh.Marshal(struct {
		SingleConnection bool
		AuthProtocol     string
		AuthCookie       string
		ScreenNumber     uint32
	}{false, f.local.Proto, hex.EncodeToString(fake), screen})
	ok, err := sess.SendRequest("x11-req", true, payload)
	if err != nil {
		release()
		return nil, fmt.Errorf("request X11 forwarding: %w", err)
	}
	if !ok {
		release()
		return nil, errors.New("the server refused X11 forwarding (is X11Forwarding yes in its sshd_config, and xauth installed there?)")
	}
	return release, nil
}

func (f *Forwarder) track(c io.Closer) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *Forwarder) untrack(c io.Closer) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
}

// Close ends every forwarded X11 connection and waits for the goroutines
// (the channel loop ends when the SSH client is closed, which the caller
// does first).
func (f *Forwarder) Close() {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// handle serves one x11 channel: accepted only where X11 forwarding was
// requested, its client authenticated by a session's fake cookie before
// the local display is dialled, then relayed.
func (f *Forwarder) handle(nc ssh.NewChannel) {
	ch, log, ok := f.accept(nc)
	if !ok {
		return
	}
	defer f.untrack(ch)
	defer ch.Close()
	first, owner, ok := f.authenticate(ch, log)
	if !ok {
		return
	}
	f.relay(ch, first, owner, log)
}

// accept accepts the channel if X11 forwarding was requested on the
// connection, and tracks it.
func (f *Forwarder) accept(nc ssh.NewChannel) (ssh.Channel, *slog.Logger, bool) {
	var origin struct {
		Addr string
		Port uint32
	}
	_ = ssh.Unmarshal(nc.ExtraData(), &origin)
	log := f.log.With("origin", net.JoinHostPort(origin.Addr, strconv.Itoa(int(origin.Port))))
	f.mu.Lock()
	requested := len(f.owners) > 0
	f.mu.Unlock()
	if !requested {
		log.Warn("X11 connection refused: no X11 forwarding was requested on this connection")
		_ = nc.Reject(ssh.Prohibited, "X11 forwarding not requested")
		return nil, nil, false
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		return nil, nil, false
	}
	go ssh.DiscardRequests(reqs)
	if !f.track(ch) {
		ch.Close()
		return nil, nil, false
	}
	return ch, log, true
}

// authenticate reads the client's setup request and checks its cookie
// before anything is dialled: a connection without the cookie takes no
// slot of the local X server (OpenSSH dials first). It returns the bytes
// to send the display first (the setup and what came after it) and the
// session whose cookie it carried.
func (f *Forwarder) authenticate(ch ssh.Channel, log *slog.Logger) ([]byte, *cookieOwner, bool) {
	// The setup request may arrive in pieces; ssh.Channel has no deadline,
	// so a timer closes it if the client never completes it.
	timer := time.AfterFunc(f.setupTimeout, func() { ch.Close() })
	setup, extra, err := ReadSetup(ch)
	timer.Stop()
	if err != nil {
		f.rejections.warn(log, "X11 connection rejected: bad setup request", err)
		return nil, nil, false
	}
	owner, err := f.check(setup)
	if err != nil {
		f.rejected.Add(1)
		f.rejections.warn(log, "X11 connection rejected because of wrong authentication", err)
		return nil, nil, false
	}
	return append(setup, extra...), owner, true
}

// relay dials the local display for an authenticated channel and copies
// both ways until either end closes.
func (f *Forwarder) relay(ch ssh.Channel, first []byte, owner *cookieOwner, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	xconn, err := f.local.dial(ctx)
	cancel()
	if err != nil {
		log.Warn("X11 connection closed: cannot reach the local display", "display", f.local.Display, "err", err)
		return
	}
	xconn = rawconn.Wrap(xconn)
	if !f.track(xconn) {
		xconn.Close()
		return
	}
	defer f.untrack(xconn)
	defer xconn.Close()
	if !f.own(owner, ch, xconn) {
		return
	}
	defer f.disown(owner, ch, xconn)
	log.Debug("X11 connection accepted", "session", owner.name)
	if owner.onConnect != nil {
		owner.onConnect()
	}
	if _, err := xconn.Write(first); err != nil {
		return
	}
	splice(ch, xconn)
}

// own records a forwarded connection's two ends as its session's, unless
// the session was released meanwhile.
func (f *Forwarder) own(owner *cookieOwner, ch ssh.Channel, xconn net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if owner.released {
		return false
	}
	owner.conns[ch] = struct{}{}
	owner.conns[xconn] = struct{}{}
	return true
}

// disown forgets a forwarded connection's two ends.
func (f *Forwarder) disown(owner *cookieOwner, ch ssh.Channel, xconn net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(owner.conns, ch)
	delete(owner.conns, xconn)
}

// splice copies both ways until either side ends, then closes both.
func splice(ch ssh.Channel, xconn net.Conn) {
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(xconn, ch); done <- struct{}{} }()
	go func() { _, _ = io.Copy(ch, xconn); done <- struct{}{} }()
	go func() { _, _ = io.Copy(io.Discard, ch.Stderr()) }()
	<-done
	// Either side ended: close both, and the other copy ends.
	ch.Close()
	xconn.Close()
	<-done
}

// check finds the owner whose fake cookie the setup request carries and
// swaps in the real cookie.
func (f *Forwarder) check(setup []byte) (*cookieOwner, error) {
	f.mu.Lock()
	owners := append([]*cookieOwner(nil), f.owners...)
	f.mu.Unlock()
	err := error(ErrWrongAuth)
	for _, o := range owners {
		if err = CheckAndSwapCookie(setup, f.local.Proto, o.fake, f.local.Cookie); err == nil {
			return o, nil
		}
	}
	return nil, err
}
