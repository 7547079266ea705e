package fleet

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
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
	simagentBin, simagentErr = buildSimagent(dir)
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		_ = os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// buildSimagent builds cmd/simagent into dir.
func buildSimagent(dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no go tool to build cmd/simagent: %w", err)
	}
	bin := filepath.Join(dir, "simagent")
	out, err := exec.Command(goTool, "build", "-o", bin, "../../cmd/simagent").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/simagent: %w: %s", err, out)
	}
	return bin, nil
}

// simagentBinary returns the built binary or fails the test.
func simagentBinary(t *testing.T) string {
	t.Helper()
	if simagentErr != nil {
		t.Fatal(simagentErr)
	}
	return simagentBin
}
