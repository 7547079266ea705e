package harness

import (
	"time"

	"github.com/snmpchaos/snmpchaos/harness/fleet"
	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/simagent"
)

// coverage counts, per phase, the agents that saw at least one request,
// from the agents' own counters: what the poller really sent, whoever
// scheduled it (the harness's load, or a daemon's own schedule behind its
// scrapes). Fleets that cannot read one agent's counters (a netns Set,
// remote simagents) have none.
type coverage struct {
	stats  func(int) simagent.Stats
	n      int
	phases []report.PhaseCoverage
	start  []uint64
	cur    int
	at     time.Time
}

func newCoverage(f fleet.Fleet, phases int) *coverage {
	as, ok := f.(interface{ AgentStats(int) simagent.Stats })
	if !ok {
		return nil
	}
	return &coverage{stats: as.AgentStats, n: f.Len(), phases: make([]report.PhaseCoverage, phases), cur: -1}
}

// enter closes the phase in progress and starts phase i (i < 0: none).
func (c *coverage) enter(i int, names []string) {
	if c == nil {
		return
	}
	now := make([]uint64, c.n)
	for a := range now {
		now[a] = c.stats(a).Requests
	}
	if c.cur >= 0 {
		pc := report.PhaseCoverage{Phase: names[c.cur], Agents: c.n}
		for a := range now {
			if now[a] > c.start[a] {
				pc.Reached++
				pc.Requests += now[a] - c.start[a]
			} else if len(pc.NotReached) < 10 {
				pc.NotReached = append(pc.NotReached, a)
			}
		}
		c.phases[c.cur] = pc
	}
	c.start, c.cur = now, i
}

// report is the coverage of the phases that ran.
func (c *coverage) report() []report.PhaseCoverage {
	if c == nil {
		return nil
	}
	var out []report.PhaseCoverage
	for _, pc := range c.phases {
		if pc.Agents > 0 {
			out = append(out, pc)
		}
	}
	return out
}

// phaseNames are the scenario's phase names, in order.
func (r *run) phaseNames() []string {
	out := make([]string, len(r.sc.Phases))
	for i, ph := range r.sc.Phases {
		out[i] = ph.Name
	}
	return out
}
