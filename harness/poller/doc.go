// Package poller holds the pollers the harness can drive, each an adapter
// to pollapi.Poller: pollerlib (the bundled poller, the default), the
// gosnmp baselines (one GoSNMP per poll, one cached per target, and the
// leaky production pattern), and the negative controls, pollerlib broken
// on purpose one way each so that every invariant is seen to fail and name
// the culprit. PollerKinds is the registry NewPoller reads; Sync adapts any
// blocking poll function; ErrorKind sorts poll errors for reports; the
// Varbind conversions render gosnmp's and pollerlib's values the same way.
// Later adapters (a poller run as another process, an observed daemon)
// belong here too. It imports no fleet, probe, invariant or report.
package poller
