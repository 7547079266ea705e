package scenarios

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadAndInvariantDefaults(t *testing.T) {
	s, err := Parse("t.yaml", []byte(good))
	require.NoError(t, err)
	assert.Equal(t, LoadOpen, s.Load.Model, "open-loop by default")
	assert.Equal(t, time.Second, s.Load.Deadline.D(), "deadline defaults to the interval")
	iv := s.Invariants
	assert.Equal(t, 64+16, iv.MaxInFlight)
	assert.Equal(t, time.Second, iv.MaxCancelLatency.D(), "half the 2s timeout")
	require.NotNil(t, iv.MaxDrops)
	assert.Zero(t, *iv.MaxDrops)
	assert.Zero(t, iv.MaxFds)
	assert.Nil(t, iv.P99Trend)
	assert.Zero(t, s.RlimitNofile)
	assert.Equal(t, time.Second, s.DeadlineOf(0))
}

func TestNewKnobsParse(t *testing.T) {
	y := `version: 1
name: t
rlimitNofile: 256
fleet: {agents: 10}
poller: {timeout: 1s}
load:
  interval: 2s
  model: closed
  deadline: 1500ms
  concurrency: 400
  ops: [{kind: get, oids: [.1.3.6.1.2.1.1.3.0]}]
phases:
  - {name: calm, duration: 4s}
  - {name: cancel, duration: 4s, deadline: 200ms, faults: [{faults: {delay: {fixed: 2s}}}]}
invariants:
  maxInFlight: 50
  maxCancelLatency: 50ms
  maxDrops: 3
  maxFds: 40
  p99Trend: {maxGrowth: 3}
`
	s, err := Parse("t.yaml", []byte(y))
	require.NoError(t, err)
	assert.Equal(t, LoadClosed, s.Load.Model)
	assert.Equal(t, 1500*time.Millisecond, s.Load.Deadline.D())
	assert.Equal(t, 1500*time.Millisecond, s.DeadlineOf(0))
	assert.Equal(t, 200*time.Millisecond, s.DeadlineOf(1), "a phase's deadline overrides the load's")
	assert.Equal(t, 256, s.RlimitNofile)
	iv := s.Invariants
	assert.Equal(t, 50, iv.MaxInFlight)
	assert.Equal(t, 50*time.Millisecond, iv.MaxCancelLatency.D())
	assert.Equal(t, 3, *iv.MaxDrops)
	assert.Equal(t, 40, iv.MaxFds)
	require.NotNil(t, iv.P99Trend)
	assert.Equal(t, 10*time.Second, iv.P99Trend.Window.D(), "five intervals")
	assert.Equal(t, 3.0, iv.P99Trend.MaxGrowth)
	assert.Equal(t, 100*time.Millisecond, iv.P99Trend.Floor.D())
	assert.Equal(t, []int{0}, s.TrendPhases(), "phases without faults")
	assert.Equal(t, 250*time.Millisecond, mustParse(t, good+"poller: {timeout: 100ms}\n").Invariants.MaxCancelLatency.D(), "at least 250ms")
}

func mustParse(t *testing.T, y string) *Scenario {
	t.Helper()
	s, err := Parse("t.yaml", []byte(y))
	require.NoError(t, err)
	return s
}

func TestNewKnobsRejectBadValues(t *testing.T) {
	tests := []struct{ name, extra, want string }{
		{"model", "load:\n  interval: 1s\n  model: burst\n  ops: [{kind: get, oids: [.1.3]}]\nphases: [{duration: 1s}]\n", `t.yaml:6: load.model: unknown model "burst" (want open or closed)`},
		{"deadline", "load:\n  interval: 1s\n  deadline: -1s\n  ops: [{kind: get, oids: [.1.3]}]\nphases: [{duration: 1s}]\n", "t.yaml:6: load.deadline: must be a positive duration"},
		{"phase deadline", "load:\n  interval: 1s\n  ops: [{kind: get, oids: [.1.3]}]\nphases:\n  - duration: 1s\n    deadline: -5ms\n", "t.yaml:9: phases[0].deadline: must not be negative"},
		{"max drops", okLoad + "invariants:\n  maxDrops: -1\n", "t.yaml:9: invariants.maxDrops: must not be negative"},
		{"max fds", okLoad + "invariants:\n  maxFds: -2\n", "t.yaml:9: invariants.maxFds: must not be negative"},
		{"max in flight", okLoad + "invariants:\n  maxInFlight: -2\n", "t.yaml:9: invariants.maxInFlight: must not be negative"},
		{"cancel latency", okLoad + "invariants:\n  maxCancelLatency: -1ms\n", "t.yaml:9: invariants.maxCancelLatency: must not be negative"},
		{"trend growth", okLoad + "invariants:\n  p99Trend: {maxGrowth: 0.5}\n", "t.yaml:9: invariants.p99Trend.maxGrowth: must be at least 1"},
		{"trend phase", okLoad + "invariants:\n  p99Trend:\n    phases: [soak]\n", `t.yaml:10: invariants.p99Trend.phases[0]: no phase named "soak"`},
		{"trend field", okLoad + "invariants:\n  p99Trend: {growth: 2}\n", "t.yaml:9: invariants.p99Trend.growth: unknown field"},
		{"rlimit", okLoad + "rlimitNofile: 10\n", "t.yaml:8: rlimitNofile: must be in [64, 1048576]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte("version: 1\nname: t\nfleet: {agents: 10}\n"+tt.extra))
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalid))
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

const okLoad = "load:\n  interval: 1s\n  ops: [{kind: get, oids: [.1.3]}]\nphases: [{duration: 1s}]\n"
