package probe

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

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

// TestReadCPUTimeOfThisProcess: this process's threads ran, and the sums
// only grow; a process that is not there is an error.
func TestReadCPUTimeOfThisProcess(t *testing.T) {
	a, err := ReadCPUTime(0)
	require.NoError(t, err)
	assert.Positive(t, a.Running, "the test itself ran")
	b, err := ReadCPUTime(os.Getpid())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, b.Running, a.Running)
	d := b.Sub(a)
	assert.GreaterOrEqual(t, d.WaitShare(), 0.0)
	assert.LessOrEqual(t, d.WaitShare(), 1.0)
	assert.Equal(t, CPUTime{}, a.Sub(b), "clamped at zero")
	assert.Equal(t, 0.25, CPUTime{Running: 3 * time.Second, Waiting: time.Second}.WaitShare())
	_, err = ReadCPUTime(1 << 30)
	assert.Error(t, err)
}
