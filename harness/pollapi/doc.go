// Package pollapi holds the types a poller and the harness exchange: the
// Poller interface the harness drives, the Poll it hands over (a Target,
// an operation, OIDs), the Result it gets back (poller-neutral Varbinds or
// an error), the Settings a scenario asks of a poller, and the optional
// StatsReporter and Releaser. It is the lowest layer of the harness and
// imports nothing of it, so adapters (harness/poller), invariants
// (harness/invariant) and reports (harness/report) can all speak of polls
// without importing each other. The harness re-exports every name here
// (harness.Poller is pollapi.Poller), so most users never import it.
package pollapi
