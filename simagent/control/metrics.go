package control

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snmpchaos/snmpchaos/simagent"
)

// NewCollector returns a Prometheus collector of fleet f's counters, for
// callers that serve metrics from their own registry. Only
// WithPerAgentMetrics matters among the options.
func NewCollector(f *simagent.Fleet, opts ...Option) prometheus.Collector {
	return newCollector(f, newOptions(opts))
}

// collector reads the fleet's counters at scrape time: no state of its own,
// no series per agent unless asked for.
type collector struct {
	fleet    *simagent.Fleet
	perAgent bool

	info                                                  *prometheus.Desc
	requests, responses, drops, delayed, truncated        *prometheus.Desc
	malformed, faulted, bytesIn, bytesOut                 *prometheus.Desc
	agents, faulty, sockets, pending                      *prometheus.Desc
	usm                                                   *prometheus.Desc
	agentRequests, agentResponses, agentDrops, agentFault *prometheus.Desc
}

func newCollector(f *simagent.Fleet, o options) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("simagent_"+name, help, labels, nil)
	}
	return &collector{
		fleet:     f,
		perAgent:  o.perAgent,
		info:      d("info", "The fleet's data and seed; always 1.", "data", "seed"),
		requests:  d("requests_total", "Requests received by the fleet's agents."),
		responses: d("responses_total", "Response datagrams sent, duplicates included."),
		drops:     d("drops_total", "Requests left unanswered, by reason.", "reason"),
		delayed:   d("delayed_total", "Replies held back by a delay fault."),
		truncated: d("truncated_total", "Replies truncated to fit a size limit or cut by a fault."),
		malformed: d("malformed_total", "Requests that could not be decoded."),
		faulted:   d("faulted_total", "Replies altered by a fault."),
		bytesIn:   d("received_bytes_total", "Bytes of requests received."),
		bytesOut:  d("sent_bytes_total", "Bytes of replies sent."),
		agents:    d("agents", "Agents in the fleet."),
		faulty:    d("faulty_agents", "Agents with faults in force."),
		sockets:   d("sockets", "UDP sockets the fleet holds."),
		pending:   d("pending_replies", "Delayed replies waiting to be sent."),
		usm:       d("usm_messages_total", "SNMPv3 messages by USM outcome: the usmStats counters of RFC 3414 5, Reports sent, and messages accepted per security level (only with v3 users).", "counter"),

		agentRequests:  d("agent_requests_total", "Requests received by one agent.", "agent", "address"),
		agentResponses: d("agent_responses_total", "Response datagrams sent by one agent.", "agent", "address"),
		agentDrops:     d("agent_drops_total", "Requests one agent left unanswered, all reasons.", "agent", "address"),
		agentFault:     d("agent_faulty", "1 if the agent has faults in force.", "agent", "address"),
	}
}

// Describe sends every descriptor the collector may use.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.info, c.requests, c.responses, c.drops, c.delayed, c.truncated,
		c.malformed, c.faulted, c.bytesIn, c.bytesOut,
		c.agents, c.faulty, c.sockets, c.pending, c.usm,
	} {
		ch <- d
	}
	if c.perAgent {
		ch <- c.agentRequests
		ch <- c.agentResponses
		ch <- c.agentDrops
		ch <- c.agentFault
	}
}

// Collect reads the fleet's counters now.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	f := c.fleet
	s := f.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	gauge(c.info, 1, f.Store().Name(), strconv.FormatUint(f.Seed(), 10))
	counter(c.requests, s.Requests)
	counter(c.responses, s.Responses)
	for _, r := range simagent.DropReasons() {
		counter(c.drops, s.Drops[r], r)
	}
	counter(c.delayed, s.Delayed)
	counter(c.truncated, s.Truncated)
	counter(c.malformed, s.Malformed)
	counter(c.faulted, s.Faulted)
	counter(c.bytesIn, s.BytesIn)
	counter(c.bytesOut, s.BytesOut)
	gauge(c.agents, f.Len())
	gauge(c.sockets, f.Sockets())
	gauge(c.pending, f.Pending())
	if hasV3(f) {
		u := f.TotalUSMStats()
		for _, kv := range []struct {
			name string
			v    uint64
		}{
			{"unsupportedSecLevels", u.UnsupportedSecLevels}, {"notInTimeWindows", u.NotInTimeWindows},
			{"unknownUserNames", u.UnknownUserNames}, {"unknownEngineIDs", u.UnknownEngineIDs},
			{"wrongDigests", u.WrongDigests}, {"decryptionErrors", u.DecryptionErrors},
			{"reports", u.Reports}, {"noAuthNoPriv", u.NoAuthNoPriv}, {"authNoPriv", u.AuthNoPriv}, {"authPriv", u.AuthPriv},
		} {
			counter(c.usm, kv.v, kv.name)
		}
	}
	faulty := 0
	for i := range f.Len() {
		bad := f.Faults(i) != simagent.Faults{}
		if bad {
			faulty++
		}
		if c.perAgent {
			idx, addr := strconv.Itoa(i), f.Addr(i).String()
			a := f.AgentStats(i)
			var drops uint64
			for _, v := range a.Drops {
				drops += v
			}
			counter(c.agentRequests, a.Requests, idx, addr)
			counter(c.agentResponses, a.Responses, idx, addr)
			counter(c.agentDrops, drops, idx, addr)
			gauge(c.agentFault, b2i(bad), idx, addr)
		}
	}
	gauge(c.faulty, faulty)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
