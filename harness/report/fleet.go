package report

import "time"

// FleetProcess is one simagent process of a fleet outside the harness, as
// the run saw it: where it answered, which agents it held, its resources
// (for processes the harness started), the phases' fault changes sent to
// it and what happened to it.
type FleetProcess struct {
	URL     string `json:"url"`
	PID     int    `json:"pid"`
	Version string `json:"version"`
	// First is the global index of its first agent.
	First     int            `json:"first"`
	Agents    int            `json:"agents"`
	Spawned   bool           `json:"spawned"`
	Resources *ProcResources `json:"resources,omitempty"`
	Applies   []FleetApply   `json:"applies,omitempty"`
	Events    []FleetEvent   `json:"events,omitempty"`
	// Down is how long it did not answer its control API, in total.
	Down time.Duration `json:"down"`
}

// ProcSample is one reading of a process's resources from /proc/PID.
type ProcSample struct {
	FDs     int   `json:"fds"`
	Sockets int   `json:"sockets"`
	Threads int   `json:"threads"`
	RSS     int64 `json:"rssBytes"`
}

// ProcResources sums up a process's readings over a run.
type ProcResources struct {
	Baseline ProcSample `json:"baseline"`
	Peak     ProcSample `json:"peak"`
	Last     ProcSample `json:"last"`
	Samples  int        `json:"samples"`
	Error    string     `json:"error,omitempty"`
}

// FleetApply is one phase's faults sent to one process: how many agents
// it set and how long from sending to its confirmation.
type FleetApply struct {
	Phase  string        `json:"phase"`
	Agents int           `json:"agents"`
	Took   time.Duration `json:"took"`
	Error  string        `json:"error,omitempty"`
}

// FleetEvent is something that happened to a fleet process: down, up,
// restarted, reapplied (its faults, after a restart) or error.
type FleetEvent struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail,omitempty"`
}
