package harness

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Invariant names, as they appear in reports.
const (
	// InvConnectionsClosed: after drain and Close, the poller holds no
	// socket, by the OS's count and by its own, and the two agree.
	InvConnectionsClosed = "connections-closed"
	// InvGoroutinesBounded: goroutines stay under baseline plus the bound
	// throughout and are back to baseline after Close.
	InvGoroutinesBounded = "goroutines-bounded"
	// InvFDsStable: descriptors are back to baseline (plus slack) after Close.
	InvFDsStable = "fds-stable"
	// InvPollsAccounted: every scheduled poll was reported exactly once.
	InvPollsAccounted = "polls-accounted"
	// InvWalksComplete: every successful walk equals the agent's data.
	InvWalksComplete = "walks-complete"
	// InvPhaseExpectations: each phase meets its success and latency
	// bounds; after recovery every agent that was faulty succeeds again.
	InvPhaseExpectations = "phase-expectations"
	// InvNoTrend: no upward trend in goroutines, fds or heap over the
	// second half of a soak (only when the scenario asks for it).
	InvNoTrend = "no-trend"
)

// evidence is everything the invariants read.
type evidence struct {
	sc                *scenarios.Scenario
	base, after       Sample
	samples           []Sample
	baseUDP, afterUDP map[uint64]udpSocket
	baseFDs, afterFDs map[int]string
	baseG, afterG     goroutineDump
	reporter          bool
	procErr           error
	counts            PollCounts
	unreported        []string
	duplicates        []string
	partials          []string
	phases            []PhaseReport
	recovery          map[int][]recoveryGap
	straddledOK       []int               // per phase: straddled polls that succeeded
	examples          []map[string]string // per phase: an error of each kind
	drained           bool
	closeErr          string
}

// evaluate checks every invariant, in a fixed order.
func evaluate(ev *evidence) []InvariantResult {
	out := []InvariantResult{
		connectionsClosed(ev),
		goroutinesBounded(ev),
		fdsStable(ev),
		pollsAccounted(ev),
		walksComplete(ev),
		phaseExpectations(ev),
	}
	if ev.sc.Invariants.Trend {
		out = append(out, noTrend(ev))
	}
	return out
}

func connectionsClosed(ev *evidence) InvariantResult {
	res := InvariantResult{Name: InvConnectionsClosed, Pass: true}
	if ev.afterUDP == nil || ev.baseUDP == nil {
		return InvariantResult{Name: res.Name, Summary: fmt.Sprintf("cannot read the OS view of sockets: %v", ev.procErr)}
	}
	var leaked []udpSocket
	for ino, s := range ev.afterUDP {
		if _, ok := ev.baseUDP[ino]; !ok {
			leaked = append(leaked, s)
		}
	}
	slices.SortFunc(leaked, func(a, b udpSocket) int { return int(a.Inode - b.Inode) })
	allowed := ev.base.UDPSockets
	pollerView := "the poller does not report its sockets"
	pollerOpen := 0
	if ev.reporter && ev.after.Poller != nil {
		pollerOpen = ev.after.Poller.OpenSockets
		pollerView = fmt.Sprintf("the poller reports %d open", pollerOpen)
		if ev.base.Poller != nil {
			allowed -= ev.base.Poller.OpenSockets
		}
	}
	if len(leaked) > 0 {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("%d UDP sockets opened during the run are still open after Close", len(leaked)))
		for i, s := range leaked {
			if i == evidenceLimit {
				res.Evidence = append(res.Evidence, fmt.Sprintf("... and %d more", len(leaked)-evidenceLimit))
				break
			}
			res.Evidence = append(res.Evidence, s.String())
		}
	}
	if ev.after.UDPSockets > allowed {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("the OS shows %d UDP sockets after Close, at most %d expected (baseline %d, less the poller's own)", ev.after.UDPSockets, allowed, ev.base.UDPSockets))
	}
	if ev.reporter {
		if pollerOpen != 0 {
			res.Pass = false
			res.Evidence = append(res.Evidence, fmt.Sprintf("the poller reports %d sockets still open after Close", pollerOpen))
		}
		if pollerOpen == 0 && len(leaked) > 0 {
			res.Evidence = append(res.Evidence, fmt.Sprintf("the poller's stats and the OS disagree: the poller reports 0 open sockets, the OS shows %d left from the run", len(leaked)))
		}
	}
	peak, at := 0, time.Duration(0)
	for _, s := range ev.samples {
		if s.UDPSockets > peak {
			peak, at = s.UDPSockets, s.T
		}
	}
	if m := ev.sc.Invariants.MaxSockets; m > 0 && peak-ev.base.UDPSockets > m {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("%d UDP sockets at %s, %d over baseline (bound %d)", peak, at.Round(time.Millisecond), peak-ev.base.UDPSockets, m))
	}
	if ev.closeErr != "" {
		res.Evidence = append(res.Evidence, "Close returned: "+ev.closeErr)
	}
	if res.Pass {
		res.Summary = fmt.Sprintf("no socket left open: the OS shows %d UDP sockets after Close (baseline %d), %s; peak %d", ev.after.UDPSockets, ev.base.UDPSockets, pollerView, peak)
	} else {
		res.Summary = fmt.Sprintf("%d UDP sockets left open after Close by the OS's count (baseline %d, now %d); %s", len(leaked), ev.base.UDPSockets, ev.after.UDPSockets, pollerView)
	}
	return res
}

func goroutinesBounded(ev *evidence) InvariantResult {
	res := InvariantResult{Name: InvGoroutinesBounded, Pass: true}
	bound := ev.base.Goroutines + ev.sc.Invariants.MaxGoroutines
	peak, at, over := 0, time.Duration(0), 0
	var firstOver time.Duration
	for _, s := range ev.samples {
		if s.Goroutines > peak {
			peak, at = s.Goroutines, s.T
		}
		if s.Goroutines > bound {
			if over == 0 {
				firstOver = s.T
			}
			over++
		}
	}
	if over > 0 {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("%d of %d samples over the bound of %d (baseline %d + %d), first at %s; peak %d at %s",
			over, len(ev.samples), bound, ev.base.Goroutines, ev.sc.Invariants.MaxGoroutines, firstOver.Round(time.Millisecond), peak, at.Round(time.Millisecond)))
	}
	if ev.after.Goroutines > ev.base.Goroutines {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("%d goroutines after Close, %d at baseline; the ones left over:", ev.after.Goroutines, ev.base.Goroutines))
		res.Evidence = append(res.Evidence, excessGoroutines(ev.baseG, ev.afterG, evidenceLimit, 24)...)
	}
	if ev.reporter && ev.after.Poller != nil && ev.after.Poller.Goroutines != 0 {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("the poller reports %d goroutines of its own after Close", ev.after.Poller.Goroutines))
	}
	res.Summary = fmt.Sprintf("peak %d goroutines at %s (bound %d = baseline %d + %d); %d after Close (baseline %d)",
		peak, at.Round(time.Millisecond), bound, ev.base.Goroutines, ev.sc.Invariants.MaxGoroutines, ev.after.Goroutines, ev.base.Goroutines)
	return res
}

func fdsStable(ev *evidence) InvariantResult {
	res := InvariantResult{Name: InvFDsStable, Pass: true}
	if ev.after.FDs < 0 || ev.base.FDs < 0 {
		return InvariantResult{Name: res.Name, Summary: fmt.Sprintf("cannot count descriptors: %v", ev.procErr)}
	}
	slack := ev.sc.Invariants.FDSlack
	peak, at := 0, time.Duration(0)
	for _, s := range ev.samples {
		if s.FDs > peak {
			peak, at = s.FDs, s.T
		}
	}
	res.Summary = fmt.Sprintf("%d fds after Close (baseline %d, slack %d); peak %d at %s", ev.after.FDs, ev.base.FDs, slack, peak, at.Round(time.Millisecond))
	if ev.after.FDs > ev.base.FDs+slack {
		res.Pass = false
		res.Summary = fmt.Sprintf("%d fds after Close, %d over baseline %d (slack %d); peak %d at %s", ev.after.FDs, ev.after.FDs-ev.base.FDs, ev.base.FDs, slack, peak, at.Round(time.Millisecond))
		res.Evidence = fdDiff(ev.baseFDs, ev.afterFDs, evidenceLimit)
	}
	return res
}

func pollsAccounted(ev *evidence) InvariantResult {
	c := ev.counts
	res := InvariantResult{Name: InvPollsAccounted, Pass: true}
	res.Summary = fmt.Sprintf("%d polls scheduled: %d succeeded, %d failed, %d unreported, %d reported more than once; %d skipped (no free slot)",
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
		if !ev.drained {
			res.Evidence = append(res.Evidence, "the drain timed out with polls in flight, then the poller was closed")
		}
		res.Evidence = append(res.Evidence, ev.unreported...)
	}
	if c.Duplicate > 0 {
		res.Pass = false
		res.Evidence = append(res.Evidence, ev.duplicates...)
	}
	return res
}

func walksComplete(ev *evidence) InvariantResult {
	c := ev.counts
	res := InvariantResult{Name: InvWalksComplete, Pass: c.Partial == 0}
	skipped := ""
	if c.Unverified > 0 {
		skipped = fmt.Sprintf(" (%d not compared: faults changed while they ran)", c.Unverified)
	}
	switch {
	case c.Partial > 0:
		res.Summary = fmt.Sprintf("%d of %d successful walks differ from the agent's data: silent partial or wrong results%s", c.Partial, c.WalksChecked, skipped)
		res.Evidence = ev.partials
	case c.WalksChecked == 0 && c.Unverified == 0:
		res.Summary = "no successful walk to compare"
	default:
		res.Summary = fmt.Sprintf("%d successful walks equal the agent's data%s", c.WalksChecked, skipped)
	}
	return res
}

func phaseExpectations(ev *evidence) InvariantResult {
	res := InvariantResult{Name: InvPhaseExpectations, Pass: true}
	checked, failed := 0, 0
	for i, ph := range ev.sc.Phases {
		e := ph.Expect
		if e == nil || i >= len(ev.phases) {
			continue
		}
		checked++
		pr := ev.phases[i]
		held, ok := pr.Polls-pr.Straddled, pr.Succeeded
		if i < len(ev.straddledOK) {
			ok -= ev.straddledOK[i]
		}
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
			fails = append(fails, recoveryFailures(ev.recovery[i])...)
		}
		if len(fails) > 0 {
			res.Pass = false
			failed++
			line := fmt.Sprintf("phase %s: %s", ph.Name, strings.Join(fails, "; "))
			if len(pr.Errors) > 0 {
				line += " (errors: " + formatCounts(pr.Errors) + ")"
			}
			if pr.Straddled > 0 {
				line += fmt.Sprintf(" (%d more straddled the next phase's faults: not counted)", pr.Straddled)
			}
			if pr.Skipped > 0 {
				line += fmt.Sprintf(" (%d more came due but never started: no free slot)", pr.Skipped)
			}
			res.Evidence = append(res.Evidence, line)
			res.Evidence = append(res.Evidence, errorLines(ev.examples, i)...)
		}
	}
	switch {
	case checked == 0:
		res.Summary = "no phase has expectations"
	case res.Pass:
		res.Summary = fmt.Sprintf("%d of %d phases have expectations; all met", checked, len(ev.sc.Phases))
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
func recoveryFailures(gaps []recoveryGap) []string {
	var failed []recoveryGap
	unpolled := 0
	for _, g := range gaps {
		if g.polled == 0 {
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
		if i == evidenceLimit {
			agents = append(agents, fmt.Sprintf("... %d more", len(failed)-evidenceLimit))
			break
		}
		agents = append(agents, fmt.Sprintf("%d (%d polls)", g.agent, g.polled))
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
