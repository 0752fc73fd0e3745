package sshconf

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// JumpHost resolves the last of t's jump hosts as ssh does (ssh -J): with
// its own configuration, reached through the hops before it. nil if t has
// no ProxyJump.
func (t *Target) JumpHost() (*Target, error) {
	n := len(t.ProxyJump)
	if n == 0 {
		return nil, nil
	}
	o := Options{Files: t.ConfigFiles, Env: t.env, Resolver: t.opts.Resolver}
	if n > 1 {
		o.JumpOverride = t.ProxyJump[:n-1]
	}
	h, err := ResolveSpec(t.ProxyJump[n-1], o)
	if err != nil {
		return nil, fmt.Errorf("jump host %s: %w", t.ProxyJump[n-1], err)
	}
	return h, nil
}

// maxChain bounds a chain of jump hosts (each may have its own ProxyJump).
const maxChain = 8

// Chain lists the jump hosts t is reached through, first connection
// first, each resolved with its own configuration.
func (t *Target) Chain() ([]*Target, error) {
	var chain []*Target
	for cur := t; ; {
		h, err := cur.JumpHost()
		if err != nil || h == nil {
			return chain, err
		}
		if len(chain) >= maxChain {
			return nil, fmt.Errorf("more than %d jump hosts (do two of them jump through each other?)", maxChain)
		}
		chain = append([]*Target{h}, chain...)
		cur = h
	}
}

// Report is what perch will do for a target (perch resolve).
type Report struct {
	HostName              string   `json:"hostname"`
	Port                  int      `json:"port"`
	User                  string   `json:"user"`
	IdentityFiles         []string `json:"identity_files"`
	IdentitiesOnly        bool     `json:"identities_only"`
	KnownHostsFiles       []string `json:"known_hosts_files"`
	StrictHostKeyChecking string   `json:"strict_host_key_checking"`
	ServerAliveInterval   float64  `json:"server_alive_interval_s"`
	ServerAliveCountMax   int      `json:"server_alive_count_max"`
	ConnectTimeout        float64  `json:"connect_timeout_s"`
	ProxyJump             []string `json:"proxy_jump"`
	ProxyCommand          string   `json:"proxy_command"`
}

// reportLookupTimeout bounds NewReport's name lookups.
const reportLookupTimeout = 15 * time.Second

// NewReport describes t with the host key policy perch will apply
// ("yes", "accept-new" or "ask"), resolving its jump hosts.
func NewReport(t *Target, policy string) (*Report, error) {
	// Name lookups (CanonicalizeHostname) as ssh -G does them.
	ctx, cancel := context.WithTimeout(context.Background(), reportLookupTimeout)
	defer cancel()
	t, err := t.Final(ctx)
	if err != nil {
		return nil, err
	}
	chain, err := t.Chain()
	if err != nil {
		return nil, err
	}
	for i, h := range chain {
		if chain[i], err = h.Final(ctx); err != nil {
			return nil, fmt.Errorf("jump host %s: %w", h.Alias, err)
		}
	}
	r := &Report{
		HostName: t.HostName, Port: t.Port, User: t.User,
		IdentityFiles: nonNil(t.IdentityFiles), IdentitiesOnly: t.IdentitiesOnly,
		KnownHostsFiles:       nonNil(append(append([]string{}, t.KnownHostsFiles...), t.GlobalKnownHostsFiles...)),
		StrictHostKeyChecking: policy,
		ServerAliveInterval:   t.ServerAliveInterval.Seconds(), ServerAliveCountMax: t.ServerAliveCountMax,
		ConnectTimeout: t.ConnectTimeout.Seconds(), ProxyJump: []string{}, ProxyCommand: t.ProxyCommand,
	}
	for _, h := range chain {
		r.ProxyJump = append(r.ProxyJump, h.User+"@"+(&Spec{Host: h.HostName}).String()+":"+strconv.Itoa(h.Port))
	}
	return r, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// JSON is the report as one JSON object.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// Text is the report as "key value" lines, like ssh -G.
func (r *Report) Text() string {
	var b strings.Builder
	line := func(k string, v any) { fmt.Fprintf(&b, "%-26s %v\n", k, v) }
	line("hostname", r.HostName)
	line("port", r.Port)
	line("user", r.User)
	line("identity_files", orNone(r.IdentityFiles))
	line("identities_only", r.IdentitiesOnly)
	line("known_hosts_files", orNone(r.KnownHostsFiles))
	line("strict_host_key_checking", r.StrictHostKeyChecking)
	line("server_alive_interval_s", r.ServerAliveInterval)
	line("server_alive_count_max", r.ServerAliveCountMax)
	line("connect_timeout_s", r.ConnectTimeout)
	line("proxy_jump", orNone(r.ProxyJump))
	if r.ProxyCommand == "" {
		line("proxy_command", "none")
	} else {
		line("proxy_command", r.ProxyCommand)
	}
	return b.String()
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}
