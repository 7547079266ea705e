package benchutil

import "fmt"

// Verdict formats one line of benchmark output: a figure against its
// target, PASS or MISS first so that `make bench | grep MISS` finds
// the misses.
func Verdict(name string, pass bool, format string, args ...any) string {
	v := "MISS"
	if pass {
		v = "PASS"
	}
	return fmt.Sprintf("%s  %s: %s", v, name, fmt.Sprintf(format, args...))
}
