// Package ui is perch's desktop front end, perch-tray: a system tray icon
// and menu, a status window with a picture of the layout, and
// notifications. It is the only package that imports Fyne.
//
// The agent is reached through the small Backend interface, implemented
// both by an in-process agent (AgentBackend) and by the control
// socket of a running `perch up` (ClientBackend). What the tray shows is
// computed by pure functions (Present, Transitions) and table-tested; the
// Fyne layer (Tray) only renders their result.
//
// # Threading
//
// Fyne runs every callback on its UI goroutine. Tray's fields and widgets
// are touched only there: its watch goroutine reads the back end and hands
// the result over with fyne.Do, and menu actions run the (blocking) back
// end calls on goroutines the Tray owns and waits for in Wait.
package ui
