package pollerprom

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/snmpchaos/snmpchaos/pollerlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCollectorExportsStats(t *testing.T) {
	st := pollerlib.Stats{
		Sockets: 2, InFlight: 3, Sessions: 4, Goroutines: 2,
		Polls:    map[string]uint64{pollerlib.OutcomeOK: 10, pollerlib.OutcomeTimeout: 2},
		Requests: 20, Retries: 5, Timeouts: 6, Responses: 15, Helped: 3, Late: 1, Duplicate: 2,
		RTT: pollerlib.RTTStats{Count: 15, P50: time.Millisecond, P90: 2 * time.Millisecond, P99: 5 * time.Millisecond},
	}
	c := newCollector(func() pollerlib.Stats { return st }, "", prometheus.Labels{"poller": "test"})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	want := `
# HELP pollerlib_polls_total Finished operations by outcome.
# TYPE pollerlib_polls_total counter
`
	var lines []string
	for _, o := range pollerlib.Outcomes() {
		lines = append(lines, fmt.Sprintf(`pollerlib_polls_total{outcome=%q,poller="test"} %d`, o, st.Polls[o]))
	}
	want += strings.Join(lines, "\n") + "\n"
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "pollerlib_polls_total"))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP pollerlib_rtt_seconds Round-trip time of answered requests (quantiles within 19%).
# TYPE pollerlib_rtt_seconds summary
pollerlib_rtt_seconds{poller="test",quantile="0.5"} 0.001
pollerlib_rtt_seconds{poller="test",quantile="0.9"} 0.002
pollerlib_rtt_seconds{poller="test",quantile="0.99"} 0.005
pollerlib_rtt_seconds_sum{poller="test"} 0
pollerlib_rtt_seconds_count{poller="test"} 15
`), "pollerlib_rtt_seconds"))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP pollerlib_helped_responses_total Responses read by a waiting exchange instead of the demux goroutine, which the host's scheduler ran late.
# TYPE pollerlib_helped_responses_total counter
pollerlib_helped_responses_total{poller="test"} 3
`), "pollerlib_helped_responses_total"))
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	assert.Greater(t, n, 15)
}

func TestCollectorOnLivePoller(t *testing.T) {
	p, err := pollerlib.New(pollerlib.WithSockets(3))
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(New(p, "snmp", nil)))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader("# HELP snmp_sockets UDP sockets the poller holds open.\n# TYPE snmp_sockets gauge\nsnmp_sockets 3\n"), "snmp_sockets"))
	require.NoError(t, p.Close(t.Context()))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader("# HELP snmp_sockets UDP sockets the poller holds open.\n# TYPE snmp_sockets gauge\nsnmp_sockets 0\n"), "snmp_sockets"))
}
