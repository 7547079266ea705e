package benchutil

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const serviceTestRole = "benchutil-service-selftest"

type serviceIn struct{ Spin time.Duration }

type serviceOut struct {
	PID  int
	Spun time.Duration
}

func init() {
	if ChildRole() != serviceTestRole {
		return
	}
	var in serviceIn
	err := ServeChild(&in, func() (any, func() error, error) {
		t0 := time.Now()
		for time.Since(t0) < in.Spin { // burn CPU for the parent to see
		}
		return serviceOut{PID: os.Getpid(), Spun: in.Spin}, func() error { return nil }, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// A service child reports ready with its output, stays up until Stop,
// and its CPU time shows what it spent.
func TestServiceRunsUntilStopped(t *testing.T) {
	var out serviceOut
	s, err := StartService(context.Background(), serviceTestRole, serviceIn{Spin: 200 * time.Millisecond}, &out, time.Minute, "-test.run=^$")
	require.NoError(t, err)
	assert.Equal(t, s.PID(), out.PID)
	assert.Equal(t, 200*time.Millisecond, out.Spun)
	cpu, err := s.CPU()
	require.NoError(t, err)
	assert.Greater(t, cpu, time.Duration(0), "the child spun for 200ms of wall time")
	rss, err := s.PeakRSS()
	require.NoError(t, err)
	assert.Greater(t, rss, uint64(1<<20))
	_, err = os.Stat(fmt.Sprintf("/proc/%d", s.PID()))
	require.NoError(t, err, "still running before Stop")
	require.NoError(t, s.Stop())
	require.NoError(t, s.Stop(), "Stop twice")
}

// A child that fails before it is ready is an error naming the role, with
// its standard error.
func TestServiceFailingToStart(t *testing.T) {
	var out serviceOut
	_, err := StartService(context.Background(), serviceTestRole, "not an object", &out, time.Minute, "-test.run=^$")
	require.Error(t, err)
	assert.Contains(t, err.Error(), serviceTestRole)
	assert.Contains(t, err.Error(), "service input")
}
