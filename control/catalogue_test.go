package control

// The catalogue of control socket errors (issue 6): every bad request a
// real agent (with a fake screen and fake links) can be sent over the
// socket, with the HTTP status, the exact message, whether it counts as bad
// input (the CLI's exit 2) or a fault (exit 1), and that the agent's state
// is as it was: profile, mode, sessions, link, and nothing applied,
// reconnected or restarted. Then the socket's own refusals (Listen) and the
// client's errors.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/sessions"
	"github.com/perchdesk/perch/sessions/claims"
	"github.com/perchdesk/perch/sessions/forward"
	"github.com/perchdesk/perch/xrandr"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// catDisplay is a screen with HDMI1 and eDP1 connected that refuses any
// layout using DP1, counting the layouts applied.
type catDisplay struct {
	mu      sync.Mutex
	applied int
}

func (d *catDisplay) state() *xrandr.State {
	st := &xrandr.State{Width: 100, Height: 100}
	for i, n := range []string{"HDMI1", "eDP1", "DP1"} {
		st.Outputs = append(st.Outputs, xrandr.Output{ID: xrandr.OutputID(i + 1), Name: n, Connected: n != "DP1"})
	}
	return st
}
func (d *catDisplay) Probe() (*xrandr.State, error)   { return d.state(), nil }
func (d *catDisplay) Current() (*xrandr.State, error) { return d.state(), nil }
func (d *catDisplay) Apply(l xrandr.Layout) (*xrandr.Plan, error) {
	for _, o := range l.Outputs {
		if o.Name == "DP1" {
			return nil, &xrandr.LayoutError{Output: "DP1", Msg: "refused by the test"}
		}
	}
	d.mu.Lock()
	d.applied++
	d.mu.Unlock()
	return &xrandr.Plan{Before: &xrandr.State{}}, nil
}
func (d *catDisplay) Watch(ctx context.Context) (<-chan xrandr.Event, error) {
	return make(chan xrandr.Event), nil
}

// catLinks makes fake links and counts what is asked of them.
type catLinks struct {
	mu                     sync.Mutex
	made, reconnects, kick int
	specs                  []sessions.Spec
}

type catLink struct{ l *catLinks }

func (c *catLinks) factory(name string, srv *config.Server) (agent.Link, error) {
	c.mu.Lock()
	c.made++
	c.mu.Unlock()
	return catLink{c}, nil
}
func (k catLink) Run(ctx context.Context) { <-ctx.Done() }
func (k catLink) SetSessions(s []sessions.Spec) {
	k.l.mu.Lock()
	k.l.specs = s
	k.l.mu.Unlock()
}
func (k catLink) SetForwards([]forward.Spec) {}
func (k catLink) Status() sessions.Status {
	k.l.mu.Lock()
	defer k.l.mu.Unlock()
	st := sessions.Status{Link: api.LinkStatus{Server: "quiet", State: api.LinkUp}}
	for _, s := range k.l.specs {
		st.Sessions = append(st.Sessions, api.SessionStatus{Name: s.Name, State: api.SessionAttached})
	}
	return st
}
func (k catLink) Changes() <-chan struct{} { return nil }
func (k catLink) Started() <-chan struct{} { return catStarted }

// catStarted is closed: a catLink starts at once.
var catStarted = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (k catLink) Reconnect() {
	k.l.mu.Lock()
	k.l.reconnects++
	k.l.mu.Unlock()
}
func (k catLink) NetworkChanged()         {}
func (k catLink) SetClaims(claims.Config) {}
func (k catLink) Take(names []string, minAge time.Duration) []string {
	return names
}
func (k catLink) RestartSession(name string) error {
	k.l.mu.Lock()
	defer k.l.mu.Unlock()
	for _, s := range k.l.specs {
		if s.Name == name {
			k.l.kick++
			return nil
		}
	}
	return fmt.Errorf("no session %q", name)
}

const catConfig = `[server.quiet]
ssh = "me@quiet"

[profile.desk]
server = "quiet"
displays = [10]
[[profile.desk.output]]
name = "HDMI1"

[profile.local]
[[profile.local.output]]
name = "eDP1"

[profile.hooked]
before = ["echo no; exit 4"]
[[profile.hooked.output]]
name = "HDMI1"

[profile.far]
[[profile.far.output]]
name = "DP1"

[profile.pa]
match = ["HDMI1"]
[[profile.pa.output]]
name = "HDMI1"

[profile.pb]
match = ["HDMI1"]
[[profile.pb.output]]
name = "HDMI1"
`

// catAgent is a real agent on a real socket.
type catAgent struct {
	a     *agent.Agent
	d     *catDisplay
	links *catLinks
	sock  string
	cfg   string
	ctx   context.Context // the agent's and server's: Serve cancels it on "down"
}

func startCatAgent(t *testing.T, initial string) *catAgent {
	t.Helper()
	dir := t.TempDir()
	ca := &catAgent{d: &catDisplay{}, links: &catLinks{}, sock: filepath.Join(dir, "run", "control.sock"), cfg: filepath.Join(dir, "config.toml")}
	if err := os.WriteFile(ca.cfg, []byte(catConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(ca.cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ca.a = agent.New(agent.Options{Config: cfg, Display: ca.d, NewLink: ca.links.factory, Log: log})
	ln, err := Listen(ca.sock, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ca.ctx = ctx
	ran, served := make(chan error, 1), make(chan struct{})
	go func() { ran <- ca.a.Run(ctx, initial) }()
	go func() { defer close(served); _ = Serve(ctx, ln, ca.a, cancel) }()
	t.Cleanup(func() {
		cancel()
		testbed.Recv(t, served, 5*time.Second, "Serve returning after its context ended")
		select {
		case <-ran:
		case <-time.After(5 * time.Second):
			t.Error("the agent did not stop")
		}
	})
	ready := func() bool {
		st := ca.a.Status()
		return st.Profile == initial && (st.Link != nil || cfg.Profiles[initial].Server == "")
	}
	for deadline := time.Now().Add(5 * time.Second); !ready(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not start %s: %+v", initial, ca.a.Status())
		}
	}
	return ca
}

// snapshot is the agent's state that a refused request must not change.
func (ca *catAgent) snapshot() string {
	st := ca.a.Status()
	var b strings.Builder
	fmt.Fprintf(&b, "profile %s mode %s since %s disconnected %v profiles %v screen %+v\n",
		st.Profile, st.Mode, st.Since.Format(time.RFC3339Nano), st.Disconnected, st.Profiles, st.Screen)
	if st.Link != nil {
		fmt.Fprintf(&b, "link %s %s reconnects %d\n", st.Link.Server, st.Link.State, st.Link.Reconnects)
	}
	for _, s := range st.Sessions {
		fmt.Fprintf(&b, "session %s %s %d\n", s.Name, s.State, s.Restarts)
	}
	ca.d.mu.Lock()
	fmt.Fprintf(&b, "layouts applied %d\n", ca.d.applied)
	ca.d.mu.Unlock()
	ca.links.mu.Lock()
	fmt.Fprintf(&b, "links made %d, reconnects %d, sessions restarted %d\n", ca.links.made, ca.links.reconnects, ca.links.kick)
	ca.links.mu.Unlock()
	return b.String()
}

// raw sends one request over the socket as any HTTP client could.
func raw(t *testing.T, sock, method, path, body string) (int, string) {
	t.Helper()
	hc := (&Client{Path: sock}).http()
	req, err := http.NewRequest(method, "http://perch"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type requestCase struct {
	name               string
	method, path, body string
	setup              func(t *testing.T, ca *catAgent) // before the request; undone by itself
	status             int
	invalid            bool   // the answer's "invalid": bad input, exit 2
	want               string // the error message (JSON) or the plain body; @ is the config path
	client             string // what Client reports for a non-JSON answer; @ is the socket
}

func runRequestCases(t *testing.T, initial string, prepare func(t *testing.T, ca *catAgent), cases []requestCase) {
	ca := startCatAgent(t, initial)
	if prepare != nil {
		prepare(t, ca)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t, ca)
			}
			before := ca.snapshot()
			code, body := raw(t, ca.sock, tc.method, tc.path, tc.body)
			want := strings.ReplaceAll(tc.want, "@", ca.cfg)
			if code != tc.status {
				t.Errorf("HTTP %d, want %d (%s)", code, tc.status, body)
			}
			if tc.client != "" {
				if body != want {
					t.Errorf("body %q, want %q", body, want)
				}
				_, err := (&Client{Path: ca.sock}).call(context.Background(), tc.method, tc.path, nil)
				if wantc := strings.ReplaceAll(tc.client, "@", ca.sock); err == nil || err.Error() != wantc {
					t.Errorf("client: %v, want %q", err, wantc)
				}
			} else {
				var eb ErrorBody
				if err := json.Unmarshal([]byte(body), &eb); err != nil {
					t.Fatalf("answer is not an ErrorBody: %v: %q", err, body)
				}
				if eb.Error != want || eb.Invalid != tc.invalid {
					t.Errorf("answer %q invalid %v\nwant   %q invalid %v", eb.Error, eb.Invalid, want, tc.invalid)
				}
			}
			// The handler and the agent act before the answer; the one
			// thing a request can set going is the agent's end (cancel).
			if ca.ctx.Err() != nil {
				t.Errorf("the request stopped the agent")
			}
			if after := ca.snapshot(); after != before {
				t.Errorf("the agent changed:\n%s→\n%s", before, after)
			}
		})
	}
}

func rewriteConfig(text string) func(t *testing.T, ca *catAgent) {
	return func(t *testing.T, ca *catAgent) {
		if err := os.WriteFile(ca.cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.WriteFile(ca.cfg, []byte(catConfig), 0o600) })
	}
}

// servedList is what an unknown request's answer says the socket serves.
const servedList = "GET /v1/status, GET /v1/events, POST /v1/switch, POST /v1/reconnect, POST /v1/take, POST /v1/disconnect, POST /v1/reload, POST /v1/down"

// TestCatalogueRequests: the agent runs desk (a server, session :10).
func TestCatalogueRequests(t *testing.T) {
	profiles := "desk, local, hooked, far, pa, pb"
	runRequestCases(t, "desk", nil, []requestCase{
		{name: "unknown path", method: "GET", path: "/v1/nope", status: 404, invalid: true,
			want: "GET /v1/nope: no such request (this agent serves " + servedList + ")"},
		{name: "unknown method", method: "DELETE", path: "/v1/status", status: 405, invalid: true,
			want: "DELETE /v1/status: use GET (this agent serves " + servedList + ")"},
		{name: "GET of a POST", method: "GET", path: "/v1/switch", status: 405, invalid: true,
			want: "GET /v1/switch: use POST (this agent serves " + servedList + ")"},
		{name: "switch: bad JSON", method: "POST", path: "/v1/switch", body: `{"profile":`, status: 400, invalid: true,
			want: `POST /v1/switch: bad request body (unexpected EOF); want {"profile":"NAME"}`},
		{name: "switch: unknown field", method: "POST", path: "/v1/switch", body: `{"profil":"local"}`, status: 400, invalid: true,
			want: `POST /v1/switch: bad request body (json: unknown field "profil"); want {"profile":"NAME"}`},
		{name: "switch: wrong type", method: "POST", path: "/v1/switch", body: `{"profile":7}`, status: 400, invalid: true,
			want: `POST /v1/switch: bad request body (json: cannot unmarshal number into Go struct field .profile of type string); want {"profile":"NAME"}`},
		{name: "switch: two objects", method: "POST", path: "/v1/switch", body: `{"profile":"local"}{"profile":"far"}`, status: 400, invalid: true,
			want: `POST /v1/switch: bad request body (data after the JSON object); want {"profile":"NAME"}`},
		{name: "switch: no profile", method: "POST", path: "/v1/switch", body: ``, status: 400, invalid: true,
			want: `switch needs a profile: {"profile":"NAME"} (or "auto")`},
		{name: "switch: unknown profile", method: "POST", path: "/v1/switch", body: `{"profile":"attic"}`, status: 400, invalid: true,
			want: `@: no profile "attic" (profiles: ` + profiles + `)`},
		{name: "switch: layout refused", method: "POST", path: "/v1/switch", body: `{"profile":"far"}`, status: 400, invalid: true,
			want: "profile far (@:19): output DP1: refused by the test"},
		{name: "switch: before hook fails", method: "POST", path: "/v1/switch", body: `{"profile":"hooked"}`, status: 500,
			want: `profile hooked: the switch stopped: before hook "echo no; exit 4" failed (exit status 4): no`},
		{name: "switch: auto tie", method: "POST", path: "/v1/switch", body: `{"profile":"auto"}`, status: 400, invalid: true,
			want: "auto: profiles pa and pb match the connected outputs (HDMI1, eDP1) equally (1 entries each); make one more specific"},
		{name: "reconnect: bad JSON", method: "POST", path: "/v1/reconnect", body: `{"session":`, status: 400, invalid: true,
			want: `POST /v1/reconnect: bad request body (unexpected EOF); want {"session":"NAME"}, or {} for the link`},
		{name: "reconnect: unknown field", method: "POST", path: "/v1/reconnect", body: `{"sesion":":10"}`, status: 400, invalid: true,
			want: `POST /v1/reconnect: bad request body (json: unknown field "sesion"); want {"session":"NAME"}, or {} for the link`},
		{name: "reconnect: unknown session", method: "POST", path: "/v1/reconnect", body: `{"session":"nope"}`, status: 400, invalid: true,
			want: `no session "nope"`},
		{name: "take: unknown session", method: "POST", path: "/v1/take", body: `{"sessions":[":10",":99"]}`, status: 400, invalid: true,
			want: `no display session ":99" in profile desk (display sessions: :10)`},
		{name: "take: unknown field", method: "POST", path: "/v1/take", body: `{"session":":10"}`, status: 400, invalid: true,
			want: `POST /v1/take: bad request body (json: unknown field "session"); want {"sessions":[":10",...]}, or {} for all`},
		{name: "reload: broken file", method: "POST", path: "/v1/reload", setup: rewriteConfig(catConfig + "[profile.x\n"),
			status: 400, invalid: true,
			want: "reload: @:32: expected '.' or ']' to end table name, but got '\\n' instead; still running profile desk"},
		{name: "reload: invalid file", method: "POST", path: "/v1/reload", setup: rewriteConfig(strings.Replace(catConfig, `ssh = "me@quiet"`, `ssh = "me@quiet"`+"\nkeepalive = \"soon\"", 1)),
			status: 400, invalid: true,
			want: `reload: @:3: server.quiet.keepalive: "soon" is not a positive duration such as "2s"; still running profile desk`},
		{name: "reload: running profile removed", method: "POST", path: "/v1/reload", setup: rewriteConfig(strings.Replace(catConfig, "profile.desk", "profile.desk2", 3)),
			status: 400, invalid: true,
			want: "reload: profile desk is no longer in @; still running it with the previous configuration"},
	})
}

// TestCatalogueRequestsWithoutLink: a profile without a server, then a
// link the user dropped.
func TestCatalogueRequestsWithoutLink(t *testing.T) {
	runRequestCases(t, "local", nil, []requestCase{
		{name: "reconnect without a server", method: "POST", path: "/v1/reconnect", body: `{}`, status: 400, invalid: true,
			want: "the profile has no server: nothing to reconnect"},
		{name: "disconnect without a server", method: "POST", path: "/v1/disconnect", status: 400, invalid: true,
			want: "not connected: the profile has no server"},
		{name: "take without a server", method: "POST", path: "/v1/take", body: `{}`, status: 400, invalid: true,
			want: `profile local is not connected to a server: no sessions to take`},
	})
	runRequestCases(t, "desk", func(t *testing.T, ca *catAgent) {
		if _, err := (&Client{Path: ca.sock}).Disconnect(context.Background()); err != nil {
			t.Fatal(err)
		}
	}, []requestCase{
		{name: "disconnect twice", method: "POST", path: "/v1/disconnect", status: 400, invalid: true,
			want: "not connected: already disconnected (perch reconnect connects again)"},
	})
}

// TestCatalogueStoppedAgent: requests after the agent stopped are faults
// (exit 1).
func TestCatalogueStoppedAgent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(catConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a := agent.New(agent.Options{Config: cfg, Display: &catDisplay{}, NewLink: (&catLinks{}).factory,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = a.Run(ctx, "local")
	for _, r := range [][2]string{{"/v1/switch", `{"profile":"desk"}`}, {"/v1/reconnect", `{}`}, {"/v1/reload", ``}, {"/v1/disconnect", ``}} {
		w := httptest.NewRecorder()
		Handler(a, func() {}).ServeHTTP(w, httptest.NewRequest("POST", r[0], strings.NewReader(r[1])))
		var eb ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || w.Code != 500 || eb.Error != "the agent has stopped" || eb.Invalid {
			t.Errorf("%s: %d %q", r[0], w.Code, w.Body.String())
		}
	}
}

// TestCatalogueListen: the socket's refusals change nothing on disk.
func TestCatalogueListen(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(dir, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	tmpWant := "control socket: /tmp is writable by other users (mode 1777); put the socket in a private directory"
	if os.Getuid() != 0 {
		tmpWant = "control socket: /tmp is not a directory of this user"
	}
	tests := []struct {
		name, path, want string
	}{
		{"a file that is not a socket", file, "control socket: " + file + " exists and is not a socket; pass --socket with another path"},
		{"under a file", filepath.Join(file, "control.sock"), "control socket: mkdir " + file + ": not a directory"},
		{"a directory others can write to", filepath.Join(open, "control.sock"), "control socket: " + open + " is writable by other users (mode 0777); put the socket in a private directory"},
		{"a shared directory", "/tmp/perch-catalogue.sock", tmpWant},
		{"a symlinked directory", filepath.Join(link, "control.sock"), "control socket: " + link + " is not a directory of this user"},
	}
	type fileState struct {
		mode os.FileMode
		data string
	}
	look := func() map[string]fileState {
		m := map[string]fileState{}
		for _, p := range []string{dir, file, open, private, link, "/tmp"} {
			fi, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(p)
			m[p] = fileState{fi.Mode(), string(b)}
		}
		ents, _ := os.ReadDir(private)
		m["private entries"] = fileState{data: fmt.Sprint(len(ents))}
		return m
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := look()
			ln, err := Listen(tc.path, log)
			if err == nil {
				ln.Close()
				t.Fatalf("listening on %s", tc.path)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n  %v\nwant\n  %s", err, tc.want)
			}
			if after := look(); !mapsEqual(before, after) {
				t.Errorf("files changed:\n%v\n%v", before, after)
			}
			if _, err := os.Lstat("/tmp/perch-catalogue.sock"); err == nil {
				t.Error("a socket was left in /tmp")
			}
		})
	}
	if os.Getuid() == 0 {
		// A directory of another user.
		theirs := filepath.Join(dir, "theirs")
		if err := os.Mkdir(theirs, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		_, err := Listen(filepath.Join(theirs, "control.sock"), log)
		if want := "control socket: " + theirs + " is not a directory of this user"; err == nil || err.Error() != want {
			t.Errorf("another user's directory: %v", err)
		}
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCatalogueClient: what the client says when no agent, or something
// else, answers.
func TestCatalogueClient(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	noAgent := func(p string) string {
		return "no perch agent is running (no socket at " + p + "; start one with `perch up`)"
	}
	missing := filepath.Join(dir, "none.sock")
	if _, err := (&Client{Path: missing}).Status(ctx); err == nil || err.Error() != noAgent(missing) {
		t.Errorf("no socket: %v", err)
	}
	// A socket file nobody listens on (an agent killed with -9).
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := (&Client{Path: stale}).Switch(ctx, "desk"); err == nil || err.Error() != noAgent(stale) {
		t.Errorf("stale socket: %v", err)
	}
	// Something else answers: plain text errors, and an answer that is not JSON.
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"plain error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, "control socket @: 500 Internal Server Error"},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }, "control socket @: bad answer: invalid character 'h' looking for beginning of value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".sock")
			ln, err := net.Listen("unix", p)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(tc.handler)
			srv.Listener = ln
			srv.Start()
			defer srv.Close()
			_, err = (&Client{Path: p}).Status(ctx)
			if want := strings.ReplaceAll(tc.want, "@", p); err == nil || err.Error() != want {
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
}
