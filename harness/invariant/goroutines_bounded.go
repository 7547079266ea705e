package invariant

import (
	"fmt"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
)

// GoroutinesBounded: goroutines stay under baseline plus the bound
// throughout and are back to baseline after Close.
const GoroutinesBounded = "goroutines-bounded"

// goroutinesBounded holds every sample under baseline plus
// invariants.maxGoroutines, save for a moment's catch-up of the harness's
// own making (excursion.go: the goroutines of a burst of polls handed over
// at once), and the count after Close to the baseline, listing the
// goroutines left over by stack.
func goroutinesBounded(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: GoroutinesBounded, Pass: true}
	bound := ev.Base.Goroutines + ev.Scenario.Invariants.MaxGoroutines
	get := func(s report.Sample) int { return s.Goroutines }
	peak, at := peakOf(ev.Samples, get)
	c := checkBound(ev, get, bound)
	if over, firstOver := c.overSamples(); over > 0 {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("%d of %d samples over the bound of %d (baseline %d + %d), first at %s; peak %d at %s",
			over, len(ev.Samples), bound, ev.Base.Goroutines, ev.Scenario.Invariants.MaxGoroutines, firstOver.Round(time.Millisecond), peak, at.Round(time.Millisecond)))
		res.Evidence = append(res.Evidence, c.failingLines(bound)...)
	}
	if ev.After.Goroutines > ev.Base.Goroutines {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("%d goroutines after Close, %d at baseline; the ones left over:", ev.After.Goroutines, ev.Base.Goroutines))
		res.Evidence = append(res.Evidence, probe.ExcessGoroutines(ev.BaseG, ev.AfterG, EvidenceLimit, 24)...)
	}
	if ev.Reporter && ev.After.Poller != nil && ev.After.Poller.Goroutines != 0 {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("the poller reports %d goroutines of its own after Close", ev.After.Poller.Goroutines))
	}
	res.Summary = fmt.Sprintf("peak %d goroutines at %s (bound %d = baseline %d + %d); %d after Close (baseline %d)",
		peak, at.Round(time.Millisecond), bound, ev.Base.Goroutines, ev.Scenario.Invariants.MaxGoroutines, ev.After.Goroutines, ev.Base.Goroutines) +
		c.forgivenNote(bound, "goroutines")
	return res
}
