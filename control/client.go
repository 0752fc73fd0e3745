package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"

	"github.com/perchdesk/perch/agent"
)

// Client talks to an agent's control socket.
type Client struct {
	Path string
}

// RequestError is an error the agent answered; Invalid marks bad input.
type RequestError struct {
	Msg     string
	Invalid bool
}

func (e *RequestError) Error() string { return e.Msg }

// ErrNoAgent means no agent listens on the socket.
var ErrNoAgent = errors.New("no perch agent is running")

func (c *Client) http() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", c.Path)
		},
		DisableKeepAlives: true,
	}}
}

func (c *Client) call(ctx context.Context, method, path string, body any) (agent.Status, error) {
	var st agent.Status
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return st, err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://perch"+path, rd)
	if err != nil {
		return st, err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return st, fmt.Errorf("%w (no socket at %s; start one with `perch up`)", ErrNoAgent, c.Path)
		}
		return st, fmt.Errorf("control socket %s: %w", c.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var eb ErrorBody
		if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
			return st, fmt.Errorf("control socket %s: %s", c.Path, resp.Status)
		}
		return st, &RequestError{Msg: eb.Error, Invalid: eb.Invalid}
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("control socket %s: bad answer: %w", c.Path, err)
	}
	return st, nil
}

// Status returns the agent's status.
func (c *Client) Status(ctx context.Context) (agent.Status, error) {
	return c.call(ctx, http.MethodGet, "/v1/status", nil)
}

// Switch asks for a profile, or "auto".
func (c *Client) Switch(ctx context.Context, profile string) (agent.Status, error) {
	return c.call(ctx, http.MethodPost, "/v1/switch", map[string]string{"profile": profile})
}

// Reconnect drops and re-establishes the link, or restarts one session.
func (c *Client) Reconnect(ctx context.Context, session string) (agent.Status, error) {
	return c.call(ctx, http.MethodPost, "/v1/reconnect", map[string]string{"session": session})
}

// Reload makes the agent re-read its configuration.
func (c *Client) Reload(ctx context.Context) (agent.Status, error) {
	return c.call(ctx, http.MethodPost, "/v1/reload", nil)
}

// Disconnect drops the link; Reconnect connects again.
func (c *Client) Disconnect(ctx context.Context) (agent.Status, error) {
	return c.call(ctx, http.MethodPost, "/v1/disconnect", nil)
}

// Down stops the agent.
func (c *Client) Down(ctx context.Context) (agent.Status, error) {
	return c.call(ctx, http.MethodPost, "/v1/down", nil)
}
