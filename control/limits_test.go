package control

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// hugeBody is a JSON object of n bytes whose one unknown key is the bulk.
type hugeBody struct{ left int }

func (h *hugeBody) Read(p []byte) (int, error) {
	if h.left <= 0 {
		return 0, io.EOF
	}
	n := min(len(p), h.left)
	for i := range n {
		p[i] = 'a'
	}
	if h.left == 100<<20 {
		p[0], p[1] = '{', '"'
	}
	h.left -= n
	return n, nil
}

func TestHugeRequestRefusedNotEchoed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	stop, _ := serve(t, path)
	defer stop()
	c := (&Client{Path: path}).http()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	req, _ := http.NewRequest(http.MethodPost, "http://perch/v1/switch", &hugeBody{left: 100 << 20})
	req.ContentLength = 100 << 20
	resp, err := c.Do(req)
	if err != nil {
		// The server may close before all of the body was sent.
		if !strings.Contains(err.Error(), "broken pipe") && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("a 100 MB request: %v", err)
		}
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || len(b) > 1024 || !strings.Contains(string(b), "request body over 16 KiB") {
			t.Errorf("a 100 MB request: %s, %d bytes: %.300s", resp.Status, len(b), b)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 20<<20 {
		t.Errorf("a 100 MB request made the agent allocate %d MB", grew>>20)
	}
	// A request under the limit but with a long wrong key: the error
	// quotes a bounded part of it.
	long := `{"` + strings.Repeat("b", 10000) + `":1}`
	resp, err = c.Post("http://perch/v1/switch", "application/json", strings.NewReader(long))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(b) > 1024 || !strings.Contains(string(b), "unknown field") {
		t.Errorf("a long unknown key: %s, %d bytes: %.300s", resp.Status, len(b), b)
	}
	// So is a long path.
	resp, err = c.Get("http://perch/v1/" + strings.Repeat("c", 10000))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || len(b) > 1024 {
		t.Errorf("a long path: %s, %d bytes: %.300s", resp.Status, len(b), b)
	}
}

func TestSlowRequestBodyCutOff(t *testing.T) {
	old := bodyTimeout
	bodyTimeout = 300 * time.Millisecond
	t.Cleanup(func() { bodyTimeout = old })
	path := filepath.Join(t.TempDir(), "control.sock")
	stop, _ := serve(t, path)
	defer stop()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A body of 40 bytes sent one byte every 100 ms: 4 s in all.
	go func() {
		_, _ = io.WriteString(conn, "POST /v1/switch HTTP/1.1\r\nHost: perch\r\nContent-Length: 40\r\n\r\n")
		for range 40 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a slow body within 3 s: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "request body not received within 300ms") {
		t.Errorf("a slow body: %s %s", resp.Status, b)
	}
}
