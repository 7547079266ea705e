package scenarios

import (
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
)

// MinShortWindow is the shortest a fault window (blackhole.for,
// restart.downtime, reportStorm.for) is scaled down to in the short
// profile; a window already shorter is kept as written.
const MinShortWindow = Duration(200 * time.Millisecond)

// scaleRange maps the agent range from..to (inclusive) of a fleet of full
// agents to the same share of a fleet of short agents: agent i of the full
// fleet is agent i*short/full of the short one, and a range keeps at least
// one agent. So label ranges that split the fleet into halves still split
// the short fleet into halves. A range outside the full fleet is left as
// it is (validation reports it).
func scaleRange(from, to, full, short int) (int, int) {
	if full <= 0 || short >= full || from < 0 || to >= full || from > to {
		return from, to
	}
	f := from * short / full
	t := (to+1)*short/full - 1
	return f, max(t, f)
}

// scaleLabels scales label ranges to the short fleet.
func scaleLabels(ls []simagent.LabelRange, full, short int) []simagent.LabelRange {
	if ls == nil {
		return nil
	}
	out := make([]simagent.LabelRange, len(ls))
	for i, l := range ls {
		l.From, l.To = scaleRange(l.From, l.To, full, short)
		out[i] = l
	}
	return out
}

// scaleSelector scales a range selector to the short fleet; other
// selectors are returned as they are.
func scaleSelector(s simagent.Selector, full, short int) simagent.Selector {
	if s.Range != nil {
		r := *s.Range
		r.From, r.To = scaleRange(r.From, r.To, full, short)
		s.Range = &r
	}
	return s
}

// scaleWindow scales a fault window by scale, to no less than
// MinShortWindow (or the window itself when it is shorter). Zero (until
// replaced) stays zero.
func scaleWindow(d Duration, scale float64) Duration {
	if d <= 0 {
		return d
	}
	return max(Duration(float64(d)*scale), min(d, MinShortWindow))
}

// scaleFaultSets copies fault sets with their selectors scaled to the short
// fleet and their windows by scale. Per-reply delays, drop rates and the
// like are kept: they describe each request, not the phase.
func scaleFaultSets(sets []FaultSet, full, short int, scale float64) []FaultSet {
	if sets == nil {
		return nil
	}
	out := make([]FaultSet, len(sets))
	for i, fs := range sets {
		fs.Selector = scaleSelector(fs.Selector, full, short)
		f := &fs.Faults
		if b := f.Blackhole; b != nil {
			c := *b
			c.For = scaleWindow(c.For, scale)
			f.Blackhole = &c
		}
		if r := f.Restart; r != nil {
			c := *r
			c.Downtime = scaleWindow(c.Downtime, scale)
			f.Restart = &c
		}
		if r := f.ReportStorm; r != nil {
			c := *r
			c.For = scaleWindow(c.For, scale)
			f.ReportStorm = &c
		}
		out[i] = fs
	}
	return out
}
