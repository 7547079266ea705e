package invariant

import (
	"fmt"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/report"
)

// CancelLatency: once a poll's context ends (its deadline), the poll
// reports promptly: in each phase the 99th percentile of the time from
// deadline to report, over every poll still running at its deadline (the
// median when fewer than 20 were), stays under invariants.maxCancelLatency. A poller that waits out its own timeout
// after the caller gave up (gosnmp#432) fails it.
const CancelLatency = "cancel-latency"

// minCancelSample is the fewest cancelled polls whose p99 is held to the
// bound; fewer are held by their median.
const minCancelSample = 20

func cancelLatency(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: CancelLatency, Pass: true}
	bound := ev.Scenario.Invariants.MaxCancelLatency.D()
	n := 0
	var worst report.CancelStats
	worstPhase := ""
	for _, ph := range ev.Phases {
		c := ph.Cancel
		n += c.Count
		if c.Count == 0 {
			continue
		}
		line := fmt.Sprintf("phase %s: %d polls outlived their deadline; cancel latency p50 %s, p99 %s, max %s",
			ph.Name, c.Count, c.P50.Round(time.Millisecond), c.P99.Round(time.Millisecond), c.Max.Round(time.Millisecond))
		// A handful of polls at a deadline measure the scheduler of a
		// loaded machine more than the poller: below minCancelSample the
		// median is held to the bound, the p99 above it.
		held, stat := c.P99, "p99"
		if c.Count < minCancelSample {
			held, stat = c.P50, "p50"
		}
		if held > bound {
			res.Pass = false
			line += fmt.Sprintf(" — %s over the bound of %s", stat, bound)
		}
		res.Evidence = append(res.Evidence, line)
		if c.P99 > worst.P99 {
			worst, worstPhase = c, ph.Name
		}
	}
	switch {
	case n == 0:
		res.Summary = fmt.Sprintf("no poll outlived its deadline (bound %s p99)", bound)
	case res.Pass:
		res.Summary = fmt.Sprintf("%d polls outlived their deadline, each phase's p99 cancel latency within %s (worst %s in %s)", n, bound, worst.P99.Round(time.Millisecond), worstPhase)
	default:
		res.Summary = fmt.Sprintf("polls report long after their context ended: p99 %s in phase %s (max %s), bound %s", worst.P99.Round(time.Millisecond), worstPhase, worst.Max.Round(time.Millisecond), bound)
	}
	if res.Pass {
		res.Evidence = nil // the phase table shows the figures
	}
	return res
}
