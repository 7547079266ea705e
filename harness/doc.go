// Package harness drives a poller against a simulated fleet through the
// phases of a scenario, samples what the process holds (goroutines, file
// descriptors, UDP sockets, heap, the poller's own stats) at 10 Hz or more,
// accounts for every scheduled poll, and checks named invariants: no
// connection left open, goroutines bounded and back to baseline, fds back to
// baseline, every poll reported exactly once, no silent partial walks,
// per-phase success and latency bounds, no upward trend over a soak. The
// result is a Report, written as JSON, text, an HTML page with SVG plots and
// JUnit XML.
package harness
