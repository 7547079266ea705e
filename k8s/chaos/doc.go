// Package chaos turns a scenario's kernel faults into Chaos Mesh
// experiments for pods mode: typed NetworkChaos and PodChaos values from
// github.com/chaos-mesh/chaos-mesh/api, defaulted and validated by Chaos
// Mesh's own webhook code plus the range checks it lacks, labelled with the
// run, created when a phase starts and deleted when it ends, on interrupt,
// and by Cleanup.
package chaos
