package harness

import (
	"time"

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
	Samples    []Sample          `json:"samples"`
	Baseline   Sample            `json:"baseline"`
	After      Sample            `json:"after"`
	Polls      PollCounts        `json:"polls"`
	Invariants []InvariantResult `json:"invariants"`
	Fleet      simagent.Stats    `json:"fleet"`
	Pass       bool              `json:"pass"`
}

// PhaseReport is one phase's outcome.
type PhaseReport struct {
	Name      string         `json:"name"`
	Start     time.Duration  `json:"start"` // since the run started
	End       time.Duration  `json:"end"`
	Faults    []string       `json:"faults,omitempty"` // "selector: spec"
	Polls     int            `json:"polls"`
	Succeeded int            `json:"succeeded"`
	Failed    int            `json:"failed"`
	Errors    map[string]int `json:"errors,omitempty"` // by error kind
	P50       time.Duration  `json:"p50"`
	P99       time.Duration  `json:"p99"`
	Max       time.Duration  `json:"max"`
}

// Sample is one reading of the probes.
type Sample struct {
	T          time.Duration `json:"t"` // since the run started
	Goroutines int           `json:"goroutines"`
	FDs        int           `json:"fds"`
	UDPSockets int           `json:"udpSockets"`
	HeapBytes  uint64        `json:"heapBytes"`
	InFlight   int           `json:"inFlight"`
	// Poller is the poller's own view, when it reports one.
	Poller *PollerStats `json:"poller,omitempty"`
	// Completed polls since the previous sample and their p99 latency.
	Completed  int           `json:"completed"`
	LatencyP99 time.Duration `json:"latencyP99"`
}

// PollCounts account for every scheduled poll.
type PollCounts struct {
	Scheduled  int            `json:"scheduled"`
	Succeeded  int            `json:"succeeded"`
	Failed     int            `json:"failed"`
	Unreported int            `json:"unreported"`
	Duplicate  int            `json:"duplicate"`
	Partial    int            `json:"partial"` // successful walks that differ from the agent's data
	ByError    map[string]int `json:"byError,omitempty"`
}

// InvariantResult is one named check with its evidence.
type InvariantResult struct {
	Name     string   `json:"name"`
	Pass     bool     `json:"pass"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence,omitempty"`
}
