package wlr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
)

// Opcodes of the requests and events perch uses (wayland.xml and
// wlr-output-management-unstable-v1.xml).
const (
	displayID = 1

	reqDisplaySync, reqDisplayGetRegistry = 0, 1
	evDisplayError, evDisplayDeleteID     = 0, 1
	reqRegistryBind                       = 0
	evRegistryGlobal                      = 0
	evCallbackDone                        = 0

	reqManagerCreateConfiguration              = 0
	evManagerHead, evManagerDone, evManagerFin = 0, 1, 2

	evHeadName, evHeadDescription, evHeadPhysicalSize, evHeadMode = 0, 1, 2, 3
	evHeadEnabled, evHeadCurrentMode, evHeadPosition              = 4, 5, 6
	evHeadTransform, evHeadScale, evHeadFinished                  = 7, 8, 9
	evHeadMake, evHeadModel, evHeadSerial                         = 10, 11, 12

	evModeSize, evModeRefresh, evModePreferred, evModeFinished = 0, 1, 2, 3

	reqConfigEnableHead, reqConfigDisableHead, reqConfigApply = 0, 1, 2
	reqConfigTest, reqConfigDestroy                           = 3, 4
	evConfigSucceeded, evConfigFailed, evConfigCancelled      = 0, 1, 2

	reqHeadSetMode, reqHeadSetCustomMode, reqHeadSetPosition = 0, 1, 2
	reqHeadSetTransform, reqHeadSetScale                     = 3, 4
)

// ManagerInterface is the protocol's global; perch binds up to version 4.
const (
	ManagerInterface = "zwlr_output_manager_v1"
	maxVersion       = 4
)

// ErrNoProtocol: the compositor does not offer wlr-output-management.
var ErrNoProtocol = errors.New("the Wayland compositor does not offer " + ManagerInterface + " (wlr-output-management)")

type kind int

const (
	kRegistry kind = iota + 1
	kCallback
	kManager
	kHead
	kMode
	kConfig
	kConfigHead
)

// head and mode are the compositor's objects as their events describe
// them.
type head struct {
	name, description, make, model, serial string
	mmW, mmH                               int
	modes                                  []uint32
	enabled                                bool
	current                                uint32
	x, y                                   int
	transform                              int32
	scale                                  float64
}

type mode struct {
	w, h      int
	refresh   int // mHz
	preferred bool
}

// client is one connection to a compositor. A reader goroutine owns the
// socket's input and applies events to the objects under mu; waiters
// sleep on wake, which is closed and replaced on every event that matters.
type client struct {
	conn *net.UnixConn
	wmu  sync.Mutex

	mu        sync.Mutex
	wake      chan struct{}
	nextID    uint32
	kinds     map[uint32]kind
	heads     map[uint32]*head
	order     []uint32 // heads in the order announced
	modes     map[uint32]*mode
	callbacks map[uint32]bool // done
	results   map[uint32]string
	manager   uint32
	mgrName   uint32
	version   uint32
	serial    uint32 // of the last done
	dones     int
	finished  bool
	err       error // the connection's end
	readDone  chan struct{}
}

// socketPath is where WAYLAND_DISPLAY's socket is.
func socketPath(getenv func(string) string) (string, error) {
	d := getenv("WAYLAND_DISPLAY")
	if d == "" {
		d = "wayland-0"
	}
	if filepath.IsAbs(d) {
		return d, nil
	}
	dir := getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return "", errors.New("XDG_RUNTIME_DIR is not set, so the Wayland socket cannot be found")
	}
	return filepath.Join(dir, d), nil
}

func dial(ctx context.Context, getenv func(string) string) (*client, error) {
	path, err := socketPath(getenv)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to the Wayland compositor: %w", err)
	}
	c := &client{
		conn: nc.(*net.UnixConn), wake: make(chan struct{}), nextID: 2,
		kinds: map[uint32]kind{}, heads: map[uint32]*head{}, modes: map[uint32]*mode{},
		callbacks: map[uint32]bool{}, results: map[uint32]string{}, readDone: make(chan struct{}),
	}
	go c.read()
	return c, nil
}

func (c *client) close() error {
	err := c.conn.Close()
	<-c.readDone
	return err
}

// newID allocates a client object id of kind k; call with mu held.
func (c *client) newID(k kind) uint32 {
	id := c.nextID
	c.nextID++
	c.kinds[id] = k
	return id
}

func (c *client) send(msgs ...Message) error {
	var buf []byte
	for _, m := range msgs {
		buf = m.Encode(buf)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.conn.Write(buf); err != nil {
		return fmt.Errorf("write to the Wayland compositor: %w", err)
	}
	return nil
}

// broadcast wakes every waiter; call with mu held.
func (c *client) broadcast() {
	close(c.wake)
	c.wake = make(chan struct{})
}

// wait waits until cond (called with mu held) holds, the connection ends
// or ctx ends.
func (c *client) wait(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		if cond() {
			c.mu.Unlock()
			return nil
		}
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return err
		}
		wake := c.wake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the Wayland compositor: %w", ctx.Err())
		}
	}
}

// roundtrip sends wl_display.sync and waits for its callback: every event
// the compositor sent before has then been handled.
func (c *client) roundtrip(ctx context.Context) error {
	c.mu.Lock()
	id := c.newID(kCallback)
	c.mu.Unlock()
	if err := c.send(new(Builder).Uint(id).Msg(displayID, reqDisplaySync)); err != nil {
		return err
	}
	err := c.wait(ctx, func() bool { return c.callbacks[id] })
	c.mu.Lock()
	delete(c.callbacks, id)
	c.mu.Unlock()
	return err
}

// read owns the socket's input until it fails.
func (c *client) read() {
	defer close(c.readDone)
	buf := make([]byte, 0, 2*maxMessage)
	chunk := make([]byte, maxMessage)
	for {
		n, err := c.conn.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for err == nil {
			var m Message
			var rest []byte
			m, rest, err = ReadMessage(buf)
			if errors.Is(err, errShort) {
				err = nil
				break
			}
			if err == nil {
				err = c.handle(m)
				buf = append(buf[:0], rest...)
			}
		}
		if err != nil {
			c.mu.Lock()
			if c.err == nil {
				c.err = fmt.Errorf("the Wayland connection ended: %w", err)
			}
			c.broadcast()
			c.mu.Unlock()
			return
		}
	}
}

// handle applies one event.
func (c *client) handle(m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := NewArgs(m)
	if m.Object == displayID {
		return c.displayEvent(m.Opcode, a)
	}
	switch c.kinds[m.Object] {
	case kRegistry:
		if m.Opcode == evRegistryGlobal {
			name, iface, version := a.Uint(), a.String(), a.Uint()
			if iface == ManagerInterface && c.mgrName == 0 {
				c.mgrName, c.version = name, min(version, maxVersion)
			}
		}
	case kCallback:
		c.callbacks[m.Object] = true
		c.broadcast()
	case kManager:
		c.managerEvent(m.Opcode, a)
	case kHead:
		c.headEvent(m.Object, m.Opcode, a)
	case kMode:
		c.modeEvent(m.Object, m.Opcode, a)
	case kConfig:
		c.results[m.Object] = [...]string{"succeeded", "failed", "cancelled"}[min(int(m.Opcode), 2)]
		c.broadcast()
	}
	return a.Err()
}

func (c *client) displayEvent(op uint16, a *Args) error {
	switch op {
	case evDisplayError:
		obj, code, msg := a.Uint(), a.Uint(), a.String()
		return fmt.Errorf("the compositor reported a protocol error on object %d (code %d): %s", obj, code, msg)
	case evDisplayDeleteID:
		id := a.Uint()
		delete(c.kinds, id)
	}
	return nil
}

func (c *client) managerEvent(op uint16, a *Args) {
	switch op {
	case evManagerHead:
		id := a.Uint()
		c.kinds[id] = kHead
		c.heads[id] = &head{scale: 1}
		c.order = append(c.order, id)
	case evManagerDone:
		c.serial = a.Uint()
		c.dones++
		c.broadcast()
	case evManagerFin:
		c.finished = true
		c.broadcast()
	}
}

func (c *client) headEvent(id uint32, op uint16, a *Args) {
	h := c.heads[id]
	if h == nil {
		return
	}
	switch op {
	case evHeadName:
		h.name = a.String()
	case evHeadDescription:
		h.description = a.String()
	case evHeadPhysicalSize:
		h.mmW, h.mmH = int(a.Int()), int(a.Int())
	case evHeadMode:
		mid := a.Uint()
		c.kinds[mid] = kMode
		c.modes[mid] = &mode{}
		h.modes = append(h.modes, mid)
	case evHeadEnabled:
		h.enabled = a.Int() != 0
	case evHeadCurrentMode:
		h.current = a.Uint()
	case evHeadPosition:
		h.x, h.y = int(a.Int()), int(a.Int())
	case evHeadTransform:
		h.transform = a.Int()
	case evHeadScale:
		h.scale = a.Fixed()
	case evHeadFinished:
		delete(c.heads, id)
		delete(c.kinds, id)
		for i, x := range c.order {
			if x == id {
				c.order = append(c.order[:i:i], c.order[i+1:]...)
				break
			}
		}
	case evHeadMake:
		h.make = a.String()
	case evHeadModel:
		h.model = a.String()
	case evHeadSerial:
		h.serial = a.String()
	}
}

func (c *client) modeEvent(id uint32, op uint16, a *Args) {
	md := c.modes[id]
	if md == nil {
		return
	}
	switch op {
	case evModeSize:
		md.w, md.h = int(a.Int()), int(a.Int())
	case evModeRefresh:
		md.refresh = int(a.Int())
	case evModePreferred:
		md.preferred = true
	case evModeFinished:
		delete(c.modes, id)
		delete(c.kinds, id)
		for _, h := range c.heads {
			for i, x := range h.modes {
				if x == id {
					h.modes = append(h.modes[:i:i], h.modes[i+1:]...)
					break
				}
			}
		}
	}
}
