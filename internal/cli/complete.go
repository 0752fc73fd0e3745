package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/control"
)

// Dynamic completion (perch completion bash|zsh|fish): profile and server
// names come from the configuration (--config as typed so far), profile
// and session names of a running agent from its control socket. A broken
// file or no agent completes nothing rather than failing.

type completeFunc = func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective)

const noFiles = cobra.ShellCompDirectiveNoFileComp

func completeConfigFile(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return []cobra.Completion{"toml"}, cobra.ShellCompDirectiveFilterFileExt
}

// completeDisplays lists the local X servers' sockets as :N.
func completeDisplays(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	socks, _ := filepath.Glob("/tmp/.X11-unix/X*")
	var out []cobra.Completion
	for _, s := range socks {
		out = append(out, ":"+strings.TrimPrefix(filepath.Base(s), "X"))
	}
	return out, noFiles
}

// profileCompletions are the configuration's profiles, described by their
// server and outputs.
func profileCompletions(cfg *config.Config) []cobra.Completion {
	var out []cobra.Completion
	for _, name := range cfg.Order {
		p, err := cfg.Profile(name)
		if err != nil {
			continue
		}
		desc := fmt.Sprintf("%d outputs", len(p.Outputs))
		if p.Server != "" {
			desc += ", server " + p.Server
		}
		out = append(out, cobra.CompletionWithDesc(name, desc))
	}
	return out
}

// completeProfiles completes the first argument with the configuration's
// profiles (and auto).
func (e *env) completeProfiles(withAuto bool) completeFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, noFiles
		}
		var out []cobra.Completion
		if cfg, err := e.loadConfig(); err == nil {
			out = profileCompletions(cfg)
		}
		if withAuto {
			out = append(out, cobra.CompletionWithDesc(config.Auto, "the profile whose match list fits the connected outputs"))
		}
		return out, noFiles
	}
}

// agentStatus asks the running agent, if there is one, within a second.
func (e *env) agentStatus(c *cobra.Command) (api.Status, bool) {
	sock, _ := c.Flags().GetString("socket")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := (&control.Client{Path: e.socketPath(sock)}).Status(ctx)
	return st, err == nil
}

// completeAgentProfiles: the running agent's profiles (its configuration
// may not be the one --config names), else the configuration's; and auto.
func (e *env) completeAgentProfiles(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, noFiles
	}
	st, ok := e.agentStatus(c)
	if !ok {
		return e.completeProfiles(true)(c, args, toComplete)
	}
	var out []cobra.Completion
	for _, p := range st.Profiles {
		out = append(out, cobra.CompletionWithDesc(p, "profile of the running agent"))
	}
	return append(out, cobra.CompletionWithDesc(config.Auto, "the profile whose match list fits the connected outputs")), noFiles
}

// completeSessions: the running agent's sessions.
func (e *env) completeSessions(c *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, noFiles
	}
	st, ok := e.agentStatus(c)
	if !ok {
		return nil, noFiles
	}
	var out []cobra.Completion
	for _, s := range st.Sessions {
		out = append(out, cobra.CompletionWithDesc(s.Name, string(s.State)))
	}
	return out, noFiles
}

// completeServers completes exec's SERVER; the command after it is the
// remote's, so nothing local is offered.
func (e *env) completeServers(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, noFiles
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, noFiles
	}
	var out []cobra.Completion
	for _, name := range serverNames(cfg) {
		out = append(out, cobra.CompletionWithDesc(name, cfg.Servers[name].SSH))
	}
	return out, noFiles
}
