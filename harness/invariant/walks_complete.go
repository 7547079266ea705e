package invariant

import (
	"fmt"

	"github.com/snmpchaos/snmpchaos/harness/report"
)

// WalksComplete: every successful walk equals the agent's data.
const WalksComplete = "walks-complete"

// walksComplete fails when a successful walk differed from the agent's
// data (the WalkChecker's verdicts, counted while the load ran).
func walksComplete(ev *Evidence) report.InvariantResult {
	c := ev.Counts
	res := report.InvariantResult{Name: WalksComplete, Pass: c.Partial == 0}
	skipped := ""
	if c.Unverified > 0 {
		skipped = fmt.Sprintf(" (%d not compared: faults changed while they ran)", c.Unverified)
	}
	switch {
	case c.Partial > 0:
		res.Summary = fmt.Sprintf("%d of %d successful walks differ from the agent's data: silent partial or wrong results%s", c.Partial, c.WalksChecked, skipped)
		res.Evidence = ev.Partials
	case c.WalksChecked == 0 && c.Unverified == 0:
		res.Summary = "no successful walk to compare"
	default:
		res.Summary = fmt.Sprintf("%d successful walks equal the agent's data%s", c.WalksChecked, skipped)
	}
	return res
}
