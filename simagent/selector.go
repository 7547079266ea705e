package simagent

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Selector picks agents of a fleet. Exactly one field may be set; the zero
// Selector selects every agent.
type Selector struct {
	// All selects every agent (the same as the zero Selector).
	All bool `json:"all,omitempty"`
	// Index selects one agent.
	Index *int `json:"index,omitempty"`
	// Count selects this many agents, chosen by the fleet seed.
	Count int `json:"count,omitempty"`
	// Percent selects this share of agents (rounded down, at least one if
	// above zero), chosen by the fleet seed.
	Percent float64 `json:"percent,omitempty"`
	// Range selects agents From..To inclusive.
	Range *IndexRange `json:"range,omitempty"`
	// Label selects agents carrying a label "key=value".
	Label string `json:"label,omitempty"`
}

// IndexRange is an inclusive range of agent indexes.
type IndexRange struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// String renders the selector in the form ParseSelector reads.
func (s Selector) String() string {
	switch {
	case s.Index != nil:
		return "index=" + strconv.Itoa(*s.Index)
	case s.Count != 0:
		return "count=" + strconv.Itoa(s.Count)
	case s.Percent != 0:
		return "percent=" + strconv.FormatFloat(s.Percent, 'g', -1, 64)
	case s.Range != nil:
		return fmt.Sprintf("range=%d-%d", s.Range.From, s.Range.To)
	case s.Label != "":
		return "label=" + s.Label
	}
	return "all"
}

// ParseSelector reads "all", "index=N", "count=N", "percent=P",
// "range=A-B" or "label=KEY=VALUE".
func ParseSelector(text string) (Selector, error) {
	t := strings.TrimSpace(text)
	if t == "" || t == "all" {
		return Selector{All: true}, nil
	}
	k, v, ok := strings.Cut(t, "=")
	if !ok {
		return Selector{}, fmt.Errorf("selector %q: want all, index=N, count=N, percent=P, range=A-B or label=KEY=VALUE", text)
	}
	var s Selector
	var err error
	switch k {
	case "index":
		var i int
		i, err = strconv.Atoi(v)
		s.Index = &i
	case "count":
		s.Count, err = strconv.Atoi(v)
	case "percent":
		s.Percent, err = strconv.ParseFloat(v, 64)
	case "range":
		a, b, ok := strings.Cut(v, "-")
		if !ok {
			return Selector{}, fmt.Errorf("selector %q: range wants A-B", text)
		}
		var r IndexRange
		if r.From, err = strconv.Atoi(a); err == nil {
			r.To, err = strconv.Atoi(b)
		}
		s.Range = &r
	case "label":
		s.Label = v
	default:
		return Selector{}, fmt.Errorf("selector %q: unknown kind %q", text, k)
	}
	if err != nil {
		return Selector{}, fmt.Errorf("selector %q: %w", text, err)
	}
	return s, nil
}

// resolve returns the indexes the selector picks in a fleet of n agents.
// Random picks are a permutation drawn from seed, so the same seed and
// selector pick the same agents, and a smaller share is a subset of a larger.
func (s Selector) resolve(n int, seed uint64, labels func(i int) map[string]string) ([]int, error) {
	set := 0
	for _, b := range []bool{s.All, s.Index != nil, s.Count != 0, s.Percent != 0, s.Range != nil, s.Label != ""} {
		if b {
			set++
		}
	}
	if set > 1 {
		return nil, fmt.Errorf("selector sets %d kinds; set one", set)
	}
	switch {
	case s.Index != nil:
		if *s.Index < 0 || *s.Index >= n {
			return nil, fmt.Errorf("selector index %d outside fleet of %d agents", *s.Index, n)
		}
		return []int{*s.Index}, nil
	case s.Count != 0:
		if s.Count < 0 || s.Count > n {
			return nil, fmt.Errorf("selector count %d outside fleet of %d agents", s.Count, n)
		}
		return permutation(n, seed)[:s.Count], nil
	case s.Percent != 0:
		if s.Percent < 0 || s.Percent > 100 {
			return nil, fmt.Errorf("selector percent %v not in [0, 100]", s.Percent)
		}
		k := max(int(float64(n)*s.Percent/100), 1)
		return permutation(n, seed)[:k], nil
	case s.Range != nil:
		r := s.Range
		if r.From < 0 || r.To >= n || r.From > r.To {
			return nil, fmt.Errorf("selector range %d-%d outside fleet of %d agents", r.From, r.To, n)
		}
		out := make([]int, 0, r.To-r.From+1)
		for i := r.From; i <= r.To; i++ {
			out = append(out, i)
		}
		return out, nil
	case s.Label != "":
		k, v, ok := strings.Cut(s.Label, "=")
		if !ok {
			return nil, fmt.Errorf("selector label %q: want KEY=VALUE", s.Label)
		}
		var out []int
		for i := 0; i < n; i++ {
			if l := labels(i); l != nil && l[k] == v {
				out = append(out, i)
			}
		}
		return out, nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out, nil
}

func permutation(n int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 0x5e1ec7))
	return r.Perm(n)
}

// Check reports whether the selector is valid for a fleet of n agents.
// Label selectors are checked for form only.
func (s Selector) Check(n int) error {
	_, err := s.resolve(n, 0, func(int) map[string]string { return nil })
	return err
}

// Resolve returns the indexes the selector picks among n agents, as a
// fleet of n agents with this seed and these labels (nil: none) would:
// for several fleets seen as one.
func (s Selector) Resolve(n int, seed uint64, labels func(i int) map[string]string) ([]int, error) {
	if labels == nil {
		labels = func(int) map[string]string { return nil }
	}
	return s.resolve(n, seed, labels)
}
