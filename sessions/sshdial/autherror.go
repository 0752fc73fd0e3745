package sshdial

import (
	"errors"
	"fmt"

	"github.com/perchdesk/perch/sessions/hostkey"
)

// AuthError is authentication the server refused: what perch offered was
// not enough, and a retry with the same keys cannot help. x/crypto/ssh
// says so only in words; Dial reads them once, here, so that callers can
// use errors.As.
type AuthError struct {
	Host    string // the server, as named to Dial
	Offered string // what perch offered and did not, worded for the user
	Err     error  // x/crypto/ssh's error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("connect to %s: %s: %v", e.Host, e.Offered, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// Permanent reports errors a retry cannot fix: a host key that does not
// verify, or authentication refused.
func Permanent(err error) bool {
	var hk *hostkey.HostKeyError
	var ae *AuthError
	return errors.As(err, &hk) || errors.As(err, &ae)
}
