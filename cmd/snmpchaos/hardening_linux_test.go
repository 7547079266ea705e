package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/netns"
)

// Regression tests of issue 15, finding 7: a netns run killed with
// SIGKILL (or two quick SIGTERMs) left namespaces, veths, routes, an nft
// table and its state file, and no command removed them.

// cleanupFamily names this file's netns runs, apart from every other
// test's ("sc", "sch", "sct", "scf") and from a second copy of this test
// binary running at the same time (make test beside make test): "h" and
// two letters from the PID, so that one copy's cleanup never takes the
// other's live run for its own.
var cleanupFamily = "h" + string(rune('a'+os.Getpid()%26)) + string(rune('a'+os.Getpid()/26%26))

// netnsLong is a netns run that lasts far longer than any test waits.
const netnsLong = `version: 1
name: netns-long
mode: netns
fleet:
  agents: 8
  profile: if-mib:2
load:
  interval: 200ms
  concurrency: 4
  ops:
    - kind: get
      oids: [.1.3.6.1.2.1.1.3.0]
phases:
  - name: long
    duration: 10m
    kernel:
      - site: 0
        drop: {prob: 0.01}
`

// needRoot skips unless root (under CI=true it fails instead).
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("netns cleanup tests need root")
		}
		t.Skip("netns cleanup tests need root (network namespaces, veth, nftables)")
	}
}

// startNetnsChild starts this test binary as `snmpchaos run` of a long
// netns scenario and waits until its namespace is up; it returns the
// process and its stderr so far.
func startNetnsChild(t *testing.T) (*exec.Cmd, *syncWriter) {
	t.Helper()
	dir := t.TempDir()
	sc := filepath.Join(dir, "netns-long.yaml")
	require.NoError(t, os.WriteFile(sc, []byte(netnsLong), 0o644))
	cmd := exec.Command(os.Args[0], "run", sc, "--netns-family", cleanupFamily, "--out", filepath.Join(dir, "out"), "--progress", "off", "--log-level", "info")
	cmd.Env = append(os.Environ(), cliChildEnv+"=1")
	var stderr syncWriter
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		_, _ = netns.CleanupRuns(cleanupFamily, true)
	})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		left, err := netns.Leftovers(cleanupFamily + "-")
		require.NoError(t, err)
		if strings.Contains(strings.Join(left, "\n"), "namespace "+cleanupFamily+"-") && len(stateFiles(t)) > 0 {
			return cmd, &stderr
		}
		if time.Now().After(deadline) {
			t.Fatalf("the netns run did not come up; stderr: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stateFiles are the state files of this file's runs.
func stateFiles(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(netns.StateDir, cleanupFamily+"-*.json"))
	require.NoError(t, err)
	return m
}

// sitePrefixes reads the agent prefixes this file's state files record.
func sitePrefixes(t *testing.T) []netip.Prefix {
	t.Helper()
	return prefixesOf(t, stateFiles(t))
}

// othersPrefixes reads the agent prefixes that other families' runs (other
// tests, or a second make test) record now.
func othersPrefixes(t *testing.T) []netip.Prefix {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(netns.StateDir, "*.json"))
	require.NoError(t, err)
	all = slices.DeleteFunc(all, func(f string) bool {
		return strings.HasPrefix(filepath.Base(f), cleanupFamily+"-")
	})
	return prefixesOf(t, all)
}

// prefixesOf reads the agent prefixes recorded in the given state files; a
// file removed meanwhile (its run ended) records nothing.
func prefixesOf(t *testing.T, files []string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		var st struct {
			Sites []struct {
				Agents netip.Prefix `json:"agents"`
			} `json:"sites"`
		}
		require.NoError(t, json.Unmarshal(b, &st))
		for _, s := range st.Sites {
			out = append(out, s.Agents)
		}
	}
	return out
}

// assertNothingLeft checks that no namespace, link, qdisc, nft table,
// state file or route of the runs is left.
func assertNothingLeft(t *testing.T, prefixes []netip.Prefix) {
	t.Helper()
	left, err := netns.Leftovers(cleanupFamily + "-")
	require.NoError(t, err)
	assert.Empty(t, left, "namespaces, links, qdiscs, nft tables")
	assert.Empty(t, stateFiles(t), "state files")
	routes, err := netns.OurRoutes()
	require.NoError(t, err)
	others := othersPrefixes(t)
	for _, p := range prefixes {
		if slices.ContainsFunc(others, p.Overlaps) {
			continue // given back, and claimed since by another live run
		}
		assert.NotContains(t, routes, p, "route to the run's agents")
	}
	runs, err := netns.Runs(cleanupFamily)
	require.NoError(t, err)
	assert.Empty(t, runs)
}

func TestFinding7SIGKILLThenCleanupLeavesNothing(t *testing.T) {
	needRoot(t)
	cmd, _ := startNetnsChild(t)
	prefixes := sitePrefixes(t)
	require.NotEmpty(t, prefixes)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	// SIGKILL left it all: that is what cleanup is for.
	left, err := netns.Leftovers(cleanupFamily + "-")
	require.NoError(t, err)
	require.NotEmpty(t, left)
	runs, err := netns.Runs(cleanupFamily)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	assert.False(t, runs[0].Alive)

	code, stdout, stderr := runCLI(t, t.Context(), "cleanup", "--family", cleanupFamily, "--dry-run")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, runs[0].Run+" (pid ")
	assert.Contains(t, stdout, "dead")
	require.NotEmpty(t, stateFiles(t), "--dry-run removes nothing")

	code, stdout, stderr = runCLI(t, t.Context(), "cleanup", "--family", cleanupFamily)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "removed "+runs[0].Run)
	assertNothingLeft(t, prefixes)

	code, stdout, _ = runCLI(t, t.Context(), "cleanup", "--family", cleanupFamily)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "nothing to clean up")
}

func TestFinding7SecondSignalStillCleansUp(t *testing.T) {
	needRoot(t)
	cmd, stderr := startNetnsChild(t)
	prefixes := sitePrefixes(t)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "stderr: %s", stderr.String())
	assert.Equal(t, exitInterrupted, ee.ExitCode(), "stderr: %s", stderr.String())
	assertNothingLeft(t, prefixes)
}

func TestFinding8ValidateHonoursSIGTERM(t *testing.T) {
	// A FIFO nobody writes: validate blocks opening it, as on a slow
	// file system.
	fifo := filepath.Join(t.TempDir(), "slow.yaml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "validate", fifo)
	cmd.Env = append(os.Environ(), cliChildEnv+"=1")
	require.NoError(t, cmd.Start())
	// Opening the FIFO for writing returns once the child has it open for
	// reading: from then on it is busy reading what never comes.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err = cmd.Wait()
	require.NoError(t, ctx.Err(), "validate ignored SIGTERM until the test's deadline")
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.NotZero(t, ee.ExitCode())
}

// syncWriter is a strings.Builder safe for a writer and a reader.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
