// Package probe reads what a process holds, from the OS and the Go
// runtime: its file descriptors and their targets (/proc/self/fd), its UDP
// sockets with their addresses (/proc/net/udp and udp6 matched to the
// descriptors' inodes), its goroutines grouped by how they were started
// (runtime.Stack), and its heap (runtime/metrics, which does not stop the
// world). The harness samples these at 10 Hz during a run and takes a full
// reading at baseline and after the poller is closed; the invariants
// compare the two. The same readings of another process and its
// descendants, by PID (an exec poller, an observed daemon), come from
// /proc/PID with prometheus/procfs (ReadProcess); with them the threads'
// CPU time and their time waiting for a CPU (schedstat), and where the
// kernel dropped UDP datagrams (the namespace's counters and each socket's
// drops). It imports nothing of the harness.
package probe
