// Package fleet is where a run's agents live, behind one small interface
// (Fleet): how many there are, where to reach each, what data they serve,
// which faults are in force on which agent, and how to change them. Start
// runs them in this process (one simagent fleet on loopback addresses);
// StartNetns builds a netns topology and runs one fleet per site inside
// it, joined into a Set with global agent indexes; Dial drives running
// simagent processes (here or on other hosts) over their control APIs as
// a Remote, and Spawn starts simagent child processes and drives them the
// same way; later kinds (in Kubernetes) implement the same interface. A fleet
// knows nothing of pollers, probes, invariants or reports: the harness
// drives the load and reads the fleet through Fleet alone.
package fleet
