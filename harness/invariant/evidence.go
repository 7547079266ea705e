package invariant

import (
	"time"

	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
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
	// Process is the poller's own process, when it runs in one (nil
	// otherwise): see processChecks.
	Process *report.ProcessReport
	// PileUp and FDPeak are what the sampler captured when polls,
	// goroutines, descriptors or sockets passed their bounds (nil: never).
	PileUp *PileUp
	FDPeak *FDPeak
	// Drops is the UDP drops seen over the run.
	Drops Drops
	// P99Windows are, per phase the p99 trend check covers, the p99
	// latency of the polls started in each window of the phase.
	P99Windows map[int][]time.Duration
}

// RecoveryGap is an agent that was faulty before a recovery phase and had
// no successful poll in it.
type RecoveryGap struct {
	Phase  int
	Agent  int
	Polled int32 // polls of the agent in the phase
}
