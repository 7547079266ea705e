// Package harness drives a poller against a simulated fleet through the
// phases of a scenario, samples what the process holds (goroutines, file
// descriptors, UDP sockets, heap, the poller's own stats) at 10 Hz or more,
// accounts for every scheduled poll, and checks named invariants: no
// connection left open, goroutines bounded and back to baseline, fds back to
// baseline, every poll reported exactly once, no silent partial walks,
// per-phase success and latency bounds, no upward trend over a soak. The
// result is a Report, written as JSON, text, an HTML page with SVG plots and
// JUnit XML.
//
// # Layout
//
// This package is the run: Run, its options, the phase loop, the load
// driver and the poll accounting. The rest lives below it by role, and
// every public name stays here as an alias or a thin wrapper:
//
//   - harness/pollapi: the Poller interface and the Poll, Result, Target,
//     Settings and Varbind types it speaks.
//   - harness/poller: the bundled pollers (pollerlib, the gosnmp
//     baselines, the negative controls), Sync and ErrorKind.
//   - harness/fleet: where the agents live (in-process, netns, simagent
//     children, remote simagents), behind the Fleet interface.
//   - harness/fault: the kernel faults of netns mode, one kind a file.
//   - harness/k8sapi: k8s mode's contract, the Provider WithK8s takes
//     (k8s/k8smode's Cluster): this package imports nothing of k8s/ and
//     no Kubernetes library, so its users compile none of them.
//   - harness/probe: what the process holds (descriptors, sockets,
//     goroutines, heap).
//   - harness/invariant: the checks, one a file, registered in one place.
//   - harness/report: the Report and its renderers (text, JSON, HTML,
//     JUnit) and the progress line.
//
// Built on this package: harness/harnesstest (a scenario from a go test),
// harness/execpoller (a poller in another process) and harness/daemon (an
// observed poller daemon).
//
// docs/architecture.md tells how a run flows through them.
//
// # Plugging in a poller
//
// Implement Poller (Name, Poll, Close), or wrap a blocking function with
// Sync:
//
//	p := harness.Sync("mypoller", func(ctx context.Context, p harness.Poll) harness.Result {
//		vbs, err := myClient.Walk(ctx, p.Target.Addr.String(), p.Root)
//		return harness.Result{Varbinds: convert(vbs), Err: err}
//	}, myClient.Close)
//	rep, err := harness.Run(ctx, scenario, p)
//
// Convert values with VarbindFromPDU (gosnmp) or VarbindFromPollerlib, or
// render them as Varbind documents, so walks compare with the agents' data.
// Implement StatsReporter too, and the harness checks the poller's own
// count of sockets and goroutines against the OS's. NewPoller makes the
// bundled ones: pollerlib (default), the gosnmp baselines and the
// deliberately broken negative controls (PollerKinds lists them with the
// invariants each is built to break).
//
// # Invariants
//
//   - connections-closed: after the drain and Close no UDP socket opened
//     during the run is still open (OS view, /proc/net/udp matched to this
//     process's descriptors), the count is back to baseline less the
//     poller's own sockets, the poller's stats say 0, and the views agree.
//   - goroutines-bounded: every sample stays under baseline +
//     invariants.maxGoroutines; after Close the count is back to baseline,
//     else the goroutines left over are listed by stack.
//   - fds-stable: descriptors after Close at most baseline + fdSlack; the
//     peak is reported, leftovers listed.
//   - polls-accounted: scheduled = succeeded + failed, no poll unreported,
//     none reported twice, and some load actually ran.
//   - walks-complete: every successful walk equals the agent's data for the
//     subtree (same OIDs in order and types, static values equal).
//   - phase-expectations: each phase's minSuccess and maxP99, over polls that
//     ran under its faults; in recovery phases every agent faulty earlier
//     and polled must succeed at least once.
//   - no-trend (invariants.trend): the floor of goroutines, fds and live heap
//     does not rise over the second half of the load.
package harness
