// Package pollerprom exports a pollerlib.Poller's Stats as Prometheus
// metrics. It lives apart from pollerlib so that the poller itself does not
// depend on the Prometheus client.
package pollerprom

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/snmpchaos/snmpchaos/pollerlib"
)

// Collector is a prometheus.Collector reading a poller's Stats on each
// scrape. Register it with prometheus.Register or a Registry.
type Collector struct {
	stats func() pollerlib.Stats

	sockets, inFlight, sessions, goroutines *prometheus.Desc
	polls, requests, retries, timeouts      *prometheus.Desc
	responses, dropped, sendErrors, rtt     *prometheus.Desc
	helped                                  *prometheus.Desc
}

// New returns a Collector for p. Metric names start with namespace
// (default "pollerlib") and carry constLabels.
func New(p *pollerlib.Poller, namespace string, constLabels prometheus.Labels) *Collector {
	return newCollector(p.Stats, namespace, constLabels)
}

func newCollector(stats func() pollerlib.Stats, ns string, cl prometheus.Labels) *Collector {
	if ns == "" {
		ns = "pollerlib"
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(ns, "", name), help, labels, cl)
	}
	return &Collector{
		stats:      stats,
		sockets:    d("sockets", "UDP sockets the poller holds open."),
		inFlight:   d("in_flight_requests", "Exchanges waiting for a response."),
		sessions:   d("sessions", "Targets with session state."),
		goroutines: d("goroutines", "Goroutines the poller owns."),
		polls:      d("polls_total", "Finished operations by outcome.", "outcome"),
		requests:   d("requests_total", "Request datagrams sent."),
		retries:    d("retries_total", "Request datagrams that were retransmissions."),
		timeouts:   d("timeouts_total", "Attempts that got no valid response in time."),
		responses:  d("responses_total", "Response datagrams received."),
		helped:     d("helped_responses_total", "Responses read by a waiting exchange instead of the demux goroutine, which the host's scheduler ran late."),
		dropped:    d("dropped_responses_total", "Responses dropped before reaching a caller, by reason.", "reason"),
		sendErrors: d("send_errors_total", "Datagrams the kernel refused to send."),
		rtt:        d("rtt_seconds", "Round-trip time of answered requests (quantiles within 19%)."),
	}
}

// Describe sends every metric description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sockets, c.inFlight, c.sessions, c.goroutines, c.polls, c.requests,
		c.retries, c.timeouts, c.responses, c.helped, c.dropped, c.sendErrors, c.rtt} {
		ch <- d
	}
}

// Collect reads the poller's Stats and sends them as metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	counter := func(d *prometheus.Desc, v uint64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), lv...)
	}
	gauge(c.sockets, float64(s.Sockets))
	gauge(c.inFlight, float64(s.InFlight))
	gauge(c.sessions, float64(s.Sessions))
	gauge(c.goroutines, float64(s.Goroutines))
	for _, o := range pollerlib.Outcomes() {
		counter(c.polls, s.Polls[o], o)
	}
	counter(c.requests, s.Requests)
	counter(c.retries, s.Retries)
	counter(c.timeouts, s.Timeouts)
	counter(c.responses, s.Responses)
	counter(c.helped, s.Helped)
	for reason, v := range map[string]uint64{
		"late": s.Late, "duplicate": s.Duplicate, "mismatched": s.Mismatched,
		"unknown": s.Unknown, "malformed": s.Malformed, "decode": s.DecodeErrors,
	} {
		counter(c.dropped, v, reason)
	}
	counter(c.sendErrors, s.SendErrors)
	ch <- prometheus.MustNewConstSummary(c.rtt, s.RTT.Count, 0, map[float64]float64{
		0.5: s.RTT.P50.Seconds(), 0.9: s.RTT.P90.Seconds(), 0.99: s.RTT.P99.Seconds(),
	})
}
