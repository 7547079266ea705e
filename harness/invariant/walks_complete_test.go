package invariant

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/snmpchaos/snmpchaos/harness/report"
)

func TestWalksComplete(t *testing.T) {
	res := walksComplete(&Evidence{Counts: report.PollCounts{WalksChecked: 12, Unverified: 3}})
	assert.True(t, res.Pass)
	assert.Equal(t, "12 successful walks equal the agent's data (3 not compared: faults changed while they ran)", res.Summary)

	res = walksComplete(&Evidence{})
	assert.True(t, res.Pass, "no walk is no partial walk")
	assert.Equal(t, "no successful walk to compare", res.Summary)

	// Negative control: one walk the WalkChecker found short.
	partial := "agent 4 (127.0.0.5:161) bulkwalk .1.3.6.1.2.1.2.2: partial: 9 of 10 varbinds"
	res = walksComplete(&Evidence{Counts: report.PollCounts{WalksChecked: 12, Partial: 1}, Partials: []string{partial}})
	assert.False(t, res.Pass)
	assert.Equal(t, "1 of 12 successful walks differ from the agent's data: silent partial or wrong results", res.Summary)
	assert.Equal(t, []string{partial}, res.Evidence)
}
