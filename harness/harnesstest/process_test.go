package harnesstest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/internal/proctest"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// pysnmp is "exec:" and the reference poller's command line, or a skip
// (a failure under CI=true) without Debian's python3-pysnmp4.
func pysnmp(t *testing.T, args string) string {
	t.Helper()
	return strings.TrimSpace("exec:" + proctest.PysnmpPoller(t) + " " + args)
}

func quickstart(t *testing.T, base int) *scenarios.Scenario {
	sc := Bundled(t, "quickstart")
	sc.Fleet.Listen = fmt.Sprintf("127.%d.0.1:0", base)
	return sc
}

// The reference poller in Python through quickstart, watched by PID. Python
// is slow on a loaded machine, so the test polls each agent every 8 s
// instead of 2 s and gives each poll 6 s (load.deadline, which defaults to
// the interval); the fleet, faults, phases and poller settings are
// quickstart's. Every invariant about its resources, its accounting and
// its data must hold; phase-expectations (success ratios) is logged, not
// asserted: under a load of dozens of runnable processes a Python poller
// misses deadlines however correct it is. (On a quiet machine it passes
// quickstart whole: README, "Testing your poller".)
func TestExecReferencePollerThroughQuickstart(t *testing.T) {
	name := pysnmp(t, "")
	sc := quickstart(t, 206)
	sc.Load.Interval = scenarios.Duration(8 * time.Second)
	sc.Load.Deadline = scenarios.Duration(6 * time.Second)
	p, err := harness.NewPoller(name, harness.SettingsFor(sc.Shortened()))
	require.NoError(t, err)
	pid := p.(harness.ProcessPoller).PID()
	rep, err := harness.Run(t.Context(), sc, p, harness.WithShort(true))
	require.NoError(t, err)
	for _, iv := range rep.Invariants {
		t.Logf("%-20s %-5v %s", iv.Name, iv.Pass, iv.Summary)
		if iv.Name != harness.InvPhaseExpectations {
			assert.True(t, iv.Pass, "%s: %s %v", iv.Name, iv.Summary, iv.Evidence)
		}
	}
	assert.Positive(t, rep.Polls.Succeeded, "polls answered with data")
	// Late answers (after the adapter answered for a slow child at the
	// deadline) are reported in closeError; a kill or a bad exit is not
	// allowed.
	assert.NotContains(t, rep.CloseError, "killed")
	assert.NotContains(t, rep.CloseError, "exited")
	require.NotNil(t, rep.Process)
	assert.Equal(t, pid, rep.Process.PID)
	assert.Contains(t, rep.Process.Command, "pysnmp_poller.py")
	assert.Positive(t, rep.Process.PeakThreads)
	assert.Positive(t, rep.Process.PeakRSSBytes)
	var sampled int
	for _, s := range rep.Samples {
		if s.Process != nil && s.Process.PID == pid {
			sampled++
		}
	}
	assert.Greater(t, sampled, len(rep.Samples)/2, "the child is sampled with the rest")
}

// Its leaky variant fails connections-closed and fds-stable, and the
// evidence names its process and its sockets. (It may miss phase
// expectations too: a socket per poll slows it down on a loaded machine.)
func TestExecLeakyPollerFailsWithItsProcess(t *testing.T) {
	name := pysnmp(t, "--leak")
	sc := quickstart(t, 207)
	p, err := harness.NewPoller(name, harness.SettingsFor(sc.Shortened()))
	require.NoError(t, err)
	pid := p.(harness.ProcessPoller).PID()
	rep, err := harness.Run(t.Context(), sc, p, harness.WithShort(true), harness.WithSettleTimeout(time.Second))
	require.NoError(t, err)
	got := map[string]harness.InvariantResult{}
	for _, iv := range rep.Invariants {
		got[iv.Name] = iv
		t.Logf("%-20s %-5v %s", iv.Name, iv.Pass, iv.Summary)
	}
	cc, fd := got[harness.InvConnectionsClosed], got[harness.InvFDsStable]
	assert.False(t, cc.Pass)
	assert.False(t, fd.Pass)
	who := fmt.Sprintf("poller process %d (", pid)
	assert.Contains(t, cc.Summary, who)
	assert.Contains(t, cc.Summary, "pysnmp_poller.py --leak")
	assert.Contains(t, fd.Summary, who)
	ev := strings.Join(cc.Evidence, "\n")
	assert.Contains(t, ev, fmt.Sprintf("pid %d: udp socket inode", pid))
	assert.Contains(t, ev, "connected to 127.207.")
	assert.True(t, got[harness.InvPollsAccounted].Pass, "every poll still answered once")
}
