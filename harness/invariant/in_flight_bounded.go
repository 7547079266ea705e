package invariant

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
)

// InFlightBounded: polls in flight (handed to the poller, not yet
// reported) stay under invariants.maxInFlight at every sample, save for a
// moment's catch-up of the harness's own making (see excursion.go).
const InFlightBounded = "in-flight-bounded"

// PileUp is what the harness captured when polls or goroutines piled up
// past their bounds: when, how many, and every goroutine's stack.
type PileUp struct {
	T          time.Duration
	InFlight   int
	Goroutines int
	Dump       probe.GoroutineDump
}

// FDPeak is the process's descriptor table and UDP sockets, captured when
// descriptors or sockets passed their bounds during the run.
type FDPeak struct {
	T          time.Duration
	FDs        int
	UDPSockets int
	Table      map[int]string
	UDP        map[uint64]probe.UDPSocket
}

// peakOf is the highest value of get over the samples and when.
func peakOf(samples []report.Sample, get func(report.Sample) int) (int, time.Duration) {
	peak, at := 0, time.Duration(0)
	for _, s := range samples {
		if v := get(s); v > peak {
			peak, at = v, s.T
		}
	}
	return peak, at
}

func inFlightBounded(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: InFlightBounded, Pass: true}
	bound := ev.Scenario.Invariants.MaxInFlight
	get := func(s report.Sample) int { return s.InFlight }
	peak, at := peakOf(ev.Samples, get)
	c := checkBound(ev, get, bound)
	over, first := c.overSamples()
	res.Summary = fmt.Sprintf("peak %d polls in flight at %s (bound %d)", peak, at.Round(time.Millisecond), bound) + c.forgivenNote(bound, "in flight")
	if over == 0 {
		return res
	}
	res.Pass = false
	res.Summary = fmt.Sprintf("polls piled up: peak %d in flight at %s, bound %d; %d of %d samples over it, first at %s",
		peak, at.Round(time.Millisecond), bound, over, len(ev.Samples), first.Round(time.Millisecond))
	res.Evidence = append(res.Evidence, c.failingLines(bound)...)
	res.Evidence = append(res.Evidence, pileUpEvidence(ev)...)
	return res
}

// pileUpEvidence lists the phases and the stacks of what piled up.
func pileUpEvidence(ev *Evidence) []string {
	var out []string
	for _, ph := range ev.Phases {
		peak, at := peakOf(inside(ev.Samples, ph), func(s report.Sample) int { return s.InFlight })
		g, _ := peakOf(inside(ev.Samples, ph), func(s report.Sample) int { return s.Goroutines })
		out = append(out, fmt.Sprintf("phase %s: peak %d polls in flight at %s, %d goroutines", ph.Name, peak, at.Round(time.Millisecond), g))
	}
	if p := ev.PileUp; p != nil {
		out = append(out, fmt.Sprintf("at %s: %d polls in flight, %d goroutines (baseline %d); the goroutines beyond baseline, by stack:",
			p.T.Round(time.Millisecond), p.InFlight, p.Goroutines, ev.Base.Goroutines))
		out = append(out, probe.ExcessGoroutines(ev.BaseG, p.Dump, 5, 12)...)
	}
	return out
}

// inside is the samples within phase ph.
func inside(samples []report.Sample, ph report.PhaseReport) []report.Sample {
	i := slices.IndexFunc(samples, func(s report.Sample) bool { return s.T >= ph.Start })
	if i < 0 {
		return nil
	}
	j := slices.IndexFunc(samples[i:], func(s report.Sample) bool { return ph.End > 0 && s.T >= ph.End })
	if j < 0 {
		return samples[i:]
	}
	return samples[i : i+j]
}

// fdSocketLines lists the descriptors of table not in base, each with the
// UDP socket it is (matched by inode), so the descriptor and socket lists
// of a leak line up: "fd 57 -> socket:[81234] = udp 0.0.0.0:40211 -> *".
func fdSocketLines(base, table map[int]string, udp map[uint64]probe.UDPSocket, limit int) []string {
	var fds []int
	for fd, t := range table {
		if base[fd] != t {
			fds = append(fds, fd)
		}
	}
	slices.Sort(fds)
	var out []string
	for i, fd := range fds {
		if i == limit {
			out = append(out, fmt.Sprintf("... and %d more descriptors", len(fds)-limit))
			break
		}
		line := fmt.Sprintf("fd %d -> %s", fd, table[fd])
		if ino, ok := socketInode(table[fd]); ok {
			if s, ok := udp[ino]; ok {
				line += " = " + s.String()
			}
		}
		out = append(out, line)
	}
	return out
}

func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok {
		return 0, false
	}
	var ino uint64
	_, err := fmt.Sscanf(strings.TrimSuffix(s, "]"), "%d", &ino)
	return ino, err == nil
}
