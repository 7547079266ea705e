// Package probe reads what a process holds, from the OS and the Go
// runtime: its file descriptors and their targets (/proc/self/fd), its UDP
// sockets with their addresses (/proc/net/udp and udp6 matched to the
// descriptors' inodes), its goroutines grouped by how they were started
// (runtime.Stack), and its heap (runtime/metrics, which does not stop the
// world). The harness samples these at 10 Hz during a run and takes a full
// reading at baseline and after the poller is closed; the invariants
// compare the two. Today it reads this process; probes of another process
// by PID belong here too. It imports nothing of the harness.
package probe
