package proctest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// KillAtReady runs the test binary again as a child, with env (NAME=VALUE)
// added to its environment and -test.run=^$, so that its TestMain sees env
// and plays the child's part; waits for it to print "READY <word>"; kills
// it with SIGKILL, as a crash would, before it can clean up; and returns
// word. The child's stderr goes to the test's output. The test fails when
// the child exits first, or gets no ready line within timeout (then it is
// killed).
func KillAtReady(t testing.TB, env string, timeout time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = t.Output()
	// Wait returns though a grandchild holds the child's stderr.
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("child %s: %v", env, err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("child %s: %v", env, err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	killErr := cmd.Process.Kill() // our own child, by PID
	_ = cmd.Wait()
	if err != nil {
		t.Fatalf("child %s did not get ready: %v (%v)", env, err, cmd.ProcessState)
	}
	word, ok := strings.CutPrefix(strings.TrimSpace(line), "READY ")
	if !ok {
		t.Fatalf("child %s said %q, want READY <word>", env, line)
	}
	if killErr != nil {
		t.Fatalf("child %s exited before it was killed: %v (%v)", env, killErr, cmd.ProcessState)
	}
	return word
}
