// Package pollerlib is an SNMP v1/v2c/v3 poller that does not leak, stall
// or jitter (SNMPv3 with USM: see v3.go). It is the poller snmpchaos ships and drives by default, and it is
// built to avoid the failure modes the harness hunts for in other pollers.
//
// A Poller owns a small fixed set of UDP sockets shared by every target.
// Requests are matched to their callers by (socket, request-id, source
// address); late, duplicate and mismatched responses are dropped and
// counted, never handed to the wrong caller. File descriptors and
// goroutines do not grow with the number of targets, every call takes a
// context.Context and returns within milliseconds of its cancellation, and
// Close leaves no socket and no goroutine behind.
//
// Each target has a session, keyed by its normalised address, version and a
// salted hash of its credentials (secrets never appear in keys, logs, errors
// or stats). The session keeps an RFC 6298 round-trip estimate from which
// each request's timeout is derived, backs off exponentially between
// retries, opens a circuit breaker after repeated failures, and degrades
// from GetBulk to GetNext to one OID per request when a target keeps failing,
// climbing back as it recovers.
//
// Walks never return silent partial results: a tooBig error-status shrinks
// max-repetitions and retries, short GetBulk responses continue from their
// last OID, an OID that does not increase fails with ErrOIDNotIncreasing, and
// endOfMibView or leaving the subtree ends the walk cleanly.
//
// gosnmp is used only as the BER codec (SnmpPacket.MarshalMsg and
// GoSNMP.SnmpDecodePacket); its GoSNMP client, which is not safe for
// concurrent use, never touches the network here.
//
// Run polls a set of targets at an interval with bounded concurrency and
// jitter, yielding exactly one result per scheduled poll. Stats reports what
// the poller holds and did; package pollerlib/pollerprom exports it to
// Prometheus.
package pollerlib
