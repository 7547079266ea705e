package invariant

import (
	"fmt"

	"github.com/snmpchaos/snmpchaos/harness/report"
)

// PollsAccounted: every scheduled poll was reported exactly once.
const PollsAccounted = "polls-accounted"

// pollsAccounted holds the accounting: scheduled = succeeded + failed,
// none unreported, none reported twice, and some load ran.
func pollsAccounted(ev *Evidence) report.InvariantResult {
	c := ev.Counts
	res := report.InvariantResult{Name: PollsAccounted, Pass: true}
	res.Summary = fmt.Sprintf("%d polls scheduled: %d succeeded, %d failed, %d unreported, %d reported more than once; %d of the failed skipped (no free slot)",
		c.Scheduled, c.Succeeded, c.Failed, c.Unreported, c.Duplicate, c.Skipped)
	if c.Scheduled == 0 {
		res.Pass = false
		res.Evidence = append(res.Evidence, "no poll was scheduled: the load never ran")
	}
	if c.Scheduled != c.Succeeded+c.Failed {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("scheduled %d != succeeded %d + failed %d", c.Scheduled, c.Succeeded, c.Failed))
	}
	if c.Unreported > 0 {
		res.Pass = false
		if !ev.Drained {
			res.Evidence = append(res.Evidence, "the drain timed out with polls in flight, then the poller was closed")
		}
		res.Evidence = append(res.Evidence, ev.Unreported...)
	}
	if c.Duplicate > 0 {
		res.Pass = false
		res.Evidence = append(res.Evidence, ev.Duplicates...)
	}
	return res
}
