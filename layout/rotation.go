package layout

import (
	"fmt"
	"strings"
)

// Rotation is a rotation as RandR numbers it (its bits are RandR's, so the
// RandR backend sends it as it is; the Wayland backends translate).
type Rotation uint16

// The rotations, as RandR's bits, and RandR's reflection bits.
const (
	RotateNormal   Rotation = 1
	RotateLeft     Rotation = 2 // 90° counter-clockwise, as xrandr --rotate left
	RotateInverted Rotation = 4
	RotateRight    Rotation = 8
	ReflectX       Rotation = 16
	ReflectY       Rotation = 32
	// AllRotations is the set of the four rotations.
	AllRotations = RotateNormal | RotateLeft | RotateInverted | RotateRight
)

// String gives xrandr's name for a rotation: normal, left, inverted, right.
func (r Rotation) String() string {
	switch r & 0xf {
	case RotateNormal, 0:
		return "normal"
	case RotateLeft:
		return "left"
	case RotateInverted:
		return "inverted"
	case RotateRight:
		return "right"
	}
	return fmt.Sprintf("rotation(%d)", uint16(r))
}

// Swaps reports whether the rotation exchanges width and height.
func (r Rotation) Swaps() bool { return r&(RotateLeft|RotateRight) != 0 }

// ParseRotation parses xrandr's rotation names; "" means normal.
func ParseRotation(s string) (Rotation, error) {
	switch s {
	case "", "normal":
		return RotateNormal, nil
	case "left":
		return RotateLeft, nil
	case "right":
		return RotateRight, nil
	case "inverted":
		return RotateInverted, nil
	}
	return 0, fmt.Errorf("unknown rotation %q (want normal, left, right or inverted)", s)
}

// List names the rotations in a set, in the order normal, left, inverted,
// right.
func (r Rotation) List() []string {
	var out []string
	for _, x := range []Rotation{RotateNormal, RotateLeft, RotateInverted, RotateRight} {
		if r&x != 0 {
			out = append(out, x.String())
		}
	}
	return out
}

// Names lists the rotations in a set for messages ("none" when empty).
func (r Rotation) Names() string {
	if l := r.List(); len(l) > 0 {
		return strings.Join(l, ", ")
	}
	return "none"
}

// FromWayland maps a wl_output transform (which Mutter and wlroots use:
// 1 is 90° counter-clockwise, as xrandr's left) to a rotation; the flipped
// transforms 4-7 read as their rotation.
func FromWayland(t uint32) Rotation {
	return [...]Rotation{RotateNormal, RotateLeft, RotateInverted, RotateRight}[t&3]
}

// Wayland is the rotation as a wl_output transform (0 normal, 1 90°,
// 2 180°, 3 270°).
func (r Rotation) Wayland() uint32 {
	switch r & 0xf {
	case RotateLeft:
		return 1
	case RotateInverted:
		return 2
	case RotateRight:
		return 3
	}
	return 0
}
