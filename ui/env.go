package ui

// Before Fyne starts: a sane locale, and no autolaunched session bus.
import _ "github.com/perchdesk/perch/internal/sys/fyneenv"
