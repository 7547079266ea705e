package invariant

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/report"
)

// PhaseExpectations: each phase meets its success and latency bounds;
// after recovery every agent that was faulty succeeds again. The name is
// report's, whose JUnit renderer reads this invariant's evidence.
const PhaseExpectations = report.InvPhaseExpectations

// phaseExpectations holds each phase with expectations to its
// minSuccess and maxP99 over the polls that ran under its faults, and a
// recovery phase to a success from every agent faulty before it.
func phaseExpectations(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: PhaseExpectations, Pass: true}
	checked, failed := 0, 0
	for i, ph := range ev.Scenario.Phases {
		e := ph.Expect
		if e == nil || i >= len(ev.Phases) {
			continue
		}
		checked++
		pr := ev.Phases[i]
		// Every poll counts in the phase it started in, straddling or not;
		// one never reported has no outcome: polls-accounted fails it.
		held, ok := pr.Succeeded+pr.Failed, pr.Succeeded
		ratio := 0.0
		if held > 0 {
			ratio = float64(ok) / float64(held)
		}
		var fails []string
		if e.MinSuccess != nil && (held <= 0 || ratio < *e.MinSuccess-1e-9) {
			fails = append(fails, fmt.Sprintf("%.2f%% of %d polls succeeded, want at least %.2f%%", 100*ratio, held, 100**e.MinSuccess))
		}
		if e.MaxP99 > 0 && pr.P99 > e.MaxP99.D() {
			fails = append(fails, fmt.Sprintf("p99 latency %s, want at most %s", pr.P99.Round(time.Millisecond), e.MaxP99.D()))
		}
		if e.Recovery {
			fails = append(fails, recoveryFailures(ev.Recovery[i])...)
		}
		if len(fails) > 0 {
			res.Pass = false
			failed++
			line := fmt.Sprintf("phase %s: %s", ph.Name, strings.Join(fails, "; "))
			if len(pr.Errors) > 0 {
				line += " (errors: " + formatCounts(pr.Errors) + ")"
			}
			if pr.Straddled > 0 {
				line += fmt.Sprintf(" (%d of them ended under the next phase's faults)", pr.Straddled)
			}
			if pr.Skipped > 0 {
				line += fmt.Sprintf(" (%d of them skipped: no free slot, closed load model)", pr.Skipped)
			}
			res.Evidence = append(res.Evidence, line)
			res.Evidence = append(res.Evidence, errorLines(ev.Examples, i)...)
		}
	}
	switch {
	case checked == 0:
		res.Summary = "no phase has expectations"
	case res.Pass:
		res.Summary = fmt.Sprintf("%d of %d phases have expectations; all met", checked, len(ev.Scenario.Phases))
	default:
		res.Summary = fmt.Sprintf("%d of %d phases with expectations missed them", failed, checked)
	}
	return res
}

// errorLines gives one example per error kind of phase i.
func errorLines(ex []map[string]string, i int) []string {
	if i >= len(ex) {
		return nil
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(ex[i])) {
		out = append(out, "  e.g. "+k+": "+ex[i][k])
	}
	return out
}

// recoveryFailures describes agents that were faulty before a recovery
// phase, were polled in it and never succeeded.
func recoveryFailures(gaps []RecoveryGap) []string {
	var failed []RecoveryGap
	unpolled := 0
	for _, g := range gaps {
		if g.Polled == 0 {
			unpolled++
			continue
		}
		failed = append(failed, g)
	}
	if len(failed) == 0 {
		return nil
	}
	var agents []string
	for i, g := range failed {
		if i == EvidenceLimit {
			agents = append(agents, fmt.Sprintf("... %d more", len(failed)-EvidenceLimit))
			break
		}
		agents = append(agents, fmt.Sprintf("%d (%d polls)", g.Agent, g.Polled))
	}
	msg := fmt.Sprintf("%d agents faulty before did not succeed once after recovery: %s", len(failed), strings.Join(agents, ", "))
	if unpolled > 0 {
		msg += fmt.Sprintf("; %d more were not polled in the phase", unpolled)
	}
	return []string{msg}
}

// formatCounts renders "timeout: 3, tooBig: 1", largest first.
func formatCounts(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
