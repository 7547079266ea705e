package invariant

import (
	"fmt"
	"slices"

	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
)

// ConnectionsClosed: after drain and Close, the poller holds no socket,
// by the OS's count and by its own, and the two agree.
const ConnectionsClosed = "connections-closed"

// connectionsClosed compares the UDP sockets of this process before the
// run and after Close (the OS view) with what the poller says it holds,
// and the peak over the run with invariants.maxSockets.
func connectionsClosed(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: ConnectionsClosed, Pass: true}
	if ev.AfterUDP == nil || ev.BaseUDP == nil {
		return report.InvariantResult{Name: res.Name, Summary: fmt.Sprintf("cannot read the OS view of sockets: %v", ev.ProcErr)}
	}
	var leaked []probe.UDPSocket
	for ino, s := range ev.AfterUDP {
		if _, ok := ev.BaseUDP[ino]; !ok {
			leaked = append(leaked, s)
		}
	}
	slices.SortFunc(leaked, func(a, b probe.UDPSocket) int { return int(a.Inode - b.Inode) })
	allowed := ev.Base.UDPSockets
	pollerView := "the poller does not report its sockets"
	pollerOpen := 0
	if ev.Reporter && ev.After.Poller != nil {
		pollerOpen = ev.After.Poller.OpenSockets
		pollerView = fmt.Sprintf("the poller reports %d open", pollerOpen)
		if ev.Base.Poller != nil {
			allowed -= ev.Base.Poller.OpenSockets
		}
	}
	if len(leaked) > 0 {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("%d UDP sockets opened during the run are still open after Close", len(leaked)))
		for i, s := range leaked {
			if i == EvidenceLimit {
				res.Evidence = append(res.Evidence, fmt.Sprintf("... and %d more", len(leaked)-EvidenceLimit))
				break
			}
			res.Evidence = append(res.Evidence, s.String())
		}
	}
	if ev.After.UDPSockets > allowed {
		res.Pass = false
		res.Evidence = append(res.Evidence, fmt.Sprintf("the OS shows %d UDP sockets after Close, at most %d expected (baseline %d, less the poller's own)", ev.After.UDPSockets, allowed, ev.Base.UDPSockets))
	}
	if ev.Reporter {
		if pollerOpen != 0 {
			res.Pass = false
			res.Evidence = append(res.Evidence, fmt.Sprintf("the poller reports %d sockets still open after Close", pollerOpen))
		}
		if pollerOpen == 0 && len(leaked) > 0 {
			res.Evidence = append(res.Evidence, fmt.Sprintf("the poller's stats and the OS disagree: the poller reports 0 open sockets, the OS shows %d left from the run", len(leaked)))
		}
	}
	// The peak is reported here and bounded by descriptors-bounded
	// (maxSockets); this invariant is about what is left after Close.
	peak, _ := peakOf(ev.Samples, func(s report.Sample) int { return s.UDPSockets })
	if ev.CloseErr != "" {
		res.Evidence = append(res.Evidence, "Close returned: "+ev.CloseErr)
	}
	if res.Pass {
		res.Summary = fmt.Sprintf("no socket left open: the OS shows %d UDP sockets after Close (baseline %d), %s; peak %d", ev.After.UDPSockets, ev.Base.UDPSockets, pollerView, peak)
	} else {
		res.Summary = fmt.Sprintf("%d UDP sockets left open after Close by the OS's count (baseline %d, now %d); %s", len(leaked), ev.Base.UDPSockets, ev.After.UDPSockets, pollerView)
	}
	return res
}
