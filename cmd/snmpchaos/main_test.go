package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// cliChildEnv makes the test binary the snmpchaos command, for tests that
// signal or kill it.
const cliChildEnv = "SNMPCHAOS_CLI_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(cliChildEnv) == "1" {
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

// Addresses: this package's fleets live on 127.16.203.0/24, apart from
// other packages' tests (see testdata/*.yaml).

// runCLI runs the command line args and returns its exit code and output.
func runCLI(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name       string
		files      []string
		want       int
		wantStdout []string
		wantStderr []string
	}{
		{"unknown field names file line and field", []string{"testdata/bad-field.yaml"}, exitUsage, nil,
			[]string{"testdata/bad-field.yaml:16: phases[0].faults[0].faults.delay.fixd: unknown field"}},
		{"bad value names file line and field", []string{"testdata/bad-value.yaml"}, exitUsage, nil,
			[]string{"testdata/bad-value.yaml:12: phases[0].duration:", `"soon"`}},
		{"missing file", []string{"testdata/missing.yaml"}, exitUsage, nil, []string{"testdata/missing.yaml"}},
		{"good files and a bundled name", []string{"testdata/tiny.yaml", "testdata/tiny-fd-leak.yaml", "quickstart"}, exitOK,
			[]string{"testdata/tiny.yaml: OK (scenario tiny: 10 agents, 2 phases, 2s", "quickstart: OK"}, nil},
		{"one bad among good ones", []string{"testdata/tiny.yaml", "testdata/bad-field.yaml"}, exitUsage,
			[]string{"testdata/tiny.yaml: OK"}, []string{"bad-field.yaml:16"}},
		{"no file", nil, exitUsage, nil, []string{"no file given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, t.Context(), append([]string{"validate"}, tt.files...)...)
			assert.Equal(t, tt.want, code, "stderr: %s", stderr)
			for _, w := range tt.wantStdout {
				assert.Contains(t, stdout, w)
			}
			for _, w := range tt.wantStderr {
				assert.Contains(t, stderr, w)
			}
		})
	}
}

func TestListShowsEveryBundledScenarioOnALine(t *testing.T) {
	code, stdout, stderr := runCLI(t, t.Context(), "list")
	require.Equal(t, exitOK, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, len(scenarios.Names()))
	for i, name := range scenarios.Names() {
		assert.True(t, strings.HasPrefix(lines[i], name+" "), lines[i])
		assert.Regexp(t, `\d+ agents\s+\S+\s+\S.*\.$`, lines[i], "agents, duration and a sentence")
	}
	assert.Contains(t, stdout, "quickstart")
	assert.Contains(t, stdout, "1000 agents")
}

func TestBadInputExits2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no command", nil, []string{"Usage: snmpchaos COMMAND"}},
		{"unknown command", []string{"walk"}, []string{`unknown command "walk"`}},
		{"unknown poller", []string{"run", "testdata/tiny.yaml", "--poller", "nosuch"}, []string{"--poller", `"nosuch"`, "pollerlib"}},
		{"unknown flag", []string{"run", "quickstart", "--shrot"}, []string{"--shrot", "not defined"}},
		{"bad seed", []string{"run", "quickstart", "--seed", "x"}, []string{"--seed"}},
		{"no scenario", []string{"run"}, []string{"no scenario given"}},
		{"two scenarios", []string{"run", "quickstart", "baseline"}, []string{"one scenario at a time"}},
		{"unknown scenario", []string{"run", "nosuch"}, []string{`no bundled scenario "nosuch"`, "quickstart"}},
		{"malformed file", []string{"run", "testdata/bad-field.yaml"}, []string{"testdata/bad-field.yaml:16: phases[0].faults[0].faults.delay.fixd"}},
		{"bad progress", []string{"run", "quickstart", "--progress", "loud"}, []string{"--progress"}},
		{"list argument", []string{"list", "extra"}, []string{`"extra"`}},
		{"out is a file", []string{"run", "testdata/tiny.yaml", "--out", "testdata/tiny.yaml/x"}, []string{"--out", "tiny.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, t.Context(), tt.args...)
			assert.Equal(t, exitUsage, code, "stderr: %s", stderr)
			assert.Empty(t, stdout)
			for _, w := range tt.want {
				assert.Contains(t, stderr, w)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"run SCENARIO|FILE", "validate FILE...", "list", "130"}},
		{[]string{"help", "run"}, []string{"--short", "--out DIR", "--poller NAME", "--seed N", "Pollers (--poller): ", "gosnmp", "130"}},
		{[]string{"run", "--help"}, []string{"--poller NAME"}},
		{[]string{"validate", "--help"}, []string{"file, line and field"}},
		{[]string{"list", "-h"}, []string{"Usage: snmpchaos list"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, t.Context(), tt.args...)
			assert.Equal(t, exitOK, code, stderr)
			for _, w := range tt.want {
				assert.Contains(t, stdout, w)
			}
		})
	}
}

// requireReports checks that the four reports are in dir and returns the
// JSON one.
func requireReports(t *testing.T, dir string) *harness.Report {
	t.Helper()
	for _, f := range []string{"report.json", "report.txt", "report.html", "junit.xml"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		require.Positive(t, fi.Size(), f)
	}
	data, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(data, new(struct{})), "junit.xml parses")
	f, err := os.Open(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	defer f.Close()
	r, err := harness.ReadJSON(f)
	require.NoError(t, err)
	return r
}

func TestRunTinyScenarioPasses(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiny")
	code, stdout, stderr := runCLI(t, t.Context(), "run", "testdata/tiny.yaml", "--out", out, "--seed", "7")
	t.Log("stdout:\n" + stdout + "\nstderr:\n" + stderr)
	require.Equal(t, exitOK, code)
	assert.True(t, strings.HasPrefix(stdout, "PASS: tiny with poller pollerlib"), stdout)
	assert.Contains(t, stdout, "seed      7")
	assert.Contains(t, stdout, "Report: "+filepath.Join(out, "report.html"))
	assert.Contains(t, stderr, "steady 1/2", "progress lines")
	r := requireReports(t, out)
	assert.True(t, r.Pass)
	assert.Equal(t, uint64(7), r.Seed)
	assert.Equal(t, 10, r.Agents)
	requireSampledThroughout(t, r)
}

// requireSampledThroughout checks that the report's samples cover the run
// in order: at least one in every phase (the sampler stops at the drain,
// before the after-reading), from a sampler ticking at 10 Hz. Not a count per second of wall
// clock: on a loaded machine the sampler is late and its ticker drops the
// ticks it missed, so a fixed count flakes (8 samples in a 2 s run at load
// 40). A late tick is read at once when the sampler comes back, so a 10 Hz
// sampler shows gaps well under 500 ms even then, where a 1 Hz one shows
// about a second between every two samples.
func requireSampledThroughout(t *testing.T, r *harness.Report) {
	t.Helper()
	require.NotEmpty(t, r.Samples)
	minGap := time.Duration(1<<63 - 1)
	for i := 1; i < len(r.Samples); i++ {
		gap := r.Samples[i].T - r.Samples[i-1].T
		require.Positive(t, gap, "samples in time order")
		minGap = min(minGap, gap)
	}
	for _, p := range r.Phases {
		assert.True(t, slices.ContainsFunc(r.Samples, func(s harness.Sample) bool { return s.T >= p.Start && s.T < p.End }),
			"a sample in phase %s (%v-%v)", p.Name, p.Start, p.End)
	}
	assert.Less(t, minGap, 500*time.Millisecond, "sampled at 10 Hz: %d samples", len(r.Samples))
}

func TestRunLeakyPollerFailsOnConnectionsOrFDs(t *testing.T) {
	if !slices.Contains(harness.Pollers(), "gosnmp-leaky") {
		t.Skip("no gosnmp-leaky poller yet")
	}
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, t.Context(), "run", "testdata/tiny-fd-leak.yaml", "--poller", "gosnmp-leaky", "--out", out, "--progress", "off")
	t.Log("stdout:\n" + stdout + "\nstderr:\n" + stderr)
	require.Equal(t, exitFail, code)
	assert.True(t, strings.HasPrefix(stdout, "FAIL: tiny-fd-leak with poller gosnmp-leaky"), stdout)
	r := requireReports(t, out)
	var failed []string
	for _, inv := range r.Invariants {
		if !inv.Pass {
			failed = append(failed, inv.Name)
			assert.Contains(t, stdout, "✗ "+inv.Name)
		}
	}
	assert.True(t, slices.ContainsFunc(failed, func(n string) bool {
		return strings.Contains(n, "fd") || strings.Contains(n, "connection") || strings.Contains(n, "socket")
	}), "a connection or fd invariant fails: %v", failed)
}

func TestRunInterruptedWritesReportAndExits130(t *testing.T) {
	// Cancelled in the first phase, as SIGINT cancels main's context.
	ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer cancel()
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, ctx, "run", "testdata/tiny.yaml", "--out", out, "--progress", "off")
	t.Log("stdout:\n" + stdout + "\nstderr:\n" + stderr)
	require.Equal(t, exitInterrupted, code)
	assert.True(t, strings.HasPrefix(stdout, "INTERRUPTED: tiny"), stdout)
	r := requireReports(t, out)
	assert.False(t, r.Pass)
	assert.Equal(t, harness.InvariantCompleted, r.Invariants[len(r.Invariants)-1].Name)
}
