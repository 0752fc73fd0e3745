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

	"github.com/perchdesk/perch/api"
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
	s := &server{api: api, down: down}
	mux := http.NewServeMux()
	var served []string // "METHOD /path", in order
	for _, rt := range s.routes() {
		mux.HandleFunc(rt.pattern, rt.handle)
		served = append(served, rt.pattern)
	}
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
		unknown(w, r, served)
	})
}

// route is one request the socket serves.
type route struct {
	pattern string // "METHOD /path"
	handle  http.HandlerFunc
}

// server answers the socket's requests with api.
type server struct {
	api  API
	down func()
}

// routes lists the requests served, in the order the answer to an unknown
// request names them.
func (s *server) routes() []route {
	return []route{
		{"GET /v1/status", s.status},
		{"GET /v1/events", s.events},
		{"POST /v1/switch", s.switchProfile},
		{"POST /v1/reconnect", s.reconnect},
		{"POST /v1/take", s.take},
		{"POST /v1/disconnect", s.disconnect},
		{"POST /v1/reload", s.reload},
		{"POST /v1/down", s.stop},
	}
}

// unknown answers a request the socket does not serve with JSON too, so
// that the client can say what is wrong (a perch of another version).
func unknown(w http.ResponseWriter, r *http.Request, served []string) {
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
}

// writeErr answers a failed request: 400 when the request itself was wrong,
// 500 otherwise.
func writeErr(w http.ResponseWriter, err error) {
	var ue *api.UserError
	invalid := errors.As(err, &ue) || errors.Is(err, config.ErrInvalid) || errors.Is(err, xrandr.ErrLayout)
	code := http.StatusInternalServerError
	if invalid {
		code = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(ErrorBody{Error: err.Error(), Invalid: invalid})
}

// ok answers a request that succeeded with the status.
func (s *server) ok(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.api.Status())
}

// answer answers with the status, or with err when there is one.
func (s *server) answer(w http.ResponseWriter, err error) {
	if err != nil {
		writeErr(w, err)
		return
	}
	s.ok(w)
}

func (s *server) status(w http.ResponseWriter, r *http.Request) { s.ok(w) }

// events sends the status now and after every change, one JSON object per
// line, until the client goes or the agent stops: front ends follow the
// agent without polling.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	for {
		next := s.api.Updated()
		if err := enc.Encode(s.api.Status()); err != nil {
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
}

func (s *server) switchProfile(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Profile string `json:"profile"`
	}
	if err := decode(r, &req, `{"profile":"NAME"}`); err != nil {
		writeErr(w, err)
		return
	}
	if req.Profile == "" {
		writeErr(w, &api.UserError{Msg: `switch needs a profile: {"profile":"NAME"} (or "auto")`})
		return
	}
	s.answer(w, s.api.Switch(r.Context(), req.Profile))
}

func (s *server) reconnect(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Session string `json:"session"`
	}
	if err := decode(r, &req, `{"session":"NAME"}, or {} for the link`); err != nil {
		writeErr(w, err)
		return
	}
	s.answer(w, s.api.Reconnect(r.Context(), req.Session))
}

func (s *server) take(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Sessions []string `json:"sessions"`
	}
	if err := decode(r, &req, `{"sessions":[":10",...]}, or {} for all`); err != nil {
		writeErr(w, err)
		return
	}
	s.answer(w, s.api.Take(r.Context(), req.Sessions))
}

func (s *server) disconnect(w http.ResponseWriter, r *http.Request) {
	s.answer(w, s.api.Disconnect(r.Context()))
}

func (s *server) reload(w http.ResponseWriter, r *http.Request) {
	s.answer(w, s.api.Reload(r.Context()))
}

// stop answers `perch down`, then stops the agent.
func (s *server) stop(w http.ResponseWriter, r *http.Request) {
	s.ok(w)
	s.down()
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
		return &api.UserError{Msg: fmt.Sprintf("%s %s: bad request body (%s); want %s", r.Method, r.URL.Path, clip(err.Error()), want)}
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
