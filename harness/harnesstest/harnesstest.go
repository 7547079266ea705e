// Package harnesstest runs a snmpchaos scenario against a poller from a Go
// test. Run starts the scenario's fleet, drives the poller through its
// phases, logs progress and the verdict through t.Log, writes the reports
// (JSON, text, HTML, JUnit) into the test's artifact directory, and fails
// the test with every violated invariant and its evidence. It honours the
// test flags: -short runs the scenario's short profile, and a scenario that
// cannot finish before -timeout is refused up front with a message saying
// how long it needs.
//
//	func TestMyPoller(t *testing.T) {
//		sc := harnesstest.Bundled(t, "quickstart")
//		harnesstest.Run(t, sc, mypoller.New(harness.SettingsFor(sc)))
//	}
//
// It uses only the harness's public API; like harness.Run, one Run at a
// time per process (the probes read process-wide figures), so tests that
// call it must not run in parallel with each other.
package harnesstest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Option configures Run.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	short       *bool
	reportDir   string
	runOpts     []harness.Option
	expect      []string
	allow       []string
	starved     []string
	logEvery    time.Duration
	overhead    time.Duration
	maxEvidence int
}

// ReportDirEnv names the environment variable that, when set, makes Run keep
// every report under $RESULTS_DIR/<test name> (the artifact directory of a
// test is removed after it unless go test runs with -artifacts).
const ReportDirEnv = "RESULTS_DIR"

// WithShort forces the short profile on or off (default: testing.Short()).
func WithShort(short bool) Option {
	return optionFunc(func(c *config) { c.short = &short })
}

// WithReportDir writes the reports into dir instead of the test's artifact
// directory or $RESULTS_DIR.
func WithReportDir(dir string) Option {
	return optionFunc(func(c *config) { c.reportDir = dir })
}

// WithRunOptions passes options on to harness.Run (WithSeed, WithLogger,
// WithSettleTimeout, ...).
func WithRunOptions(opts ...harness.Option) Option {
	return optionFunc(func(c *config) { c.runOpts = append(c.runOpts, opts...) })
}

// ExpectViolated turns Run into a negative control: the test passes when
// exactly the named invariants are violated (and fails if one of them
// holds, or another one breaks). Use it to prove a check catches a bug.
func ExpectViolated(invariants ...string) Option {
	return optionFunc(func(c *config) { c.expect = append(c.expect, invariants...) })
}

// AllowViolated names invariants whose failure is logged but does not fail
// the test (with ExpectViolated: that may fail besides the expected ones).
// Use it for checks that move with the machine's load, such as a
// negative control's phase-expectations.
func AllowViolated(invariants ...string) Option {
	return optionFunc(func(c *config) { c.allow = append(c.allow, invariants...) })
}

// AllowViolatedWhenStarved names invariants whose failure is logged, not
// failed, only when the run's own report shows the harness was starved
// (Report.HarnessLag): descheduled for more than a tenth of the run, by its
// sampler's lateness, or its threads waited more than half as long for a
// CPU as they ran (report.StarvedWait), by the kernel's schedstat. Use it for the checks
// that judge speed against the wall clock (phase-expectations,
// cancel-latency) of a poller that needs the CPU, on machines shared with
// other work; on a machine that gives the run its CPU they are asserted.
func AllowViolatedWhenStarved(invariants ...string) Option {
	return optionFunc(func(c *config) { c.starved = append(c.starved, invariants...) })
}

// WithLogEvery sets how often a progress line is logged while the scenario
// runs (default 5s; phase changes are always logged).
func WithLogEvery(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.logEvery = d
		}
	})
}

// WithOverhead sets the time Run budgets, beyond the phases, for starting
// the fleet, draining, closing, settling and writing reports when it
// checks the scenario against the test's deadline (default: the poller's
// timeout × (retries+2) + 30s).
func WithOverhead(d time.Duration) Option {
	return optionFunc(func(c *config) { c.overhead = d })
}

// deadliner is what *testing.T has and testing.TB lacks.
type deadliner interface {
	Deadline() (time.Time, bool)
}

// Bundled returns the bundled scenario called name, failing t if there is
// none.
func Bundled(t testing.TB, name string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Open(name)
	if err != nil {
		t.Fatalf("harnesstest: %v", err)
	}
	return sc
}

// Run drives p through sc and returns the report. It fails t (t.Errorf per
// violated invariant, with evidence) when an invariant does not hold, and
// stops t (t.Fatalf) when the run cannot be made or cannot fit before the
// test's deadline. Run closes p, as harness.Run does; a poller that is a
// harness.Releaser is released in t.Cleanup.
func Run(t testing.TB, sc *scenarios.Scenario, p harness.Poller, opts ...Option) *harness.Report {
	t.Helper()
	cfg := config{logEvery: 5 * time.Second, maxEvidence: 20}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if sc == nil || p == nil {
		t.Fatalf("harnesstest: Run needs a scenario and a poller")
	}
	if r, ok := p.(harness.Releaser); ok {
		t.Cleanup(r.Release)
	}
	short := testing.Short()
	if cfg.short != nil {
		short = *cfg.short
	}
	eff := sc
	if short {
		eff = sc.Shortened()
	}
	ctx, cancel := runContext(t, eff, short, cfg)
	defer cancel()

	runOpts := append([]harness.Option{harness.WithShort(short), harness.WithProgress(progressLogger(t, cfg.logEvery))}, cfg.runOpts...)
	t.Logf("harnesstest: %s with poller %s: %d agents, %d phases, planned %s (short=%v)",
		eff.Name, p.Name(), eff.Fleet.Agents, len(eff.Phases), eff.TotalDuration(), short)
	rep, err := harness.Run(ctx, sc, p, runOpts...)
	if rep != nil {
		writeReports(t, rep, cfg)
	}
	if err != nil {
		t.Fatalf("harnesstest: %s with %s: the run could not be made: %v", sc.Name, p.Name(), err)
	}
	verdict(t, rep, cfg)
	return rep
}

// runContext checks the scenario fits before the test's deadline and
// returns a context that ends early enough to write the reports.
func runContext(t testing.TB, sc *scenarios.Scenario, short bool, cfg config) (context.Context, context.CancelFunc) {
	t.Helper()
	d, ok := t.(deadliner)
	if !ok {
		return context.WithCancel(t.Context())
	}
	deadline, ok := d.Deadline()
	if !ok {
		return context.WithCancel(t.Context())
	}
	overhead := cfg.overhead
	if overhead <= 0 {
		overhead = sc.Poller.Timeout.D()*time.Duration(sc.Poller.Retries+2) + 30*time.Second
	}
	need := sc.TotalDuration() + overhead
	left := time.Until(deadline)
	if need > left {
		hint := "run go test with -timeout " + (need + time.Minute).Round(time.Minute).String()
		if !short && sc.Short != nil {
			hint += ", or with -short for the scenario's short profile (" + sc.Shortened().TotalDuration().String() + " of phases)"
		}
		t.Fatalf("harnesstest: scenario %s needs about %s (%s of phases + %s to start, drain, close and settle) but the test has %s left before its -timeout: %s",
			sc.Name, need.Round(time.Second), sc.TotalDuration(), overhead.Round(time.Second), left.Round(time.Second), hint)
	}
	// Leave a little of the deadline to write the reports and fail cleanly.
	return context.WithDeadline(t.Context(), deadline.Add(-min(5*time.Second, (left-need)/2)))
}

// progressLogger logs phase changes and a status line every so often.
func progressLogger(t testing.TB, every time.Duration) func(harness.Progress) {
	var last time.Duration = -every
	phase, stage := -1, ""
	return func(pr harness.Progress) {
		if pr.PhaseIndex == phase && pr.Stage == stage && pr.Elapsed-last < every {
			return
		}
		phase, stage, last = pr.PhaseIndex, pr.Stage, pr.Elapsed
		t.Logf("harnesstest: %6s %-6s phase %d/%d %-12s polls %d ok %d failed %d in flight %d skipped %d | goroutines %d fds %d udp %d",
			pr.Elapsed.Round(100*time.Millisecond), pr.Stage, pr.PhaseIndex+1, pr.Phases, pr.Phase,
			pr.Scheduled, pr.Succeeded, pr.Failed, pr.InFlight, pr.Skipped, pr.Goroutines, pr.FDs, pr.UDPSockets)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// reportDir is where this test's reports go.
func reportDir(t testing.TB, cfg config) string {
	if cfg.reportDir != "" {
		return cfg.reportDir
	}
	if dir := os.Getenv(ReportDirEnv); dir != "" {
		return filepath.Join(dir, unsafeName.ReplaceAllString(t.Name(), "_"))
	}
	return t.ArtifactDir()
}

func writeReports(t testing.TB, rep *harness.Report, cfg config) {
	t.Helper()
	dir := reportDir(t, cfg)
	files, err := harness.WriteAll(dir, rep)
	if err != nil {
		t.Errorf("harnesstest: writing reports: %v", err)
		return
	}
	t.Logf("harnesstest: reports in %s: report.html report.json report.txt junit.xml", files.Dir)
}

// verdict logs every invariant and fails t as the options say.
func verdict(t testing.TB, rep *harness.Report, cfg config) {
	t.Helper()
	var violated []string
	for _, iv := range rep.Invariants {
		mark := "✓"
		if !iv.Pass {
			mark = "✗"
			violated = append(violated, iv.Name)
		}
		t.Logf("harnesstest: %s %-20s %s", mark, iv.Name, iv.Summary)
	}
	for _, ph := range rep.Phases {
		t.Logf("harnesstest:   phase %-12s %5d polls %5d ok %4d failed %4d skipped  p50 %s p99 %s  errors %v",
			ph.Name, ph.Polls, ph.Succeeded, ph.Failed, ph.Skipped, ph.P50.Round(time.Millisecond), ph.P99.Round(time.Millisecond), ph.Errors)
	}
	t.Logf("harnesstest: %d polls scheduled, %d succeeded, %d failed, %d skipped; seed %d (harness.WithSeed(%d) replays it)",
		rep.Polls.Scheduled, rep.Polls.Succeeded, rep.Polls.Failed, rep.Polls.Skipped, rep.Seed, rep.Seed)
	allow := cfg.allow
	if lag := rep.HarnessLag(); lag.Starved() {
		if off := slices.DeleteFunc(slices.Clone(violated), func(n string) bool { return !slices.Contains(cfg.starved, n) }); len(off) > 0 {
			t.Logf("harnesstest: the harness was starved: %s; %s logged, not asserted", lag, strings.Join(off, ", "))
			allow = append(slices.Clone(allow), off...)
		}
	}
	violated = slices.DeleteFunc(violated, func(n string) bool {
		return slices.Contains(allow, n) && !slices.Contains(cfg.expect, n)
	})
	if len(cfg.expect) > 0 {
		want := slices.Sorted(slices.Values(cfg.expect))
		got := slices.Sorted(slices.Values(violated))
		if !slices.Equal(slices.Compact(want), got) {
			t.Errorf("harnesstest: %s with %s: want exactly %s violated, got [%s]",
				rep.Scenario, rep.Poller, strings.Join(want, ", "), strings.Join(got, ", "))
			failEvidence(t, rep, cfg, nil)
		}
		return
	}
	if len(violated) > 0 {
		failEvidence(t, rep, cfg, violated)
	}
}

// failEvidence reports the named violated invariants (all of them when
// names is nil) with their evidence.
func failEvidence(t testing.TB, rep *harness.Report, cfg config, names []string) {
	t.Helper()
	for _, iv := range rep.Invariants {
		if iv.Pass || (names != nil && !slices.Contains(names, iv.Name)) {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s with %s: invariant %s violated: %s", rep.Scenario, rep.Poller, iv.Name, iv.Summary)
		for i, e := range iv.Evidence {
			if i == cfg.maxEvidence {
				fmt.Fprintf(&b, "\n    ... %d more in report.json", len(iv.Evidence)-i)
				break
			}
			fmt.Fprintf(&b, "\n    %s", e)
		}
		t.Error(b.String())
	}
	if rep.CloseError != "" {
		t.Logf("harnesstest: the poller's Close returned: %s", rep.CloseError)
	}
}
