package daemon

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/scenarios"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// needExporter skips (fails under CI=true) without Debian's snmp_exporter.
func needExporter(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(DefaultExporter); err != nil {
		msg := "needs Debian's prometheus-snmp-exporter (apt-get install -y prometheus-snmp-exporter; scripts/need-pollers.sh does it as root)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

func exporterScenario(t *testing.T, base int) *scenarios.Scenario {
	sc, err := scenarios.Bundled("snmp-exporter")
	require.NoError(t, err)
	sc.Fleet.Listen = fmt.Sprintf("127.%d.0.1:0", base)
	return sc
}

func TestPlanRefusesWhatTheExporterCannotExport(t *testing.T) {
	sc := exporterScenario(t, 221)
	sc.Load.Ops = append(sc.Load.Ops, scenarios.Op{Kind: "walk", Root: ".1.3.6.1.2.1.1"})
	store, err := mib.Open(sc.Fleet.Profile)
	require.NoError(t, err)
	_, err = plan(sc, store)
	assert.ErrorContains(t, err, "load.ops[4] (walk .1.3.6.1.2.1.1): .1.3.6.1.2.1.1.2.0 has type 0x06")
}

func TestRenderedConfigHasEveryColumn(t *testing.T) {
	sc := exporterScenario(t, 222)
	store, err := mib.Open(sc.Fleet.Profile)
	require.NoError(t, err)
	mods, err := plan(sc, store)
	require.NoError(t, err)
	require.Len(t, mods, 4)
	assert.Equal(t, 24, mods[1].Columns[0].Leaves, "ifInOctets of 24 interfaces")
	yml, err := render(sc, mods)
	require.NoError(t, err)
	s := string(yml)
	assert.Contains(t, s, "op1:")
	assert.Contains(t, s, "oid: 1.3.6.1.2.1.2.2.1.10")
	assert.Contains(t, s, "community: public")
	assert.Contains(t, s, "max_repetitions: 25")
}

func TestExporterThroughBlackhole(t *testing.T) {
	needExporter(t)
	sc := exporterScenario(t, 223)
	var log *slog.Logger
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	e, err := New(t.Context(), sc.Shortened(), Config{Logger: log})
	require.NoError(t, err)
	pid := e.PID()
	rep, err := harness.Run(t.Context(), sc, e, harness.WithShort(true))
	require.NoError(t, err)
	for _, iv := range rep.Invariants {
		t.Logf("%-20s %-5v %s %v", iv.Name, iv.Pass, iv.Summary, iv.Evidence)
	}
	for _, ph := range rep.Phases {
		t.Logf("phase %s: %d polls %d ok %d failed p99 %s errors %v", ph.Name, ph.Polls, ph.Succeeded, ph.Failed, ph.P99, ph.Errors)
	}
	assert.True(t, rep.Pass, "snmp_exporter passes the scenario")
	assert.Greater(t, rep.Polls.WalksChecked, 0, "scrapes compared with the agents' data")
	bh := rep.Phases[1]
	assert.Greater(t, bh.Errors["timeout"], 0, "blackholed agents' scrapes fail with the exporter's timeout")
	o, ok := e.AtClose()
	require.True(t, ok)
	assert.Equal(t, pid, o.Process.PID)
	assert.True(t, strings.Contains(o.Process.Command, "prometheus-snmp-exporter"), o.Process.Command)
	assert.Greater(t, o.Goroutines, 0)
	assert.Empty(t, o.Process.UDPSockets, "idle, the exporter holds no UDP socket")
	require.NotNil(t, rep.Process, "the exporter's process is in the report")
	assert.Equal(t, pid, rep.Process.PID)
	assert.Positive(t, rep.Process.PeakGoroutines, "go_goroutines sampled from its /metrics")
	assert.GreaterOrEqual(t, rep.Process.PeakGoroutines, rep.Process.BaselineGoroutines)
	var during int
	for _, s := range rep.Samples {
		if s.Process != nil && s.T >= bh.Start && s.T < bh.End && s.Process.Goroutines > 0 {
			during++
		}
	}
	assert.Positive(t, during, "its goroutines are sampled through the blackhole")
	_, err = os.Stat(e.dir)
	assert.True(t, os.IsNotExist(err), "its config is removed")
}
