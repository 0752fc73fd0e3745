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
	"strings"
	"time"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/xrandr"
)

// ErrorBody is the JSON of a failed request.
type ErrorBody struct {
	Error string `json:"error"`
	// Invalid is true when the request itself was wrong (exit code 2).
	Invalid bool `json:"invalid"`
}

// Handler serves api; down is called for `perch down`.
func Handler(api API, down func()) http.Handler {
	mux := http.NewServeMux()
	var served []string // "METHOD /path", in order
	handle := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, h)
		served = append(served, pattern)
	}
	writeErr := func(w http.ResponseWriter, err error) {
		var ue *agent.UserError
		invalid := errors.As(err, &ue) || errors.Is(err, config.ErrInvalid) || errors.Is(err, xrandr.ErrLayout)
		code := http.StatusInternalServerError
		if invalid {
			code = http.StatusBadRequest
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(ErrorBody{Error: err.Error(), Invalid: invalid})
	}
	ok := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(api.Status())
	}
	handle("GET /v1/status", func(w http.ResponseWriter, r *http.Request) { ok(w) })
	// The status now and after every change, one JSON object per line, until
	// the client goes or the agent stops: front ends follow the agent
	// without polling.
	handle("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		rc := http.NewResponseController(w)
		enc := json.NewEncoder(w)
		for {
			next := api.Updated()
			if err := enc.Encode(api.Status()); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
	})
	handle("POST /v1/switch", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Profile string `json:"profile"`
		}
		if err := decode(r, &req, `{"profile":"NAME"}`); err != nil {
			writeErr(w, err)
			return
		}
		if req.Profile == "" {
			writeErr(w, &agent.UserError{Msg: `switch needs a profile: {"profile":"NAME"} (or "auto")`})
			return
		}
		if err := api.Switch(r.Context(), req.Profile); err != nil {
			writeErr(w, err)
			return
		}
		ok(w)
	})
	handle("POST /v1/reconnect", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Session string `json:"session"`
		}
		if err := decode(r, &req, `{"session":"NAME"}, or {} for the link`); err != nil {
			writeErr(w, err)
			return
		}
		if err := api.Reconnect(r.Context(), req.Session); err != nil {
			writeErr(w, err)
			return
		}
		ok(w)
	})
	handle("POST /v1/take", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Sessions []string `json:"sessions"`
		}
		if err := decode(r, &req, `{"sessions":[":10",...]}, or {} for all`); err != nil {
			writeErr(w, err)
			return
		}
		if err := api.Take(r.Context(), req.Sessions); err != nil {
			writeErr(w, err)
			return
		}
		ok(w)
	})
	handle("POST /v1/disconnect", func(w http.ResponseWriter, r *http.Request) {
		if err := api.Disconnect(r.Context()); err != nil {
			writeErr(w, err)
			return
		}
		ok(w)
	})
	handle("POST /v1/reload", func(w http.ResponseWriter, r *http.Request) {
		if err := api.Reload(r.Context()); err != nil {
			writeErr(w, err)
			return
		}
		ok(w)
	})
	handle("POST /v1/down", func(w http.ResponseWriter, r *http.Request) {
		ok(w)
		down()
	})
	// A request the socket does not serve gets a JSON answer too, so that
	// the client can say what is wrong (a perch of another version).
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := readBody(w, r); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Connection", "close")
			w.WriteHeader(err.code)
			_ = json.NewEncoder(w).Encode(ErrorBody{Error: err.msg, Invalid: true})
			return
		}
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		code, msg := http.StatusNotFound, fmt.Sprintf("%s %s: no such request", clip(r.Method), clip(r.URL.Path))
		var allow []string
		for _, p := range served {
			if method, path, _ := strings.Cut(p, " "); path == r.URL.Path {
				allow = append(allow, method)
			}
		}
		if len(allow) > 0 {
			code = http.StatusMethodNotAllowed
			msg = fmt.Sprintf("%s %s: use %s", clip(r.Method), r.URL.Path, strings.Join(allow, " or "))
			w.Header().Set("Allow", strings.Join(allow, ", "))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(ErrorBody{Error: msg + " (this agent serves " + strings.Join(served, ", ") + ")", Invalid: true})
	})
}

// Limits of a request: the socket's requests are a few bytes of JSON.
const (
	maxBody   = 16 << 10
	maxHeader = 16 << 10
	maxEcho   = 200 // bytes of a request quoted back in an error
)

// bodyTimeout bounds the reading of a request's body; a variable for the
// tests.
var bodyTimeout = 5 * time.Second

type bodyError struct {
	code int
	msg  string
}

// readBody reads the whole body of r (at most maxBody bytes, within
// bodyTimeout) and puts it back in r.Body, so that a request sent slowly
// or without end holds neither a handler nor memory.
func readBody(w http.ResponseWriter, r *http.Request) *bodyError {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(bodyTimeout))
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	// A background read of the server watches for the client going: it
	// must not time out while the request is carried out.
	_ = rc.SetReadDeadline(time.Time{})
	var tooBig *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &tooBig):
		return &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d KiB", maxBody>>10)}
	case errors.As(err, &ne) && ne.Timeout():
		return &bodyError{http.StatusRequestTimeout, fmt.Sprintf("request body not received within %s", bodyTimeout)}
	case err != nil:
		return &bodyError{http.StatusBadRequest, "request body: " + clip(err.Error())}
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

// clip shortens text from a request for quoting it back.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return strings.ToValidUTF8(s[:maxEcho], "") + "…"
}

// decode reads a request's JSON body into v. An empty body is the empty
// request; anything else must be one JSON object with only v's fields, so
// that a mangled request is refused before it does anything.
func decode(r *http.Request, v any, want string) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			err = errors.New("data after the JSON object")
		}
	}
	if err != nil {
		return &agent.UserError{Msg: fmt.Sprintf("%s %s: bad request body (%s); want %s", r.Method, r.URL.Path, clip(err.Error()), want)}
	}
	return nil
}

// Serve serves api on ln until ctx ends; then it closes ln (removing the
// socket file), ends the event streams and waits for the requests in
// flight, at most 5 s.
func Serve(ctx context.Context, ln net.Listener, api API, down func()) error {
	srv := &http.Server{Handler: Handler(api, down), ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: maxHeader,
		// Requests see ctx end, so /v1/events streams stop with the server.
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	<-errc
	return nil
}
