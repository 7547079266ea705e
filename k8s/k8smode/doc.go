// Package k8smode is k8s mode for harness.Run: the k8sapi.Provider that
// runs a scenario's sites as simagent pods (k8s/pods) and its kernel
// faults as Chaos Mesh experiments (k8s/chaos) in a cluster. A Cluster
// value names the cluster (a controller-runtime client, the namespace,
// simagent's image, the harness pod's labels); passed to Run with
// harness.WithK8s it creates the pods when the run starts, waits until
// they are ready, hands the harness their control APIs and the phases'
// experiments, and deletes everything when the run ends. Plan builds the
// same objects without a cluster, for --dry-run and the manifest checks.
// The harness itself never imports this package: cmd/snmpchaos and the
// k8s tests do, so only they compile the Kubernetes libraries.
package k8smode
