// Package simagent runs fleets of simulated SNMP agents (v1, v2c, and v3
// with USM when Config.Users are given; see v3.go) in one process, each at
// its own address, serving data from a shared mib.Store,
// with faults (delay, drops, truncation, broken replies, restarts) that are
// decided by a seeded random source and can be changed while the fleet runs.
//
// By default a fleet of N agents listens on N consecutive 127.x.y.z
// addresses on one port with a few SO_REUSEPORT sockets, demultiplexing by
// destination address (IP_PKTINFO) and replying from the agent's address, so
// thousands of agents cost a handful of sockets and goroutines. ByPort mode
// puts agents on consecutive ports of one address instead, one socket each.
package simagent
