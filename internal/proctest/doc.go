// Package proctest runs what tests drive apart from the test process, as
// a user runs it: a simagent on "another host" (StartSimagent: the binary
// a test built, its control API's URL read from its ready line, stopped by
// closing its stdin, or killed as a crash would) and the free ports to
// give it (FreeUDPPorts, FreeTCPPort); and the test binary itself as a
// child killed with SIGKILL at its ready line (KillAtReady), for the tests
// of what a crashed run leaves behind. It is a test helper: nothing but
// tests imports it.
package proctest
