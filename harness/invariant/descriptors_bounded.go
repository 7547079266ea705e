package invariant

import (
	"fmt"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/report"
)

// DescriptorsBounded: while the run lasts, descriptors stay under baseline
// plus invariants.maxFds and UDP sockets under baseline plus
// invariants.maxSockets (each only when set), and no poll fails for want
// of a descriptor (EMFILE). A poller that holds a socket per target fails
// it at the fleet sizes where production runs out of descriptors.
const DescriptorsBounded = "descriptors-bounded"

func descriptorsBounded(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: DescriptorsBounded, Pass: true}
	iv := ev.Scenario.Invariants
	fdPeak, fdAt := peakOf(ev.Samples, func(s report.Sample) int { return s.FDs })
	sPeak, sAt := peakOf(ev.Samples, func(s report.Sample) int { return s.UDPSockets })
	var bounds, fails []string
	if iv.MaxFds > 0 {
		bounds = append(bounds, fmt.Sprintf("fds %d over baseline", iv.MaxFds))
		if fdPeak-ev.Base.FDs > iv.MaxFds {
			fails = append(fails, fmt.Sprintf("%d descriptors at %s, %d over baseline %d (bound %d)", fdPeak, fdAt.Round(time.Millisecond), fdPeak-ev.Base.FDs, ev.Base.FDs, iv.MaxFds))
		}
	}
	if iv.MaxSockets > 0 {
		bounds = append(bounds, fmt.Sprintf("UDP sockets %d over baseline", iv.MaxSockets))
		if sPeak-ev.Base.UDPSockets > iv.MaxSockets {
			fails = append(fails, fmt.Sprintf("%d UDP sockets at %s, %d over baseline %d (bound %d)", sPeak, sAt.Round(time.Millisecond), sPeak-ev.Base.UDPSockets, ev.Base.UDPSockets, iv.MaxSockets))
		}
	}
	if n := ev.Counts.ByError["emfile"]; n > 0 {
		fails = append(fails, fmt.Sprintf("%d polls failed with EMFILE (too many open files)", n))
	}
	peaks := fmt.Sprintf("peak %d fds at %s (baseline %d), %d UDP sockets at %s (baseline %d)", fdPeak, fdAt.Round(time.Millisecond), ev.Base.FDs, sPeak, sAt.Round(time.Millisecond), ev.Base.UDPSockets)
	if len(bounds) == 0 {
		bounds = append(bounds, "no bound set")
	}
	if len(fails) == 0 {
		res.Summary = peaks + "; " + strings.Join(bounds, ", ")
		return res
	}
	res.Pass = false
	res.Summary = strings.Join(fails, "; ")
	res.Evidence = append(res.Evidence, peaks)
	if p := ev.FDPeak; p != nil {
		res.Evidence = append(res.Evidence, fmt.Sprintf("at %s: %d descriptors, %d UDP sockets; those opened since baseline, each with its socket:", p.T.Round(time.Millisecond), p.FDs, p.UDPSockets))
		res.Evidence = append(res.Evidence, fdSocketLines(ev.BaseFDs, p.Table, p.UDP, EvidenceLimit)...)
	}
	return res
}
