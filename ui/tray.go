package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/assets/icons"
)

// Options configure a Tray.
type Options struct {
	App     fyne.App
	Backend Backend
	Log     *slog.Logger // nil: slog.Default()
	// Ring holds the recent log lines the status window shows; nil: none.
	Ring *LogRing
	// Notify shows a desktop notification; nil: the app's SendNotification.
	Notify func(title, body string)
	// TrayHost says whether a system tray host is there to show the menu;
	// nil: TrayHostOnDBus.
	TrayHost func() (bool, error)
	// OnQuit runs (on the UI goroutine) when Quit is chosen, before the app
	// quits: stop an in-process agent there.
	OnQuit func()
	// OnUpdate runs on the UI goroutine after every update: a test hook.
	OnUpdate func()
	// SystemTray shows the icon and menu; nil: the app's own (desktop.App).
	// perch-tray passes NewStatusNotifier's, which needs no OpenGL context.
	SystemTray SystemTray
}

// SystemTray is where the tray icon and menu are shown: a desktop.App, or
// NewStatusNotifier's.
type SystemTray interface {
	SetSystemTrayIcon(fyne.Resource)
	SetSystemTrayMenu(*fyne.Menu)
}

// errStarting is shown until the first status arrives.
var errStarting = errors.New("starting…")

// Tray is perch's tray icon, menu and status window. Make it with New, call
// Start on the UI goroutine (before app.Run), and Wait after the app quit.
type Tray struct {
	o      Options
	log    *slog.Logger
	caps   Caps
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the watch loop and the actions in flight

	// Owned by the UI goroutine.
	desk     SystemTray // nil when no tray host shows the menu
	model    Model
	menu     *fyne.Menu
	last     *api.Status // the last status read without error
	lastErr  error
	lines    []string
	events   *EventList // the status window's recent events
	win      *statusWindow
	quitting bool
}

// New makes a tray for o.App and o.Backend.
func New(o Options) *Tray {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Notify == nil {
		app := o.App
		o.Notify = func(title, body string) { app.SendNotification(fyne.NewNotification(title, body)) }
	}
	if o.TrayHost == nil {
		o.TrayHost = TrayHostOnDBus
	}
	t := &Tray{o: o, log: o.Log, menu: fyne.NewMenu("perch"), events: NewEventList(200)}
	_, t.caps.Disconnect = o.Backend.(Disconnecter)
	t.model = Present(api.Status{}, errStarting, t.caps)
	t.lastErr = errStarting
	t.menu.Items = t.menuItems(t.model)
	return t
}

// IconResource is the tray icon for a state.
func IconResource(s IconState) fyne.Resource {
	switch s {
	case IconConnecting:
		return fyne.NewStaticResource("perch-connecting.png", icons.Connecting)
	case IconConnected:
		return fyne.NewStaticResource("perch-connected.png", icons.Connected)
	case IconDegraded:
		return fyne.NewStaticResource("perch-degraded.png", icons.Degraded)
	default:
		return fyne.NewStaticResource("perch-disconnected.png", icons.Disconnected)
	}
}

// AppIcon is perch's application icon.
func AppIcon() fyne.Resource { return fyne.NewStaticResource("perch.png", icons.App) }

// Start shows the tray (or, without a tray host, the status window) and
// follows the back end until ctx ends or the tray quits. Call it on the UI
// goroutine.
func (t *Tray) Start(ctx context.Context) {
	t.ctx, t.cancel = context.WithCancel(ctx)
	var desk SystemTray = t.o.SystemTray
	if desk == nil {
		if d, ok := t.o.App.(desktop.App); ok {
			desk = d
		}
	}
	if desk != nil {
		host, err := t.o.TrayHost()
		switch {
		case err != nil:
			t.log.Warn("no system tray: opening the status window instead", "err", err)
		case !host:
			t.log.Warn("no system tray host (no org.kde.StatusNotifierWatcher on the session bus): opening the status window instead")
		default:
			t.desk = desk
		}
	} else {
		t.log.Warn("this driver has no system tray: opening the status window instead")
	}
	if t.desk != nil {
		t.desk.SetSystemTrayIcon(IconResource(t.model.Icon))
		t.desk.SetSystemTrayMenu(t.menu)
	} else {
		t.showStatus()
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.watch(t.ctx)
	}()
}

// Wait stops following the back end and waits for the tray's goroutines.
func (t *Tray) Wait() {
	if t.cancel != nil {
		t.cancel()
	}
	t.wg.Wait()
}

// Tray reports whether a tray host shows the menu. UI goroutine only.
func (t *Tray) Tray() bool { return t.desk != nil }

// Model is what the tray shows now. UI goroutine only.
func (t *Tray) Model() Model { return t.model }

// Menu is the tray menu. UI goroutine only.
func (t *Tray) Menu() *fyne.Menu { return t.menu }

// watch reads the status whenever the back end or the log changes and hands
// it to the UI goroutine, until ctx ends.
func (t *Tray) watch(ctx context.Context) {
	var logChanges <-chan struct{}
	if t.o.Ring != nil {
		logChanges = t.o.Ring.Changes()
	}
	for {
		st, err := t.o.Backend.Status(ctx)
		var lines []string
		if t.o.Ring != nil {
			lines = t.o.Ring.Lines()
		}
		if ctx.Err() != nil {
			return
		}
		fyne.Do(func() { t.update(st, err, lines) })
		select {
		case <-ctx.Done():
			return
		case <-t.o.Backend.Changes():
		case <-logChanges:
		}
	}
}

// update shows a new status. UI goroutine only.
func (t *Tray) update(st api.Status, err error, lines []string) {
	m := Present(st, err, t.caps)
	if err == nil {
		t.events.Observe(t.last, st, time.Now())
		for _, e := range Transitions(t.last, st) {
			t.log.Info(e.String())
			if e.Notify {
				t.o.Notify(e.Title, e.Body)
			}
		}
		t.last = &st
	} else if t.lastErr == nil || t.lastErr.Error() != err.Error() {
		t.log.Warn("perch agent", "err", err)
		if t.lastErr == nil {
			t.o.Notify("perch", firstLine(err.Error()))
		}
	}
	t.lastErr = err
	t.lines = lines
	if !modelEqual(m, t.model) {
		icon := m.Icon != t.model.Icon
		t.model = m
		t.menu.Items = t.menuItems(m)
		if t.desk != nil {
			if icon {
				t.desk.SetSystemTrayIcon(IconResource(m.Icon))
			}
			t.desk.SetSystemTrayMenu(t.menu)
		}
	}
	if t.win != nil {
		t.win.update(st, err, lines)
	}
	if t.o.OnUpdate != nil {
		t.o.OnUpdate()
	}
}

func modelEqual(a, b Model) bool {
	return a.Icon == b.Icon && a.Title == b.Title && slices.Equal(a.Items, b.Items)
}

// menuItems renders the model's items as Fyne menu items.
func (t *Tray) menuItems(m Model) []*fyne.MenuItem {
	items := make([]*fyne.MenuItem, 0, len(m.Items))
	for _, it := range m.Items {
		if it.Separator {
			items = append(items, fyne.NewMenuItemSeparator())
			continue
		}
		act := it.Action
		mi := fyne.NewMenuItem(it.Label, func() { t.do(act) })
		mi.Checked, mi.Disabled = it.Checked, it.Disabled
		if it.Disabled || act.Kind == ActNone {
			mi.Action = nil
		}
		mi.IsQuit = act.Kind == ActQuit
		items = append(items, mi)
	}
	return items
}

// do runs a menu action. UI goroutine only.
func (t *Tray) do(a Action) {
	b := t.o.Backend
	switch a.Kind {
	case ActStatus:
		t.showStatus()
	case ActQuit:
		t.quit()
	case ActSwitch:
		t.run("switch to "+a.Arg, func(ctx context.Context) error { return b.Switch(ctx, a.Arg) })
	case ActConnect:
		t.run("connect", func(ctx context.Context) error { return b.Reconnect(ctx, "") })
	case ActDisconnect:
		if d, ok := b.(Disconnecter); ok {
			t.run("disconnect", d.Disconnect)
		}
	case ActRestart:
		t.run("restart "+a.Arg, func(ctx context.Context) error { return b.Reconnect(ctx, a.Arg) })
	case ActTake:
		t.take(a.Arg)
	case ActApply:
		target := ""
		if t.last != nil {
			target = t.last.Profile
			if t.last.Mode == api.ModeAuto {
				target = "auto"
			}
		}
		if target == "" {
			return
		}
		t.run("apply layout "+target, func(ctx context.Context) error { return b.Switch(ctx, target) })
	}
}

// run calls the back end off the UI goroutine; a failure is logged and
// notified.
func (t *Tray) run(what string, fn func(ctx context.Context) error) {
	ctx := t.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.log.Info("tray: " + what)
		if err := fn(ctx); err != nil {
			err = fmt.Errorf("%s: %w", what, err)
			t.log.Error("tray", "err", err)
			fyne.Do(func() { t.o.Notify("perch", err.Error()) })
		}
	}()
}

// quit ends the tray and the app, once. UI goroutine only.
func (t *Tray) quit() {
	if t.quitting {
		return
	}
	t.quitting = true
	if t.o.OnQuit != nil {
		t.o.OnQuit()
	}
	if t.cancel != nil {
		t.cancel()
	}
	t.o.App.Quit()
}

// showStatus opens (or raises) the status window. UI goroutine only.
func (t *Tray) showStatus() {
	if t.win == nil {
		t.win = newStatusWindow(t.o.App, t.do, t.events)
		if t.desk != nil {
			t.win.win.SetCloseIntercept(t.win.win.Hide)
		} else {
			// Without a tray the window is all there is: closing it quits.
			t.win.win.SetOnClosed(t.quit)
		}
		st := api.Status{}
		if t.last != nil {
			st = *t.last
		}
		t.win.update(st, t.lastErr, t.lines)
	}
	t.win.win.Show()
	t.win.win.RequestFocus()
}

// StatusWindow is the status window, nil until opened. UI goroutine only.
func (t *Tray) StatusWindow() fyne.Window {
	if t.win == nil {
		return nil
	}
	return t.win.win
}

// take brings a session (or all, "") here, when the back end can.
func (t *Tray) take(name string) {
	tk, ok := t.o.Backend.(Taker)
	if !ok {
		return
	}
	var names []string
	what := "bring every session here"
	if name != "" {
		names, what = []string{name}, "bring "+name+" here"
	}
	t.run(what, func(ctx context.Context) error { return tk.Take(ctx, names) })
}
