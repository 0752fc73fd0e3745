package config

import (
	"os"
	"strings"
	"time"
)

// DefaultLocation is the location of a configuration that names none: the
// machine's host name up to its first dot, reduced to the characters a
// location may have ("here" when nothing is left).
func DefaultLocation() string {
	h, _ := os.Hostname()
	h, _, _ = strings.Cut(h, ".")
	h = strings.Map(func(r rune) rune {
		if locationRune(r) {
			return r
		}
		return -1
	}, h)
	if len(h) > 64 {
		h = h[:64]
	}
	if h == "" {
		return "here"
	}
	return h
}

func locationRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

// validLocation: 1 to 64 letters, digits, '.', '_' or '-', so that the
// name travels in the claims on the server without quoting.
func validLocation(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !locationRune(r) {
			return false
		}
	}
	return true
}

// parseLocations reads a profile's take, follow and follow_after keys.
func (p *Profile) parseLocations(rp rawProfile, key string, errAt func(key, format string, args ...any) error) error {
	switch rp.Take {
	case "":
		p.Take = TakeAlways
	case TakeAlways, TakeIfFree:
		p.Take = rp.Take
	default:
		return errAt(key+".take", "%q: want %q (take the sessions from wherever they are) or %q (only those no live location holds)", rp.Take, TakeAlways, TakeIfFree)
	}
	switch rp.Follow {
	case "":
		p.Follow = FollowOff
	case FollowActivity, FollowOff:
		p.Follow = rp.Follow
	default:
		return errAt(key+".follow", "%q: want %q (input here takes the sessions) or %q", rp.Follow, FollowActivity, FollowOff)
	}
	p.FollowAfter = DefaultFollowAfter
	if rp.FollowAfter != "" {
		d, err := time.ParseDuration(rp.FollowAfter)
		if err != nil || d <= 0 {
			return errAt(key+".follow_after", "%q is not a positive duration such as \"30s\"", rp.FollowAfter)
		}
		p.FollowAfter = d
	}
	return nil
}
