package invariant

import (
	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Invariant is one named check of a run.
type Invariant struct {
	// Name is how reports name it ("connections-closed").
	Name string
	// Applies reports whether a scenario asks for the check; nil: every
	// run is checked.
	Applies func(sc *scenarios.Scenario) bool
	// Check reads the evidence and says whether the invariant holds,
	// with a summary and the evidence lines that name the culprit.
	Check func(ev *Evidence) report.InvariantResult
}

// All lists every invariant, in the order reports show them. Adding an
// invariant is one file (its name, its Check, its test) and one line here.
func All() []Invariant {
	return []Invariant{
		{Name: ConnectionsClosed, Check: connectionsClosed},
		{Name: GoroutinesBounded, Check: goroutinesBounded},
		{Name: FDsStable, Check: fdsStable},
		{Name: PollsAccounted, Check: pollsAccounted},
		{Name: WalksComplete, Check: walksComplete},
		{Name: PhaseExpectations, Check: phaseExpectations},
		{Name: NoTrend, Applies: trendAsked, Check: noTrend},
		{Name: InFlightBounded, Check: inFlightBounded},
		{Name: CancelLatency, Check: cancelLatency},
		{Name: UDPDrops, Check: udpDrops},
		{Name: DescriptorsBounded, Check: descriptorsBounded},
		{Name: P99Trend, Applies: func(sc *scenarios.Scenario) bool { return sc.Invariants.P99Trend != nil }, Check: p99Trend},
	}
}

// Evaluate checks every invariant that applies to ev.Scenario, in the
// order of All.
func Evaluate(ev *Evidence) []report.InvariantResult {
	var out []report.InvariantResult
	for _, inv := range All() {
		if inv.Applies == nil || inv.Applies(ev.Scenario) {
			out = append(out, inv.Check(ev))
		}
	}
	return processChecks(ev, out)
}
