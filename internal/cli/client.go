package cli

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/control"
)

// addSocketFlag adds --socket, the running agent's control socket.
func addSocketFlag(c *cobra.Command, sock *string) {
	c.Flags().StringVar(sock, "socket", "", "control socket (default $XDG_RUNTIME_DIR/perch/control.sock)")
}

func (e *env) socketPath(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return control.DefaultPath(e.getenv)
}

// clientCmd is a command that asks the running agent something through
// its control socket: it has --socket and at most maxArgs arguments, and
// run gets the client.
func (e *env) clientCmd(c *cobra.Command, maxN int, run func(c *cobra.Command, cl *control.Client, args []string) error) *cobra.Command {
	var sock string
	addSocketFlag(c, &sock)
	if c.Args == nil {
		c.Args = maxArgs(maxN)
	}
	c.RunE = func(c *cobra.Command, args []string) error {
		return run(c, &control.Client{Path: e.socketPath(sock)}, args)
	}
	if c.ValidArgsFunction == nil {
		c.ValidArgsFunction = cobra.NoFileCompletions
	}
	return c
}

// clientErr maps an agent's answer to exit codes: bad input is 2.
func clientErr(err error) error {
	var re *control.RequestError
	if errors.As(err, &re) && re.Invalid {
		return usagef("%s", re.Msg)
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
