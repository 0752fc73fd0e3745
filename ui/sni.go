//go:build (linux || freebsd || openbsd || netbsd) && !android

package ui

import (
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/systray"
)

// NewStatusNotifier makes the system tray for app: a StatusNotifierItem
// and its dbusmenu on the session bus, through fyne.io/systray, the
// library and D-Bus objects of Fyne's own desktop.App tray. Use it from
// the UI goroutine, before app.Run.
//
// It differs from desktop.App's tray in one thing: it makes no hidden
// window, so perch-tray makes no OpenGL context until it shows one (the
// memory this saves: docs/benchmarks.md, "perch-tray memory").
func NewStatusNotifier(app fyne.App) SystemTray { return &statusNotifier{app: app} }

type statusNotifier struct {
	app fyne.App
	// mu: the UI goroutine sets the menu; Close comes after app.Run, when
	// a late fyne.Do may run its function on another goroutine.
	mu      sync.Mutex
	started bool
	end     func() // unregisters the item; set once started
	closed  bool   // after Close nothing is shown again
	// items are the menu's entries now shown; stop ends their click
	// goroutines. See detach.
	items []*systray.MenuItem
	stop  chan struct{}
	// keeper is never shown, so it has no GLFW window and costs no OpenGL
	// context. Fyne quits when its last window is closed; the keeper stays
	// in the list, so closing a prompt (the only window then) does not end
	// perch-tray, as Fyne's hidden monitor window sees to for its tray.
	keeper fyne.Window
}

// SetSystemTrayIcon sets the icon (PNG), as desktop.App's does on Linux.
func (s *statusNotifier) SetSystemTrayIcon(r fyne.Resource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	systray.SetIcon(r.Content())
}

// SetSystemTrayMenu shows m, and registers the item on the first call. As
// in Fyne's, an item marked IsQuit without an action quits the app.
func (s *statusNotifier) SetSystemTrayMenu(m *fyne.Menu) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.detach()
	systray.ResetMenu()
	s.addItems(m, nil)
	if s.started {
		return
	}
	s.started = true
	s.keeper = s.app.NewWindow(s.title())
	// Fyne sets the title too: some hosts crash without one.
	systray.SetTitle(s.title())
	start, end := systray.RunWithExternalLoop(nil, nil)
	s.end = end
	start()
}

// Close takes the item off the tray host and ends the menu's goroutines.
// Call it once the app has stopped running (after app.Run returns), so
// that no click reaches an app that is shutting down.
func (s *statusNotifier) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.detach()
	if s.started {
		systray.ResetMenu()
		s.end()
	}
	return nil
}

// detach makes the entries shown now safe to remove while a click on one
// of them is on its way. fyne.io/systray looks a clicked entry up under
// its lock but sends on its ClickedCh after releasing it, and removing an
// entry closes that channel: a click during a rebuild was a send on a
// closed channel, a panic in a D-Bus goroutine that ended perch-tray and
// its in-process agent with every session. With ClickedCh nil, removing
// the entry closes nothing and a late click finds no channel to send on
// (a send on nil in a select with default takes the default); each
// entry's goroutine reads the channel it was made with until stop.
func (s *statusNotifier) detach() {
	for _, it := range s.items {
		it.ClickedCh = nil
	}
	s.items = nil
	if s.stop != nil {
		close(s.stop)
	}
	s.stop = make(chan struct{})
}

// title is the item's title, as Fyne makes it.
func (s *statusNotifier) title() string {
	if t := s.app.Metadata().Name; t != "" {
		return t
	}
	return s.app.UniqueID()
}

// addItems adds m's items under parent (nil: the top menu), as Fyne's tray
// does, menu item icons aside (perch's have none).
func (s *statusNotifier) addItems(m *fyne.Menu, parent *systray.MenuItem) {
	for _, i := range m.Items {
		if i.IsSeparator {
			if parent != nil {
				parent.AddSeparator()
			} else {
				systray.AddSeparator()
			}
			continue
		}
		var item *systray.MenuItem
		switch {
		case parent != nil && i.Checked:
			item = parent.AddSubMenuItemCheckbox(i.Label, "", true)
		case parent != nil:
			item = parent.AddSubMenuItem(i.Label, "")
		case i.Checked:
			item = systray.AddMenuItemCheckbox(i.Label, "", true)
		default:
			item = systray.AddMenuItem(i.Label, "")
		}
		if i.Disabled {
			item.Disable()
		}
		if i.ChildMenu != nil {
			s.addItems(i.ChildMenu, item)
		}
		fn := i.Action
		if fn == nil && i.IsQuit {
			fn = s.app.Quit
		}
		s.items = append(s.items, item)
		clicks, stop := item.ClickedCh, s.stop
		go func() {
			for {
				select {
				case <-clicks:
					if fn != nil {
						fyne.DoAndWait(fn)
					}
				case <-stop:
					return
				}
			}
		}()
	}
}
