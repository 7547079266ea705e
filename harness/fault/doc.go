// Package fault builds the kernel faults of a run: what a scenario's
// phases[].kernel entries do to the network between the poller and the
// agents (drop, blackhole, bandwidth, linkDown, flap, netem in netns mode
// today; Chaos Mesh experiments next). Every fault sits behind one small
// interface (Fault: Name, Available, Inject, Recover), each kind is one
// file with its builder, and the kinds are registered in one place
// (registry_linux.go), in the manner of etcd's robustness failpoints and
// toxiproxy's toxics. The harness builds every phase's faults before the
// load starts, injects a phase's when the phase begins and recovers them
// when it ends; this package knows nothing of pollers, probes, invariants
// or reports.
package fault
