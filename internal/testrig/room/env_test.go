package room

import (
	"testing"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// TestMain gives the tests' child processes a stable environment
// (testbed.Main: a UTF-8 locale, TERM, HOME).
func TestMain(m *testing.M) { testbed.Main(m) }
