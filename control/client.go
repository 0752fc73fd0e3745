package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"

	"github.com/perchdesk/perch/api"
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
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return c.dial(ctx) },
		DisableKeepAlives: true,
	}}
}

// UntrustedError: what listens on the socket may be another user's: the
// client does not talk to it.
type UntrustedError struct{ Msg string }

func (e *UntrustedError) Error() string { return e.Msg }

// dial connects to the agent, believing it only when the socket's
// directory is this user's own and not writable by others, and the peer
// is a process of this user (SO_PEERCRED): another user who made the
// directory first, or put a socket in it, gets nothing sent.
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	if err := checkDir(filepath.Dir(c.Path)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, &UntrustedError{fmt.Sprintf("not talking to the agent at %s: %v", c.Path, err)}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.Path)
	if err != nil {
		return nil, err
	}
	if uid, err := PeerUID(conn); err != nil || uid != os.Getuid() {
		conn.Close()
		if err != nil {
			return nil, &UntrustedError{fmt.Sprintf("not talking to the agent at %s: its user is unknown: %v", c.Path, err)}
		}
		return nil, &UntrustedError{fmt.Sprintf("not talking to the agent at %s: it runs as uid %d, not as you (uid %d)", c.Path, uid, os.Getuid())}
	}
	return conn, nil
}

func (c *Client) call(ctx context.Context, method, path string, body any) (api.Status, error) {
	var st api.Status
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("control socket %s: bad answer: %w", c.Path, err)
	}
	return st, nil
}

// do sends a request and returns a 200 answer; any other answer is an
// error (a *RequestError when the agent says why).
func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	rd := bytes.NewReader(nil)
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://perch"+path, rd)
	if err != nil {
		return nil, err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("%w (no socket at %s; start one with `perch up`)", ErrNoAgent, c.Path)
		}
		if ue := (*UntrustedError)(nil); errors.As(err, &ue) {
			return nil, ue
		}
		return nil, fmt.Errorf("control socket %s: %w", c.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var eb ErrorBody
		if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
			return nil, fmt.Errorf("control socket %s: %s", c.Path, resp.Status)
		}
		return nil, &RequestError{Msg: eb.Error, Invalid: eb.Invalid}
	}
	return resp, nil
}

// ErrStreamEnded means the agent ended the event stream (it stopped).
var ErrStreamEnded = errors.New("the perch agent ended the event stream")

// Watch calls fn with the agent's status now and after every change, until
// ctx ends (it then returns ctx's error) or the stream breaks: the agent
// stopped (ErrStreamEnded) or cannot be reached.
func (c *Client) Watch(ctx context.Context, fn func(api.Status)) error {
	resp, err := c.do(ctx, http.MethodGet, "/v1/events", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var st api.Status
		err := dec.Decode(&st)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case errors.Is(err, io.EOF):
			return ErrStreamEnded
		case err != nil:
			return fmt.Errorf("control socket %s: event stream: %w", c.Path, err)
		}
		fn(st)
	}
}

// Status returns the agent's status.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	return c.call(ctx, http.MethodGet, "/v1/status", nil)
}

// Switch asks for a profile, or "auto".
func (c *Client) Switch(ctx context.Context, profile string) (api.Status, error) {
	return c.call(ctx, http.MethodPost, "/v1/switch", map[string]string{"profile": profile})
}

// Reconnect drops and re-establishes the link, or restarts one session.
func (c *Client) Reconnect(ctx context.Context, session string) (api.Status, error) {
	return c.call(ctx, http.MethodPost, "/v1/reconnect", map[string]string{"session": session})
}

// Take brings display sessions here (all when none is named).
func (c *Client) Take(ctx context.Context, sessions []string) (api.Status, error) {
	return c.call(ctx, http.MethodPost, "/v1/take", map[string][]string{"sessions": sessions})
}

// Reload makes the agent re-read its configuration.
func (c *Client) Reload(ctx context.Context) (api.Status, error) {
	return c.call(ctx, http.MethodPost, "/v1/reload", nil)
}

// Disconnect drops the link; Reconnect connects again.
func (c *Client) Disconnect(ctx context.Context) (api.Status, error) {
	return c.call(ctx, http.MethodPost, "/v1/disconnect", nil)
}

// Down stops the agent.
func (c *Client) Down(ctx context.Context) (api.Status, error) {
	return c.call(ctx, http.MethodPost, "/v1/down", nil)
}
