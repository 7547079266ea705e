package invariant

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Invariant names, as they appear in reports.
const (
	// ConnectionsClosed: after drain and Close, the poller holds no
	// socket, by the OS's count and by its own, and the two agree.
	ConnectionsClosed = "connections-closed"
	// GoroutinesBounded: goroutines stay under baseline plus the bound
	// throughout and are back to baseline after Close.
	GoroutinesBounded = "goroutines-bounded"
	// FDsStable: descriptors are back to baseline (plus slack) after Close.
	FDsStable = "fds-stable"
	// PollsAccounted: every scheduled poll was reported exactly once.
	PollsAccounted = "polls-accounted"
	// WalksComplete: every successful walk equals the agent's data.
	WalksComplete = "walks-complete"
	// PhaseExpectations: each phase meets its success and latency
	// bounds; after recovery every agent that was faulty succeeds again.
	PhaseExpectations = "phase-expectations"
	// NoTrend: no upward trend in goroutines, fds or heap over the
	// second half of a soak (only when the scenario asks for it).
	NoTrend = "no-trend"
)

// EvidenceLimit caps the evidence lines an invariant lists per kind; the
// harness caps the lines it collects for them the same way.
const EvidenceLimit = 10

// Evidence is everything the invariants read: the run's scenario, the
// probes' readings at baseline, over time and after Close, the poll
// accounting and the phases' outcomes. The harness fills it once, after
// the run; an invariant only reads it.
type Evidence struct {
	Scenario *scenarios.Scenario
	// Base and After are the samples at baseline and after Close;
	// Samples the readings in between, at 10 Hz or more.
	Base, After report.Sample
	Samples     []report.Sample
	// BaseUDP and AfterUDP are this process's UDP sockets by inode
	// (nil when the OS view could not be read: ProcErr says why).
	BaseUDP, AfterUDP map[uint64]probe.UDPSocket
	// BaseFDs and AfterFDs map every descriptor to its target.
	BaseFDs, AfterFDs map[int]string
	// BaseG and AfterG are the goroutines by signature.
	BaseG, AfterG probe.GoroutineDump
	// Reporter is whether the poller reports its own stats.
	Reporter bool
	ProcErr  error
	Counts   report.PollCounts
	// Unreported, Duplicates and Partials are evidence lines about
	// polls never reported, reported twice, and walks that differ from
	// the agent's data.
	Unreported []string
	Duplicates []string
	Partials   []string
	Phases     []report.PhaseReport
	// Recovery lists, per recovery phase, the agents faulty earlier that
	// did not succeed once in it.
	Recovery    map[int][]RecoveryGap
	StraddledOK []int               // per phase: straddled polls that succeeded
	Examples    []map[string]string // per phase: an error of each kind
	// Drained is whether every poll was reported before the drain timeout.
	Drained  bool
	CloseErr string // what the poller's Close returned
}

// RecoveryGap is an agent that was faulty before a recovery phase and had
// no successful poll in it.
type RecoveryGap struct {
	Phase  int
	Agent  int
	Polled int32 // polls of the agent in the phase
}

// Evaluate checks every invariant, in a fixed order.
func Evaluate(ev *Evidence) []report.InvariantResult {
	out := []report.InvariantResult{
		connectionsClosed(ev),
		goroutinesBounded(ev),
		fdsStable(ev),
		pollsAccounted(ev),
		walksComplete(ev),
		phaseExpectations(ev),
	}
	if ev.Scenario.Invariants.Trend {
		out = append(out, noTrend(ev))
	}
	return out
}

func connectionsClosed(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: ConnectionsClosed, Pass: true}
	if ev.AfterUDP == nil || ev.BaseUDP == nil {
		return report.InvariantResult{Name: res.Name, Summary: fmt.Sprintf("cannot read the OS view of sockets: %v", ev.ProcErr)}
	}
	var leaked []probe.UDPSocket
	for ino, s := range ev.AfterUDP {
		if _, ok := ev.BaseUDP[ino]; !ok {
			leaked = append(leaked, s)
		}
	}
	slices.SortFunc(leaked, func(a, b probe.UDPSocket) int { return int(a.Inode - b.Inode) })
	allowed := ev.Base.UDPSockets
	pollerView := "the poller does not report its sockets"
	pollerOpen := 0
	if ev.Reporter && ev.After.Poller != nil {
		pollerOpen = ev.After.Poller.OpenSockets
		pollerView = fmt.Sprintf("the poller reports %d open", pollerOpen)
		if ev.Base.Poller != nil {
			allowed -= ev.Base.Poller.OpenSockets
		}
	}
	if len(leaked) > 0 {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("%d UDP sockets opened during the run are still open after Close", len(leaked)))
		for i, s := range leaked {
			if i == EvidenceLimit {
				res.Evidence = append(res.Evidence, fmt.Sprintf("... and %d more", len(leaked)-EvidenceLimit))
				break
			}
			res.Evidence = append(res.Evidence, s.String())
		}
	}
	if ev.After.UDPSockets > allowed {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("the OS shows %d UDP sockets after Close, at most %d expected (baseline %d, less the poller's own)", ev.After.UDPSockets, allowed, ev.Base.UDPSockets))
	}
	if ev.Reporter {
		if pollerOpen != 0 {
			res.Pass = false
			res.Evidence = append(res.Evidence, fmt.Sprintf("the poller reports %d sockets still open after Close", pollerOpen))
		}
		if pollerOpen == 0 && len(leaked) > 0 {
			res.Evidence = append(res.Evidence, fmt.Sprintf("the poller's stats and the OS disagree: the poller reports 0 open sockets, the OS shows %d left from the run", len(leaked)))
		}
	}
	peak, at := 0, time.Duration(0)
	for _, s := range ev.Samples {
		if s.UDPSockets > peak {
			peak, at = s.UDPSockets, s.T
		}
	}
	if m := ev.Scenario.Invariants.MaxSockets; m > 0 && peak-ev.Base.UDPSockets > m {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("%d UDP sockets at %s, %d over baseline (bound %d)", peak, at.Round(time.Millisecond), peak-ev.Base.UDPSockets, m))
	}
	if ev.CloseErr != "" {
		res.Evidence = append(res.Evidence, "Close returned: "+ev.CloseErr)
	}
	if res.Pass {
		res.Summary = fmt.Sprintf("no socket left open: the OS shows %d UDP sockets after Close (baseline %d), %s; peak %d", ev.After.UDPSockets, ev.Base.UDPSockets, pollerView, peak)
	} else {
		res.Summary = fmt.Sprintf("%d UDP sockets left open after Close by the OS's count (baseline %d, now %d); %s", len(leaked), ev.Base.UDPSockets, ev.After.UDPSockets, pollerView)
	}
	return res
}

func goroutinesBounded(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: GoroutinesBounded, Pass: true}
	bound := ev.Base.Goroutines + ev.Scenario.Invariants.MaxGoroutines
	peak, at, over := 0, time.Duration(0), 0
	var firstOver time.Duration
	for _, s := range ev.Samples {
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
			over, len(ev.Samples), bound, ev.Base.Goroutines, ev.Scenario.Invariants.MaxGoroutines, firstOver.Round(time.Millisecond), peak, at.Round(time.Millisecond)))
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
		peak, at.Round(time.Millisecond), bound, ev.Base.Goroutines, ev.Scenario.Invariants.MaxGoroutines, ev.After.Goroutines, ev.Base.Goroutines)
	return res
}

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

func pollsAccounted(ev *Evidence) report.InvariantResult {
	c := ev.Counts
	res := report.InvariantResult{Name: PollsAccounted, Pass: true}
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
		held, ok := pr.Polls-pr.Straddled, pr.Succeeded
		if i < len(ev.StraddledOK) {
			ok -= ev.StraddledOK[i]
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
				line += fmt.Sprintf(" (%d more straddled the next phase's faults: not counted)", pr.Straddled)
			}
			if pr.Skipped > 0 {
				line += fmt.Sprintf(" (%d more came due but never started: no free slot)", pr.Skipped)
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
