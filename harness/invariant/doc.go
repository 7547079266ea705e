// Package invariant holds the checks a run must pass, one invariant a
// file, registered in one place (registry.go): connections-closed,
// goroutines-bounded, fds-stable, polls-accounted, walks-complete,
// phase-expectations and no-trend. Each reads the Evidence the harness
// gathered (the probes' readings at baseline, over time and after the
// poller's Close, the poll accounting, the phases' outcomes) and returns a
// report.InvariantResult: pass or fail, a one-line summary and the
// evidence lines that name the culprit. An invariant never runs a poller
// or starts a fleet, so it imports neither the adapters (harness/poller)
// nor the fleets (harness/fleet); each has its own test with a negative
// control, an input that makes it fail. The walk comparator (WalkChecker)
// lives here too: the harness runs it on every successful walk while the
// load runs, and walks-complete reads its verdicts.
package invariant
