package invariant

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// stacks renders n goroutine blocks started by fn, as runtime.Stack does.
func stacks(first, n int, fn string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("goroutine " + strconv.Itoa(first+i) + " [chan receive]:\n" + fn + "(...)\n\t/src/x.go:10 +0x1\ncreated by main.start in goroutine 1\n\t/src/x.go:5 +0x2\n\n")
	}
	return b.String()
}

func TestGoroutinesBounded(t *testing.T) {
	sc := &scenarios.Scenario{Invariants: scenarios.Invariants{MaxGoroutines: 10}}
	base := report.Sample{Goroutines: 5}
	samples := []report.Sample{{T: time.Second, Goroutines: 12}, {T: 2 * time.Second, Goroutines: 15}}
	g := probe.ParseGoroutines(stacks(1, 2, "main.worker"))
	ev := &Evidence{Scenario: sc, Base: base, After: base, Samples: samples, BaseG: g, AfterG: g}
	res := goroutinesBounded(ev)
	assert.True(t, res.Pass, res.Evidence)
	assert.Contains(t, res.Summary, "peak 15 goroutines at 2s (bound 15 = baseline 5 + 10)")

	t.Run("over the bound", func(t *testing.T) {
		ev := *ev
		ev.Samples = append(samples, report.Sample{T: 3 * time.Second, Goroutines: 16})
		res := goroutinesBounded(&ev)
		assert.False(t, res.Pass)
		require.NotEmpty(t, res.Evidence)
		assert.Contains(t, res.Evidence[0], "1 of 3 samples over the bound of 15")
	})
	t.Run("left after Close", func(t *testing.T) {
		ev := *ev
		ev.After = report.Sample{Goroutines: 7}
		ev.AfterG = probe.ParseGoroutines(stacks(1, 2, "main.worker") + stacks(3, 2, "main.leaked"))
		res := goroutinesBounded(&ev)
		assert.False(t, res.Pass)
		all := strings.Join(res.Evidence, "\n")
		assert.Contains(t, all, "7 goroutines after Close, 5 at baseline")
		assert.Contains(t, all, "2 more than at baseline: main.leaked <- main.start", "the leftovers are named by stack")
		assert.NotContains(t, all, "main.worker")
	})
	t.Run("the poller's own count", func(t *testing.T) {
		ev := *ev
		ev.Reporter, ev.After.Poller = true, &pollapi.PollerStats{Goroutines: 3}
		res := goroutinesBounded(&ev)
		assert.False(t, res.Pass)
		assert.Contains(t, strings.Join(res.Evidence, "\n"), "the poller reports 3 goroutines of its own after Close")
	})
}
