package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/perchdesk/perch/api"
)

// Fuzz targets for the control socket's bytes: requests as the agent
// decodes them (FuzzHandler) and answers as the client decodes them
// (FuzzClientAnswer). Seeds are in testdata/fuzz/<FuzzName>.

// fuzzAPI records what the handler asked for.
type fuzzAPI struct {
	switched, reconnected *string
	reloaded, down        bool
}

func (a *fuzzAPI) Status() api.Status       { return api.Status{PID: 42, Profile: "desk"} }
func (a *fuzzAPI) Updated() <-chan struct{} { return nil }
func (a *fuzzAPI) Switch(_ context.Context, p string) error {
	a.switched = &p
	if p == "attic" {
		return &api.UserError{Msg: `no profile "attic"`}
	}
	return nil
}
func (a *fuzzAPI) Reconnect(_ context.Context, s string) error { a.reconnected = &s; return nil }
func (a *fuzzAPI) Reload(context.Context) error                { a.reloaded = true; return errors.New("boom") }
func (a *fuzzAPI) Disconnect(context.Context) error            { return nil }
func (a *fuzzAPI) Take(context.Context, []string) error        { return nil }

func FuzzHandler(f *testing.F) {
	f.Add("POST", "/v1/switch", []byte(`{"profile":"desk"}`))
	f.Add("GET", "/v1/status", []byte(nil))
	f.Add("GET", "/v1/events", []byte(nil))
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		// The client is gone already: the event stream answers the status
		// now and ends; every other route does not look at the context.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req, err := http.NewRequestWithContext(ctx, method, "http://perch"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		fake := &fuzzAPI{}
		rec := httptest.NewRecorder()
		Handler(fake, func() { fake.down = true }).ServeHTTP(rec, req)
		route := req.Method + " " + req.URL.Path
		known := map[string]bool{"GET /v1/status": true, "POST /v1/switch": true, "POST /v1/reconnect": true,
			"POST /v1/disconnect": true, "POST /v1/reload": true, "POST /v1/down": true}
		if route == "GET /v1/events" {
			var st api.Status
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/x-ndjson" ||
				json.Unmarshal(rec.Body.Bytes(), &st) != nil || st.PID != 42 || fake.switched != nil || fake.reconnected != nil || fake.reloaded || fake.down {
				t.Fatalf("%s answered %d %q and acted: %+v", route, rec.Code, rec.Body, fake)
			}
			return
		}
		if !known[route] {
			if rec.Code == http.StatusOK || fake.switched != nil || fake.reconnected != nil || fake.reloaded || fake.down {
				t.Fatalf("%s answered %d and acted: %+v", route, rec.Code, fake)
			}
			return
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s: content type %q", route, ct)
		}
		switch rec.Code {
		case http.StatusOK:
			var st api.Status
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.PID != 42 {
				t.Fatalf("%s: status answer %q: %v", route, rec.Body, err)
			}
		case http.StatusBadRequest, http.StatusInternalServerError:
			var eb ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == "" || eb.Invalid != (rec.Code == http.StatusBadRequest) {
				t.Fatalf("%s: error answer %d %q: %v", route, rec.Code, rec.Body, err)
			}
		default:
			t.Fatalf("%s: answered %d", route, rec.Code)
		}
		// A body that is one JSON object with the expected key only must be
		// obeyed; one whose first value does not even decode must not.
		var sw struct {
			Profile string `json:"profile"`
			Session string `json:"session"`
		}
		lenient := json.NewDecoder(bytes.NewReader(body)).Decode(&sw) == nil
		strictly := func(key string) bool {
			var m map[string]json.RawMessage
			dec := json.NewDecoder(bytes.NewReader(body))
			if dec.Decode(&m) != nil || len(m) != 1 || m[key] == nil {
				return false
			}
			_, err := dec.Token()
			var s string
			return errors.Is(err, io.EOF) && json.Unmarshal(m[key], &s) == nil
		}
		switch route {
		case "POST /v1/switch":
			if fake.switched != nil && (!lenient || *fake.switched != sw.Profile || sw.Profile == "") {
				t.Fatalf("switch body %q: switched to %q", body, *fake.switched)
			}
			if strictly("profile") && sw.Profile != "" && (fake.switched == nil || (rec.Code == http.StatusOK) == (sw.Profile == "attic")) {
				t.Fatalf("switch body %q: answered %d, switched %v", body, rec.Code, fake.switched)
			}
			if (!lenient || sw.Profile == "") && rec.Code != http.StatusBadRequest {
				t.Fatalf("switch body %q answered %d", body, rec.Code)
			}
		case "POST /v1/reconnect":
			if (strictly("session") || len(bytes.Trim(body, " \t\r\n")) == 0) && (fake.reconnected == nil || *fake.reconnected != sw.Session || rec.Code != http.StatusOK) {
				t.Fatalf("reconnect body %q: %d %+v", body, rec.Code, fake)
			}
			if fake.reconnected != nil && *fake.reconnected != sw.Session {
				t.Fatalf("reconnect body %q: reconnected %q", body, *fake.reconnected)
			}
		case "POST /v1/down":
			if !fake.down {
				t.Fatal("down did not stop the agent")
			}
		}
	})
}

// FuzzClientAnswer serves fuzzed answers to the client.
func FuzzClientAnswer(f *testing.F) {
	f.Add(200, []byte(`{"pid":1,"profile":"desk","mode":"auto"}`))
	f.Add(400, []byte(`{"error":"no profile \"attic\"","invalid":true}`))
	sock := filepath.Join(f.TempDir(), "c.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		f.Fatal(err)
	}
	var mu sync.Mutex
	var code int
	var answer []byte
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(code)
		w.Write(answer)
	})}
	go srv.Serve(ln)
	f.Cleanup(func() { srv.Close() })
	c := &Client{Path: sock}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 200 || status > 599 || status == http.StatusNoContent || status == http.StatusNotModified {
			return // codes net/http sends without a body, or not at all
		}
		mu.Lock()
		code, answer = status, body
		mu.Unlock()
		st, err := c.Status(context.Background())
		if status == http.StatusOK {
			var want api.Status
			werr := json.NewDecoder(bytes.NewReader(body)).Decode(&want)
			if (err == nil) != (werr == nil) {
				t.Fatalf("answer %q: client %v, json %v", body, err, werr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "bad answer") || !strings.Contains(err.Error(), sock) {
					t.Fatalf("error %q", err)
				}
				return
			}
			if !reflect.DeepEqual(st, want) {
				t.Fatalf("status %+v, want %+v", st, want)
			}
			return
		}
		if err == nil {
			t.Fatalf("answer %d taken as success", status)
		}
		var eb ErrorBody
		var re *RequestError
		if json.NewDecoder(bytes.NewReader(body)).Decode(&eb) == nil {
			if !errors.As(err, &re) || re.Msg != eb.Error || re.Invalid != eb.Invalid {
				t.Fatalf("answer %d %q: error %#v", status, body, err)
			}
			return
		}
		if !strings.Contains(err.Error(), strconv.Itoa(status)) || !strings.Contains(err.Error(), sock) {
			t.Fatalf("answer %d %q: error %q", status, body, err)
		}
	})
}
