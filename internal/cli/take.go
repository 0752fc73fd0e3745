package cli

import (
	"context"
	"fmt"
	"strings"
)

// cmdTake brings display sessions here from the location that holds them:
// those named, or all of the running profile's.
func (e *env) cmdTake(ctx context.Context, args []string) error {
	c, pos, err := e.client(args, "take", 1<<16, nil)
	if err != nil {
		return err
	}
	for _, p := range pos {
		if !strings.HasPrefix(p, ":") {
			return usagef("take: %q is not a display session (such as :10)", p)
		}
	}
	st, err := c.Take(ctx, pos)
	if err != nil {
		return clientErr(err)
	}
	what := "every session"
	if len(pos) > 0 {
		what = strings.Join(pos, ", ")
	}
	fmt.Fprintf(e.stdout, "taking %s to %s\n", what, st.Location)
	return nil
}
