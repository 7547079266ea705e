package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/snmpchaos/snmpchaos/simagent"
)

// labelFlags collects repeated --label values.
type labelFlags []string

// String lists the values as given.
func (l *labelFlags) String() string { return strings.Join(*l, " ") }

// Set records one --label value.
func (l *labelFlags) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// parseLabels reads --label A-B:KEY=VALUE[,KEY=VALUE] values for a fleet of
// n agents (A alone labels one agent).
func parseLabels(raw []string, n int) ([]simagent.LabelRange, error) {
	var out []simagent.LabelRange
	for i, s := range raw {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("--label #%d %q: %s (want A-B:KEY=VALUE[,KEY=VALUE])", i+1, s, fmt.Sprintf(format, args...))
		}
		rng, kvs, ok := strings.Cut(s, ":")
		if !ok || kvs == "" {
			return nil, bad("no labels")
		}
		a, b, isRange := strings.Cut(rng, "-")
		if !isRange {
			b = a
		}
		from, err1 := strconv.Atoi(a)
		to, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil {
			return nil, bad("agent range %q is not A-B", rng)
		}
		if from < 0 || to >= n || from > to {
			return nil, bad("agents %d-%d outside 0-%d", from, to, n-1)
		}
		lr := simagent.LabelRange{From: from, To: to, Labels: map[string]string{}}
		for _, kv := range strings.Split(kvs, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, bad("label %q is not KEY=VALUE", kv)
			}
			lr.Labels[k] = v
		}
		out = append(out, lr)
	}
	return out, nil
}
