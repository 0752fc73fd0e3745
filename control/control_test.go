package control

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

type fakeAPI struct{ switched string }

func (f *fakeAPI) Status() api.Status       { return api.Status{PID: os.Getpid(), Profile: "desk"} }
func (f *fakeAPI) Updated() <-chan struct{} { return nil }
func (f *fakeAPI) Switch(ctx context.Context, p string) error {
	if p == "attic" {
		return &api.UserError{Msg: `no profile "attic"`}
	}
	f.switched = p
	return nil
}
func (f *fakeAPI) Reconnect(ctx context.Context, s string) error { return nil }
func (f *fakeAPI) Reload(ctx context.Context) error              { return io.ErrUnexpectedEOF }
func (f *fakeAPI) Disconnect(ctx context.Context) error          { return nil }
func (f *fakeAPI) Take(ctx context.Context, s []string) error    { return nil }

func serve(t *testing.T, path string) (cancel func(), fake *fakeAPI) {
	t.Helper()
	ln, err := Listen(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	fake = &fakeAPI{}
	go func() {
		defer close(done)
		_ = Serve(ctx, ln, fake, stop)
	}()
	return func() { stop(); <-done }, fake
}

func TestSocketModesAndRequests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "perch", "control.sock")
	stop, fake := serve(t, path)
	defer stop()
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v %v", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v %v", fi.Mode().Perm(), err)
	}
	c := &Client{Path: path}
	ctx := context.Background()
	if st, err := c.Status(ctx); err != nil || st.Profile != "desk" {
		t.Errorf("status %+v %v", st, err)
	}
	if _, err := c.Switch(ctx, "sofa"); err != nil || fake.switched != "sofa" {
		t.Errorf("switch: %v (%q)", err, fake.switched)
	}
	_, err := c.Switch(ctx, "attic")
	re, ok := err.(*RequestError)
	if !ok || !re.Invalid || re.Msg != `no profile "attic"` {
		t.Errorf("bad switch: %#v", err)
	}
	_, err = c.Reload(ctx)
	if re, ok := err.(*RequestError); !ok || re.Invalid {
		t.Errorf("failed reload: %#v", err)
	}
	// A second listener on the same path is refused, naming the holder.
	_, err = Listen(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if he, ok := err.(*HeldError); !ok || he.PID != os.Getpid() {
		t.Errorf("second listen: %v", err)
	}
	stop()
	if _, err := os.Stat(path); err == nil {
		t.Error("socket file left after stop")
	}
	if _, err := c.Status(ctx); err == nil || !strings.Contains(err.Error(), "no perch agent is running") {
		t.Errorf("status with no agent: %v", err)
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // a dead agent's file
	stop, _ := serve(t, path)
	defer stop()
	if _, err := (&Client{Path: path}).Status(context.Background()); err != nil {
		t.Errorf("after replacing a stale socket: %v", err)
	}
}

// TestOtherUserRefused loosens the file modes on purpose and connects as
// another user (nobody): SO_PEERCRED still refuses the connection.
func TestOtherUserRefused(t *testing.T) {
	testbed.NeedRoot(t, "a client runs as another user")
	// Debian's python3 (xpra depends on it), readable by any user.
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("%s is needed to play the other user: %v", py, err)
	}
	dir, err := os.MkdirTemp("", "perch-peer-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "s", "control.sock")
	stop, _ := serve(t, path)
	defer stop()
	for _, p := range []string{dir, filepath.Dir(path)} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	script := `import socket,sys
s=socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
try:
    s.sendall(b"GET /v1/status HTTP/1.0\r\n\r\n")
    print(repr(s.recv(100)))
except Exception as e:
    print("error", e)
`
	run := func(uid uint32) string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, py, "-c", script, path)
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("client as uid %d: %v", uid, err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run(0); !strings.Contains(got, "200 OK") {
		t.Errorf("same user: %q, want an answer", got)
	}
	if got := run(65534); got != "b''" && !strings.HasPrefix(got, "error") {
		t.Errorf("another user got %q, want the connection closed", got)
	}
}

// Every request the answer to an unknown one lists is served by Handler.
func TestRoutesServed(t *testing.T) {
	h := Handler(&fakeAPI{}, func() {})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the event stream answers once and ends
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "http://perch/v1/nope", nil))
	_, list, _ := strings.Cut(rec.Body.String(), "this agent serves ")
	list, _, _ = strings.Cut(list, ")")
	routes := strings.Split(list, ", ")
	if len(routes) != 8 {
		t.Fatalf("the answer to an unknown request lists %q", routes)
	}
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, method, "http://perch"+path, nil))
		if strings.Contains(rec.Body.String(), "this agent serves") {
			t.Errorf("%s %s is listed but not served: %d %s", method, path, rec.Code, rec.Body)
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "POST", "http://perch/v1/status", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("POST /v1/status: %d, Allow %q, %q", rec.Code, rec.Header().Get("Allow"), rec.Body)
	}
}
