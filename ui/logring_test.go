package ui

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

func TestLogRing(t *testing.T) {
	t.Parallel()
	r := NewLogRing(3)
	fmt.Fprint(r, "one\ntw")
	if got := r.Lines(); !reflect.DeepEqual(got, []string{"one"}) {
		t.Fatalf("lines = %q", got)
	}
	select {
	case <-r.Changes():
	default:
		t.Fatal("no change signalled")
	}
	fmt.Fprint(r, "o\r\nthree\nfour\nfive\n")
	if got, want := r.Lines(), []string{"three", "four", "five"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("lines = %q, want %q", got, want)
	}
	testbed.Recv(t, r.Changes(), 5*time.Second, "a change after lines were written")
	fmt.Fprint(r, "partial")
	select {
	case <-r.Changes():
		t.Fatal("a partial line signalled a change")
	default:
	}
}
