package report

import (
	"fmt"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/probe"
)

// StarvedShare is the share of a run's time past which the harness counts
// as starved by its sampler: it was descheduled (the sampler woke up late)
// for more than this much of the time its samples span.
const StarvedShare = 0.1

// StarvedWait is the share of its threads' runnable time past which the
// process counts as starved by the kernel's account: they waited for a
// CPU more than a third of the time they could have run, i.e. more than
// half as long as they ran (the machine gave the run less than two thirds
// of the CPU it asked for). Beside a second make test on 2 cores the
// share sits near a half; at 0.5 the rule fired in one pair of runs and
// not in the next, where a pollerlib walk-stall run missed its recovery
// rate refusing work past its bound.
const StarvedWait = 1.0 / 3

// HarnessLag is how much of a run the harness itself lost to being
// descheduled, read from its sampler's lateness (Sample.SampleLag). The
// harness, and an in-process poller with it, ran that much less than the
// wall clock says: the timing a run judges (phase success ratios against
// deadlines, p99 latency, cancel latency) then says as much about the
// machine as about the poller.
type HarnessLag struct {
	// Stalled is the sum of the sampler's lateness, Longest its worst,
	// and Span the time the samples cover.
	Stalled, Longest, Span time.Duration
	// CPU is how long the process's threads ran and waited for a CPU
	// while the load ran (Report.CPU).
	CPU probe.CPUTime
}

// HarnessLag sums the sampler's lateness over r's samples.
func (r *Report) HarnessLag() HarnessLag {
	h := HarnessLag{CPU: r.CPU}
	for _, s := range r.Samples {
		h.Stalled += s.SampleLag
		h.Longest = max(h.Longest, s.SampleLag)
	}
	if n := len(r.Samples); n > 1 {
		h.Span = r.Samples[n-1].T - r.Samples[0].T
	}
	return h
}

// Share is the share of Span the harness was stalled (0 without a span).
func (h HarnessLag) Share() float64 {
	if h.Span <= 0 {
		return 0
	}
	return float64(h.Stalled) / float64(h.Span)
}

// Starved is whether the harness was stalled for more than StarvedShare
// of the run, or its threads waited for a CPU for more than StarvedWait of
// their runnable time while the load ran.
func (h HarnessLag) Starved() bool {
	return h.Share() > StarvedShare || h.CPU.WaitShare() > StarvedWait
}

// String says how starved the harness was, for logs: "descheduled for
// 2.1s of 9.3s (23%, longest 249ms); its threads ran 2s, waited 16s for a
// CPU (89%)".
func (h HarnessLag) String() string {
	return fmt.Sprintf("descheduled for %s of %s (%.0f%%, longest %s); its threads ran %s, waited %s for a CPU (%.0f%%)",
		h.Stalled.Round(time.Millisecond), h.Span.Round(time.Millisecond), 100*h.Share(), h.Longest.Round(time.Millisecond),
		h.CPU.Running.Round(time.Millisecond), h.CPU.Waiting.Round(time.Millisecond), 100*h.CPU.WaitShare())
}
