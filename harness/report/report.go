package report

import (
	"time"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/simagent"
)

// Report is everything a run found. It marshals to the JSON report.
type Report struct {
	Scenario    string        `json:"scenario"`
	Description string        `json:"description,omitempty"`
	Poller      string        `json:"poller"`
	Seed        uint64        `json:"seed"`
	Short       bool          `json:"short"`
	Agents      int           `json:"agents"`
	Started     time.Time     `json:"started"`
	Duration    time.Duration `json:"duration"`
	Phases      []PhaseReport `json:"phases"`
	// Samples are the probes over time, at 10 Hz or more.
	Samples  []Sample   `json:"samples"`
	Baseline Sample     `json:"baseline"`
	After    Sample     `json:"after"`
	Polls    PollCounts `json:"polls"`
	// CPU is how long this process's threads ran on a CPU, and waited
	// runnable for one, while the load ran (see HarnessLag).
	CPU        probe.CPUTime     `json:"cpu"`
	Invariants []InvariantResult `json:"invariants"`
	Fleet      simagent.Stats    `json:"fleet"`
	Pass       bool              `json:"pass"`
	// CloseError is what the poller's Close returned, if anything.
	CloseError string `json:"closeError,omitempty"`
	// Mode is "netns" for a netns run (empty in-process); Sites are its
	// test hosts and KernelEvents what it did to their kernel, in order.
	Mode         string        `json:"mode,omitempty"`
	Sites        []SiteReport  `json:"sites,omitempty"`
	KernelEvents []KernelEvent `json:"kernelEvents,omitempty"`
	// FleetProcesses are the simagent processes of a fleet outside the
	// harness (Mode "processes" or "remote"): their resources, fault
	// changes and outages, apart from the harness's own probes.
	FleetProcesses []FleetProcess `json:"fleetProcesses,omitempty"`
	// Process is the poller's process when it runs in one of its own.
	Process *ProcessReport `json:"process,omitempty"`
	// Coverage is, per phase, how many agents saw a request, by their own
	// counters (in-process fleets).
	Coverage []PhaseCoverage `json:"coverage,omitempty"`
}

// PhaseReport is one phase's outcome.
type PhaseReport struct {
	Name   string        `json:"name"`
	Start  time.Duration `json:"start"` // since the run started
	End    time.Duration `json:"end"`
	Faults []string      `json:"faults,omitempty"` // "selector: spec"
	Kernel []string      `json:"kernel,omitempty"` // netns: "site 1: drop 5%"
	// Apply is how long each process of a fleet outside the harness took
	// to confirm the phase's faults; the phase started after the last.
	Apply     []FleetApply `json:"apply,omitempty"`
	Polls     int          `json:"polls"`
	Succeeded int          `json:"succeeded"`
	Failed    int          `json:"failed"`
	// Skipped polls came due but found no free slot (closed load model);
	// they count in Polls and Failed.
	Skipped int `json:"skipped,omitempty"`
	// Straddled polls were still in flight when the next phase's faults
	// came in. Like every poll they count in the phase they started in
	// (Polls, Succeeded, Failed, Success and the latencies), however late
	// they end; only their walks are not compared with the agent's data.
	Straddled int `json:"straddled,omitempty"`
	// Success is Succeeded over Succeeded+Failed (a poll never reported
	// has no outcome; polls-accounted fails it): what minSuccess is held
	// to.
	Success float64        `json:"success"`
	Errors  map[string]int `json:"errors,omitempty"` // by error kind
	P50     time.Duration  `json:"p50"`
	P99     time.Duration  `json:"p99"`
	Max     time.Duration  `json:"max"`
	// Cancel is how long polls of the phase took to report after their
	// deadline had passed and their context had ended.
	Cancel CancelStats `json:"cancel"`
}

// CancelStats summarise cancel latency: the time from a poll's context
// ending (its deadline) to its report, over the polls still running then.
type CancelStats struct {
	Count int           `json:"count"`
	P50   time.Duration `json:"p50"`
	P99   time.Duration `json:"p99"`
	Max   time.Duration `json:"max"`
}

// Sample is one reading of the probes.
type Sample struct {
	T          time.Duration `json:"t"` // since the run started
	Goroutines int           `json:"goroutines"`
	FDs        int           `json:"fds"`
	UDPSockets int           `json:"udpSockets"`
	HeapBytes  uint64        `json:"heapBytes"`
	// HeapLive is the live heap as of the last GC: steadier than
	// HeapBytes, it is what the trend check reads.
	HeapLive uint64 `json:"heapLive"`
	InFlight int    `json:"inFlight"`
	// Poller is the poller's own view, when it reports one.
	Poller *pollapi.PollerStats `json:"poller,omitempty"`
	// Completed polls since the previous sample and their p99 latency.
	Completed  int           `json:"completed"`
	LatencyP99 time.Duration `json:"latencyP99"`
	// KernelDrops is how many packets netns mode's nftables faults have
	// dropped since the run started.
	KernelDrops uint64 `json:"kernelDrops,omitempty"`
	// Process is the poller's own process tree (exec pollers, observed
	// daemons), read by PID.
	Process *probe.ProcessSample `json:"process,omitempty"`
	// SocketDrops is how many datagrams the kernel dropped on the
	// poller's own UDP sockets (every socket of this process not open at
	// baseline) since the baseline: the drops column of /proc/net/udp.
	SocketDrops uint64 `json:"socketDrops"`
	// UDPRcvbufErrors and UDPInErrors are the network namespace's Udp+Udp6
	// counters since the baseline (every process in it counts).
	UDPRcvbufErrors uint64 `json:"udpRcvbufErrors"`
	UDPInErrors     uint64 `json:"udpInErrors"`
	// The harness's own lag since the previous sample. DispatchLag is the
	// latest the load driver handed a poll over after it came due, Late
	// how many it handed over more than LateDispatch late: the
	// harness itself was descheduled (or a phase's faults were still
	// going in) and then caught up at once, a burst the poller did not
	// make. SampleLag is how late the sampler itself woke up.
	DispatchLag time.Duration `json:"dispatchLag,omitempty"`
	Late        int           `json:"late,omitempty"`
	SampleLag   time.Duration `json:"sampleLag,omitempty"`
	// CPU is how long this process's threads ran on a CPU, and waited
	// runnable for one, since the previous sample: a window where they
	// waited longer than they ran is one the machine starved the run.
	CPU probe.CPUTime `json:"cpu"`
}

// LateDispatch is how long after its due time the load driver may hand a
// poll to the poller before the poll counts as handed over late. Below it
// is timer and scheduler noise, which a ticker-driven poller sees too;
// past it the harness itself was held up (descheduled on a loaded
// machine, or waiting for a phase's faults to go in) and hands over at
// once every poll that came due meanwhile: a burst of rate × lag polls
// that the poller did not make. The invariants that bound what is in
// flight tell such a catch-up from a pile-up by it.
const LateDispatch = 100 * time.Millisecond

// PollCounts account for every scheduled poll.
type PollCounts struct {
	Scheduled  int            `json:"scheduled"`
	Succeeded  int            `json:"succeeded"`
	Failed     int            `json:"failed"`
	Unreported int            `json:"unreported"`
	Duplicate  int            `json:"duplicate"`
	Partial    int            `json:"partial"` // successful walks that differ from the agent's data
	ByError    map[string]int `json:"byError,omitempty"`
	// Skipped polls came due but never started: every concurrency slot
	// stayed busy for a whole interval past their due time. They are not
	// scheduled; a phase's success ratio is over the polls that ran.
	Skipped int `json:"skipped"`
	// Overdue polls stayed unreported past the drain timeout while the
	// load ran; their slots were released so the load could go on.
	Overdue int `json:"overdue"`
	// Late polls were handed to the poller more than
	// LateDispatch after they came due (the harness was
	// descheduled and caught up); WorstLag is the latest one.
	Late     int           `json:"late"`
	WorstLag time.Duration `json:"worstLag"`
	// WalksChecked successful walks were compared with the agent's data;
	// Unverified ones were not, because faults changed while they ran.
	WalksChecked int `json:"walksChecked"`
	Unverified   int `json:"unverified"`
}

// InvariantResult is one named check with its evidence.
type InvariantResult struct {
	Name     string   `json:"name"`
	Pass     bool     `json:"pass"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence,omitempty"`
}

// Kernel event kinds.
const (
	KernelInject   = "inject"
	KernelRecover  = "recover"
	KernelLinkDown = "link down"
	KernelLinkUp   = "link up"
)

// KernelEvent is a change netns mode made to the kernel during a run: a
// fault injected or recovered, or a flapping link going down or up.
type KernelEvent struct {
	T     time.Duration `json:"t"` // since the run started
	Site  int           `json:"site"`
	Kind  string        `json:"kind"`
	Fault string        `json:"fault"` // as the phase lists it, e.g. "site 1: drop 5%"
	Phase string        `json:"phase,omitempty"`
}

// SiteReport is one netns site of a run.
type SiteReport struct {
	Name   string `json:"name"`
	Agents int    `json:"agents"`
	Prefix string `json:"prefix"` // the site's agent addresses
	First  int    `json:"first"`  // global index of its first agent
}
