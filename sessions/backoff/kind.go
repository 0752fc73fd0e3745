package backoff

import (
	"context"
	"errors"
	"io"
	"syscall"

	"golang.org/x/crypto/ssh"
)

// Kind is what a failed connect says about the server, and so how soon
// to ask it again (Backoff.After).
type Kind int

const (
	// Other: anything else (the server answered and then failed): the
	// backoff grows.
	Other Kind = iota
	// Down: the server's host refused the TCP connect, there was no route
	// to it, or nothing answered within the connect timeout. The server is
	// away and asking costs it nothing: a short wait.
	Down
	// Load: the server took the connection and closed it before its
	// banner, which is how sshd sheds load past MaxStartups: retry soon,
	// spread, without growing the backoff.
	Load
)

func (k Kind) String() string {
	return [...]string{"failure", "server away", "server busy"}[k]
}

// Error is a failed connect with its kind.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// KindOf is the kind of a connect's error: an Error's, else Other.
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return Other
}

// Classify names the failure of a connect by the error's type; banner
// reports that the server had sent bytes (its banner) on the connection.
func Classify(err error, banner bool) Kind {
	for _, e := range []error{syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.ENETDOWN} {
		if errors.Is(err, e) {
			return Down
		}
	}
	// A jump host could not reach the server: the same, seen from there.
	if oc, ok := errors.AsType[*ssh.OpenChannelError](err); ok && oc.Reason == ssh.ConnectionFailed {
		return Down
	}
	switch {
	case banner:
		return Other
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return Load
	case errors.Is(err, context.DeadlineExceeded):
		// Nothing came back within the connect timeout: a SYN nobody
		// answered, or a server too busy to say hello; the attempt
		// itself waited long enough.
		return Down
	}
	return Other
}
