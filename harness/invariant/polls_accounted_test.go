package invariant

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/snmpchaos/snmpchaos/harness/report"
)

func TestPollsAccounted(t *testing.T) {
	ok := report.PollCounts{Scheduled: 10, Succeeded: 8, Failed: 2}
	res := pollsAccounted(&Evidence{Counts: ok, Drained: true})
	assert.True(t, res.Pass, res.Evidence)
	assert.Equal(t, "10 polls scheduled: 8 succeeded, 2 failed, 0 unreported, 0 reported more than once; 0 of the failed skipped (no free slot)", res.Summary)

	tests := []struct {
		name     string
		ev       Evidence
		evidence string
	}{
		{"no load", Evidence{Drained: true}, "no poll was scheduled: the load never ran"},
		{"unreported", Evidence{Counts: report.PollCounts{Scheduled: 10, Succeeded: 8, Failed: 1, Unreported: 1},
			Unreported: []string{"poll 7 (agent 1 ...) never reported"}},
			"the drain timed out with polls in flight, then the poller was closed\nscheduled 10 != succeeded 8 + failed 1"},
		{"reported twice", Evidence{Counts: report.PollCounts{Scheduled: 10, Succeeded: 8, Failed: 2, Duplicate: 1},
			Duplicates: []string{"poll 3 (agent 0 get) reported 2 times"}, Drained: true}, "poll 3 (agent 0 get) reported 2 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := pollsAccounted(&tt.ev)
			assert.False(t, res.Pass)
			all := strings.Join(res.Evidence, "\n")
			for _, line := range strings.Split(tt.evidence, "\n") {
				assert.Contains(t, all, line)
			}
		})
	}
}
