package harness

import (
	"math"
	"time"
)

// latencyHist counts durations in logarithmic buckets so that a phase of
// any length costs the same memory (a soak must not grow the harness's own
// heap). Bucket i holds durations up to histBase·2^(i/16): quantiles are
// within 4.4% above the true value, and never above the maximum seen.
type latencyHist struct {
	counts [histBuckets]uint32
	n      int
	max    time.Duration
}

const (
	histBase    = 10 * time.Microsecond
	histPerOct  = 16
	histBuckets = 28 * histPerOct // up to about 45 minutes
)

func (h *latencyHist) add(d time.Duration) {
	i := 0
	if d > histBase {
		i = int(math.Ceil(histPerOct * math.Log2(float64(d)/float64(histBase))))
	}
	h.counts[min(i, histBuckets-1)]++
	h.n++
	h.max = max(h.max, d)
}

// quantile returns the p-quantile (nearest rank), 0 when empty.
func (h *latencyHist) quantile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := max(int(math.Ceil(p*float64(h.n))), 1)
	acc := 0
	for i, c := range h.counts {
		acc += int(c)
		if acc >= rank {
			if i == histBuckets-1 { // the overflow bucket
				return h.max
			}
			return min(time.Duration(float64(histBase)*math.Exp2(float64(i)/histPerOct)), h.max)
		}
	}
	return h.max
}
