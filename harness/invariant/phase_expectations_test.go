package invariant

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

func TestPhaseExpectations(t *testing.T) {
	half, all := 0.5, 0.99
	sc := &scenarios.Scenario{Phases: []scenarios.Phase{
		{Name: "faulty", Expect: &scenarios.Expectations{MinSuccess: &half, MaxP99: scenarios.Duration(time.Second)}},
		{Name: "back", Expect: &scenarios.Expectations{MinSuccess: &all, Recovery: true}},
		{Name: "free"},
	}}
	phases := []report.PhaseReport{
		// 40 of 100 succeeded; 30 straddled, and count like the others.
		{Name: "faulty", Polls: 100, Succeeded: 40, Failed: 60, Straddled: 30, P99: 2 * time.Second, Errors: map[string]int{"timeout": 60}},
		{Name: "back", Polls: 100, Succeeded: 100},
		{Name: "free", Polls: 10},
	}
	ev := &Evidence{Scenario: sc, Phases: phases, StraddledOK: []int{20, 0, 0},
		Examples: []map[string]string{{"timeout": "agent 3 get .1.3: timed out"}, {}, {}},
		Recovery: map[int][]RecoveryGap{1: {{Phase: 1, Agent: 7, Polled: 2}, {Phase: 1, Agent: 9, Polled: 0}}}}
	res := phaseExpectations(ev)
	assert.False(t, res.Pass)
	assert.Equal(t, "2 of 2 phases with expectations missed them", res.Summary)
	require.Len(t, res.Evidence, 3)
	// harness/report's JUnit phase cases read lines of this shape.
	assert.True(t, strings.HasPrefix(res.Evidence[0], "phase faulty: "))
	assert.Equal(t, "phase faulty: 40.00% of 100 polls succeeded, want at least 50.00%; p99 latency 2s, want at most 1s (errors: timeout: 60) (30 of them ended under the next phase's faults)", res.Evidence[0])
	assert.Equal(t, "  e.g. timeout: agent 3 get .1.3: timed out", res.Evidence[1])
	assert.Equal(t, "phase back: 1 agents faulty before did not succeed once after recovery: 7 (2 polls); 1 more were not polled in the phase", res.Evidence[2])

	ev.Recovery = map[int][]RecoveryGap{1: {{Phase: 1, Agent: 9, Polled: 0}}}
	phases[0].Succeeded, phases[0].P99 = 70, time.Millisecond
	res = phaseExpectations(ev)
	assert.True(t, res.Pass, "agents not polled in a recovery phase are not held against it: %v", res.Evidence)
}
