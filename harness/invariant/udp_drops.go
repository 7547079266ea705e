package invariant

import (
	"fmt"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/report"
)

// UDPDrops: the kernel drops no more than invariants.maxDrops datagrams on
// the poller's own sockets during the run (the drops column of
// /proc/net/udp{,6}, every socket of the process not open at baseline). A
// poller whose receive buffers are too small for the replies it asked for
// fails it; the namespace's Udp counters (RcvbufErrors, InErrors) are
// reported beside, as every process in the namespace adds to them.
const UDPDrops = "udp-drops"

// Drops is what the harness saw of UDP drops over the run.
type Drops struct {
	// Sockets is the drops on the poller's sockets; Worst the open ones
	// with the most, as evidence lines.
	Sockets uint64
	Worst   []string
	// RcvbufErrors and InErrors are the namespace's counters over the run.
	RcvbufErrors, InErrors uint64
	// Err says why the figures could not be read, if they could not.
	Err error
}

func udpDrops(ev *Evidence) report.InvariantResult {
	res := report.InvariantResult{Name: UDPDrops, Pass: true}
	d := ev.Drops
	if d.Err != nil {
		return report.InvariantResult{Name: UDPDrops, Summary: fmt.Sprintf("cannot read UDP drops: %v", d.Err)}
	}
	bound := 0
	if b := ev.Scenario.Invariants.MaxDrops; b != nil {
		bound = *b
	}
	kernel := fmt.Sprintf("the namespace counted %d RcvbufErrors, %d InErrors over the run (all processes)", d.RcvbufErrors, d.InErrors)
	if d.Sockets <= uint64(bound) {
		res.Summary = fmt.Sprintf("%d datagrams dropped on the poller's sockets (bound %d); %s", d.Sockets, bound, kernel)
		return res
	}
	res.Pass = false
	res.Summary = fmt.Sprintf("the kernel dropped %d datagrams on the poller's sockets (bound %d): a receive buffer overflowed; %s", d.Sockets, bound, kernel)
	for _, s := range ev.Samples {
		if s.SocketDrops > 0 {
			res.Evidence = append(res.Evidence, fmt.Sprintf("first drops seen at %s", s.T.Round(time.Millisecond)))
			break
		}
	}
	for _, ph := range ev.Phases {
		in := inside(ev.Samples, ph)
		if len(in) < 2 {
			continue
		}
		if n := in[len(in)-1].SocketDrops - in[0].SocketDrops; n > 0 {
			res.Evidence = append(res.Evidence, fmt.Sprintf("phase %s: %d drops", ph.Name, n))
		}
	}
	res.Evidence = append(res.Evidence, d.Worst...)
	return res
}
