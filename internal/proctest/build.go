package proctest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// simagentPkg is cmd/simagent's import path: go build finds it from any
// directory of the module, as a test's (its package's) is.
const simagentPkg = "github.com/snmpchaos/snmpchaos/cmd/simagent"

// BuildSimagent builds cmd/simagent into dir and returns the binary's
// path; the error says why it could not (no go tool, or the build's
// output). For a TestMain that builds it once for a package's tests.
func BuildSimagent(ctx context.Context, dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no go tool to build cmd/simagent: %w", err)
	}
	bin := filepath.Join(dir, "simagent")
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, simagentPkg).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/simagent: %w: %s", err, out)
	}
	return bin, nil
}

// SimagentBinary builds cmd/simagent into the test's temporary directory
// and returns its path. Without a go tool it skips the test (fails it
// under CI=true); a build that fails fails the test.
func SimagentBinary(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		msg := fmt.Sprintf("no go tool to build cmd/simagent: %v", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	bin, err := BuildSimagent(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
