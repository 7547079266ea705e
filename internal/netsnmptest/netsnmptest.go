// Package netsnmptest gives tests the real net-snmp tools (snmpget,
// snmpwalk, snmpbulkwalk, snmpd) as independent peers: it finds them,
// installs the Debian packages when running as root, and otherwise skips the
// test with a clear message, except under CI=true where a missing tool fails.
package netsnmptest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// packages maps each tool to the Debian package that ships it.
var packages = map[string]string{
	"snmpget": "snmp", "snmpgetnext": "snmp", "snmpwalk": "snmp",
	"snmpbulkwalk": "snmp", "snmpbulkget": "snmp", "snmpset": "snmp",
	"snmpd": "snmpd", "snmpsimd": "snmpsim",
}

var installOnce sync.Map // package name -> *sync.Once

// Require returns the path of a net-snmp tool, installing its package with
// apt-get when it is missing and the test runs as root.
func Require(t testing.TB, tool string) string {
	t.Helper()
	if p, err := lookPath(tool); err == nil {
		return p
	}
	pkg := packages[tool]
	if pkg != "" && os.Geteuid() == 0 {
		once, _ := installOnce.LoadOrStore(pkg, new(sync.Once))
		once.(*sync.Once).Do(func() { install(t, pkg) })
		if p, err := lookPath(tool); err == nil {
			return p
		}
	}
	msg := tool + " (Debian package " + pkg + ") is not installed; install it with `apt-get install -y " + pkg + "` or run the tests as root"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func lookPath(tool string) (string, error) {
	if p, err := exec.LookPath(tool); err == nil {
		return p, nil
	}
	// snmpd lives in /usr/sbin, which a non-login PATH may lack.
	p := "/usr/sbin/" + tool
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return exec.LookPath(tool)
}

func install(t testing.TB, pkg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	run := func(args ...string) {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("apt-get %s: %v\n%s", strings.Join(args, " "), err, tail(out))
		}
	}
	if _, err := lookPath("apt-get"); err != nil {
		return
	}
	run("install", "-y", "-q", "--no-install-recommends", pkg)
	if _, err := lookPath(toolOf(pkg)); err != nil {
		run("update", "-q")
		run("install", "-y", "-q", "--no-install-recommends", pkg)
	}
}

func toolOf(pkg string) string {
	switch pkg {
	case "snmpd":
		return "snmpd"
	case "snmpsim":
		return "snmpsimd"
	}
	return "snmpget"
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Run runs a net-snmp tool with a deadline and returns its standard output.
// MIB loading is switched off so output depends only on the agent's data.
func Run(t testing.TB, tool string, args ...string) (string, error) {
	t.Helper()
	return RunFor(t, 60*time.Second, tool, args...)
}

// RunFor is Run with a deadline of d (long walks of slow peers).
func RunFor(t testing.TB, d time.Duration, tool string, args ...string) (string, error) {
	t.Helper()
	path := Require(t, tool)
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "MIBS=", "MIBDIRS=/nonexistent", "SNMPCONFPATH=/nonexistent", "HOME=/nonexistent")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), &ToolError{Tool: tool, Args: args, Err: err, Stderr: stderr.String()}
	}
	return string(out), nil
}

// ToolError is a net-snmp tool that exited with an error.
type ToolError struct {
	Tool   string
	Args   []string
	Err    error
	Stderr string
}

func (e *ToolError) Error() string {
	return e.Tool + " " + strings.Join(e.Args, " ") + ": " + e.Err.Error() + ": " + strings.TrimSpace(e.Stderr)
}

func (e *ToolError) Unwrap() error { return e.Err }
