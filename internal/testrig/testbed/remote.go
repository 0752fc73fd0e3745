package testbed

import (
	"fmt"
	"path/filepath"
)

// Remote is a server side with a thin client's display, as the session
// tests and the benchmarks use it: an Xvfb, an sshd whose user attaches
// with xpra's client defaults, and xpra servers each running one program.
type Remote struct {
	Local *Display // the thin client's display
	SSHD  *SSHD
	Xpras []*Xpra
}

// StartRemote starts an Xvfb of the given screen ("1920x1080x24"), an sshd
// logging in as RemoteUser (an unprivileged account when run as root) and
// n xpra servers running child on free displays from first on. On an
// error everything started is stopped.
func StartRemote(screen string, n, first int, child string) (*Remote, error) {
	return StartRemoteWith(RemoteOptions{Screen: screen, Xpras: n, First: first, Child: child})
}

// StartRemoteWith is StartRemote with options.
func StartRemoteWith(o RemoteOptions) (*Remote, error) {
	var bin, path string
	if o.Xpra6 {
		var err error
		if bin, err = Xpra6(); err != nil {
			return nil, err
		}
		path = filepath.Dir(bin) + ":/usr/local/bin:/usr/bin:/bin"
	}
	r := &Remote{}
	var err error
	if r.Local, err = StartXvfb(o.Screen); err != nil {
		return nil, err
	}
	if r.SSHD, err = StartSSHDWith(SSHDOptions{User: RemoteUser(), Path: path}); err != nil {
		r.Close()
		return nil, err
	}
	if err = r.SSHD.WriteXpraClientDefaults(); err != nil {
		r.Close()
		return nil, err
	}
	next := o.First
	for range o.Xpras {
		d := FreeDisplay(next)
		x, err := StartXpraWith(d, o.Child, bin)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("xpra server %d of %d: %w", len(r.Xpras)+1, o.Xpras, err)
		}
		r.Xpras = append(r.Xpras, x)
		next = d + 1
	}
	return r, nil
}

// Displays are the xpra servers' display numbers.
func (r *Remote) Displays() []int {
	var d []int
	for _, x := range r.Xpras {
		d = append(d, x.Display)
	}
	return d
}

// Close stops the xpra servers, sshd and the display.
func (r *Remote) Close() {
	for _, x := range r.Xpras {
		x.Close()
	}
	if r.SSHD != nil {
		r.SSHD.Close()
	}
	if r.Local != nil {
		r.Local.Close()
	}
}
