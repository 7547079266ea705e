package harnesstest

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tiny is a two-phase scenario on 30 agents: a blackholed share in the
// second phase, a few seconds in all.
const tiny = `
version: 1
name: tiny
fleet: {agents: 30, profile: if-mib:4, listen: LISTEN}
poller: {timeout: 400ms, retries: 1}
load:
  interval: 1s
  # A generous deadline and bound: these tests check the harness's
  # mechanics, and a loaded machine must not turn slow polls into failures.
  deadline: 10s
  concurrency: 64
  ops:
    - {kind: get, weight: 3, oids: [.1.3.6.1.2.1.1.3.0]}
    - {kind: walk, weight: 1, root: .1.3.6.1.2.1.2.2.1.10}
phases:
  - {name: warmup, duration: 2s, expect: {minSuccess: 0.9}}
  - name: blackhole
    duration: 2s
    faults: [{selector: {count: 3}, faults: {blackhole: {}}}]
short: {agents: 10, durationScale: 0.5}
`

func scenario(t *testing.T, base int) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("tiny.yaml", []byte(strings.ReplaceAll(tiny, "LISTEN", fmt.Sprintf("127.%d.0.1:0", base))))
	require.NoError(t, err)
	return sc
}

func poller(t *testing.T, name string, sc *scenarios.Scenario) harness.Poller {
	t.Helper()
	p, err := harness.NewPoller(name, harness.SettingsFor(sc))
	require.NoError(t, err)
	return p
}

// recorder is a testing.TB that records what Run says instead of failing
// the real test. Fatalf ends the calling goroutine, as testing's does.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	logs     []string
	errors   []string
	fatal    string
	deadline time.Time
}

func (r *recorder) Helper() {}
func (r *recorder) Logf(f string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(f, a...))
}
func (r *recorder) Errorf(f string, a ...any) { r.Error(fmt.Sprintf(f, a...)) }
func (r *recorder) Error(a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprint(a...))
}
func (r *recorder) Fatalf(f string, a ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprintf(f, a...)
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recorder) Deadline() (time.Time, bool) { return r.deadline, !r.deadline.IsZero() }

// call runs fn with a recorder on a goroutine of its own (Fatalf ends it).
func call(t *testing.T, deadline time.Time, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t, deadline: deadline}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

func TestRunPassesAndWritesReports(t *testing.T) {
	sc := scenario(t, 201)
	dir := t.TempDir()
	r := call(t, time.Time{}, func(tb testing.TB) {
		Run(tb, sc, poller(t, "pollerlib", sc), WithReportDir(dir), WithShort(false), WithLogEvery(time.Second))
	})
	assert.Empty(t, r.fatal)
	assert.Empty(t, r.errors)
	for _, f := range []string{"report.json", "report.txt", "report.html", "junit.xml"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	logs := strings.Join(r.logs, "\n")
	assert.Contains(t, logs, "phase 2/2 blackhole", "phase changes logged")
	assert.Contains(t, logs, "✓ connections-closed")
	assert.Contains(t, logs, "reports in "+dir)
}

func TestRunFailsWithEvidence(t *testing.T) {
	sc := scenario(t, 202)
	p := poller(t, "gosnmp-leaky", sc)
	r := call(t, time.Time{}, func(tb testing.TB) {
		Run(tb, sc, p, WithReportDir(t.TempDir()), WithShort(true),
			WithRunOptions(harness.WithSettleTimeout(time.Second)))
	})
	require.Empty(t, r.fatal)
	all := strings.Join(r.errors, "\n")
	assert.Contains(t, all, "invariant connections-closed violated")
	assert.Contains(t, all, "invariant fds-stable violated")
	assert.Contains(t, all, "tiny with gosnmp-leaky")
}

func TestExpectViolated(t *testing.T) {
	sc := scenario(t, 203)
	// The real test: the leaky poller must break exactly these two.
	Run(t, sc, poller(t, "gosnmp-leaky", sc), WithShort(true),
		ExpectViolated(harness.InvConnectionsClosed, harness.InvFDsStable),
		WithRunOptions(harness.WithSettleTimeout(time.Second)))

	// And a clean poller under the same expectation fails the test.
	sc = scenario(t, 204)
	r := call(t, time.Time{}, func(tb testing.TB) {
		Run(tb, sc, poller(t, "pollerlib", sc), WithShort(true), WithReportDir(t.TempDir()),
			ExpectViolated(harness.InvConnectionsClosed))
	})
	require.Len(t, r.errors, 1)
	assert.Contains(t, r.errors[0], "want exactly connections-closed violated, got []")
}

func TestRefusesScenarioPastDeadline(t *testing.T) {
	sc := scenario(t, 205)
	p := poller(t, "pollerlib", sc)
	r := call(t, time.Now().Add(5*time.Second), func(tb testing.TB) {
		Run(tb, sc, p, WithShort(false))
	})
	assert.Contains(t, r.fatal, "scenario tiny needs about")
	assert.Contains(t, r.fatal, "run go test with -timeout")
	assert.Contains(t, r.fatal, "or with -short")
	// Refused up front: the poller was not run, so Close is ours to call.
	require.NoError(t, p.Close(t.Context()))
}

func TestReportDirFromEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(ReportDirEnv, dir)
	assert.Equal(t, filepath.Join(dir, "TestReportDirFromEnv_sub_case"), func() string {
		var got string
		t.Run("sub case", func(t *testing.T) { got = reportDir(t, config{}) })
		return got
	}())
}

func TestAllowViolated(t *testing.T) {
	sc := scenario(t, 209)
	// Leaky: the two expected, fds-stable also allowed; fine.
	r := call(t, time.Time{}, func(tb testing.TB) {
		Run(tb, sc, poller(t, "gosnmp-leaky", sc), WithShort(true), WithReportDir(t.TempDir()),
			ExpectViolated(harness.InvConnectionsClosed), AllowViolated(harness.InvFDsStable),
			WithRunOptions(harness.WithSettleTimeout(time.Second)))
	})
	assert.Empty(t, r.errors)
	// Without an expectation, an allowed failure does not fail the test,
	// another one does.
	sc = scenario(t, 210)
	r = call(t, time.Time{}, func(tb testing.TB) {
		Run(tb, sc, poller(t, "gosnmp-leaky", sc), WithShort(true), WithReportDir(t.TempDir()),
			AllowViolated(harness.InvFDsStable), WithRunOptions(harness.WithSettleTimeout(time.Second)))
	})
	require.Len(t, r.errors, 1)
	assert.Contains(t, r.errors[0], "invariant connections-closed violated")
}

// TestAllowViolatedWhenStarved: the named invariants are let off only when
// the report itself shows the harness was descheduled for more than a
// tenth of the run; any other failure still fails the test.
func TestAllowViolatedWhenStarved(t *testing.T) {
	report := func(stall time.Duration, failed ...string) *harness.Report {
		rep := &harness.Report{Scenario: "s", Poller: "p"}
		for i := range 11 { // a second of samples, 100ms apart
			rep.Samples = append(rep.Samples, harness.Sample{T: time.Duration(i) * 100 * time.Millisecond})
		}
		rep.Samples[5].SampleLag = stall
		for _, n := range failed {
			rep.Invariants = append(rep.Invariants, harness.InvariantResult{Name: n, Summary: "too slow"})
		}
		return rep
	}
	cfg := config{starved: []string{harness.InvPhaseExpectations}, maxEvidence: 20}
	judge := func(rep *harness.Report) *recorder {
		return call(t, time.Time{}, func(tb testing.TB) { verdict(tb, rep, cfg) })
	}

	r := judge(report(100*time.Millisecond, harness.InvPhaseExpectations))
	require.Len(t, r.errors, 1, "stalled for a tenth of the run, not more: asserted")
	assert.Contains(t, r.errors[0], "invariant phase-expectations violated")

	r = judge(report(300*time.Millisecond, harness.InvPhaseExpectations))
	assert.Empty(t, r.errors, "stalled for 30%% of the run: logged")
	assert.Contains(t, strings.Join(r.logs, "\n"), "the harness was starved: descheduled for 300ms of 1s (30%, longest 300ms); its threads ran 0s, waited 0s for a CPU (0%); phase-expectations logged, not asserted")

	rep := report(0, harness.InvPhaseExpectations)
	rep.CPU = probe.CPUTime{Running: time.Second, Waiting: 3 * time.Second}
	r = judge(rep)
	assert.Empty(t, r.errors, "its threads waited for a CPU three times as long as they ran: logged")

	r = judge(report(300*time.Millisecond, harness.InvPhaseExpectations, harness.InvInFlightBounded))
	require.Len(t, r.errors, 1, "only the named invariants are let off")
	assert.Contains(t, r.errors[0], "invariant in-flight-bounded violated")
}
