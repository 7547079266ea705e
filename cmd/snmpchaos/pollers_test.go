package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// needPollers skips (fails under CI=true) without the Debian packages the
// out-of-process pollers need.
func needPollers(t *testing.T) {
	t.Helper()
	_, errPy := exec.Command("/usr/bin/python3", "-c", "import pysnmp.hlapi.asyncore").CombinedOutput()
	_, errExp := os.Stat("/usr/bin/prometheus-snmp-exporter")
	if errPy == nil && errExp == nil {
		return
	}
	msg := "needs python3-pysnmp4 and prometheus-snmp-exporter (scripts/need-pollers.sh)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func TestRunExecPoller(t *testing.T) {
	needPollers(t)
	script, err := filepath.Abs("../../examples/exec-poller/pysnmp_poller.py")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, t.Context(), "run", "testdata/tiny.yaml", "--poller", "exec:"+script, "--out", t.TempDir(), "--progress", "off")
	assert.Equal(t, exitOK, code, "%s\n%s", stdout, stderr)
	assert.True(t, strings.HasPrefix(stdout, "PASS: tiny with poller exec:pysnmp"), stdout)
	assert.Contains(t, stdout, "Poller process ")

	code, stdout, stderr = runCLI(t, t.Context(), "run", "testdata/tiny.yaml", "--poller", "exec:"+script+" --leak", "--out", t.TempDir(), "--progress", "off")
	assert.Equal(t, exitFail, code, "%s\n%s", stdout, stderr)
	// The name column is as wide as the longest invariant name.
	assert.Regexp(t, `✗ connections-closed +poller process `, stdout)
	assert.Contains(t, stdout, "pysnmp_poller.py --leak) holds ")
}

func TestRunPollerFlagErrors(t *testing.T) {
	code, _, stderr := runCLI(t, t.Context(), "run", "testdata/tiny.yaml", "--poller", "exec:x 'y")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "unterminated ' quote")
	code, _, stderr = runCLI(t, t.Context(), "run", "testdata/tiny.yaml", "--poller", "exec:/nonexistent/poller", "--out", t.TempDir(), "--progress", "off")
	assert.Equal(t, exitFail, code)
	assert.Contains(t, stderr, "/nonexistent/poller")
}

func TestRunSnmpExporterRefusesWhatItCannotExport(t *testing.T) {
	needPollers(t)
	// walk-stall walks all of ifTable, whose ifSpecific is an OBJECT IDENTIFIER.
	code, _, stderr := runCLI(t, t.Context(), "run", "walk-stall", "--short", "--poller", "snmp_exporter", "--out", t.TempDir(), "--progress", "off")
	assert.Equal(t, exitFail, code)
	assert.Contains(t, stderr, "snmp_exporter cannot export")
}
