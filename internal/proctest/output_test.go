package proctest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOutputTakesBothStreams: a child writing its stdout and stderr to
// one Output (two copying goroutines, read meanwhile: -race checks it)
// leaves both in it.
func TestOutputTakesBothStreams(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	var out Output
	cmd := exec.CommandContext(t.Context(), sh, "-c", "for i in 1 2 3 4 5 6 7 8; do echo out$i; echo err$i >&2; done")
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	_ = out.String() // read while the child writes
	require.NoError(t, cmd.Wait())
	for i := 1; i <= 8; i++ {
		for _, s := range []string{"out", "err"} {
			assert.Contains(t, out.String(), s+string(rune('0'+i))+"\n")
		}
	}
	assert.Equal(t, 16, strings.Count(out.String(), "\n"))
}
