package claims

import "time"

// Where a display is, for a display session of this agent.
type Where int

const (
	// Free: no live claim of another agent holds it and no other xpra
	// client was seen on it: this agent may claim it and attach.
	Free Where = iota
	// AtLocation: another location's live claim holds it.
	AtLocation
	// OtherClient: no location holds it, but another xpra client does
	// (a look counted one).
	OtherClient
)

// Facts are what a display session knows of itself.
type Facts struct {
	Display int
	Agent   string // this agent's id
	// Take: the session is asked to take its display back (perch take,
	// follow, take = "always" at its start).
	Take bool
	// MinAge (with Take, under follow): a display another location took
	// less than MinAge ago stays where it is.
	MinAge time.Duration
}

// Place is where the display is, and (AtLocation) which location holds it.
type Place struct {
	Where    Where
	Location string
}

// Decide places a display session from a snapshot of the claims: a live
// claim of another agent keeps the display there unless the session takes
// it (and the claim is not younger than MinAge); without one, a look that
// counted xpra clients on the display means another client holds it,
// unless the session takes it. Otherwise it is Free.
func Decide(s *Snapshot, f Facts) Place {
	c, live := s.Holder(f.Display)
	if live && c.Agent != f.Agent {
		young := f.MinAge > 0 && time.Duration(s.Now-c.At)*time.Second < f.MinAge
		if !f.Take || young {
			return Place{Where: AtLocation, Location: c.Location}
		}
		return Place{Where: Free}
	}
	if !f.Take && s.XClients[f.Display] > 0 {
		return Place{Where: OtherClient}
	}
	return Place{Where: Free}
}
