package harness

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/scenarios"
)

// scenario parses a tiny scenario from YAML; LISTEN in the text is
// replaced by a 127.x base of its own per test, port 0.
func scenario(t *testing.T, base int, yaml string) *scenarios.Scenario {
	t.Helper()
	yaml = strings.ReplaceAll(yaml, "LISTEN", fmt.Sprintf("127.%d.0.1:0", base))
	sc, err := scenarios.Parse(t.Name()+".yaml", []byte(yaml))
	require.NoError(t, err)
	return sc
}

// runPoller runs sc with the named poller and releases what a broken
// poller leaked on purpose.
func runPoller(t *testing.T, sc *scenarios.Scenario, name string, opts ...Option) *Report {
	t.Helper()
	p, err := NewPoller(name, SettingsFor(sc))
	require.NoError(t, err)
	if r, ok := p.(Releaser); ok {
		t.Cleanup(r.Release)
		// A leaky poller will not settle: do not wait long for it.
		opts = append(opts, WithSettleTimeout(2*time.Second))
	}
	var progress []Progress
	opts = append([]Option{WithSeed(42), WithProgress(func(p Progress) { progress = append(progress, p) })}, opts...)
	if testing.Verbose() {
		opts = append(opts, WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	}
	rep, err := Run(t.Context(), sc, p, opts...)
	require.NoError(t, err)
	require.NotNil(t, rep)
	assert.NotEmpty(t, progress, "progress reported")
	for _, iv := range rep.Invariants {
		t.Logf("%-20s %-5v %s", iv.Name, iv.Pass, iv.Summary)
		for _, e := range iv.Evidence {
			t.Logf("    %s", e)
		}
	}
	for _, ph := range rep.Phases {
		t.Logf("phase %s: %d polls %d ok %d failed %d skipped p50 %s p99 %s errors %v", ph.Name, ph.Polls, ph.Succeeded, ph.Failed, ph.Skipped, ph.P50, ph.P99, ph.Errors)
	}
	t.Logf("harness lag: %s; %d polls handed over late (worst %s)", rep.HarnessLag(), rep.Polls.Late, rep.Polls.WorstLag)
	return rep
}

// invariant returns the named invariant's result.
func invariantOf(t *testing.T, rep *Report, name string) InvariantResult {
	t.Helper()
	for _, iv := range rep.Invariants {
		if iv.Name == name {
			return iv
		}
	}
	t.Fatalf("no invariant %s in report", name)
	return InvariantResult{}
}

const mixed = `version: 1
name: mixed
fleet:
  agents: 30
  listen: LISTEN
poller:
  timeout: 1s
  retries: 2
load:
  interval: 500ms
  deadline: 10s
  concurrency: 64
  jitter: 1
  ops:
    - kind: get
      weight: 4
      oids: [.1.3.6.1.2.1.1.3.0, .1.3.6.1.2.1.1.5.0]
    - kind: bulkwalk
      weight: 2
      root: .1.3.6.1.2.1.2.2.1.10
    - kind: walk
      weight: 1
      root: .1.3.6.1.2.1.1
phases:
  - name: calm
    duration: 1s
    expect: {minSuccess: 0.95}
  - name: faulty
    duration: 1s
    faults:
      - selector: {range: {from: 0, to: 2}}
        faults: {blackhole: {}}
      - selector: {range: {from: 3, to: 5}}
        faults: {truncate: {bulkVarbinds: 3}}
  - name: back
    duration: 1500ms
    expect: {minSuccess: 0.95, recovery: true}
`

func TestRunPollerlibPasses(t *testing.T) {
	rep := runPoller(t, scenario(t, 101, mixed), "pollerlib")
	assert.True(t, rep.Pass, "pollerlib passes every invariant")
}

func TestRunGosnmpBaselinePasses(t *testing.T) {
	rep := runPoller(t, scenario(t, 102, mixed), "gosnmp")
	assert.True(t, rep.Pass, "plain gosnmp passes every invariant")
}

// TestRunGosnmpCached: one long-lived client per target passes, closes its
// sockets at Close, and on the way holds about a socket per target polled
// (what the OS view shows and the fd-leak scenario is about).
func TestRunGosnmpCached(t *testing.T) {
	rep := runPoller(t, scenario(t, 107, mixed), "gosnmp-cached")
	assert.True(t, rep.Pass, "cached gosnmp clients pass every invariant")
	peak := 0
	for _, s := range rep.Samples {
		peak = max(peak, s.UDPSockets)
	}
	assert.Greater(t, peak-rep.Baseline.UDPSockets, 10, "a socket per target while running")
	assert.LessOrEqual(t, rep.After.UDPSockets, rep.Baseline.UDPSockets, "all closed after Close")
}

func TestRunGosnmpLeakyFails(t *testing.T) {
	rep := runPoller(t, scenario(t, 103, mixed), "gosnmp-leaky")
	assert.False(t, rep.Pass)
	for _, name := range []string{InvConnectionsClosed, InvFDsStable} {
		iv := invariantOf(t, rep, name)
		assert.False(t, iv.Pass, name)
		assert.NotEmpty(t, iv.Evidence, name)
	}
}

func TestNegativeControls(t *testing.T) {
	for _, k := range PollerKinds() {
		if !strings.HasPrefix(k.Name, "broken-") {
			continue
		}
		t.Run(k.Name, func(t *testing.T) {
			rep := runPoller(t, scenario(t, 110+len(k.Name), mixed), k.Name)
			assert.False(t, rep.Pass)
			for _, name := range k.Breaks {
				iv := invariantOf(t, rep, name)
				assert.False(t, iv.Pass, "%s must fail %s", k.Name, name)
				assert.NotEmpty(t, iv.Evidence, name)
			}
		})
	}
}

func TestRunInterrupted(t *testing.T) {
	sc := scenario(t, 104, mixed)
	p, err := NewPoller("pollerlib", SettingsFor(sc))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(700*time.Millisecond, cancel)
	start := time.Now()
	rep, err := Run(ctx, sc, p, WithSeed(1))
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, rep)
	assert.False(t, rep.Pass)
	assert.Less(t, time.Since(start), 10*time.Second, "returns soon after ctx ends")
	assert.Positive(t, rep.Polls.Scheduled)
	assert.True(t, invariantOf(t, rep, InvPollsAccounted).Pass, "polls in flight still report")
}

func TestRunSeedReplaysTheSchedule(t *testing.T) {
	// Same seed, same schedule: the same polls in the same order, whatever
	// the outcomes. Checked through the driver's plan directly.
	sc := scenario(t, 105, mixed)
	plan := func(seed uint64) []due {
		d := &driver{targets: make([]Target, 30), ops: sc.Load.Ops, interval: sc.Load.Interval.D(), jitter: sc.Load.Jitter,
			rng: rand.New(rand.NewPCG(seed, 0x6c6f6164))}
		for _, o := range d.ops {
			d.weights += o.Weight
		}
		base := time.Unix(0, 0)
		return append(d.plan(base), d.plan(base.Add(d.interval))...)
	}
	assert.Equal(t, plan(7), plan(7))
	assert.NotEqual(t, plan(7), plan(8))
	ops := map[int]int{}
	for _, d := range plan(7) {
		ops[d.op]++
	}
	assert.Len(t, ops, 3, "every operation drawn")
}

func TestRunRejectsBadInput(t *testing.T) {
	_, err := Run(t.Context(), nil, nil)
	assert.ErrorIs(t, err, ErrBadInput)
	sc := scenario(t, 106, mixed)
	sc.Fleet.Profile = "if-mib:0"
	p, err := NewPoller("pollerlib", SettingsFor(sc))
	require.NoError(t, err)
	_, err = Run(t.Context(), sc, p)
	assert.ErrorContains(t, err, "fleet data")
}
