package xrandr

import (
	"errors"
	"fmt"
)

// Server is the small part of RandR that Apply uses. Conn implements it on a
// real X connection; tests use a recording fake.
type Server interface {
	// CreateMode creates a mode on the screen and returns its ID.
	CreateMode(m Mode) (ModeID, error)
	// AddOutputMode makes an existing mode available to an output.
	AddOutputMode(o OutputID, m ModeID) error
	Grab() error
	Ungrab() error
	// SetScreenSize sets the screen size in pixels and millimetres.
	SetScreenSize(w, h, mmw, mmh int) error
	// SetCrtc configures a CRTC; mode 0 and no outputs turn it off.
	SetCrtc(c CrtcID, x, y int, mode ModeID, rot Rotation, outputs []OutputID) error
	// SetPrimary sets the primary output (0: none).
	SetPrimary(o OutputID) error
}

// StepError reports the apply step that failed, and whether the previous
// configuration was restored.
type StepError struct {
	Step     string
	Err      error
	Restored bool
	Revert   error // why restoring failed, when it did
}

func (e *StepError) Error() string {
	msg := fmt.Sprintf("%s: %v", e.Step, e.Err)
	if e.Restored {
		return msg + " (the previous layout was restored)"
	}
	if e.Revert != nil {
		return msg + fmt.Sprintf(" (restoring the previous layout failed too: %v)", e.Revert)
	}
	return msg
}

func (e *StepError) Unwrap() error { return e.Err }

// Apply sends plan p to the server in xrandr's order: create and add missing
// modes; grab the server; turn off the CRTCs that go off or no longer fit
// the new size; set the screen size; set the changed CRTCs; set the primary;
// ungrab. It changes only what differs: an unchanged plan sends nothing. If
// a step fails it restores p.Before and returns a *StepError naming the step.
// The grab is always released.
func Apply(s Server, p *Plan) (err error) {
	if p.Unchanged() {
		return nil
	}
	crtcs, err := addModes(s, p)
	if err != nil {
		return err
	}

	if err := s.Grab(); err != nil {
		return &StepError{Step: "grab the X server", Err: err}
	}
	defer func() {
		if uerr := s.Ungrab(); uerr != nil && err == nil {
			err = &StepError{Step: "ungrab the X server", Err: uerr}
		}
	}()

	before := p.Before
	fail := func(step string, cause error) error {
		rerr := restore(s, before)
		return &StepError{Step: step, Err: cause, Restored: rerr == nil, Revert: rerr}
	}

	// 1. CRTCs that go off, or stay on but would not fit the new screen.
	off := map[CrtcID]bool{}
	for _, id := range p.Disable {
		off[id] = true
	}
	for _, c := range before.Crtcs {
		if c.Mode != 0 && (c.X+c.Width > p.Width || c.Y+c.Height > p.Height) {
			off[c.ID] = true
		}
	}
	for _, c := range before.Crtcs {
		if !off[c.ID] || c.Mode == 0 {
			continue
		}
		if err := s.SetCrtc(c.ID, 0, 0, 0, RotateNormal, nil); err != nil {
			return fail(fmt.Sprintf("turn off CRTC 0x%x", uint32(c.ID)), err)
		}
	}
	// 2. Screen size.
	if p.sizeChanged() {
		if err := s.SetScreenSize(p.Width, p.Height, p.MmWidth, p.MmHeight); err != nil {
			return fail(fmt.Sprintf("set the screen size to %dx%d", p.Width, p.Height), err)
		}
	}
	// 3. The changed CRTCs (and those turned off to make room).
	for _, c := range crtcs {
		if !c.Changed && !off[c.Crtc] {
			continue
		}
		if err := s.SetCrtc(c.Crtc, c.X, c.Y, c.Mode.ID, c.Rotation, []OutputID{c.Output}); err != nil {
			return fail(fmt.Sprintf("set output %s to %s at %d,%d rotated %s", c.OutputName, c.Mode.Name, c.X, c.Y, c.Rotation), err)
		}
	}
	// 4. Primary.
	if p.primaryChanged() {
		if err := s.SetPrimary(p.Primary); err != nil {
			name := p.PrimaryName
			if name == "" {
				name = "none"
			}
			return fail(fmt.Sprintf("set the primary output to %s", name), err)
		}
	}
	return nil
}

// addModes creates and adds the modes the plan needs, and returns the
// plan's CRTCs with the new modes' IDs.
func addModes(s Server, p *Plan) ([]CrtcPlan, error) {
	crtcs := make([]CrtcPlan, len(p.Crtcs))
	copy(crtcs, p.Crtcs)
	for _, nm := range p.NewModes {
		id := nm.Mode.ID
		if nm.Create {
			var err error
			if id, err = s.CreateMode(nm.Mode); err != nil {
				return nil, &StepError{Step: fmt.Sprintf("create mode %s", nm.Mode.Name), Err: err}
			}
		}
		if err := s.AddOutputMode(nm.Output, id); err != nil {
			return nil, &StepError{Step: fmt.Sprintf("add mode %s to output %s", nm.Mode.Name, nm.OutputName), Err: err}
		}
		for i := range crtcs {
			if crtcs[i].Output == nm.Output {
				crtcs[i].Mode.ID = id
			}
		}
	}
	return crtcs, nil
}

// restore puts the configuration of st back, as xrandr's revert: every CRTC
// off, the old screen size, then every CRTC and the primary as they were.
func restore(s Server, st *State) error {
	var errs []error
	for _, c := range st.Crtcs {
		if err := s.SetCrtc(c.ID, 0, 0, 0, RotateNormal, nil); err != nil {
			errs = append(errs, fmt.Errorf("turn off CRTC 0x%x: %w", uint32(c.ID), err))
		}
	}
	if err := s.SetScreenSize(st.Width, st.Height, st.MmWidth, st.MmHeight); err != nil {
		errs = append(errs, fmt.Errorf("set the screen size back to %dx%d: %w", st.Width, st.Height, err))
	}
	for _, c := range st.Crtcs {
		if c.Mode == 0 {
			continue
		}
		if err := s.SetCrtc(c.ID, c.X, c.Y, c.Mode, c.Rotation, c.Outputs); err != nil {
			errs = append(errs, fmt.Errorf("restore CRTC 0x%x: %w", uint32(c.ID), err))
		}
	}
	if err := s.SetPrimary(st.Primary); err != nil {
		errs = append(errs, fmt.Errorf("restore the primary output: %w", err))
	}
	return errors.Join(errs...)
}
