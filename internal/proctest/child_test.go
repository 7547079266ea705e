package proctest

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKillAtReady: the child's word comes back and the child is gone
// (KillAtReady itself fails when the child was not killed but exited).
func TestKillAtReady(t *testing.T) {
	word := KillAtReady(t, childEnv+"=1", time.Minute)
	pid, err := strconv.Atoi(word)
	require.NoError(t, err, "the child's pid: %q", word)
	require.NotEqual(t, os.Getpid(), pid)
	p, err := os.FindProcess(pid)
	if err == nil {
		err = p.Signal(syscall.Signal(0))
	}
	require.Error(t, err, "child pid %d is gone", pid)
}
