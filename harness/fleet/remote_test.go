package fleet

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/internal/proctest"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/control"
)

// startAgents starts a simagent by hand, as a user runs one on another
// host.
func startAgents(t *testing.T, args ...string) *proctest.Simagent {
	t.Helper()
	p, err := proctest.StartSimagent(t, simagentBinary(t), args...)
	require.NoError(t, err)
	return p
}

func hasEvent(r *Remote, proc int, kind string) bool {
	return slices.ContainsFunc(r.Processes()[proc].Events, func(e Event) bool { return e.Kind == kind })
}

// TestRemoteFleetSurvivesAProcessRestart: one of two processes is killed
// and started again on the same addresses; the fleet sees it go and come
// back and applies its faults again.
func TestRemoteFleetSurvivesAProcessRestart(t *testing.T) {
	store := profile(t, "if-mib:1")
	ports := proctest.FreeUDPPorts(t, 2)
	udp0, udp1 := ports[0], ports[1]
	ctl1 := proctest.FreeTCPPort(t)
	p0 := startAgents(t, "--agents", "3", "--listen", fmt.Sprintf("127.16.213.1:%d", udp0), "--profile", "if-mib:1", "--control", "127.0.0.1:0")
	args1 := []string{"--agents", "3", "--listen", fmt.Sprintf("127.16.213.4:%d", udp1), "--profile", "if-mib:1", "--control", fmt.Sprintf("127.0.0.1:%d", ctl1)}
	p1 := startAgents(t, args1...)

	r, err := Dial(t.Context(), RemoteConfig{URLs: []string{p0.URL, p1.URL}, Store: store, Community: "public", Seed: 1, Watch: 20 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	require.Equal(t, 6, r.Len())
	assert.Equal(t, "127.16.213.6", r.Addr(5).Addr().String())

	blackhole := simagent.Faults{Blackhole: &simagent.Blackhole{}}
	_, err = r.ApplyPhase(t.Context(), "p", []PhaseSet{{Selector: simagent.Selector{Index: ptr(4)}, Faults: blackhole}})
	require.NoError(t, err)
	require.Error(t, get(t, r.Addr(4)))

	p1.Kill()
	require.Eventually(t, func() bool { return hasEvent(r, 1, "down") }, 30*time.Second, 10*time.Millisecond)
	assert.Error(t, get(t, r.Addr(3)), "its agents are gone")
	assert.NoError(t, get(t, r.Addr(0)), "the other process's agents answer")

	startAgents(t, args1...)
	require.Eventually(t, func() bool { return hasEvent(r, 1, "reapplied") }, 30*time.Second, 10*time.Millisecond)
	assert.True(t, hasEvent(r, 1, "up"))
	assert.True(t, hasEvent(r, 1, "restarted"))
	assert.NoError(t, get(t, r.Addr(3)), "back")
	assert.Error(t, get(t, r.Addr(4)), "its fault applied again")
	c, err := control.NewClient(p1.URL)
	require.NoError(t, err)
	a, err := c.Agents(t.Context(), "index=1")
	require.NoError(t, err)
	assert.Equal(t, blackhole, a[0].Faults)
	pr := r.Processes()[1]
	assert.Positive(t, pr.Down)
	assert.False(t, hasEvent(r, 0, "down"))

	// Close leaves processes it did not start running, without faults.
	require.NoError(t, r.Close())
	require.NoError(t, get(t, r.Addr(4)))
	v, err := c.Faults(t.Context(), "")
	require.NoError(t, err)
	require.Len(t, v.Groups, 1)
	assert.Equal(t, simagent.Faults{}, v.Groups[0].Faults)
}

func TestDialRefusesMismatches(t *testing.T) {
	p := startAgents(t, "--agents", "2", "--listen", "127.16.213.20:0", "--profile", "if-mib:1", "--control", "127.0.0.1:0")
	_, err := Dial(t.Context(), RemoteConfig{URLs: []string{p.URL}, Store: profile(t, "if-mib:1"), Agents: 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 agents together")
	_, err = Dial(t.Context(), RemoteConfig{URLs: []string{p.URL, p.URL}, Store: profile(t, "if-mib:1")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "both at")
	_, err = Dial(t.Context(), RemoteConfig{URLs: []string{p.URL}, Store: profile(t, "if-mib:1"), V3Users: []string{"ops"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `SNMPv3 users ["ops"]`)
	_, err = Dial(t.Context(), RemoteConfig{URLs: []string{"http://127.0.0.1:" + fmt.Sprint(proctest.FreeTCPPort(t))}, Store: profile(t, "if-mib:1"), ReadyTimeout: 300 * time.Millisecond})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not ready", "nobody listens: Dial gives up at its timeout")
	_, err = Dial(t.Context(), RemoteConfig{URLs: []string{"127.0.0.1:1"}, Store: profile(t, "if-mib:1")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fleet.remote[0]")
}
