package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// PysnmpPoller returns the path of the reference exec poller
// (examples/exec-poller/pysnmp_poller.py, in Python on pysnmp), once
// /usr/bin/python3 imports pysnmp's hlapi. Without Debian's
// python3-pysnmp4 it skips the test with a message saying so, and fails
// it under CI=true, where that poller's tests must run
// (scripts/need-pollers.sh installs the package as root).
func PysnmpPoller(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "examples", "exec-poller", "pysnmp_poller.py")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("the reference exec poller: %v", err)
	}
	if out, err := exec.Command("/usr/bin/python3", "-c", "import pysnmp.hlapi.asyncore").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("the reference exec poller needs Debian's python3-pysnmp4 (apt-get install -y python3-pysnmp4; scripts/need-pollers.sh does it as root): %v %s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return script
}
