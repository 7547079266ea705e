// Package proctest runs what tests drive apart from the test process, as
// a user would: a simagent on "another host" (StartSimagent: the binary a
// test built, its control API's URL read from its ready line, stopped by
// closing its stdin or killed as a crash would), the free ports to give it
// (FreeUDPPorts, FreeTCPPort), the test binary itself as a child killed
// with SIGKILL at its ready line (KillAtReady, for the tests of what a
// crashed run leaves behind), the reference exec poller's script
// (PysnmpPoller, or a skip without python3-pysnmp4), and Output, a buffer
// for a child's output that the test reads while the child writes. It is
// a test helper: only tests and the other test helpers
// (internal/netsnmptest) import it.
package proctest
