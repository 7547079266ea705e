package invariant

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, inv := range All() {
		assert.NotEmpty(t, inv.Name)
		assert.NotNil(t, inv.Check, inv.Name)
		assert.False(t, seen[inv.Name], "%s registered twice", inv.Name)
		seen[inv.Name] = true
	}
	assert.NotContains(t, seen, report.InvariantCompleted, "run-completed is the report's own mark")

	names := func(rs []report.InvariantResult) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	sc := &scenarios.Scenario{}
	got := names(Evaluate(&Evidence{Scenario: sc}))
	assert.Equal(t, []string{ConnectionsClosed, GoroutinesBounded, FDsStable, PollsAccounted, WalksComplete, PhaseExpectations,
		InFlightBounded, CancelLatency, UDPDrops, DescriptorsBounded}, got)
	sc.Invariants.Trend = true
	assert.Equal(t, NoTrend, names(Evaluate(&Evidence{Scenario: sc}))[6], "no-trend runs when the scenario asks for it")
	sc.Invariants.P99Trend = &scenarios.P99Trend{}
	assert.Contains(t, names(Evaluate(&Evidence{Scenario: sc})), P99Trend, "p99-trend runs when the scenario asks for it")
}
