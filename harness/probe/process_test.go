package probe

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ReadProcess and ReadProcessFigures agree on this process's descriptors
// (one more file open shows in both), and a process that is gone is not
// counted.
func TestProcessFiguresOfThisProcessAndAGoneOne(t *testing.T) {
	pid := os.Getpid()
	before, ok := ReadProcessFigures(pid, []int{pid})
	require.True(t, ok)
	assert.Equal(t, 1, before.Processes)
	assert.Positive(t, before.Threads)
	assert.Positive(t, before.RSSBytes)

	f, err := os.Create(filepath.Join(t.TempDir(), "held")) // a regular file: no netpoller descriptors come with it
	require.NoError(t, err)
	defer f.Close()
	after, ok := ReadProcessFigures(pid, []int{pid})
	require.True(t, ok)
	assert.Equal(t, before.FDs+1, after.FDs, "the file opened meanwhile")
	v, err := ReadProcess(pid)
	require.NoError(t, err)
	assert.Equal(t, after.FDs, v.FDs, "nothing else opened or closed in between")
	assert.Positive(t, v.Threads)

	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	gone := cmd.Process.Pid
	s, ok := ReadProcessFigures(gone, []int{gone})
	assert.False(t, ok, "a reaped child is gone")
	assert.Zero(t, s.Processes)
}
