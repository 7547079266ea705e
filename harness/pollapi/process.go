package pollapi

import "context"

// ProcessPoller is implemented by pollers whose work happens in another
// process: a child driven over the exec protocol, an observed daemon. The
// harness's probes then watch that process and its descendants by PID as
// well as this one, and the invariants hold it to the same bounds:
// sockets and descriptors while idle after the drain, threads and memory
// over time.
type ProcessPoller interface {
	PID() int
}

// ProcessMetrics is implemented by process pollers that can read what the
// process says of itself (for Go daemons, go_goroutines from their
// metrics endpoint).
type ProcessMetrics interface {
	ProcessGoroutines(ctx context.Context) (int, error)
}
