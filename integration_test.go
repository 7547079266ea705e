//go:build integration

package snmpchaos_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Every bundled scenario's short profile, driven with pollerlib, must pass;
// each negative control (and gosnmp-leaky on fd-leak) must fail on the
// invariant it is built to break. Runs are sequential: the probes read
// process-wide figures. Set RESULTS_DIR to keep every report.

// TestMain checks that nothing leaks from the runs themselves: the leaky
// pollers are released after their runs.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// base gives each run a 127.x network of its own.
var base = 40

func load(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Bundled(name)
	require.NoError(t, err)
	base++
	sc.Fleet.Listen = fmt.Sprintf("127.%d.0.1:0", base)
	return sc
}

// run drives sc's short profile with the named poller.
func run(t *testing.T, sc *scenarios.Scenario, poller string) *harness.Report {
	t.Helper()
	p, err := harness.NewPoller(poller, harness.SettingsFor(sc.Shortened()))
	require.NoError(t, err)
	if r, ok := p.(harness.Releaser); ok {
		t.Cleanup(r.Release)
	}
	opts := []harness.Option{harness.WithShort(true)}
	if _, broken := p.(harness.Releaser); broken {
		opts = append(opts, harness.WithSettleTimeout(2*time.Second)) // it will not settle
	}
	start := time.Now()
	rep, err := harness.Run(t.Context(), sc, p, opts...)
	require.NoError(t, err)
	t.Logf("%s with %s: pass=%v in %s (seed %d, %d polls)", sc.Name, poller, rep.Pass, time.Since(start).Round(time.Millisecond), rep.Seed, rep.Polls.Scheduled)
	for _, iv := range rep.Invariants {
		t.Logf("  %-20s %-5v %s", iv.Name, iv.Pass, iv.Summary)
		if !iv.Pass {
			for _, e := range iv.Evidence {
				t.Logf("      %s", e)
			}
		}
	}
	keep(t, rep, poller)
	return rep
}

// keep writes the report under RESULTS_DIR, if set.
func keep(t *testing.T, rep *harness.Report, poller string) {
	dir := os.Getenv("RESULTS_DIR")
	if dir == "" {
		return
	}
	out := filepath.Join(dir, rep.Scenario+"-"+poller)
	if _, err := harness.WriteAll(out, rep); err != nil {
		t.Logf("writing reports to %s: %v", out, err)
	}
}

func TestBundledScenariosPassWithPollerlib(t *testing.T) {
	for _, name := range scenarios.Names() {
		t.Run(name, func(t *testing.T) {
			sc := load(t, name)
			if sc.IsNetns() {
				t.Skip("netns scenario: TestNetnsFlapPassesWithPollerlib runs it")
			}
			rep := run(t, sc, "pollerlib")
			assert.True(t, rep.Pass, "%s: every invariant holds with pollerlib", name)
		})
	}
}

func TestNegativeControlsFailOnTheirInvariant(t *testing.T) {
	cases := []struct{ scenario, poller string }{
		{"fd-leak", "gosnmp-leaky"},
		{"baseline", "broken-socket-leak"},
		{"blackhole-recovery", "broken-goroutine-leak"},
		{"quickstart", "broken-partial-walk"},
		{"baseline", "broken-lost-poll"},
	}
	kinds := harness.PollerKinds()
	for _, c := range cases {
		t.Run(c.poller+"/"+c.scenario, func(t *testing.T) {
			i := slices.IndexFunc(kinds, func(k harness.PollerKind) bool { return k.Name == c.poller })
			require.GreaterOrEqual(t, i, 0)
			require.NotEmpty(t, kinds[i].Breaks)
			rep := run(t, load(t, c.scenario), c.poller)
			assert.False(t, rep.Pass)
			for _, name := range kinds[i].Breaks {
				j := slices.IndexFunc(rep.Invariants, func(iv harness.InvariantResult) bool { return iv.Name == name })
				require.GreaterOrEqual(t, j, 0, "invariant %s in the report", name)
				iv := rep.Invariants[j]
				assert.False(t, iv.Pass, "%s on %s must fail %s", c.poller, c.scenario, name)
				assert.NotEmpty(t, iv.Evidence, "%s has evidence", name)
			}
		})
	}
}

// TestNetnsFlapPassesWithPollerlib runs netns-flap's short profile: two
// sites behind veth links, one flapping, one losing 5% to nftables. It
// needs root; under CI=true it must run.
func TestNetnsFlapPassesWithPollerlib(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI must run netns scenarios as root")
		}
		t.Skip("netns-flap needs root (network namespaces, veth, nftables); run `sudo go test -tags integration -run Netns .`")
	}
	sc := load(t, "netns-flap")
	rep := run(t, sc, "pollerlib")
	assert.True(t, rep.Pass, "netns-flap: every invariant holds with pollerlib")
	assert.Equal(t, "netns", rep.Mode)
	kinds := map[string]int{}
	for _, e := range rep.KernelEvents {
		kinds[e.Kind]++
	}
	assert.Positive(t, kinds[harness.KernelLinkDown], "the link flapped")
	assert.Equal(t, 2, kinds[harness.KernelInject])
	assert.Equal(t, 2, kinds[harness.KernelRecover])
	var drops uint64
	for _, s := range rep.Samples {
		drops = max(drops, s.KernelDrops)
	}
	assert.Positive(t, drops, "nftables dropped packets")
}
