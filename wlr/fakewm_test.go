package wlr

import (
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"
)

// fakeWM is a small compositor of the tests' own that speaks the
// messages of wl_display, wl_registry, wl_callback and
// wlr-output-management: what sway cannot show (heads as they are,
// disabling, refusals, hotplug).
type fakeWM struct {
	dir     string
	ln      net.Listener
	mu      sync.Mutex
	conn    net.Conn
	version uint32
	serial  uint32
	nextID  uint32
	mgr     uint32
	heads   []*fakeHead
	configs map[uint32]*fakeConfig
	sets    map[uint32]*fakeSet
	refuse  func(*fakeSet) bool // the test rule: a set the compositor cannot show
	tests   int
	applies int
	done    chan struct{}
}

type fakeHead struct {
	id                        uint32
	name, make, model, serial string
	modes                     []*fakeMode
	enabled                   bool
	cur                       *fakeMode
	x, y                      int32
	transform                 int32
	scale                     float64
	cannotDisable             bool
}

type fakeMode struct {
	id        uint32
	w, h, mhz int32
	preferred bool
}

type fakeConfig struct {
	serial uint32
	sets   []*fakeSet
}

type fakeSet struct {
	head      *fakeHead
	enable    bool
	mode      *fakeMode
	custom    [3]int32
	x, y      int32
	transform int32
	scale     float64
}

func startFakeWM(t *testing.T, version uint32, heads ...*fakeHead) *fakeWM {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, "wayland-fake"))
	if err != nil {
		t.Fatal(err)
	}
	w := &fakeWM{dir: dir, ln: ln, version: version, serial: 1, nextID: 0xff000000, heads: heads,
		configs: map[uint32]*fakeConfig{}, sets: map[uint32]*fakeSet{}, refuse: func(*fakeSet) bool { return false },
		done: make(chan struct{})}
	go w.serve()
	t.Cleanup(func() {
		ln.Close()
		w.mu.Lock()
		if w.conn != nil {
			w.conn.Close()
		}
		w.mu.Unlock()
		<-w.done
	})
	return w
}

func (w *fakeWM) getenv(k string) string {
	return map[string]string{"XDG_RUNTIME_DIR": w.dir, "WAYLAND_DISPLAY": "wayland-fake"}[k]
}

// serve takes one client and answers its requests until it hangs up.
func (w *fakeWM) serve() {
	defer close(w.done)
	conn, err := w.ln.Accept()
	if err != nil {
		return
	}
	w.mu.Lock()
	w.conn = conn
	w.mu.Unlock()
	buf, chunk := []byte{}, make([]byte, 4096)
	for {
		n, err := conn.Read(chunk)
		if err != nil {
			return
		}
		buf = append(buf, chunk[:n]...)
		for {
			m, rest, err := ReadMessage(buf)
			if err != nil {
				break
			}
			buf = rest
			w.mu.Lock()
			w.request(m)
			w.mu.Unlock()
		}
	}
}

func (w *fakeWM) send(ms ...Message) {
	var b []byte
	for _, m := range ms {
		b = m.Encode(b)
	}
	_, _ = w.conn.Write(b)
}

func (w *fakeWM) id() uint32 { w.nextID++; return w.nextID }

// request answers one request (called with mu held). Object ids: 1 is the
// display; the kinds of the others are known by where they were made.
func (w *fakeWM) request(m Message) {
	a := NewArgs(m)
	switch {
	case m.Object == displayID && m.Opcode == reqDisplaySync:
		cb := a.Uint()
		w.send(new(Builder).Uint(0).Msg(cb, evCallbackDone), new(Builder).Uint(cb).Msg(displayID, evDisplayDeleteID))
	case m.Object == displayID && m.Opcode == reqDisplayGetRegistry:
		reg := a.Uint()
		w.send(new(Builder).Uint(7).String(ManagerInterface).Uint(w.version).Msg(reg, evRegistryGlobal))
	case m.Opcode == reqRegistryBind && w.mgr == 0 && m.Object == 2:
		_, _, _ = a.Uint(), a.String(), a.Uint()
		w.mgr = a.Uint()
		for _, h := range w.heads {
			w.announce(h)
		}
		w.send(new(Builder).Uint(w.serial).Msg(w.mgr, evManagerDone))
	case m.Object == w.mgr && m.Opcode == reqManagerCreateConfiguration:
		id := a.Uint()
		w.configs[id] = &fakeConfig{serial: a.Uint()}
	case w.configs[m.Object] != nil:
		w.configRequest(m.Object, m.Opcode, a)
	case w.sets[m.Object] != nil:
		w.setRequest(w.sets[m.Object], m.Opcode, a)
	}
}

func (w *fakeWM) configRequest(id uint32, op uint16, a *Args) {
	cfg := w.configs[id]
	switch op {
	case reqConfigEnableHead:
		sid, hid := a.Uint(), a.Uint()
		s := &fakeSet{head: w.head(hid), enable: true, scale: 1}
		w.sets[sid] = s
		cfg.sets = append(cfg.sets, s)
	case reqConfigDisableHead:
		cfg.sets = append(cfg.sets, &fakeSet{head: w.head(a.Uint())})
	case reqConfigTest, reqConfigApply:
		w.finish(id, cfg, op == reqConfigApply)
	case reqConfigDestroy:
		delete(w.configs, id)
	}
}

func (w *fakeWM) setRequest(s *fakeSet, op uint16, a *Args) {
	switch op {
	case reqHeadSetMode:
		mid := a.Uint()
		for _, md := range s.head.modes {
			if md.id == mid {
				s.mode = md
			}
		}
	case reqHeadSetCustomMode:
		s.custom = [3]int32{a.Int(), a.Int(), a.Int()}
	case reqHeadSetPosition:
		s.x, s.y = a.Int(), a.Int()
	case reqHeadSetTransform:
		s.transform = a.Int()
	case reqHeadSetScale:
		s.scale = a.Fixed()
	}
}

func (w *fakeWM) head(id uint32) *fakeHead {
	for _, h := range w.heads {
		if h.id == id {
			return h
		}
	}
	return nil
}

// finish answers a test or an apply: cancelled on a stale serial, failed
// when a set breaks the rule or a head is left out, else succeeded (and
// an apply takes effect and is announced).
func (w *fakeWM) finish(id uint32, cfg *fakeConfig, apply bool) {
	ok := len(cfg.sets) == len(w.heads)
	for _, s := range cfg.sets {
		if s.head == nil || w.refuse(s) || !s.enable && s.head.cannotDisable {
			ok = false
		}
	}
	switch {
	case cfg.serial != w.serial:
		w.send(new(Builder).Msg(id, evConfigCancelled))
		return
	case !ok:
		w.send(new(Builder).Msg(id, evConfigFailed))
		return
	case !apply:
		w.tests++
		w.send(new(Builder).Msg(id, evConfigSucceeded))
		return
	}
	w.applies++
	for _, s := range cfg.sets {
		w.take(s)
	}
	w.serial++
	w.send(new(Builder).Uint(w.serial).Msg(w.mgr, evManagerDone), new(Builder).Msg(id, evConfigSucceeded))
}

// take applies one set to its head and sends the head's new state.
func (w *fakeWM) take(s *fakeSet) {
	h := s.head
	h.enabled = s.enable
	if !s.enable {
		w.send(new(Builder).Int(0).Msg(h.id, evHeadEnabled))
		return
	}
	h.cur = s.mode
	if h.cur == nil {
		h.cur = &fakeMode{id: w.id(), w: s.custom[0], h: s.custom[1], mhz: s.custom[2]}
		h.modes = append(h.modes, h.cur)
		w.send(new(Builder).Uint(h.cur.id).Msg(h.id, evHeadMode))
		w.sendMode(h.cur)
	}
	h.x, h.y, h.transform, h.scale = s.x, s.y, s.transform, s.scale
	w.sendState(h)
}

func (w *fakeWM) sendMode(md *fakeMode) {
	w.send(new(Builder).Int(md.w).Int(md.h).Msg(md.id, evModeSize), new(Builder).Int(md.mhz).Msg(md.id, evModeRefresh))
	if md.preferred {
		w.send(new(Builder).Msg(md.id, evModePreferred))
	}
}

func (w *fakeWM) sendState(h *fakeHead) {
	en := int32(0)
	if h.enabled {
		en = 1
	}
	w.send(new(Builder).Int(en).Msg(h.id, evHeadEnabled))
	if h.enabled && h.cur != nil {
		w.send(new(Builder).Uint(h.cur.id).Msg(h.id, evHeadCurrentMode))
	}
	w.send(new(Builder).Int(h.x).Int(h.y).Msg(h.id, evHeadPosition), new(Builder).Int(h.transform).Msg(h.id, evHeadTransform),
		new(Builder).Fixed(h.scale).Msg(h.id, evHeadScale))
}

// announce sends a head and its modes to the client (called with mu held).
func (w *fakeWM) announce(h *fakeHead) {
	h.id = w.id()
	w.send(new(Builder).Uint(h.id).Msg(w.mgr, evManagerHead), new(Builder).String(h.name).Msg(h.id, evHeadName),
		new(Builder).String(h.name+" (fake)").Msg(h.id, evHeadDescription), new(Builder).Int(600).Int(340).Msg(h.id, evHeadPhysicalSize))
	for _, md := range h.modes {
		md.id = w.id()
		w.send(new(Builder).Uint(md.id).Msg(h.id, evHeadMode))
		w.sendMode(md)
	}
	if h.enabled && h.cur == nil && len(h.modes) > 0 {
		h.cur = h.modes[0]
	}
	w.sendState(h)
	if w.version >= 2 {
		w.send(new(Builder).String(h.make).Msg(h.id, evHeadMake), new(Builder).String(h.model).Msg(h.id, evHeadModel),
			new(Builder).String(h.serial).Msg(h.id, evHeadSerial))
	}
}

// plug adds a head, unplug removes the named one; each ends with done.
func (w *fakeWM) plug(h *fakeHead) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.heads = append(w.heads, h)
	w.announce(h)
	w.serial++
	w.send(new(Builder).Uint(w.serial).Msg(w.mgr, evManagerDone))
}

func (w *fakeWM) unplug(name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, h := range w.heads {
		if h.name == name {
			w.heads = append(w.heads[:i:i], w.heads[i+1:]...)
			for _, md := range h.modes {
				w.send(new(Builder).Msg(md.id, evModeFinished))
			}
			w.serial++
			w.send(new(Builder).Msg(h.id, evHeadFinished), new(Builder).Uint(w.serial).Msg(w.mgr, evManagerDone))
			return nil
		}
	}
	return errors.New("no head " + name)
}

func (w *fakeWM) counts() (tests, applies int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tests, w.applies
}
