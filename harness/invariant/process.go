package invariant

import (
	"fmt"

	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
)

// ProcessSlack is how many sockets, and descriptors, a poller in a process
// of its own may open after its baseline and keep while idle (a socket it
// opens on first use, such as pysnmp's v3 engine), before
// invariants.fdSlack.
const ProcessSlack = 2

// processChecks holds a poller that runs in a process of its own (an exec
// child, an observed daemon) to the invariants through its own view, read
// by PID. Its sockets close when it exits, so "after Close" says nothing
// of it: what counts is what it holds idle after the drain, with nothing
// in flight, against its baseline. connections-closed and fds-stable fail
// when that grew by more than ProcessSlack + fdSlack, with evidence naming
// the process and its sockets; goroutines-bounded holds a process that
// reports its goroutines (a Go daemon's go_goroutines) to the same bound
// over the run as this process.
func processChecks(ev *Evidence, out []report.InvariantResult) []report.InvariantResult {
	p := ev.Process
	if p == nil {
		return out
	}
	who := fmt.Sprintf("poller process %d (%s)", p.PID, p.Command)
	slack := ProcessSlack + ev.Scenario.Invariants.FDSlack
	for i := range out {
		res := &out[i]
		switch res.Name {
		case ConnectionsClosed:
			if p.Error != "" {
				res.Evidence = append(res.Evidence, who+": reading failed: "+p.Error)
				continue
			}
			base, idle := len(p.Baseline.UDPSockets), len(p.Idle.UDPSockets)
			line := fmt.Sprintf("%s holds %d UDP sockets idle after the drain (%d at baseline, peak %d)", who, idle, base, p.PeakUDPSockets)
			if idle <= base+slack {
				res.Summary += "; " + line
				continue
			}
			res.Pass = false
			res.Summary = fmt.Sprintf("%s: %d more than at baseline, at most %d allowed", line, idle-base, slack)
			res.Evidence = append(res.Evidence, newSockets(p.Baseline.UDPSockets, p.Idle.UDPSockets)...)
		case FDsStable:
			if p.Error != "" {
				continue
			}
			base, idle := p.Baseline.FDs, p.Idle.FDs
			line := fmt.Sprintf("%s has %d fds idle after the drain (%d at baseline, peak %d)", who, idle, base, p.PeakFDs)
			if idle <= base+slack {
				res.Summary += "; " + line
				continue
			}
			res.Pass = false
			res.Summary = fmt.Sprintf("%s: %d over baseline, at most %d allowed", line, idle-base, slack)
			if grew := len(p.Idle.UDPSockets) - len(p.Baseline.UDPSockets); grew > 0 {
				res.Evidence = append(res.Evidence, fmt.Sprintf("%d of them UDP sockets (listed under %s)", grew, ConnectionsClosed))
			}
		case GoroutinesBounded:
			if p.BaselineGoroutines < 0 {
				continue
			}
			bound := p.BaselineGoroutines + ev.Scenario.Invariants.MaxGoroutines
			line := fmt.Sprintf("%s reports %d goroutines at baseline, peak %d (bound %d), %d idle after the drain", who, p.BaselineGoroutines, p.PeakGoroutines, bound, p.IdleGoroutines)
			if p.PeakGoroutines <= bound {
				res.Summary += "; " + line
				continue
			}
			res.Pass = false
			res.Summary = line
		}
	}
	return out
}

// newSockets lists the sockets in idle that were not there at baseline,
// up to EvidenceLimit.
func newSockets(base, idle []probe.ProcessSocket) []string {
	had := map[uint64]bool{}
	for _, s := range base {
		had[s.Inode] = true
	}
	var out []string
	n := 0
	for _, s := range idle {
		if had[s.Inode] {
			continue
		}
		if n == EvidenceLimit {
			out = append(out, fmt.Sprintf("... and %d more", len(idle)-len(base)-n))
			break
		}
		out = append(out, s.String())
		n++
	}
	return out
}
