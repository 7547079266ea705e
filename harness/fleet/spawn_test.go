package fleet

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/control"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// Addresses: this package's spawned and remote fleets live on
// 127.16.210.0/24 to 127.16.213.0/24.

// helperEnv makes the test binary a stand-in harness that spawns a fleet
// and waits to be killed.
const helperEnv = "FLEET_TEST_HELPER"

func profile(t testing.TB, name string) *mib.Store {
	t.Helper()
	s, err := mib.Profile(name)
	require.NoError(t, err)
	return s
}

func spawnConfig(bin string, store *mib.Store, listen string, procs, agents int) SpawnConfig {
	return SpawnConfig{
		Binary: bin, Processes: procs, Agents: agents, Listen: netip.MustParseAddrPort(listen),
		Profile: store.Name(), Store: store, Community: "public", Seed: 42, Watch: 20 * time.Millisecond,
		Labels: []simagent.LabelRange{{From: 3, To: 6, Labels: map[string]string{"site": "b"}}},
	}
}

// get asks agent a for sysName once.
func get(t *testing.T, a netip.AddrPort) error {
	t.Helper()
	g := &gosnmp.GoSNMP{Target: a.Addr().String(), Port: a.Port(), Community: "public", Version: gosnmp.Version2c,
		Timeout: 300 * time.Millisecond, Retries: 1, MaxOids: gosnmp.MaxOids}
	require.NoError(t, g.Connect())
	defer g.Conn.Close()
	_, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"})
	return err
}

func TestSpawnedFleetAppliesPhasesAndStops(t *testing.T) {
	store := profile(t, "if-mib:2")
	r, err := Spawn(t.Context(), spawnConfig(simagentBinary(t), store, "127.16.210.1:0", 2, 9))
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = r.Close()
		}
	})
	var _ Fleet = r
	require.Equal(t, 9, r.Len())
	assert.Equal(t, "127.16.210.1", r.Addr(0).Addr().String())
	assert.Equal(t, "127.16.210.9", r.Addr(8).Addr().String())
	assert.NotEqual(t, r.Addr(0).Port(), r.Addr(8).Port(), "two processes, two ports")
	require.NoError(t, get(t, r.Addr(0)))
	require.NoError(t, get(t, r.Addr(8)))

	// Labels were split over the processes and come back global.
	idx, err := r.Select(simagent.Selector{Label: "site=b"})
	require.NoError(t, err)
	assert.Equal(t, []int{3, 4, 5, 6}, idx)

	blackhole := simagent.Faults{Blackhole: &simagent.Blackhole{}}
	applies, err := r.ApplyPhase(t.Context(), "outage", []PhaseSet{
		{Selector: simagent.Selector{Label: "site=b"}, Faults: blackhole},
	})
	require.NoError(t, err)
	require.Len(t, applies, 2)
	assert.Equal(t, 2, applies[0].Agents, "agents 3-4 are in process 0")
	assert.Equal(t, 2, applies[1].Agents, "agents 5-6 are in process 1")
	for _, a := range applies {
		assert.Positive(t, a.Took)
		assert.Equal(t, "outage", a.Phase)
	}
	assert.Equal(t, blackhole, r.Faults(5))
	assert.Equal(t, simagent.Faults{}, r.Faults(7))
	assert.Error(t, get(t, r.Addr(5)), "blackholed in the second process")
	assert.NoError(t, get(t, r.Addr(7)))

	// The processes hold what the fleet says they hold.
	procs := r.Processes()
	c, err := control.NewClient(procs[1].URL)
	require.NoError(t, err)
	agents, err := c.Agents(t.Context(), "")
	require.NoError(t, err)
	for j, a := range agents {
		assert.Equal(t, r.Faults(procs[1].First+j), a.Faults, "agent %d", procs[1].First+j)
	}

	n, err := r.SetFaults(simagent.Selector{Index: ptr(0)}, blackhole)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Error(t, get(t, r.Addr(0)))
	assert.Equal(t, blackhole, r.Faults(5), "SetFaults keeps the others")

	st := r.Stats()
	assert.Positive(t, st.Requests)

	// Resources are read from /proc of the children.
	require.Eventually(t, func() bool { return r.Processes()[1].Resources.Samples >= 2 }, 30*time.Second, 10*time.Millisecond)
	procs = r.Processes()
	pids := []int{procs[0].PID, procs[1].PID}
	for _, p := range procs {
		require.True(t, p.Spawned)
		require.NotNil(t, p.Resources)
		assert.Empty(t, p.Resources.Error)
		assert.GreaterOrEqual(t, p.Resources.Peak.Sockets, 2, "UDP sockets and the control listener")
		assert.Positive(t, p.Resources.Peak.Threads)
		assert.Positive(t, p.Resources.Peak.RSS)
		assert.Len(t, p.Applies, 1)
		assert.Empty(t, p.Events)
	}

	require.NoError(t, r.Close())
	closed = true
	for _, pid := range pids {
		assert.True(t, gone(pid), "pid %d still runs after Close", pid)
	}
}

func ptr[T any](v T) *T { return &v }

// gone reports whether pid no longer runs (a zombie waiting for its
// reaper counts as gone).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

func TestSpawnRefusesBadConfigsAndOtherData(t *testing.T) {
	bin := simagentBinary(t)
	store := profile(t, "if-mib:2")
	_, err := Spawn(t.Context(), spawnConfig(bin, store, "127.16.211.1:0", 3, 2))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fleet.processes 3")

	cfg := spawnConfig(bin, profile(t, "if-mib:3"), "127.16.211.1:0", 1, 2)
	cfg.Profile = "if-mib:2" // the children serve other data than the harness checks
	_, err = Spawn(t.Context(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sha256")
	assert.Contains(t, err.Error(), "walks could not be checked")

	cfg = spawnConfig(bin, store, "127.16.211.1:0", 1, 2)
	cfg.Profile = "if-mib:0"
	_, err = Spawn(t.Context(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited before it was ready")
	assert.Contains(t, err.Error(), "--profile", "the child's stderr explains")

	_, err = FindSimagent("/nonexistent/simagent")
	assert.Error(t, err)
	p, err := FindSimagent(bin)
	require.NoError(t, err)
	assert.Equal(t, bin, p)
}

// TestChildrenExitWhenTheHarnessIsKilled: a stand-in harness (this test
// binary) spawns a fleet and is killed with SIGKILL; its children go too.
func TestChildrenExitWhenTheHarnessIsKilled(t *testing.T) {
	bin := simagentBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+bin)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	var pids []int
	for _, f := range strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "pids:")) {
		pid, err := strconv.Atoi(f)
		require.NoError(t, err, line)
		pids = append(pids, pid)
	}
	require.Len(t, pids, 2, line)
	for _, pid := range pids {
		require.False(t, gone(pid))
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	for _, pid := range pids {
		assert.Eventually(t, func() bool { return gone(pid) }, 30*time.Second, 20*time.Millisecond, "simagent pid %d outlived its parent", pid)
	}
}

// helperMain spawns two children, prints their pids and waits (at most a
// minute) to be killed.
func helperMain() int {
	store, err := mib.Profile("system")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := spawnConfig(os.Getenv(helperEnv), store, "127.16.212.1:0", 2, 2)
	cfg.Labels = nil
	r, err := Spawn(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ps := r.Processes()
	fmt.Printf("pids: %d %d\n", ps[0].PID, ps[1].PID)
	time.Sleep(time.Minute)
	_ = r.Close()
	return 1
}
