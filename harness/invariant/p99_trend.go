package invariant

import (
	"fmt"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/report"
)

// P99Trend: within each steady phase the check covers, the p99 latency of
// the last window is no more than maxGrowth times the first window's (when
// it is above the floor): the "200 ms on Monday, 8 s on Thursday" story
// caught in minutes. Windows are cut by poll start time.
const P99Trend = "p99-trend"

func p99Trend(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: P99Trend, Pass: true}
	t := ev.Scenario.Invariants.P99Trend
	phases := ev.Scenario.TrendPhases()
	if len(phases) == 0 {
		res.Summary = "no phase to check (the check covers phases without faults, or those it names)"
		return res
	}
	var checked []string
	for _, i := range phases {
		ws := ev.P99Windows[i]
		name := ev.Scenario.Phases[i].Name
		if len(ws) < 2 {
			checked = append(checked, name+": fewer than 2 windows")
			continue
		}
		first, last := ws[0], ws[len(ws)-1]
		growth := float64(last) / float64(max(first, time.Microsecond))
		checked = append(checked, fmt.Sprintf("%s: p99 %s → %s over %d windows", name, first.Round(time.Millisecond), last.Round(time.Millisecond), len(ws)))
		if last > t.Floor.D() && growth > t.MaxGrowth {
			res.Pass = false
			parts := make([]string, len(ws))
			for k, w := range ws {
				parts[k] = w.Round(time.Millisecond).String()
			}
			res.Evidence = append(res.Evidence, fmt.Sprintf("phase %s: p99 grew %.1fx, from %s in the first window to %s in the last (bound %.1fx above %s); per %s window: %s",
				name, growth, first.Round(time.Millisecond), last.Round(time.Millisecond), t.MaxGrowth, t.Floor.D(), t.Window.D(), strings.Join(parts, " ")))
		}
	}
	if res.Pass {
		res.Summary = "p99 latency does not climb: " + strings.Join(checked, "; ")
	} else {
		res.Summary = fmt.Sprintf("p99 latency climbs in %d of %d phases checked", len(res.Evidence), len(phases))
	}
	return res
}
