package sessions

import "github.com/perchdesk/perch/api"

// Status is a copy of a link's whole state.
type Status struct {
	Link     api.LinkStatus      `json:"link"`
	Sessions []api.SessionStatus `json:"sessions"`
	Forwards []api.ForwardStatus `json:"forwards"`
}
