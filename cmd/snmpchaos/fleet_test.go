package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/internal/proctest"
)

func TestFleetFlagsRefuseBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"both", []string{"--fleet", "http://127.0.0.1:1", "--processes", "2"}, []string{"--fleet and --processes"}},
		{"not a URL", []string{"--fleet", "127.0.0.1:8161"}, []string{"--fleet", "http://HOST:PORT"}},
		{"second URL", []string{"--fleet", "http://127.0.0.1:1,ftp://x"}, []string{"--fleet", "ftp://x"}},
		{"processes", []string{"--processes", "65"}, []string{"--processes 65"}},
		{"token without fleet", []string{"--fleet-token-file", "x"}, []string{"--fleet-token-file: needs --fleet"}},
		{"missing token file", []string{"--fleet", "http://127.0.0.1:1", "--fleet-token-file", "/nonexistent"}, []string{"--fleet-token-file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, t.Context(), append([]string{"run", "testdata/tiny.yaml"}, tc.args...)...)
			assert.Equal(t, exitUsage, code, stderr)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
		})
	}
}

// TestRunWithProcessesAndWithFleet: the tiny scenario passes with its
// fleet in 2 child processes, and against a simagent started apart with
// --fleet; both reports list the fleet's processes.
func TestRunWithProcessesAndWithFleet(t *testing.T) {
	bin := proctest.SimagentBinary(t)
	out := filepath.Join(t.TempDir(), "procs")
	code, stdout, stderr := runCLI(t, t.Context(), "run", "testdata/tiny.yaml", "--out", out, "--seed", "7", "--processes", "2", "--simagent", bin, "--progress", "off")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "Fleet processes")
	r := requireReports(t, out)
	assert.Equal(t, "processes", r.Mode)
	require.Len(t, r.FleetProcesses, 2)

	agents, err := proctest.StartSimagent(t, bin, "--agents", "10", "--listen", "127.16.203.101:0", "--profile", "if-mib:24",
		"--control", "127.0.0.1:0")
	require.NoError(t, err)

	out = filepath.Join(t.TempDir(), "remote")
	code, stdout, stderr = runCLI(t, t.Context(), "run", "testdata/tiny.yaml", "--out", out, "--fleet", agents.URL, "--progress", "off")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	r = requireReports(t, out)
	assert.Equal(t, "remote", r.Mode)
	require.Len(t, r.FleetProcesses, 1)
	assert.False(t, r.FleetProcesses[0].Spawned)
	_, err = os.Stat(filepath.Join(out, "report.json"))
	require.NoError(t, err)
}
