package harness

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(netnsChildEnv) != "" {
		// A netns run to be killed with SIGKILL (TestNetnsKilledRunLeavesNothing).
		os.Exit(netnsChild())
	}
	goleak.VerifyTestMain(m)
}
