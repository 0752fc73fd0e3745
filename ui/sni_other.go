//go:build !((linux || freebsd || openbsd || netbsd) && !android)

package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// NewStatusNotifier is the app's own system tray (desktop.App) where there
// is no StatusNotifierItem, nil without one.
func NewStatusNotifier(app fyne.App) SystemTray {
	if d, ok := app.(desktop.App); ok {
		return d
	}
	return nil
}
