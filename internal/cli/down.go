package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/control"
)

func newDownCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "down",
		Short: "stop the running agent",
		Long:  "down stops the running agent (its sessions and link) and waits until it has stopped; the layout stays.",
	}
	return e.clientCmd(c, 0, func(c *cobra.Command, cl *control.Client, _ []string) error {
		st, err := cl.Down(c.Context())
		if err != nil {
			return clientErr(err)
		}
		// Wait for the socket to go: the agent has then stopped everything.
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(cl.Path); errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(e.stdout, "perch agent (pid %d) stopped\n", st.PID)
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return fmt.Errorf("the agent (pid %d) did not stop within 30s", st.PID)
	})
}
