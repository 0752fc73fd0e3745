package netwatch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Watch calls changed after the network changed (an interface came up, an
// address or a route was added), until ctx ends. A burst of changes gives
// one call, quiet after the burst's last message, and calls come at most
// every minGap. It returns ctx's error, or why it could not listen.
func Watch(ctx context.Context, quiet, minGap time.Duration, changed func()) error {
	f, err := listen()
	if err != nil {
		return fmt.Errorf("watch the network: %w", err)
	}
	defer f.Close()
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	events := make(chan struct{}, 1)
	readErr := make(chan error, 1)
	go read(f, events, readErr) // ends when f is closed
	err = debounce(ctx, events, readErr, quiet, minGap, changed)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("watch the network: read netlink: %w", err)
}

// listen opens a netlink socket on the groups that tell of links,
// addresses and routes. Through an *os.File the reads wait in the
// netpoller, and Close ends a read in progress.
func listen() (*os.File, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, syscall.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	// The RTMGRP_* masks of <linux/rtnetlink.h> (package syscall has the
	// group numbers only).
	const (
		rtmgrpLink       = 0x1
		rtmgrpIPv4Ifaddr = 0x10
		rtmgrpIPv4Route  = 0x40
		rtmgrpIPv6Ifaddr = 0x100
		rtmgrpIPv6Route  = 0x400
	)
	groups := uint32(rtmgrpLink | rtmgrpIPv4Ifaddr | rtmgrpIPv4Route | rtmgrpIPv6Ifaddr | rtmgrpIPv6Route)
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: groups}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("bind netlink: %w", err)
	}
	return os.NewFile(uintptr(fd), "rtnetlink"), nil
}

// read signals events for the relevant messages on f until a read fails
// (f closed), which it reports on readErr.
func read(f *os.File, events chan struct{}, readErr chan<- error) {
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		if err != nil {
			// ENOBUFS: the kernel dropped messages because we were
			// slow; something changed all the same.
			if errors.Is(err, syscall.ENOBUFS) {
				signal(events)
				continue
			}
			readErr <- err
			return
		}
		if relevant(buf[:n]) {
			signal(events)
		}
	}
}

// debounce calls changed once per burst of events, quiet after its last
// one, and at most every minGap, until ctx ends (nil) or readErr says
// why the events ended.
func debounce(ctx context.Context, events <-chan struct{}, readErr <-chan error, quiet, minGap time.Duration, changed func()) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			return err
		case <-events:
			// Wait for the burst to end, and keep the gap.
			d := quiet
			if wait := time.Until(last.Add(minGap)); wait > d {
				d = wait
			}
			timer.Reset(d)
		case <-timer.C:
			last = time.Now()
			changed()
		}
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// relevant reports whether the messages in b say the network may have come
// back: an interface up and running, a new address or a new route. Links
// going down and addresses or routes going away are left to the dead-link
// detection.
func relevant(b []byte) bool {
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return false
	}
	for _, m := range msgs {
		switch m.Header.Type {
		case syscall.RTM_NEWADDR, syscall.RTM_NEWROUTE:
			return true
		case syscall.RTM_NEWLINK:
			if len(m.Data) < syscall.SizeofIfInfomsg {
				continue
			}
			// struct ifinfomsg: family(1) pad(1) type(2) index(4) flags(4) change(4)
			flags := binary.NativeEndian.Uint32(m.Data[8:12])
			const iffLowerUp = 0x10000
			if (flags&syscall.IFF_UP != 0 && flags&syscall.IFF_RUNNING != 0) || flags&iffLowerUp != 0 {
				return true
			}
		}
	}
	return false
}
