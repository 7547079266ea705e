package scenarios

import (
	"slices"
	"strconv"
	"time"
)

// invariantDefaults fills the invariants' defaults from the load and the
// poller settings and checks them.
func (s *Scenario) invariantDefaults() (string, string) {
	iv := &s.Invariants
	c := s.Load.Concurrency
	if iv.MaxGoroutines == 0 {
		iv.MaxGoroutines = c + 64
	}
	if iv.MaxInFlight == 0 {
		iv.MaxInFlight = c + max(16, c/4)
	}
	if iv.MaxCancelLatency == 0 {
		iv.MaxCancelLatency = max(s.Poller.Timeout/2, Duration(250*time.Millisecond))
	}
	if iv.MaxDrops == nil {
		iv.MaxDrops = new(int)
	}
	switch {
	case iv.MaxGoroutines < 0:
		return "invariants.maxGoroutines", "must not be negative"
	case iv.MaxInFlight < 0:
		return "invariants.maxInFlight", "must not be negative"
	case iv.MaxCancelLatency < 0:
		return "invariants.maxCancelLatency", "must not be negative"
	case *iv.MaxDrops < 0:
		return "invariants.maxDrops", "must not be negative"
	case iv.FDSlack < 0:
		return "invariants.fdSlack", "must not be negative"
	case iv.MaxFds < 0:
		return "invariants.maxFds", "must not be negative (0: no bound)"
	case iv.MaxSockets < 0:
		return "invariants.maxSockets", "must not be negative (0: no bound)"
	}
	if t := iv.P99Trend; t != nil {
		if t.Window == 0 {
			t.Window = 5 * s.Load.Interval
		}
		if t.MaxGrowth == 0 {
			t.MaxGrowth = 2
		}
		if t.Floor == 0 {
			t.Floor = Duration(100 * time.Millisecond)
		}
		switch {
		case t.Window < 0:
			return "invariants.p99Trend.window", "must be a positive duration"
		case t.MaxGrowth < 1:
			return "invariants.p99Trend.maxGrowth", "must be at least 1"
		case t.Floor < 0:
			return "invariants.p99Trend.floor", "must not be negative"
		}
		for i, name := range t.Phases {
			if !slices.ContainsFunc(s.Phases, func(ph Phase) bool { return ph.Name == name }) {
				return "invariants.p99Trend.phases[" + strconv.Itoa(i) + "]", "no phase named " + strconv.Quote(name)
			}
		}
	}
	return "", ""
}

// TrendPhases are the indexes of the phases the p99 trend check covers:
// those it names, or else every phase without faults.
func (s *Scenario) TrendPhases() []int {
	t := s.Invariants.P99Trend
	if t == nil {
		return nil
	}
	var out []int
	for i, ph := range s.Phases {
		if len(t.Phases) > 0 {
			if slices.Contains(t.Phases, ph.Name) {
				out = append(out, i)
			}
			continue
		}
		if len(ph.Faults) == 0 && len(ph.Kernel) == 0 {
			out = append(out, i)
		}
	}
	return out
}

// DeadlineOf is the deadline of a poll that starts in phase i.
func (s *Scenario) DeadlineOf(i int) time.Duration {
	if i >= 0 && i < len(s.Phases) && s.Phases[i].Deadline > 0 {
		return s.Phases[i].Deadline.D()
	}
	return s.Load.Deadline.D()
}
