package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBundledScenariosLoad(t *testing.T) {
	names := Names()
	require.Subset(t, names, []string{"quickstart", "baseline", "fd-leak", "walk-stall", "timeout-jitter", "blackhole-recovery", "mixed-soak"})
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			s, err := Bundled(n)
			require.NoError(t, err)
			assert.Equal(t, n, s.Name, "file name and scenario name agree")
			assert.NotEmpty(t, s.Description)
			sh := s.Shortened()
			assert.LessOrEqual(t, sh.Fleet.Agents, s.Fleet.Agents)
			assert.LessOrEqual(t, sh.TotalDuration(), s.TotalDuration())
		})
	}
	q, err := Bundled("quickstart")
	require.NoError(t, err)
	assert.Equal(t, 1000, q.Fleet.Agents)
	assert.InDelta(t, 30*time.Second, q.TotalDuration(), float64(5*time.Second))
}

const good = `version: 1
name: t
fleet:
  agents: 10
load:
  interval: 1s
  ops:
    - kind: get
      oids: [.1.3.6.1.2.1.1.3.0]
phases:
  - duration: 2s
`

func TestDefaults(t *testing.T) {
	s, err := Parse("t.yaml", []byte(good))
	require.NoError(t, err)
	assert.Equal(t, "if-mib:24", s.Fleet.Profile)
	assert.Equal(t, "public", s.Fleet.Community)
	assert.Equal(t, "127.16.0.1:0", s.Fleet.Listen)
	assert.Equal(t, 64, s.Load.Concurrency)
	assert.Equal(t, 1, s.Load.Ops[0].Weight)
	assert.Equal(t, "phase-1", s.Phases[0].Name)
	assert.Equal(t, 2*time.Second, s.Poller.Timeout.D())
	assert.Equal(t, 10, s.Short.Agents)
}

func TestErrorsNameFileLineAndField(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown top field", good + "colour: red\n", "t.yaml:12: colour: unknown field"},
		{"unknown nested field", "version: 1\nname: t\nfleet:\n  agentz: 3\n", "t.yaml:4: fleet.agentz: unknown field"},
		{"bad type", "version: 1\nname: t\nfleet:\n  agents: many\n", `t.yaml:4: fleet.agents: want a whole number, got "many"`},
		{"bad duration", "version: 1\nname: t\nfleet: {agents: 1}\nload:\n  interval: soon\n", `t.yaml:5: load.interval: duration "soon"`},
		{"fault field in a phase", good + "  - duration: 1s\n    faults:\n      - faults:\n          delay: {fixd: 1s}\n", "t.yaml:15: phases[1].faults[0].faults.delay.fixd: unknown field"},
		{"fault value", good + "  - duration: 1s\n    faults:\n      - faults:\n          drop: {prob: 2}\n", "t.yaml:14: phases[1].faults[0].faults: bad fault: drop.prob"},
		{"selector", good + "  - duration: 1s\n    faults:\n      - selector: {count: 50}\n        faults: {}\n", "t.yaml:14: phases[1].faults[0].selector: selector count 50 outside fleet of 10 agents"},
		{"op kind", "version: 1\nname: t\nfleet: {agents: 1}\nload:\n  interval: 1s\n  ops:\n    - kind: set\n", `t.yaml:7: load.ops[0].kind: unknown kind "set"`},
		{"missing phases", "version: 1\nname: t\nfleet: {agents: 1}\nload:\n  interval: 1s\n  ops: [{kind: walk, root: .1.3}]\n", "t.yaml:1: phases: at least one phase is required"},
		{"version", "version: 2\nname: t\n", "t.yaml:1: version: version 2 not supported"},
		{"yaml syntax", "version: 1\nname: [t\n", "t.yaml:1: did not find expected"},
		{"list where mapping", "version: 1\nname: t\nfleet: [1, 2]\n", "t.yaml:3: fleet: want a mapping of fields, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.yaml))
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalid))
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestOpenFileAndBundled(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mine.yaml")
	require.NoError(t, os.WriteFile(p, []byte(good), 0o644))
	s, err := Open(p)
	require.NoError(t, err)
	assert.Equal(t, p, s.Source)
	_, err = Open("no-such-scenario")
	require.ErrorContains(t, err, "have: ")
	_, err = Open(filepath.Join(t.TempDir(), "missing.yaml"))
	require.Error(t, err)
}
