package invariant

import (
	"fmt"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// The bounds on what is in flight (in-flight-bounded, goroutines-bounded
// while the run lasts) must tell a poller's pile-up from a catch-up of the
// harness's own making. The load is open-loop: when the harness process is
// descheduled for a while (a loaded machine) or waits for a phase's faults
// to go in, its driver hands over at once every poll that came due
// meanwhile, rate × lag of them. A poller that is fine takes that burst
// and lets go of it within a poll's deadline plus the cancel latency it is
// allowed (every poll in flight at t has reported by then, or it breaks
// cancel-latency), so its in-flight count spikes for a moment and comes
// back. A pile-up stays: polls in flight over the bound for longer than
// any poll may live are polls the poller keeps taking and not letting go.
//
// The same goes for a process the machine starves (a second make test on
// the same cores): the harness hands polls over on time, but the
// goroutines that run and report them (a goroutine-per-poll adapter's)
// wait for a CPU, and for a moment more polls are in flight than the
// poller is holding.
//
// So a stretch of consecutive samples over a bound (an excursion) is
// forgiven only when it was seen over the bound for at most grace (the
// longest poll deadline of the scenario + invariants.maxCancelLatency: a
// burst cannot outlive it, a pile-up does) and the harness's side
// explains it, one of:
//   - the harness handed over late (report.LateDispatch) at least as many
//     polls as the excess at the peak, in the grace before the excursion
//     or during it: its burst can account for every poll over the bound;
//   - it lasted at most one load interval (the schedule's round: excess
//     that outlasts a round is the poller's pace, not a moment's hold-up),
//     and while it lasted the process's threads waited longer for a CPU
//     than they ran on one (Sample.CPU, from the kernel's schedstat).
//
// Any other excursion fails, as before: one on a machine that gave the run
// its CPU and with the harness on time, and one that outlasts every poll's
// deadline whatever the lag (slow-fleet-pileup with gosnmp: hundreds of
// polls in flight for a whole phase). A forgiven excursion is still named
// in the summary, with what explained it.

// excursion is a stretch of consecutive samples over a bound.
type excursion struct {
	first, last time.Duration // the first and last sample over the bound
	samples     int
	peak        int
	peakAt      time.Duration
	// late is how many polls the harness handed over late, and lag the
	// latest one, from grace before first up to last.
	late int
	lag  time.Duration
	// cpu is the process's threads' time on and waiting for a CPU over
	// the excursion and the cpuLookBack before it.
	cpu probe.CPUTime
}

// cpuLookBack is how far before an excursion its CPU account starts: the
// sampler's period, so the build-up is in it even when the sampler caught
// the excursion a few milliseconds after the sample before (a round's
// burst, 19ms after the previous reading, in walk-stall's run).
const cpuLookBack = 100 * time.Millisecond

// starved is whether the process's threads waited longer for a CPU than
// they ran while e lasted.
func (e excursion) starved() bool { return e.cpu.Waiting > e.cpu.Running }

// lagged is whether the polls the harness handed over late account for
// e's excess over bound.
func (e excursion) lagged(bound int) bool { return e.late > 0 && e.late >= e.peak-bound }

// seen is how long the excursion was seen over the bound.
func (e excursion) seen() time.Duration { return e.last - e.first }

// catchUp is whether e is the harness's catch-up rather than the poller's
// pile-up (see above).
func (e excursion) catchUp(bound int, grace, round time.Duration) bool {
	return e.seen() <= grace && (e.lagged(bound) || e.starved() && e.seen() <= round)
}

// excursions lists the stretches of samples over bound, each with the
// harness's lateness from grace before it to its end.
func excursions(samples []report.Sample, get func(report.Sample) int, bound int, grace time.Duration) []excursion {
	var out []excursion
	for i := 0; i < len(samples); i++ {
		if get(samples[i]) <= bound {
			continue
		}
		e := excursion{first: samples[i].T}
		j := i
		for ; j < len(samples) && get(samples[j]) > bound; j++ {
			s := samples[j]
			e.last = s.T
			e.samples++
			if v := get(s); v > e.peak {
				e.peak, e.peakAt = v, s.T
			}
		}
		for _, s := range samples {
			if s.T >= e.first-grace && s.T <= e.last {
				e.late += s.Late
				e.lag = max(e.lag, s.DispatchLag)
			}
			if s.T >= e.first-cpuLookBack && s.T <= e.last {
				e.cpu.Running += s.CPU.Running
				e.cpu.Waiting += s.CPU.Waiting
			}
		}
		out = append(out, e)
		i = j - 1
	}
	return out
}

// graceOf is how long a poller that honours its deadlines may take to let
// go of a burst: the longest poll deadline of sc's phases plus the cancel
// latency allowed.
func graceOf(sc *scenarios.Scenario) time.Duration {
	d := sc.Load.Deadline.D()
	for i := range sc.Phases {
		d = max(d, sc.DeadlineOf(i))
	}
	return d + sc.Invariants.MaxCancelLatency.D()
}

// boundChecked is what an excursion check found: the excursions that fail
// and those forgiven as the harness's catch-up.
type boundChecked struct {
	failing, forgiven []excursion
	grace, round      time.Duration
}

// checkBound sorts the excursions of samples over bound.
func checkBound(ev *Evidence, get func(report.Sample) int, bound int) boundChecked {
	c := boundChecked{grace: graceOf(ev.Scenario), round: ev.Scenario.Load.Interval.D()}
	for _, e := range excursions(ev.Samples, get, bound, c.grace) {
		if e.catchUp(bound, c.grace, c.round) {
			c.forgiven = append(c.forgiven, e)
		} else {
			c.failing = append(c.failing, e)
		}
	}
	return c
}

// overSamples is how many samples the failing excursions hold, and when
// the first began.
func (c boundChecked) overSamples() (int, time.Duration) {
	n := 0
	for _, e := range c.failing {
		n += e.samples
	}
	if n == 0 {
		return 0, 0
	}
	return n, c.failing[0].first
}

// forgivenNote describes the forgiven excursions for a summary ("" when
// none): how many, the highest, the longest, and what explained them.
func (c boundChecked) forgivenNote(bound int, what string) string {
	if len(c.forgiven) == 0 {
		return ""
	}
	var longest, lag time.Duration
	late, peak, lagged, starved, most := 0, 0, 0, 0, 0
	var cpu probe.CPUTime
	for _, e := range c.forgiven {
		longest = max(longest, e.seen())
		most = max(most, e.samples)
		peak = max(peak, e.peak)
		if e.lagged(bound) {
			lagged++
			late = max(late, e.late) // the look-backs of nearby excursions overlap
			lag = max(lag, e.lag)
		} else {
			starved++
			cpu.Running += e.cpu.Running
			cpu.Waiting += e.cpu.Waiting
		}
	}
	var why []string
	if lagged > 0 {
		why = append(why, fmt.Sprintf("%d right after the harness handed over up to %d polls late (up to %s after they came due)", lagged, late, lag.Round(time.Millisecond)))
	}
	if starved > 0 {
		why = append(why, fmt.Sprintf("%d while the machine starved the process (its threads waited %s for a CPU, ran %s)", starved, cpu.Waiting.Round(time.Millisecond), cpu.Running.Round(time.Millisecond)))
	}
	return fmt.Sprintf("; over it %d time(s), up to %d %s, each in at most %d samples in a row (%s from first to last): %s; the harness's side, not a pile-up, forgiven within %s (the longest deadline + maxCancelLatency)",
		len(c.forgiven), peak, what, most, longest.Round(time.Millisecond), strings.Join(why, ", "), c.grace)
}

// failingLines is the evidence of the failing excursions: when, how long,
// how high, and why they were not forgiven.
func (c boundChecked) failingLines(bound int) []string {
	var out []string
	for i, e := range c.failing {
		if i == EvidenceLimit {
			out = append(out, fmt.Sprintf("... and %d more stretches over the bound", len(c.failing)-EvidenceLimit))
			break
		}
		why := fmt.Sprintf("longer than the %s any poll may live (the longest deadline + maxCancelLatency)", c.grace)
		switch {
		case e.seen() > c.grace:
		case e.starved():
			why = fmt.Sprintf("longer than a load interval (%s) while the machine starved the process, and the harness handed over only %d polls late around it, fewer than the %d over the bound",
				c.round, e.late, e.peak-bound)
		default:
			why = fmt.Sprintf("the harness handed over only %d polls late around it (latest %s after due), fewer than the %d over the bound, and the process was not starved (its threads ran %s, waited %s for a CPU)",
				e.late, e.lag.Round(time.Millisecond), e.peak-bound, e.cpu.Running.Round(time.Millisecond), e.cpu.Waiting.Round(time.Millisecond))
		}
		out = append(out, fmt.Sprintf("over the bound from %s to %s (%d samples), peak %d at %s: %s",
			e.first.Round(time.Millisecond), e.last.Round(time.Millisecond), e.samples, e.peak, e.peakAt.Round(time.Millisecond), why))
	}
	return out
}
