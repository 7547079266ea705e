package report

import "time"

// StarvedShare is the share of a run's time past which the harness counts
// as starved: it was descheduled (its sampler woke up late) for more than
// this much of the time its samples span.
const StarvedShare = 0.1

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
}

// HarnessLag sums the sampler's lateness over r's samples.
func (r *Report) HarnessLag() HarnessLag {
	var h HarnessLag
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
// of the run.
func (h HarnessLag) Starved() bool { return h.Share() > StarvedShare }
