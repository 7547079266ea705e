package invariant

import (
	"fmt"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
)

// FDsStable: descriptors are back to baseline (plus slack) after Close.
const FDsStable = "fds-stable"

// fdsStable holds the descriptors after Close to baseline plus
// invariants.fdSlack, listing those left over.
func fdsStable(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: FDsStable, Pass: true}
	if ev.After.FDs < 0 || ev.Base.FDs < 0 {
		return report.InvariantResult{Name: res.Name, Summary: fmt.Sprintf("cannot count descriptors: %v", ev.ProcErr)}
	}
	slack := ev.Scenario.Invariants.FDSlack
	peak, at := 0, time.Duration(0)
	for _, s := range ev.Samples {
		if s.FDs > peak {
			peak, at = s.FDs, s.T
		}
	}
	res.Summary = fmt.Sprintf("%d fds after Close (baseline %d, slack %d); peak %d at %s", ev.After.FDs, ev.Base.FDs, slack, peak, at.Round(time.Millisecond))
	if ev.After.FDs > ev.Base.FDs+slack {
		res.Pass = false
		res.Summary = fmt.Sprintf("%d fds after Close, %d over baseline %d (slack %d); peak %d at %s", ev.After.FDs, ev.After.FDs-ev.Base.FDs, ev.Base.FDs, slack, peak, at.Round(time.Millisecond))
		res.Evidence = probe.FDDiff(ev.BaseFDs, ev.AfterFDs, EvidenceLimit)
	}
	return res
}
