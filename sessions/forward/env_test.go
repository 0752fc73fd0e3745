package forward

import (
	"os"
	"testing"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// TestMain gives the tests' child processes a stable environment
// (testbed.StableEnv: a UTF-8 locale, TERM, HOME).
func TestMain(m *testing.M) {
	testbed.StableEnv()
	os.Exit(m.Run())
}
