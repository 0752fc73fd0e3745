package xpraclient

import (
	"strings"
	"sync"
)

// Tail keeps the last bytes a command wrote (stdout and stderr together).
type Tail struct {
	mu  sync.Mutex
	buf []byte
}

// TailMax is how many bytes a Tail keeps.
const TailMax = 4096

func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > TailMax {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-TailMax:]...)
	}
	return len(p), nil
}

// LastLines returns the last (up to 3) non-empty lines that are not xpra's
// known noise (isNoise), joined, at most 400 characters.
func (t *Tail) LastLines() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	for _, l := range strings.Split(string(t.buf), "\n") {
		if l = strings.TrimSpace(l); l != "" && !isNoise(l) {
			lines = append(lines, l)
		}
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	s := strings.Join(lines, " | ")
	if len(s) > 400 {
		s = "…" + s[len(s)-400:]
	}
	return s
}

// LineWatch passes output on to W and calls Found once, when a line
// containing Marker has been written. It serves one writer at a time (one
// stream); W may be shared.
type LineWatch struct {
	W      *Tail
	Marker string
	Found  func()
	line   []byte
	done   bool
}

func (lw *LineWatch) Write(p []byte) (int, error) {
	n, _ := lw.W.Write(p)
	if lw.done {
		return n, nil
	}
	lw.line = append(lw.line, p...)
	for {
		i := strings.IndexByte(string(lw.line), '\n')
		if i < 0 {
			break
		}
		if strings.Contains(string(lw.line[:i]), lw.Marker) {
			lw.done = true
			lw.line = nil
			lw.Found()
			return n, nil
		}
		lw.line = lw.line[i+1:]
	}
	if len(lw.line) > TailMax {
		lw.line = lw.line[len(lw.line)-TailMax:]
	}
	return n, nil
}
