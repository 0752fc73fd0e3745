// Command baretray is the anchor of perch-tray's memory benchmark: a bare
// Fyne app with a tray menu and nothing else.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
)

func main() {
	a := app.NewWithID("io.github.perchdesk.baretray")
	desk, ok := a.(desktop.App)
	if !ok {
		panic("not a desktop app")
	}
	desk.SetSystemTrayMenu(fyne.NewMenu("bare",
		fyne.NewMenuItem("one", func() {}),
		fyne.NewMenuItem("two", func() {}),
		fyne.NewMenuItem("Quit", a.Quit),
	))
	a.Run()
}
