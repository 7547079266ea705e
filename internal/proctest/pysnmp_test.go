package proctest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPysnmpPollerRuns: the path is the reference poller's, and it runs:
// at the end of its input it says goodbye in the exec protocol
// (docs/exec-protocol.md).
func TestPysnmpPollerRuns(t *testing.T) {
	script := PysnmpPoller(t)
	require.True(t, strings.HasSuffix(script, "examples/exec-poller/pysnmp_poller.py"), script)
	out, err := exec.CommandContext(t.Context(), script).Output() // stdin: /dev/null
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), `{"type":"bye"}`)
}
