package app

import (
	"errors"
	"fmt"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/xrandr"
)

// Exit codes of perch and perch-tray.
const (
	ExitOK      = 0
	ExitFailed  = 1 // failed at run time
	ExitInvalid = 2 // bad usage, configuration or layout: nothing was applied
)

// UsageError is bad usage of a command line: exit 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef makes a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{fmt.Sprintf(format, args...)}
}

// ExitCode maps an error to perch's exit code: 0 for none, 2 for bad
// usage, a bad configuration, a refused layout or a request the agent
// refused as invalid, 1 for everything else.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *UsageError
	var aue *api.UserError
	switch {
	case errors.As(err, &ue), errors.As(err, &aue), errors.Is(err, config.ErrInvalid), errors.Is(err, xrandr.ErrLayout):
		return ExitInvalid
	}
	return ExitFailed
}
