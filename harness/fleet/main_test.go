package fleet

import (
	"context"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/snmpchaos/snmpchaos/internal/proctest"
)

// simagentBin is the cmd/simagent binary TestMain built ("" when it
// could not: the tests that need it fail saying why).
var simagentBin, simagentErr = "", error(nil)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	dir, err := os.MkdirTemp("", "fleet-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	simagentBin, simagentErr = proctest.BuildSimagent(context.Background(), dir)
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		_ = os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// simagentBinary returns the built binary or fails the test.
func simagentBinary(t *testing.T) string {
	t.Helper()
	if simagentErr != nil {
		t.Fatal(simagentErr)
	}
	return simagentBin
}
