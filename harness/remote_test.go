package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/internal/proctest"
)

// Addresses: the tests of fleets outside the process use bases 170-179.

// peaks returns the highest UDP socket count of the harness process and
// of the poller's own count over the run.
func peaks(rep *Report) (udp, poller int) {
	for _, s := range rep.Samples {
		udp = max(udp, s.UDPSockets)
		if s.Poller != nil {
			poller = max(poller, s.Poller.OpenSockets)
		}
	}
	return udp, poller
}

// TestOutOfProcessFleetLeavesThePollerAlone: with the fleet in 2 simagent
// children the scenario passes as in-process; the harness's UDP sockets
// are the poller's alone, where in-process they are the poller's and the
// fleet's; the fleet's processes are reported apart, with their sockets
// and how long each took to apply each phase's faults.
func TestOutOfProcessFleetLeavesThePollerAlone(t *testing.T) {
	bin := proctest.SimagentBinary(t)
	in := runPoller(t, scenario(t, 170, mixed), "pollerlib")
	require.True(t, in.Pass)
	out := runPoller(t, scenario(t, 171, mixed), "pollerlib", WithProcesses(2), WithSimagent(bin))
	require.True(t, out.Pass, "the scenario passes with its fleet in 2 processes")
	assert.Equal(t, in.Agents, out.Agents)

	inUDP, inPoller := peaks(in)
	outUDP, outPoller := peaks(out)
	require.Positive(t, outPoller)
	assert.Equal(t, outPoller, outUDP, "out of process, every UDP socket of the harness is the poller's")
	assert.Greater(t, inUDP, inPoller, "in-process the fleet's sockets count too")
	assert.Less(t, out.Baseline.UDPSockets, in.Baseline.UDPSockets, "no agent sockets in the harness at baseline")
	assert.Empty(t, in.FleetProcesses)

	assert.Equal(t, "processes", out.Mode)
	require.Len(t, out.FleetProcesses, 2)
	agents := 0
	for _, p := range out.FleetProcesses {
		agents += p.Agents
		assert.True(t, p.Spawned)
		require.NotNil(t, p.Resources)
		assert.Positive(t, p.Resources.Samples)
		assert.GreaterOrEqual(t, p.Resources.Peak.Sockets, 2, "the agents' UDP sockets and the control API's")
		require.Len(t, p.Applies, len(out.Phases), "one fault change per phase")
		for _, a := range p.Applies {
			assert.Positive(t, a.Took)
			assert.Empty(t, a.Error)
		}
		assert.Empty(t, p.Events, "no outage")
	}
	assert.Equal(t, out.Agents, agents)
	for _, ph := range out.Phases {
		assert.Len(t, ph.Apply, 2, "phase %s: per process", ph.Name)
	}
	assert.Equal(t, 3, out.Phases[1].Apply[0].Agents+out.Phases[1].Apply[1].Agents-3, "faulty: 6 agents over the two processes")

	var text bytes.Buffer
	require.NoError(t, report.WriteText(&text, out))
	assert.Contains(t, text.String(), "Harness process (poller and harness, fleet processes)")
	assert.Contains(t, text.String(), "Fleet processes")
	assert.Regexp(t, regexp.MustCompile(`pid \d+ http://127\.0\.0\.1:\d+: agents 0-14; peak fds \d+, sockets \d+, threads \d+`), text.String())
}

// TestNegativeControlsFailOutOfProcessToo: every broken poller fails the
// same invariants with the fleet in 2 processes.
func TestNegativeControlsFailOutOfProcessToo(t *testing.T) {
	bin := proctest.SimagentBinary(t)
	for _, k := range PollerKinds() {
		if !strings.HasPrefix(k.Name, "broken-") {
			continue
		}
		t.Run(k.Name, func(t *testing.T) {
			rep := runPoller(t, scenario(t, 172, mixed), k.Name, WithProcesses(2), WithSimagent(bin))
			assert.False(t, rep.Pass)
			for _, inv := range k.Breaks {
				assert.False(t, invariantOf(t, rep, inv).Pass, "%s must fail %s", k.Name, inv)
			}
		})
	}
}

const restartScenario = `version: 1
name: remote-restart
fleet:
  agents: 20
  remote: [URL0, URL1]
poller:
  timeout: 300ms
  retries: 1
load:
  interval: 200ms
  deadline: 5s
  concurrency: 64
  ops:
    - kind: get
      oids: [.1.3.6.1.2.1.1.3.0]
    - kind: walk
      root: .1.3.6.1.2.1.1
phases:
  - name: calm
    duration: 1500ms
    expect: {minSuccess: 0.95}
  - name: outage
    duration: 4s
  - name: back
    duration: 4s
    expect: {minSuccess: 0.75}
`

// TestRemoteFleetSurvivesAProcessRestart: in a run over two running
// simagents, one is killed when the outage phase starts and started again
// a moment later on the same addresses. Its agents' polls fail in that
// window and are reported as failed; every poll is accounted for; the
// last phase succeeds again; the report shows the process down, up and
// restarted.
func TestRemoteFleetSurvivesAProcessRestart(t *testing.T) {
	bin := proctest.SimagentBinary(t)
	ports := proctest.FreeUDPPorts(t, 2)
	a0 := []string{"--agents", "10", "--listen", fmt.Sprintf("127.173.0.1:%d", ports[0]), "--profile", "if-mib:24", "--control", "127.0.0.1:0"}
	a1 := []string{"--agents", "10", "--listen", fmt.Sprintf("127.173.0.11:%d", ports[1]), "--profile", "if-mib:24",
		"--control", fmt.Sprintf("127.0.0.1:%d", proctest.FreeTCPPort(t))}
	p0, err := proctest.StartSimagent(t, bin, a0...)
	require.NoError(t, err)
	p1, err := proctest.StartSimagent(t, bin, a1...)
	require.NoError(t, err)
	sc := scenario(t, 173, strings.NewReplacer("URL0", p0.URL, "URL1", p1.URL).Replace(restartScenario))

	outage := make(chan struct{})
	restarted := make(chan error, 1)
	go func() {
		<-outage
		p1.Kill()
		time.Sleep(500 * time.Millisecond) // the outage lasts a while; not a correctness wait
		_, err := proctest.StartSimagent(t, bin, a1...)
		restarted <- err
	}()
	var once bool
	p, err := NewPoller("pollerlib", SettingsFor(sc))
	require.NoError(t, err)
	rep, err := Run(t.Context(), sc, p, WithSeed(42), WithProgress(func(p Progress) {
		if p.Phase == "outage" && !once {
			once = true
			close(outage)
		}
	}))
	require.NoError(t, err)
	select {
	case err := <-restarted:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the process was not restarted")
	}

	assert.Equal(t, "remote", rep.Mode)
	assert.True(t, invariantOf(t, rep, InvPollsAccounted).Pass, "nothing lost")
	assert.Zero(t, rep.Polls.Unreported)
	assert.Positive(t, rep.Phases[1].Failed, "polls of the killed process's agents failed")
	assert.Less(t, rep.Phases[1].Failed, rep.Phases[1].Polls, "the other process's agents answered")
	for _, ph := range rep.Phases {
		t.Logf("phase %s: %d polls %d ok %d failed, errors %v", ph.Name, ph.Polls, ph.Succeeded, ph.Failed, ph.Errors)
	}
	// Progress comes each second, so the kill and the restart come up to
	// a second or two late on a loaded machine: the last phase is held to
	// 75%, where a process still down would leave it at 50%.
	assert.GreaterOrEqual(t, rep.Phases[2].Success, 0.75, "recovered")
	assert.True(t, rep.Pass, "the run passes: the outage phase has no expectations")
	require.Len(t, rep.FleetProcesses, 2)
	kinds := func(p FleetProcess) []string {
		var out []string
		for _, e := range p.Events {
			out = append(out, e.Kind)
		}
		return out
	}
	assert.Empty(t, kinds(rep.FleetProcesses[0]))
	k1 := kinds(rep.FleetProcesses[1])
	for _, k := range []string{"down", "up", "restarted"} {
		assert.True(t, slices.Contains(k1, k), "event %s in %v", k, k1)
	}
	assert.Positive(t, rep.FleetProcesses[1].Down)
}

// TestInterruptedRunStopsItsChildren: a run with its fleet in child
// processes that is interrupted still stops them.
func TestInterruptedRunStopsItsChildren(t *testing.T) {
	bin := proctest.SimagentBinary(t)
	sc := scenario(t, 174, mixed)
	p, err := NewPoller("pollerlib", SettingsFor(sc))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rep, err := Run(ctx, sc, p, WithSeed(1), WithProcesses(2), WithSimagent(bin), WithProgress(func(p Progress) {
		if p.Phase == "faulty" {
			cancel()
		}
	}))
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, rep)
	require.Len(t, rep.FleetProcesses, 2)
	for _, fp := range rep.FleetProcesses {
		assert.True(t, processGone(fp.PID), "simagent pid %d outlived the interrupted run", fp.PID)
	}
}

// processGone reports whether pid no longer runs (a zombie counts as
// gone).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}
