package testbed

import (
	"fmt"
	"os/exec"
	"strings"
)

// Shape limits both directions of the veth pair to rate (in tc's words,
// "5mbit") with a token bucket (tc tbf: netem does not work here), or
// lifts the limit when rate is "".
func (n *Netns) Shape(rate string) error {
	sides := []struct {
		dev string
		cmd func(args ...string) *exec.Cmd
	}{
		{n.HostDev, func(a ...string) *exec.Cmd { return exec.Command("tc", a...) }},
		{n.NSDev, func(a ...string) *exec.Cmd { return n.Command("tc", a...) }},
	}
	for _, side := range sides {
		args := []string{"qdisc", "del", "dev", side.dev, "root"}
		if rate != "" {
			args = []string{"qdisc", "replace", "dev", side.dev, "root", "tbf", "rate", rate, "burst", "32kbit", "latency", "200ms"}
		}
		c := side.cmd(args...)
		if out, err := c.CombinedOutput(); err != nil && rate != "" {
			return fmt.Errorf("%s: %v: %s", strings.Join(c.Args, " "), err, out)
		}
	}
	return nil
}
