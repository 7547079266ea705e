package control

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/simagent"
)

func TestMetrics(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 3, Sockets: 2})
	srv := serve(t, f)
	_, err := f.SetFaults(simagent.Selector{Index: new(0)}, simagent.Faults{Blackhole: &simagent.Blackhole{}})
	require.NoError(t, err)
	g0, g1 := snmpClient(t, f, 0), snmpClient(t, f, 1)
	for range 2 {
		_, err := g1.Get([]string{sysName})
		require.NoError(t, err)
	}
	_, err = g0.Get([]string{sysName})
	require.Error(t, err)

	const want = `
# HELP simagent_agents Agents in the fleet.
# TYPE simagent_agents gauge
simagent_agents 3
# HELP simagent_drops_total Requests left unanswered, by reason.
# TYPE simagent_drops_total counter
simagent_drops_total{reason="badCommunity"} 0
simagent_drops_total{reason="blackhole"} 1
simagent_drops_total{reason="closed"} 0
simagent_drops_total{reason="fault"} 0
simagent_drops_total{reason="malformed"} 0
simagent_drops_total{reason="queueFull"} 0
simagent_drops_total{reason="restarting"} 0
simagent_drops_total{reason="unknownAgent"} 0
simagent_drops_total{reason="unsupported"} 0
# HELP simagent_faulty_agents Agents with faults in force.
# TYPE simagent_faulty_agents gauge
simagent_faulty_agents 1
# HELP simagent_info The fleet's data and seed; always 1.
# TYPE simagent_info gauge
simagent_info{data="control-test",seed="7"} 1
# HELP simagent_pending_replies Delayed replies waiting to be sent.
# TYPE simagent_pending_replies gauge
simagent_pending_replies 0
# HELP simagent_requests_total Requests received by the fleet's agents.
# TYPE simagent_requests_total counter
simagent_requests_total 3
# HELP simagent_responses_total Response datagrams sent, duplicates included.
# TYPE simagent_responses_total counter
simagent_responses_total 2
# HELP simagent_sockets UDP sockets the fleet holds.
# TYPE simagent_sockets gauge
simagent_sockets 2
`
	names := []string{"simagent_agents", "simagent_drops_total", "simagent_faulty_agents", "simagent_info",
		"simagent_pending_replies", "simagent_requests_total", "simagent_responses_total", "simagent_sockets"}
	// A response is counted just after it is sent, so wait for the count.
	var last error
	require.Eventually(t, func() bool {
		last = testutil.ScrapeAndCompare(srv.URL+"/metrics", strings.NewReader(want), names...)
		return last == nil
	}, 5*time.Second, 10*time.Millisecond, "last difference: %v", last)

	// The whole output parses; runtime metrics are there, per-agent series
	// are not.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/metrics", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, fams, "go_goroutines")
	assert.Contains(t, fams, "simagent_sent_bytes_total")
	assert.Positive(t, fams["simagent_sent_bytes_total"].GetMetric()[0].GetCounter().GetValue())
	for name := range fams {
		assert.False(t, strings.HasPrefix(name, "simagent_agent_"), "per-agent series %s without the option", name)
	}
}

func TestPerAgentMetricsAreOptIn(t *testing.T) {
	f := startFleet(t, simagent.Config{Agents: 3})
	assert.Zero(t, testutil.CollectAndCount(NewCollector(f), "simagent_agent_requests_total"))
	c := NewCollector(f, WithPerAgentMetrics())
	assert.Equal(t, 3, testutil.CollectAndCount(c, "simagent_agent_requests_total"))
	_, err := snmpClient(t, f, 2).Get([]string{sysName})
	require.NoError(t, err)
	want := `
# HELP simagent_agent_requests_total Requests received by one agent.
# TYPE simagent_agent_requests_total counter
simagent_agent_requests_total{address="` + f.Addr(0).String() + `",agent="0"} 0
simagent_agent_requests_total{address="` + f.Addr(1).String() + `",agent="1"} 0
simagent_agent_requests_total{address="` + f.Addr(2).String() + `",agent="2"} 1
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), "simagent_agent_requests_total"))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	assert.Empty(t, problems, "metric names and help follow the conventions")
}
