// Package scenarios holds scenario files — a fleet, a poller's settings, a
// load and phases of faults with expectations — and their strict loader. The
// bundled scenarios are embedded so the binary runs them anywhere.
//
// A scenario file is YAML with a version field. Unknown fields are errors,
// defaults are applied, and every error names the file, the line and the
// field, e.g. "walk.yaml:14: phases[1].faults[0].faults.delay.fixd: unknown
// field".
package scenarios

import (
	"github.com/snmpchaos/snmpchaos/simagent"
)

// Version is the scenario file format this package reads.
const Version = 1

// Duration reads and writes "20ms".
type Duration = simagent.Duration

// Scenario is one run: a fleet, a poller, a load and phases.
type Scenario struct {
	Version     int    `json:"version"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Seed        uint64 `json:"seed,omitempty"`
	// Mode is where the agents live: inprocess (default) or netns.
	Mode       string     `json:"mode,omitempty"`
	Fleet      Fleet      `json:"fleet"`
	Poller     Poller     `json:"poller,omitempty"`
	Load       Load       `json:"load"`
	Phases     []Phase    `json:"phases"`
	Invariants Invariants `json:"invariants,omitempty"`
	Short      *Short     `json:"short,omitempty"`
	Source     string     `json:"-"` // file name it came from
}

// Fleet is the simulated agents.
type Fleet struct {
	Agents     int                   `json:"agents"`
	Listen     string                `json:"listen,omitempty"`
	ByPort     bool                  `json:"byPort,omitempty"`
	Profile    string                `json:"profile,omitempty"`
	Data       string                `json:"data,omitempty"`
	Community  string                `json:"community,omitempty"`
	MaxMsgSize int                   `json:"maxMsgSize,omitempty"`
	Labels     []simagent.LabelRange `json:"labels,omitempty"`
	// Sites split the agents over netns test hosts (netns mode; default
	// one site with every agent). Agents, when given, must be their sum.
	Sites []Site `json:"sites,omitempty"`
	// V3Users are every agent's SNMPv3 users, "NAME:AUTHPROTO:AUTHPASS:PRIVPROTO:PRIVPASS"
	// (or NAME:AUTHPROTO:AUTHPASS, or NAME), as simagent's --v3-user (v3.go).
	V3Users []V3User `json:"v3Users,omitempty"`
}

// Poller is the settings handed to the poller under test.
type Poller struct {
	Timeout        Duration `json:"timeout,omitempty"`
	MinTimeout     Duration `json:"minTimeout,omitempty"`
	Retries        int      `json:"retries,omitempty"`
	MaxRepetitions int      `json:"maxRepetitions,omitempty"`
	Sockets        int      `json:"sockets,omitempty"`
}

// Load is the traffic the poller is asked to make.
type Load struct {
	// Interval between polls of one target.
	Interval Duration `json:"interval"`
	// Concurrency bounds polls in flight.
	Concurrency int `json:"concurrency"`
	// Jitter spreads poll start times by up to this share of Interval.
	Jitter float64 `json:"jitter,omitempty"`
	// Ops is the mix of operations, chosen per poll by weight.
	Ops []Op `json:"ops"`
	// Version is the SNMP version polled: 1, 2c (default) or 3.
	Version SNMPVersion `json:"version,omitempty"`
	// User names the fleet.v3Users entry a version 3 load polls as
	// (default: the only one); Context is its contextName.
	User    string `json:"user,omitempty"`
	Context string `json:"context,omitempty"`
}

// Op kinds.
const (
	OpGet      = "get"
	OpWalk     = "walk"
	OpBulkWalk = "bulkwalk"
)

// Op is one kind of poll.
type Op struct {
	Kind   string   `json:"kind"`
	Weight int      `json:"weight,omitempty"`
	OIDs   []string `json:"oids,omitempty"`
	Root   string   `json:"root,omitempty"`
}

// Phase is a stretch of the run with a set of faults.
type Phase struct {
	Name     string     `json:"name"`
	Duration Duration   `json:"duration"`
	Faults   []FaultSet `json:"faults,omitempty"`
	// Kernel faults (netns mode) are injected when the phase starts and
	// recovered when it ends.
	Kernel []KernelFault `json:"kernel,omitempty"`
	Expect *Expectations `json:"expect,omitempty"`
}

// FaultSet applies faults to the agents a selector picks when its phase
// starts; faults of the previous phase are cleared first.
type FaultSet struct {
	Selector simagent.Selector `json:"selector,omitempty"`
	Faults   simagent.Faults   `json:"faults"`
}

// Expectations bound a phase's outcomes.
type Expectations struct {
	// MinSuccess is the least share of polls that must succeed.
	MinSuccess *float64 `json:"minSuccess,omitempty"`
	// MaxP99 bounds the 99th percentile poll latency.
	MaxP99 Duration `json:"maxP99,omitempty"`
	// Recovery marks a phase after faults end: polls of agents that were
	// faulty must succeed again (strict bounds apply).
	Recovery bool `json:"recovery,omitempty"`
}

// Invariants bound resource use over the run.
type Invariants struct {
	// MaxGoroutines over baseline at any sample (default: concurrency + 64).
	MaxGoroutines int `json:"maxGoroutines,omitempty"`
	// FDSlack is how many fds over baseline are tolerated after close.
	FDSlack int `json:"fdSlack,omitempty"`
	// MaxSockets over baseline at any sample while running (0: no bound).
	MaxSockets int `json:"maxSockets,omitempty"`
	// Trend checks for upward trends in goroutines, fds and heap (soak).
	Trend bool `json:"trend,omitempty"`
}

// Short scales a scenario down for tests (--short).
type Short struct {
	Agents int `json:"agents,omitempty"`
	// DurationScale multiplies every phase duration (default 0.1).
	DurationScale float64 `json:"durationScale,omitempty"`
	// Concurrency overrides the load's concurrency.
	Concurrency int `json:"concurrency,omitempty"`
}
