package invariant

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/report"
)

func TestLinearFitAndTrend(t *testing.T) {
	s, b := linearFit([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7})
	assert.InDelta(t, 2, s, 1e-9)
	assert.InDelta(t, 1, b, 1e-9)

	mk := func(leak bool) *Evidence {
		var ss []report.Sample
		for i := range 600 {
			g := 100 + (i*7)%40 // load swings
			if leak {
				g += i / 5
			}
			ss = append(ss, report.Sample{T: time.Duration(i) * 100 * time.Millisecond, Goroutines: g, FDs: 20, HeapLive: 10 << 20})
		}
		return &Evidence{Samples: ss, Phases: []report.PhaseReport{{Start: 0, End: 60 * time.Second}}}
	}
	assert.True(t, noTrend(mk(false)).Pass, "swings are no trend")
	res := noTrend(mk(true))
	assert.False(t, res.Pass)
	require.NotEmpty(t, res.Evidence)
	assert.Contains(t, res.Evidence[0], "goroutines floor rises by")
}
