package simagent

import "sync/atomic"

// Reasons a request gets no reply, as counted in Stats.Drops.
const (
	DropBadCommunity = "badCommunity" // wrong community string
	DropMalformed    = "malformed"    // undecodable request
	DropUnsupported  = "unsupported"  // a version or PDU type the agent does not answer
	DropFault        = "fault"        // a drop fault
	DropBlackhole    = "blackhole"    // a blackhole fault
	DropRestarting   = "restarting"   // inside a restart's downtime
	DropUnknownAgent = "unknownAgent" // addressed to no agent of the fleet (fleet-wide only)
	DropClosed       = "closed"       // delayed reply pending when the fleet closed
	DropQueueFull    = "queueFull"    // delayed reply dropped: the delay queue was full (Config.MaxPending)
)

var dropReasons = []string{DropBadCommunity, DropMalformed, DropUnsupported, DropFault, DropBlackhole, DropRestarting, DropUnknownAgent, DropClosed, DropQueueFull}

// DropReasons lists every reason a request may go unanswered.
func DropReasons() []string { return append([]string(nil), dropReasons...) }

// Stats counts what agents did.
type Stats struct {
	Requests  uint64            `json:"requests"`
	Responses uint64            `json:"responses"`
	Drops     map[string]uint64 `json:"drops"`
	Delayed   uint64            `json:"delayed"`
	Truncated uint64            `json:"truncated"`
	Malformed uint64            `json:"malformed"`
	// Faulted counts replies altered by a fault (duplicates, wrong
	// request-id, garbage, error-status, loop, early end of MIB, cut by a
	// truncate fault).
	Faulted  uint64 `json:"faulted"`
	BytesIn  uint64 `json:"bytesIn"`
	BytesOut uint64 `json:"bytesOut"`
}

// counters are an agent's (or the fleet's) live Stats.
type counters struct {
	requests, responses, delayed, truncated, malformed, faulted, bytesIn, bytesOut atomic.Uint64
	drops                                                                          [9]atomic.Uint64
}

func dropIndex(reason string) int {
	for i, r := range dropReasons {
		if r == reason {
			return i
		}
	}
	panic("simagent: unknown drop reason " + reason)
}

func (c *counters) drop(reason string) { c.drops[dropIndex(reason)].Add(1) }

func (c *counters) snapshot() Stats {
	s := Stats{
		Requests:  c.requests.Load(),
		Responses: c.responses.Load(),
		Delayed:   c.delayed.Load(),
		Truncated: c.truncated.Load(),
		Malformed: c.malformed.Load(),
		Faulted:   c.faulted.Load(),
		BytesIn:   c.bytesIn.Load(),
		BytesOut:  c.bytesOut.Load(),
		Drops:     make(map[string]uint64, len(dropReasons)),
	}
	for i, r := range dropReasons {
		s.Drops[r] = c.drops[i].Load()
	}
	return s
}

// add sums o into s.
func (s *Stats) add(o Stats) {
	s.Requests += o.Requests
	s.Responses += o.Responses
	s.Delayed += o.Delayed
	s.Truncated += o.Truncated
	s.Malformed += o.Malformed
	s.Faulted += o.Faulted
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	if s.Drops == nil {
		s.Drops = make(map[string]uint64, len(dropReasons))
	}
	for k, v := range o.Drops {
		s.Drops[k] += v
	}
}
