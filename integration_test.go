//go:build integration

package snmpchaos_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/harness/daemon"
	"github.com/snmpchaos/snmpchaos/harness/harnesstest"
	"github.com/snmpchaos/snmpchaos/internal/proctest"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Every bundled scenario's short profile, driven with pollerlib, must pass;
// each negative control (and gosnmp-leaky on fd-leak) must fail on the
// invariant it is built to break. Runs are sequential: the probes read
// process-wide figures. Set RESULTS_DIR to keep every report.

// TestMain checks that nothing leaks from the runs themselves: the leaky
// pollers are released after their runs.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "snmpchaos-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	simagentDir = dir
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		_ = os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// simagentDir holds the simagent binary the runs with the fleet in child
// processes start, built once by simagentBinary.
var simagentDir string

var buildSimagent = sync.OnceValues(func() (string, error) {
	return proctest.BuildSimagent(context.Background(), simagentDir)
})

// inProcesses are the options that run a scenario's fleet in 2 simagent
// child processes.
func inProcesses(t *testing.T) []harness.Option {
	t.Helper()
	bin, err := buildSimagent()
	require.NoError(t, err)
	return []harness.Option{harness.WithProcesses(2), harness.WithSimagent(bin)}
}

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
func run(t *testing.T, sc *scenarios.Scenario, poller string, more ...harness.Option) *harness.Report {
	t.Helper()
	p, err := harness.NewPoller(poller, harness.SettingsFor(sc.Shortened()))
	require.NoError(t, err)
	if r, ok := p.(harness.Releaser); ok {
		t.Cleanup(r.Release)
	}
	opts := append([]harness.Option{harness.WithShort(true)}, more...)
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
	if rep.Mode != "" {
		out += "-" + rep.Mode
	}
	if _, err := harness.WriteAll(out, rep); err != nil {
		t.Logf("writing reports to %s: %v", out, err)
	}
}

// cell is what one scenario shows with one poller: the verdict, the
// invariants that must fail (the reason it reproduces), and those that may
// fail as well on a loaded machine (speed, not the bug: a cell that must
// pass passes when only these fail). either marks a cell whose verdict
// depends on the machine's speed, so only mustFail is checked. The README's
// reproduction matrix is this table.
type cell struct {
	pass     bool
	either   bool
	mustFail []string
	mayFail  []string
}

// matrixPollers are the matrix's columns.
var matrixPollers = []string{"pollerlib", "gosnmp", "gosnmp-cached", "gosnmp-leaky"}

// Invariant names, short.
const (
	cc  = "connections-closed"
	gb  = "goroutines-bounded"
	fs  = "fds-stable"
	pe  = "phase-expectations"
	wc  = "walks-complete"
	ifb = "in-flight-bounded"
	cl  = "cancel-latency"
	ud  = "udp-drops"
	db  = "descriptors-bounded"
	ntr = "no-trend"
)

// Cells that recur: a poller that passes save for speed, and gosnmp-leaky
// where nothing but its socket per poll shows.
var (
	passes = cell{pass: true, mayFail: []string{pe, cl, gb, ifb}}
	leaky  = cell{mustFail: []string{cc, fs}, mayFail: []string{pe, cl, gb, ifb, db, ntr}}
)

// fails is a cell that must fail these invariants; slow lists what may fail
// too.
func fails(must ...string) cell {
	return cell{mustFail: must, mayFail: []string{pe, cl, gb, ifb, db, ntr}}
}

// alsoMay is c with more invariants that may fail on a loaded machine.
func (c cell) alsoMay(inv ...string) cell {
	c.mayFail = append(append([]string(nil), c.mayFail...), inv...)
	return c
}

// starvedMayFail is what pollerlib may fail in a run that its own report
// shows was starved of CPU (see TestReproductionMatrix), logged with the
// figures either way: nil when the run was not starved.
func starvedMayFail(t *testing.T, rep *harness.Report) []string {
	t.Helper()
	lag := rep.HarnessLag()
	if !lag.Starved() {
		t.Logf("the harness's lag: %s", lag)
		return nil
	}
	t.Logf("the harness was starved: %s (load average %.1f on %d CPUs): phase-expectations and cancel-latency not asserted", lag, load1(), runtime.NumCPU())
	return []string{pe, cl}
}

// plus is c with more invariants that must fail.
func (c cell) plus(must ...string) cell {
	c.mustFail = append(append([]string(nil), c.mustFail...), must...)
	return c
}

// matrix is the expected outcome of every bundled in-process scenario's
// short profile with every poller of matrixPollers but pollerlib, which
// passes everything.
var matrix = map[string]map[string]cell{
	"baseline":           {"gosnmp": passes, "gosnmp-cached": passes, "gosnmp-leaky": leaky},
	"blackhole-recovery": {"gosnmp": fails(cl), "gosnmp-cached": fails(cl), "gosnmp-leaky": leaky},
	"fd-leak":            {"gosnmp": passes, "gosnmp-cached": passes, "gosnmp-leaky": leaky},
	// A poll cancelled at its 5 s deadline waits out gosnmp's third 2 s
	// attempt: about 1 s, the default bound; one run fails it, the next not.
	"mixed-soak":     {"gosnmp": {either: true}, "gosnmp-cached": {either: true}, "gosnmp-leaky": leaky},
	"quickstart":     {"gosnmp": passes, "gosnmp-cached": passes, "gosnmp-leaky": leaky},
	"timeout-jitter": {"gosnmp": passes, "gosnmp-cached": passes, "gosnmp-leaky": leaky},
	// gosnmp derives AES keys per engine, a megabyte of hashing under a
	// process-wide lock, ignoring the context: on a loaded machine its
	// polls pile up behind each other; on a fast one they may not.
	"v3-engine-reboot": {"gosnmp": {either: true}, "gosnmp-cached": {either: true}, "gosnmp-leaky": leaky},
	"walk-stall":       {"gosnmp": fails(wc), "gosnmp-cached": fails(wc), "gosnmp-leaky": leaky.plus(wc)},
	"snmp-exporter":    {"gosnmp": passes, "gosnmp-cached": passes, "gosnmp-leaky": leaky},

	"slow-fleet-pileup":        {"gosnmp": fails(ifb, gb), "gosnmp-cached": fails(ifb, gb), "gosnmp-leaky": leaky.plus(ifb, gb)},
	"cancel-waits-for-timeout": {"gosnmp": fails(cl), "gosnmp-cached": fails(cl), "gosnmp-leaky": leaky.plus(cl)},
	"walk-errstatus":           {"gosnmp": fails(wc), "gosnmp-cached": fails(wc), "gosnmp-leaky": leaky.plus(wc)},
	"reply-burst-overflow":     {"gosnmp": fails(ud), "gosnmp-cached": fails(ud), "gosnmp-leaky": leaky.plus(ud)},
	// gosnmp holds a socket per poll in flight: beside a second make test
	// more of its polls overlap (142 in flight once) and its sockets pass
	// the bound with them; that it closes each is still asserted.
	"socket-per-target": {"gosnmp": passes.alsoMay(db), "gosnmp-cached": fails(db), "gosnmp-leaky": leaky.plus(db)},
	"v3-engine-time":    {"gosnmp": passes, "gosnmp-cached": passes, "gosnmp-leaky": leaky},
}

// TestReproductionMatrix runs every bundled in-process scenario's short
// profile with pollerlib, gosnmp, gosnmp-cached and gosnmp-leaky, one run at
// a time, and checks each cell: pollerlib passes every invariant; each
// gosnmp-based poller fails the invariants the scenario reproduces, and
// passes where it should (save for speed on a loaded machine, mayFail).
func TestReproductionMatrix(t *testing.T) {
	for _, name := range scenarios.Names() {
		for _, poller := range matrixPollers {
			t.Run(name+"/"+poller, func(t *testing.T) {
				sc := load(t, name)
				if sc.IsNetns() {
					t.Skip("netns scenario: TestNetnsFlapPassesWithPollerlib runs it")
				}
				want := cell{pass: true}
				if poller != "pollerlib" {
					c, ok := matrix[name][poller]
					require.True(t, ok, "the matrix has a cell for %s with %s", name, poller)
					want = c
				}
				rep := run(t, sc, poller)
				var failed []string
				for _, iv := range rep.Invariants {
					if !iv.Pass {
						failed = append(failed, iv.Name)
					}
				}
				t.Logf("MATRIX %s %s pass=%v failed=%v", name, poller, rep.Pass, failed)
				// pollerlib's phase success rates and p99 are a promise
				// about a machine that gives the run its CPU. When the run
				// itself shows it did not (the process's threads waited
				// more than half as long for a CPU as they ran, or the
				// harness was descheduled for more than a tenth of the
				// run: a second make test, say), its walks run out of
				// time and it refuses work past its bound, as designed, and
				// its goroutines wait for a CPU before they see a cancel
				// (cancel p50 300-425ms beside a second copy, 1ms alone):
				// logged, not asserted. Every resource, data and accounting
				// invariant still is.
				if poller == "pollerlib" {
					want.mayFail = starvedMayFail(t, rep)
				}
				for _, inv := range want.mustFail {
					assert.Contains(t, failed, inv, "%s with %s must fail %s", name, poller, inv)
				}
				switch {
				case want.either:
				case want.pass:
					for _, inv := range failed {
						assert.Contains(t, want.mayFail, inv, "%s with %s must pass %s", name, poller, inv)
					}
				default:
					assert.False(t, rep.Pass, "%s with %s must fail", name, poller)
				}
			})
		}
	}
}

// TestBundledScenariosPassInTwoProcesses: every in-process scenario
// passes with its fleet in 2 simagent child processes, driven over their
// control APIs.
func TestBundledScenariosPassInTwoProcesses(t *testing.T) {
	for _, name := range scenarios.Names() {
		t.Run(name, func(t *testing.T) {
			sc := load(t, name)
			if sc.IsNetns() {
				t.Skip("netns scenario: its sites are its processes")
			}
			rep := run(t, sc, "pollerlib", inProcesses(t)...)
			// The matrix's rule for pollerlib (see TestReproductionMatrix):
			// when the run shows it was starved of CPU (beside a second
			// make test, with 3 processes sharing 2 cores), its phase
			// success rates and cancel latency are logged, not asserted.
			// Every resource, data and accounting invariant still is.
			if mayFail := starvedMayFail(t, rep); mayFail == nil {
				assert.True(t, rep.Pass, "%s: every invariant holds with the fleet in 2 processes", name)
			} else {
				for _, iv := range rep.Invariants {
					if !iv.Pass {
						assert.Contains(t, mayFail, iv.Name, "%s: %s must hold with the fleet in 2 processes", name, iv.Name)
					}
				}
			}
			assert.Equal(t, "processes", rep.Mode)
			assert.Len(t, rep.FleetProcesses, 2)
		})
	}
}

// negativeControls pair each broken poller (and gosnmp-leaky) with a
// scenario that shows its bug.
var negativeControls = []struct{ scenario, poller string }{
	{"fd-leak", "gosnmp-leaky"},
	{"baseline", "broken-socket-leak"},
	{"blackhole-recovery", "broken-goroutine-leak"},
	{"quickstart", "broken-partial-walk"},
	{"baseline", "broken-lost-poll"},
}

func TestNegativeControlsFailOnTheirInvariant(t *testing.T) {
	testNegativeControls(t)
}

// TestNegativeControlsFailInTwoProcesses: with the fleet in 2 child
// processes the negative controls fail their invariants, and exactly the
// invariants they fail in-process (phase-expectations aside: the phases'
// latencies and success move with the machine's load).
func TestNegativeControlsFailInTwoProcesses(t *testing.T) {
	in := testNegativeControls(t)
	out := testNegativeControls(t, inProcesses(t)...)
	for k, c := range negativeControls {
		assert.Equal(t, in[k], out[k], "%s on %s: the invariants failed in-process and with the fleet in 2 processes", c.poller, c.scenario)
	}
}

// testNegativeControls runs every negative control and returns, for each,
// the invariants it failed (phase-expectations left out).
func testNegativeControls(t *testing.T, opts ...harness.Option) [][]string {
	kinds := harness.PollerKinds()
	failed := make([][]string, len(negativeControls))
	for k, c := range negativeControls {
		t.Run(c.poller+"/"+c.scenario, func(t *testing.T) {
			i := slices.IndexFunc(kinds, func(k harness.PollerKind) bool { return k.Name == c.poller })
			require.GreaterOrEqual(t, i, 0)
			require.NotEmpty(t, kinds[i].Breaks)
			rep := run(t, load(t, c.scenario), c.poller, opts...)
			assert.False(t, rep.Pass)
			for _, name := range kinds[i].Breaks {
				j := slices.IndexFunc(rep.Invariants, func(iv harness.InvariantResult) bool { return iv.Name == name })
				require.GreaterOrEqual(t, j, 0, "invariant %s in the report", name)
				iv := rep.Invariants[j]
				assert.False(t, iv.Pass, "%s on %s must fail %s", c.poller, c.scenario, name)
				assert.NotEmpty(t, iv.Evidence, "%s has evidence", name)
			}
			for _, iv := range rep.Invariants {
				if !iv.Pass && iv.Name != "phase-expectations" {
					failed[k] = append(failed[k], iv.Name)
				}
			}
		})
	}
	return failed
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

// needPackage skips (fails under CI=true) without a Debian package a
// poller outside the process needs (scripts/need-pollers.sh installs it).
func needPackage(t *testing.T, ok bool, pkg string) {
	t.Helper()
	if ok {
		return
	}
	msg := "needs Debian's " + pkg + " (scripts/need-pollers.sh installs it as root)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// TestSnmpExporterObserved: Prometheus snmp_exporter, started with a
// configuration rendered from the fleet and scraped as Prometheus would,
// through its bundled scenario's blackhole (harnesstest: the verdict in
// the log, the reports under RESULTS_DIR).
func TestSnmpExporterObserved(t *testing.T) {
	_, err := os.Stat(daemon.DefaultExporter)
	needPackage(t, err == nil, "prometheus-snmp-exporter")
	sc := load(t, "snmp-exporter")
	e, err := daemon.New(t.Context(), sc.Shortened(), daemon.Config{})
	require.NoError(t, err)
	rep := harnesstest.Run(t, sc, e, harnesstest.WithShort(true))
	require.NotNil(t, rep.Process, "the exporter's process in the report")
	for _, c := range rep.Coverage {
		assert.Equal(t, c.Agents, c.Reached, "phase %s: every agent scraped", c.Phase)
	}
}

// TestExecLeakyPollerNamed: the reference exec poller's leaky variant
// fails connections-closed and fds-stable with evidence naming its
// process (harnesstest.ExpectViolated would also hold it to nothing else;
// a Python poller's success ratios move with the machine's load, so only
// those two are asserted).
func TestExecLeakyPollerNamed(t *testing.T) {
	_, err := exec.Command("/usr/bin/python3", "-c", "import pysnmp.hlapi.asyncore").CombinedOutput()
	needPackage(t, err == nil, "python3-pysnmp4")
	script, err := filepath.Abs("examples/exec-poller/pysnmp_poller.py")
	require.NoError(t, err)
	sc := load(t, "fd-leak")
	p, err := harness.NewPoller("exec:"+script+" --leak", harness.SettingsFor(sc.Shortened()))
	require.NoError(t, err)
	rep, err := harness.Run(t.Context(), sc, p, harness.WithShort(true), harness.WithSettleTimeout(time.Second))
	require.NoError(t, err)
	keep(t, rep, "exec-pysnmp-leaky")
	for _, name := range []string{harness.InvConnectionsClosed, harness.InvFDsStable} {
		i := slices.IndexFunc(rep.Invariants, func(iv harness.InvariantResult) bool { return iv.Name == name })
		require.GreaterOrEqual(t, i, 0)
		assert.False(t, rep.Invariants[i].Pass, name)
		assert.Contains(t, rep.Invariants[i].Summary, fmt.Sprintf("poller process %d (", p.(harness.ProcessPoller).PID()))
	}
}

// load1 is the one-minute load average (0 where it cannot be read).
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0
	}
	f, _ := strconv.ParseFloat(fields[0], 64)
	return f
}
