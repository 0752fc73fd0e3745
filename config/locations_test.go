package config

import (
	"testing"
	"time"
)

func TestLocationKeys(t *testing.T) {
	c, err := Parse("c.toml", []byte("location = \"desk\"\n[profile.a]\ntake = \"if-free\"\nfollow = \"activity\"\nfollow_after = \"2s\"\n[[profile.a.output]]\nname = \"X\"\n[profile.b]\n[[profile.b.output]]\nname = \"X\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Profiles["a"], c.Profiles["b"]
	if c.Location != "desk" || a.Take != TakeIfFree || a.Follow != FollowActivity || a.FollowAfter != 2*time.Second {
		t.Errorf("location %q, a: take %q follow %q after %s", c.Location, a.Take, a.Follow, a.FollowAfter)
	}
	if b.Take != TakeAlways || b.Follow != FollowOff || b.FollowAfter != DefaultFollowAfter {
		t.Errorf("defaults: take %q follow %q after %s", b.Take, b.Follow, b.FollowAfter)
	}
	c, err = Parse("c.toml", []byte("[profile.b]\n[[profile.b.output]]\nname = \"X\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Location != DefaultLocation() || !validLocation(c.Location) {
		t.Errorf("default location %q (host name gives %q)", c.Location, DefaultLocation())
	}
}
