// Package layout is perch's backend-neutral layout planner: what a profile
// asks of the monitors (Layout), and the pure function that checks it and
// places every output (Arrange); the RandR, wlroots and Mutter backends only
// read their state and apply what it decided.
package layout

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrLayout marks a layout that was refused before anything was touched:
// the user's input, not the display server, is at fault.
var ErrLayout = errors.New("layout refused")

// LayoutError is a refusal of the planner, naming the output concerned.
type LayoutError struct {
	Output string // may be empty for screen-wide refusals
	Msg    string
}

func (e *LayoutError) Error() string {
	if e.Output == "" {
		return e.Msg
	}
	return "output " + e.Output + ": " + e.Msg
}

// Is lets errors.Is(err, ErrLayout) match every planner refusal.
func (e *LayoutError) Is(target error) bool { return target == ErrLayout }

// Refuse returns a *LayoutError about output ("" for the whole screen).
func Refuse(output, format string, args ...any) error {
	return &LayoutError{Output: output, Msg: fmt.Sprintf(format, args...)}
}

// Layout is what a profile asks of the screen: the outputs to use. Every
// output it does not list is turned off.
type Layout struct {
	Outputs []OutputSpec
}

// OutputSpec is one output of a Layout.
type OutputSpec struct {
	Name    string
	Mode    string // "" or "preferred", "WxH", "WxH@Hz"
	Primary bool
	Rotate  Rotation // 0 means normal
	RightOf string
	LeftOf  string
	Above   string
	Below   string
	Pos     *Point // absolute position, before the final shift to 0,0
	Force   bool   // use even though it reports disconnected
}

// Point is a position on the screen.
type Point struct{ X, Y int }

// ParsePos parses "X,Y" (xrandr's "XxY" is accepted too).
func ParsePos(s string) (Point, error) {
	sep := strings.IndexAny(s, ",x")
	if sep < 0 {
		return Point{}, fmt.Errorf("position %q: want \"X,Y\"", s)
	}
	x, err1 := strconv.Atoi(strings.TrimSpace(s[:sep]))
	y, err2 := strconv.Atoi(strings.TrimSpace(s[sep+1:]))
	if err1 != nil || err2 != nil || x < -32768 || y < -32768 || x > 32767 || y > 32767 {
		return Point{}, fmt.Errorf("position %q: want \"X,Y\" with whole numbers", s)
	}
	return Point{x, y}, nil
}

// ModeRequest is a parsed mode string.
type ModeRequest struct {
	Preferred     bool
	Width, Height int
	Refresh       float64 // 0: any
}

// ParseMode parses "preferred", "WxH" or "WxH@Hz".
func ParseMode(s string) (ModeRequest, error) {
	if s == "" || s == "preferred" {
		return ModeRequest{Preferred: true}, nil
	}
	size, rate, hasRate := strings.Cut(s, "@")
	ws, hs, ok := strings.Cut(size, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > 32767 || h > 32767 {
		return ModeRequest{}, fmt.Errorf("mode %q: want \"preferred\", \"WxH\" or \"WxH@Hz\"", s)
	}
	req := ModeRequest{Width: w, Height: h}
	if hasRate {
		r, err := strconv.ParseFloat(rate, 64)
		if err != nil || r <= 0 || r > 1000 || math.IsNaN(r) {
			return ModeRequest{}, fmt.Errorf("mode %q: refresh %q is not a rate in Hz", s, rate)
		}
		req.Refresh = r
	}
	return req, nil
}
