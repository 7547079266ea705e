package simagent

import (
	"fmt"
	"maps"
	"sort"
	"strings"
)

// LabelError is a bad LabelRange.
type LabelError struct {
	// Index is the range's place in the list.
	Index int
	// Msg says what is wrong.
	Msg string
}

// Error names the range and what is wrong with it.
func (e *LabelError) Error() string { return fmt.Sprintf("Labels[%d]: %s", e.Index, e.Msg) }

// CheckLabels checks label ranges for a fleet of n agents: each range lies
// inside the fleet with From <= To and has at least one KEY=VALUE with a
// non-empty key, and no two ranges that share an agent give it the same
// key (the later would silently win). Errors are *LabelError values.
func CheckLabels(ls []LabelRange, n int) error {
	for i, l := range ls {
		switch {
		case l.From > l.To:
			return &LabelError{i, fmt.Sprintf("range %d-%d: from is after to", l.From, l.To)}
		case l.From < 0 || l.To >= n:
			return &LabelError{i, fmt.Sprintf("range %d-%d outside fleet of %d agents (0-%d)", l.From, l.To, n, n-1)}
		case len(l.Labels) == 0:
			return &LabelError{i, "no labels"}
		}
		for k := range l.Labels {
			if strings.TrimSpace(k) == "" || strings.Contains(k, "=") {
				return &LabelError{i, fmt.Sprintf("label key %q: want a non-empty key without '='", k)}
			}
		}
		for j := range i {
			o := ls[j]
			if o.To < l.From || l.To < o.From {
				continue
			}
			var shared []string
			for k := range l.Labels {
				if _, ok := o.Labels[k]; ok {
					shared = append(shared, k)
				}
			}
			if len(shared) > 0 {
				sort.Strings(shared)
				return &LabelError{i, fmt.Sprintf("range %d-%d overlaps Labels[%d] (%d-%d) on key %s: give each agent each key once",
					l.From, l.To, j, o.From, o.To, strings.Join(shared, ", "))}
			}
		}
	}
	return nil
}

// LabelsOf returns the labels ls give agent i, as Fleet.Labels would, for
// resolving selectors before a fleet runs.
func LabelsOf(ls []LabelRange) func(i int) map[string]string {
	return func(i int) map[string]string {
		var out map[string]string
		for _, l := range ls {
			if i < l.From || i > l.To {
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			maps.Copy(out, l.Labels)
		}
		return out
	}
}
