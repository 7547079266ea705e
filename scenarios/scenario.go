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
	// RlimitNofile, when set, lowers this process's RLIMIT_NOFILE (soft)
	// to it for the run, so a poller that runs out of descriptors fails as
	// it would in production: EMFILE, "too many open files".
	RlimitNofile int    `json:"rlimitNofile,omitempty"`
	Source       string `json:"-"` // file name it came from
	skipData     bool   // validation does not read fleet.data (fuzzing)
}

// Fleet is the simulated agents.
type Fleet struct {
	Agents  int    `json:"agents"`
	Listen  string `json:"listen,omitempty"`
	ByPort  bool   `json:"byPort,omitempty"`
	Profile string `json:"profile,omitempty"`
	Data    string `json:"data,omitempty"`
	// Kinds makes a mixed fleet: device kinds, each a data file or a
	// profile for a count or a share of fleet.agents (kinds.go).
	// Excludes profile and data.
	Kinds      []Kind                `json:"kinds,omitempty"`
	Community  string                `json:"community,omitempty"`
	MaxMsgSize int                   `json:"maxMsgSize,omitempty"`
	Labels     []simagent.LabelRange `json:"labels,omitempty"`
	// Sites split the agents over netns test hosts (netns mode; default
	// one site with every agent). Agents, when given, must be their sum.
	Sites []Site `json:"sites,omitempty"`
	// Processes runs the agents in this many simagent child processes of
	// the harness instead of its own process (0: in-process).
	Processes int `json:"processes,omitempty"`
	// Remote drives running simagent processes through their control
	// APIs at these URLs instead of starting agents; their agents, in
	// URL order, are the fleet and must serve this fleet's data.
	Remote []string `json:"remote,omitempty"`
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

// Load models.
const (
	// LoadOpen issues every poll on schedule whatever is still in flight,
	// as a ticker-driven scheduler does (the default).
	LoadOpen = "open"
	// LoadClosed waits for one of Concurrency slots; a poll that finds
	// none within an interval is skipped, and a skipped poll counts as a
	// failure of its phase.
	LoadClosed = "closed"
)

// Load is the traffic the poller is asked to make.
type Load struct {
	// Interval between polls of one target.
	Interval Duration `json:"interval"`
	// Model is open (default) or closed (see LoadOpen, LoadClosed).
	Model string `json:"model,omitempty"`
	// Concurrency is the work a poller is told it may have in flight
	// (harness Settings.MaxInFlight) and the default of
	// invariants.maxInFlight; in the closed model it also bounds the polls
	// the load keeps in flight.
	Concurrency int `json:"concurrency"`
	// Deadline is how long a poll may take: its context is cancelled then
	// (default the interval).
	Deadline Duration `json:"deadline,omitempty"`
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
	// Deadline overrides load.deadline for the polls that start in this
	// phase: shorter than the agents' delay, it cancels polls in flight on
	// purpose to measure how promptly the poller lets go.
	Deadline Duration      `json:"deadline,omitempty"`
	Expect   *Expectations `json:"expect,omitempty"`
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
	// MaxInFlight bounds polls in flight (handed to the poller and not yet
	// reported) at any sample (default: concurrency plus a quarter, at
	// least 16 more: a poller that refuses work promptly stays under it).
	MaxInFlight int `json:"maxInFlight,omitempty"`
	// MaxCancelLatency bounds how long a poll takes to report after its
	// context ended: the 99th percentile in each phase, the median where
	// fewer than 20 polls outlived their deadline (default: half of
	// poller.timeout, at least 250ms).
	MaxCancelLatency Duration `json:"maxCancelLatency,omitempty"`
	// MaxDrops bounds the datagrams the kernel dropped on the poller's own
	// sockets during the run (/proc/net/udp drops column; default 0).
	MaxDrops *int `json:"maxDrops,omitempty"`
	// FDSlack is how many fds over baseline are tolerated after close.
	FDSlack int `json:"fdSlack,omitempty"`
	// MaxFds over baseline at any sample while running (0: no bound).
	MaxFds int `json:"maxFds,omitempty"`
	// MaxSockets over baseline at any sample while running (0: no bound).
	MaxSockets int `json:"maxSockets,omitempty"`
	// Trend checks for upward trends in goroutines, fds and heap (soak).
	Trend bool `json:"trend,omitempty"`
	// P99Trend checks that per-window p99 latency does not climb through
	// steady phases (the 200 ms → 8 s story).
	P99Trend *P99Trend `json:"p99Trend,omitempty"`
}

// P99Trend bounds the growth of per-window p99 poll latency within a phase.
type P99Trend struct {
	// Phases to check (default: every phase without faults).
	Phases []string `json:"phases,omitempty"`
	// Window is the length of one window (default 5 intervals).
	Window Duration `json:"window,omitempty"`
	// MaxGrowth bounds the last window's p99 over the first's (default 2).
	MaxGrowth float64 `json:"maxGrowth,omitempty"`
	// Floor is a p99 under which growth is not counted (default 100ms):
	// 2 ms to 5 ms is noise, not a trend.
	Floor Duration `json:"floor,omitempty"`
}

// Short scales a scenario down for tests (--short).
type Short struct {
	Agents int `json:"agents,omitempty"`
	// DurationScale multiplies every phase duration (default 0.1).
	DurationScale float64 `json:"durationScale,omitempty"`
	// Concurrency overrides the load's concurrency.
	Concurrency int `json:"concurrency,omitempty"`
}
