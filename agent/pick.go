package agent

import (
	"fmt"
	"slices"
	"strings"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/xrandr"
)

// Pick chooses the profile for the connected outputs: among the profiles
// whose match list is satisfied (every entry, an output name or an EDID
// fingerprint, is connected), the most specific (longest list) wins. No
// match, or a tie at the top, is an error naming the candidates.
func Pick(cfg *config.Config, st *xrandr.State) (string, error) {
	connected := st.Connected()
	var best []string
	bestLen := 0
	for _, name := range cfg.Order {
		p := cfg.Profiles[name]
		if len(p.Match) == 0 {
			continue
		}
		ok := true
		for _, m := range p.Match {
			if !slices.Contains(connected, m) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		switch {
		case len(p.Match) > bestLen:
			best, bestLen = []string{name}, len(p.Match)
		case len(p.Match) == bestLen:
			best = append(best, name)
		}
	}
	var names []string
	for _, o := range st.Outputs {
		if o.Connected {
			names = append(names, o.Name)
		}
	}
	switch len(best) {
	case 0:
		return "", &api.UserError{Msg: fmt.Sprintf("auto: no profile's match list is satisfied by the connected outputs (%s)", strings.Join(names, ", "))}
	case 1:
		return best[0], nil
	}
	return "", &api.UserError{Msg: fmt.Sprintf("auto: profiles %s match the connected outputs (%s) equally (%d entries each); make one more specific",
		strings.Join(best, " and "), strings.Join(names, ", "), bestLen)}
}
