package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/perchdesk/perch/config"
)

// Titles of the windows perch-tray shows when it cannot start: no
// configuration, or one it cannot use.
const (
	FirstRunTitle    = "perch: no configuration"
	ConfigErrorTitle = "perch: configuration error"
)

// Labels of the first-run window's buttons.
const (
	RunInitLabel = "Write a configuration"
	StartLabel   = "Start perch"
	CloseLabel   = "Close"
)

// FirstRun tells the person who started perch-tray (from a menu or the
// session's autostart, where nobody reads stderr) that there is no
// configuration at path, and offers the first run: `perch init --server
// HOST` with the server they type, its output shown. Once it wrote the
// file, "Start perch" runs perch-tray again with the same arguments (the
// process replaces itself); closing the window quits. It runs the app
// until then, or until ctx ends, and returns the exit status: 2, the
// configuration is still missing. Call it on the main goroutine instead of
// the tray's app.Run.
func FirstRun(ctx context.Context, app fyne.App, path string, cause error) int {
	w := app.NewWindow(FirstRunTitle)
	intro := widget.NewLabel(firstRunText(path, cause))
	intro.Wrapping = fyne.TextWrapWord
	server := widget.NewEntry()
	server.SetPlaceHolder("server: a Host from ~/.ssh/config, or user@host")
	out := widget.NewLabel("")
	out.Wrapping = fyne.TextWrapWord
	out.TextStyle.Monospace = true
	start := widget.NewButton(StartLabel, func() { restartSelf(out) })
	start.Hide()
	var run *widget.Button
	run = widget.NewButton(RunInitLabel, func() {
		run.Disable()
		out.SetText("running perch init …")
		host := strings.TrimSpace(server.Text)
		go func() {
			text, err := runInit(ctx, path, host)
			fyne.Do(func() {
				run.Enable()
				if err != nil {
					out.SetText(text + "\n" + err.Error())
					return
				}
				out.SetText(text + "\nThe configuration is written: start perch.")
				start.Show()
			})
		}()
	})
	w.SetContent(container.NewVBox(intro, server, container.NewHBox(run, start, widget.NewButton(CloseLabel, app.Quit)), out))
	return runWindow(ctx, app, w)
}

// ConfigError tells the person who started perch-tray why its
// configuration cannot be used (the error names the file, line and key),
// until they close the window or ctx ends; it returns the exit status, 2.
// Call it on the main goroutine instead of the tray's app.Run.
func ConfigError(ctx context.Context, app fyne.App, cause error) int {
	w := app.NewWindow(ConfigErrorTitle)
	msg := widget.NewLabel("perch-tray cannot start: its configuration has an error.\n\n" + cause.Error() +
		"\n\nFix the file (perch check says what is wrong), then start perch-tray again.")
	msg.Wrapping = fyne.TextWrapWord
	w.SetContent(container.NewVBox(msg, container.NewHBox(widget.NewButton(CloseLabel, app.Quit))))
	return runWindow(ctx, app, w)
}

// runWindow shows w and runs the app until w closes or ctx ends: exit
// status 2.
func runWindow(ctx context.Context, app fyne.App, w fyne.Window) int {
	w.SetIcon(AppIcon())
	w.Resize(fyne.NewSize(560, 320))
	w.SetOnClosed(app.Quit)
	w.Show()
	stop := context.AfterFunc(ctx, func() { fyne.Do(app.Quit) })
	defer stop()
	app.Run()
	return 2
}

// firstRunText says what is missing and what the first run does.
func firstRunText(path string, cause error) string {
	what := cause.Error()
	if path != "" {
		what = "perch has no configuration file at " + path + "."
	}
	return what + "\n\n" +
		"The configuration says how to arrange your monitors and which server's sessions to attach. " +
		"The first run writes one for what is on screen now: it reads your monitors and ~/.ssh/config, " +
		"connects to the server you name and lists the xpra displays running there. " +
		"From a terminal: perch init (or perch layout save NAME for the layout alone)."
}

// runInit runs `perch --config PATH init --server HOST` and returns its
// output.
func runInit(ctx context.Context, path, host string) (string, error) {
	if host == "" {
		return "", errors.New("name the server first")
	}
	perch, err := siblingPerch()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, perch, "--config", path, "init", "--server", host)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return strings.TrimSpace(string(b)), fmt.Errorf("perch init failed: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// siblingPerch is the perch command installed beside this program, else
// the one on $PATH.
func siblingPerch() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "perch")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath("perch")
	if err != nil {
		return "", fmt.Errorf("the perch command is not installed beside perch-tray nor on $PATH: %w", err)
	}
	return p, nil
}

// restartSelf replaces this process by a new perch-tray with the same
// arguments; on failure it says why in out.
func restartSelf(out *widget.Label) {
	self, err := os.Executable()
	if err == nil {
		err = syscall.Exec(self, os.Args, os.Environ())
	}
	out.SetText("cannot start perch-tray again: " + err.Error())
}

// CannotStart shows why perch-tray cannot start on display (when there is
// one: nobody reads stderr under a menu or the autostart): the first-run
// window when the file at path does not exist, else the error. It returns
// the exit status, 2.
func CannotStart(ctx context.Context, app fyne.App, display, path string, cause error) int {
	switch {
	case display == "":
		return 2
	case errors.Is(cause, config.ErrNoFile):
		return FirstRun(ctx, app, path, cause)
	}
	return ConfigError(ctx, app, cause)
}
