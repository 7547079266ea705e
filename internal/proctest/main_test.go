package proctest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// childEnv makes the test binary the child of TestKillAtReady: it prints
// "READY <pid>" and waits (at most a minute) to be killed.
const childEnv = "SNMPCHAOS_PROCTEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		fmt.Printf("READY %d\n", os.Getpid())
		time.Sleep(time.Minute)
		os.Exit(3)
	}
	goleak.VerifyTestMain(m)
}
