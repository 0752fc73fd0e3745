package sandbox

import (
	"fmt"
	"net"
	"testing"
)

// TestFreeDisplaySkipsAnsweringSocket: a display whose X server lives in
// another /tmp (no socket file nor lock file here) but answers on its
// abstract socket or its TCP port is not free.
func TestFreeDisplaySkipsAnsweringSocket(t *testing.T) {
	n := FreeDisplay(300)
	ln, err := net.Listen("unix", fmt.Sprintf("@/tmp/.X11-unix/X%d", n+1))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tcp, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 6000+n+2))
	if err != nil {
		t.Fatalf("the TCP port of display :%d: %v", n+2, err)
	}
	defer tcp.Close()
	if !displayAnswers(n+1) || !displayAnswers(n+2) {
		t.Fatalf("displays :%d (abstract socket) and :%d (TCP) do not answer", n+1, n+2)
	}
	if displayAnswers(n + 3) {
		t.Fatalf("display :%d answers with nothing listening", n+3)
	}
	if got := FreeDisplay(n + 1); got != n+3 {
		t.Errorf("FreeDisplay(%d) = %d, want %d (the next two answer)", n+1, got, n+3)
	}
}
