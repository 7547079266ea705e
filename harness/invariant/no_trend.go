package invariant

import (
	"fmt"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// NoTrend: no upward trend in goroutines, fds or heap over the second
// half of a soak (only when the scenario asks for it: invariants.trend).
const NoTrend = "no-trend"

// trendAsked reports whether the scenario asks for the trend check.
func trendAsked(sc *scenarios.Scenario) bool { return sc.Invariants.Trend }

// trendWindows is how many windows the second half of a soak is cut into;
// the trend is fitted through each window's minimum, so that load swings
// (polls in flight come and go) do not read as growth while a leak, which
// raises the floor, does.
const trendWindows = 10

// trendFigure picks one figure of a sample, with its tolerance.
type trendFigure struct {
	name      string
	get       func(report.Sample) float64
	tolerance func(mean float64) float64
	unit      string
}

// trendFigures are the figures checked, with tolerances for the rise over
// the second half: goroutines and fds 10% (at least 4), heap 20% (at
// least 4 MiB).
func trendFigures() []trendFigure {
	return []trendFigure{
		{"goroutines", func(s report.Sample) float64 { return float64(s.Goroutines) }, func(m float64) float64 { return max(4, m/10) }, ""},
		{"fds", func(s report.Sample) float64 { return float64(s.FDs) }, func(m float64) float64 { return max(4, m/10) }, ""},
		{"heap", func(s report.Sample) float64 { return float64(s.HeapLive) }, func(m float64) float64 { return max(4<<20, m/5) }, "B"},
	}
}

// noTrend fits a line through the floor of each figure over the second
// half of the load and fails when it rises by more than the figure's
// tolerance.
func noTrend(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: NoTrend, Pass: true}
	if len(ev.Phases) == 0 {
		res.Pass = false
		res.Summary = "no phase ran"
		return res
	}
	start, end := ev.Phases[0].Start, ev.Phases[len(ev.Phases)-1].End
	mid := start + (end-start)/2
	var half []report.Sample
	for _, s := range ev.Samples {
		if s.T >= mid && s.T <= end {
			half = append(half, s)
		}
	}
	if len(half) < 2*trendWindows {
		res.Summary = fmt.Sprintf("too few samples (%d) in the second half to fit a trend", len(half))
		return res
	}
	var parts []string
	for _, sr := range trendFigures() {
		xs, ys := windowMins(half, sr.get)
		slope, _ := linearFit(xs, ys)
		growth := slope * (end - mid).Seconds()
		mean := 0.0
		for _, y := range ys {
			mean += y
		}
		mean /= float64(len(ys))
		tol := sr.tolerance(mean)
		parts = append(parts, fmt.Sprintf("%s %+.1f%s", sr.name, growth, sr.unit))
		if growth > tol {
			res.Pass = false
			res.Evidence = append(res.Evidence, fmt.Sprintf("%s floor rises by %.1f%s over the second half (%.3g%s/s, from %.0f to %.0f), tolerance %.0f%s",
				sr.name, growth, sr.unit, slope, sr.unit, ys[0], ys[len(ys)-1], tol, sr.unit))
		}
	}
	res.Summary = fmt.Sprintf("trend over the second half (%s, %d samples): %s", (end - mid).Round(time.Second), len(half), strings.Join(parts, ", "))
	return res
}

// windowMins cuts samples into trendWindows windows of equal count and
// returns each window's mean time (s) and minimum value.
func windowMins(ss []report.Sample, get func(report.Sample) float64) (xs, ys []float64) {
	n := len(ss) / trendWindows
	for w := range trendWindows {
		chunk := ss[w*n : (w+1)*n]
		if w == trendWindows-1 {
			chunk = ss[w*n:]
		}
		lo, t := get(chunk[0]), 0.0
		for _, s := range chunk {
			lo = min(lo, get(s))
			t += s.T.Seconds()
		}
		xs = append(xs, t/float64(len(chunk)))
		ys = append(ys, lo)
	}
	return xs, ys
}

// linearFit returns the least-squares slope and intercept of ys over xs.
func linearFit(xs, ys []float64) (slope, intercept float64) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0, sy / n
	}
	slope = (n*sxy - sx*sy) / d
	return slope, (sy - slope*sx) / n
}
