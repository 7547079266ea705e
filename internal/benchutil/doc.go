// Package benchutil holds what snmpchaos benchmarks share: process probes
// (RSS, file descriptors, sockets, goroutines), a cheap closed-loop UDP load
// generator, a bare UDP echo server to compare against, child-process
// measurements for a clean RSS, a search for the largest size each of
// several subjects sustains (SizeSearch), and one format for the human
// verdict lines that `make bench` prints.
//
// It is test support: nothing outside _test.go files should import it.
package benchutil
