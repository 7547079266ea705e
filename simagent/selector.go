package simagent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Selector picks agents of a fleet. Exactly one field may be set; the zero
// Selector selects every agent (in Go: a scenario that omits its selector,
// or Fleet.SetFaults(Selector{}, ...)). What a user writes must say what it
// means: ParseSelector and UnmarshalJSON refuse a selector that would pick
// no agent by accident and so, read as the zero Selector, every agent:
// count=0, percent=0 (or NaN, or outside (0, 100]), an empty label=, {}
// and {all: false}. A label selector that matches no agent of the fleet is
// an error when resolved (Fleet.Select, SetFaults), never an empty set.
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
	if t == "none" {
		return Selector{}, fmt.Errorf("selector %q: there is no selector for no agent (to clear faults, DELETE them or set none as the fault spec)", text)
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
	if err := s.explicit(k); err != nil {
		return Selector{}, fmt.Errorf("selector %q: %w", text, err)
	}
	return s, nil
}

// selectorKeys are the JSON names of Selector's fields.
var selectorKeys = []string{"all", "count", "index", "label", "percent", "range"}

// explicit checks the value of the one kind key a user wrote: none may
// read as "no agent", which the zero Selector would turn into "every agent".
func (s Selector) explicit(key string) error {
	switch key {
	case "all":
		if !s.All {
			return fmt.Errorf("all: false selects no agent; write all: true, or another kind")
		}
	case "count":
		if s.Count < 1 {
			return fmt.Errorf("count %d selects no agent; want count >= 1", s.Count)
		}
	case "percent":
		if math.IsNaN(s.Percent) || s.Percent <= 0 || s.Percent > 100 {
			return fmt.Errorf("percent %v: want a share in (0, 100]", s.Percent)
		}
	case "label":
		k, _, ok := strings.Cut(s.Label, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("label %q: want KEY=VALUE", s.Label)
		}
	case "range":
		if s.Range == nil {
			return fmt.Errorf("range: want {from: A, to: B}")
		}
		if s.Range.From < 0 || s.Range.From > s.Range.To {
			return fmt.Errorf("range %d-%d: want 0 <= from <= to", s.Range.From, s.Range.To)
		}
	case "index":
		if s.Index == nil || *s.Index < 0 {
			return fmt.Errorf("index: want a whole number >= 0")
		}
	}
	return nil
}

// UnmarshalJSON reads a selector object such as {"percent": 10}: exactly
// one known kind, whose value must pick at least one agent. {} and
// {"all": false} are refused (omit the selector for every agent).
func (s *Selector) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return fmt.Errorf("want a mapping with one of %s", strings.Join(selectorKeys, ", "))
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		if !slices.Contains(selectorKeys, k) {
			return fmt.Errorf("unknown field %q (known: %s)", k, strings.Join(selectorKeys, ", "))
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	switch len(keys) {
	case 0:
		return fmt.Errorf("selector {} names no agent; omit the selector (or write all: true) for every agent")
	case 1:
	default:
		return fmt.Errorf("selector sets %d kinds (%s); set one", len(keys), strings.Join(keys, ", "))
	}
	type plain Selector
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("%s: %w", keys[0], err)
	}
	v := Selector(p)
	if err := v.explicit(keys[0]); err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalJSON writes the selector as UnmarshalJSON reads it; the zero
// Selector is written {"all": true}.
func (s Selector) MarshalJSON() ([]byte, error) {
	type plain Selector
	if s.set() == 0 {
		return []byte(`{"all":true}`), nil
	}
	return json.Marshal(plain(s))
}

// set counts the kinds s sets.
func (s Selector) set() int {
	n := 0
	for _, b := range []bool{s.All, s.Index != nil, s.Count != 0, s.Percent != 0, s.Range != nil, s.Label != ""} {
		if b {
			n++
		}
	}
	return n
}

// resolve returns the indexes the selector picks in a fleet of n agents.
// Random picks are a permutation drawn from seed, so the same seed and
// selector pick the same agents, and a smaller share is a subset of a larger.
// With labels nil only the label selector's form is checked; otherwise a
// label selector that matches no agent is an error.
func (s Selector) resolve(n int, seed uint64, labels func(i int) map[string]string) ([]int, error) {
	if set := s.set(); set > 1 {
		return nil, fmt.Errorf("selector sets %d kinds; set one", s.set())
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
		if math.IsNaN(s.Percent) || s.Percent < 0 || s.Percent > 100 {
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
		if !ok || k == "" {
			return nil, fmt.Errorf("selector label %q: want KEY=VALUE", s.Label)
		}
		if labels == nil {
			return nil, nil
		}
		var out []int
		for i := 0; i < n; i++ {
			if l := labels(i); l != nil && l[k] == v {
				out = append(out, i)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("selector label=%s matches no agent (%s)", s.Label, knownLabels(n, labels))
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

// knownLabels lists the labels of a fleet of n agents, for errors.
func knownLabels(n int, labels func(i int) map[string]string) string {
	seen := map[string]bool{}
	for i := 0; i < n && len(seen) <= 20; i++ {
		for k, v := range labels(i) {
			seen[k+"="+v] = true
		}
	}
	if len(seen) == 0 {
		return "the fleet has no labels"
	}
	ls := make([]string, 0, len(seen))
	for l := range seen {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	return "labels: " + strings.Join(ls, ", ")
}

// Check reports whether the selector is valid for a fleet of n agents.
// Label selectors are checked for form only.
func (s Selector) Check(n int) error {
	_, err := s.resolve(n, 0, nil)
	return err
}

// Resolve returns the indexes the selector picks among n agents, as a
// fleet of n agents with this seed and these labels (nil: none) would:
// for several fleets seen as one. A label selector that matches none of
// the agents is an error.
func (s Selector) Resolve(n int, seed uint64, labels func(i int) map[string]string) ([]int, error) {
	if labels == nil {
		labels = func(int) map[string]string { return nil }
	}
	return s.resolve(n, seed, labels)
}
