//go:build linux

package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/snmpchaos/snmpchaos/internal/proctest"
	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// netnsFamily names every netns run of these tests, apart from the netns
// package's tests ("sct"), the other packages' ("scf", "h.."), real runs
// ("sc") and a second copy of this test binary running at the same time
// (make test beside make test, whose live runs the leftover checks would
// otherwise count): "n" and two letters from the test process's PID (the
// parent's, in the child that TestNetnsKilledRunLeavesNothing kills).
var netnsFamily = familyOf(testPID())

func testPID() int {
	if os.Getenv(netnsChildEnv) != "" {
		return os.Getppid()
	}
	return os.Getpid()
}

func familyOf(pid int) string {
	return "n" + string(rune('a'+pid%26)) + string(rune('a'+pid/26%26))
}

// netnsChildEnv makes the test binary a netns run that prints "READY" once
// its kernel faults are in and then waits to be killed.
const netnsChildEnv = "SNMPCHAOS_HARNESS_NETNS_CHILD"

var (
	netnsProbeOnce sync.Once
	netnsProbeErr  error
)

// needNetns skips unless the test runs as root where network namespaces
// can be made; under CI=true as root it must run.
func needNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("netns-mode tests need root (network namespaces, veth, nftables); run `sudo make netns-test`")
	}
	netnsProbeOnce.Do(func() {
		// A real topology, built and closed: a bare unshare here could
		// leave the main thread, whose namespace /proc/self/net shows, in
		// the new namespace.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		top, err := netns.Build(ctx, netns.Config{Family: netnsFamily})
		if err == nil {
			err = top.Close()
		}
		netnsProbeErr = err
	})
	if netnsProbeErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI runs as root but cannot create a network namespace: %v", netnsProbeErr)
		}
		t.Skipf("cannot create a network namespace here: %v", netnsProbeErr)
	}
}

// netnsTiny is 2 sites × 50 agents with a flap on site 0 and a 5% drop on
// site 1, about 3.5 s.
const netnsTiny = `version: 1
name: netns-tiny
mode: netns
fleet:
  sites: [{agents: 50, labels: {role: a}}, {agents: 50}]
  profile: if-mib:4
poller:
  timeout: 500ms
  retries: 2
load:
  interval: 400ms
  deadline: 10s
  concurrency: 256
  jitter: 1
  ops:
    - kind: get
      weight: 3
      oids: [.1.3.6.1.2.1.1.3.0, .1.3.6.1.2.1.1.5.0]
    - kind: bulkwalk
      weight: 1
      root: .1.3.6.1.2.1.2.2.1.10
phases:
  - name: calm
    duration: 800ms
    # Polls still running when the link starts to flap count here, where
    # they started: some of them fail (and a loaded machine times a few
    # out before).
    expect: {minSuccess: 0.8}
  - name: kernel
    duration: 1500ms
    faults:
      - selector: {label: role=a}
        faults: {delay: {fixed: 5ms}}
    kernel:
      - {site: 0, flap: {down: 300ms, up: 400ms}}
      - {site: 1, drop: {prob: 0.05}}
    expect: {minSuccess: 0.5}
  - name: back
    duration: 1200ms
    expect: {minSuccess: 0.99, recovery: true}
`

func netnsScenario(t testing.TB) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("netns-tiny.yaml", []byte(netnsTiny))
	require.NoError(t, err)
	return sc
}

func runNetns(t *testing.T, poller string) *Report {
	t.Helper()
	needNetns(t)
	rep := runPoller(t, netnsScenario(t), poller, WithNetnsFamily(netnsFamily))
	t.Cleanup(func() { requireNoLeftovers(t, rep.Sites) })
	return rep
}

func TestNetnsPollerlibPasses(t *testing.T) {
	rep := runNetns(t, "pollerlib")
	assert.True(t, rep.Pass, "pollerlib passes every invariant in netns mode")
	assert.Equal(t, "netns", rep.Mode)
	require.Len(t, rep.Sites, 2)
	assert.Equal(t, 50, rep.Sites[1].First)
	assert.Equal(t, []string{"site 0: flap down 300ms up 400ms", "site 1: drop 5%"}, rep.Phases[1].Kernel)
	kinds := map[string]int{}
	for _, e := range rep.KernelEvents {
		kinds[e.Kind]++
	}
	assert.Equal(t, 2, kinds[KernelInject], "events %v", rep.KernelEvents)
	assert.Equal(t, 2, kinds[KernelRecover])
	assert.GreaterOrEqual(t, kinds[KernelLinkDown], 2, "the flap went down at least twice")
	assert.Equal(t, kinds[KernelLinkDown], kinds[KernelLinkUp], "every down came back up")
	var drops uint64
	for _, s := range rep.Samples {
		drops = max(drops, s.KernelDrops)
	}
	assert.Positive(t, drops, "the 5%% drop dropped packets")
	assert.True(t, invariantOf(t, rep, InvWalksComplete).Pass)
	assert.Positive(t, rep.Polls.WalksChecked)
	// The plots carry the kernel's marks.
	var b strings.Builder
	require.NoError(t, WriteHTML(&b, rep))
	for _, s := range []string{`class="kernel-linkdown"`, `class="kernel-fault"`, `id="plot-kernel-drops"`, "kernel site 1: drop 5%"} {
		assert.Contains(t, b.String(), s)
	}
}

func TestNetnsNegativeControlsFail(t *testing.T) {
	for _, tc := range []struct {
		poller string
		breaks []string
	}{
		{"broken-socket-leak", nil},
		{"gosnmp-leaky", []string{InvConnectionsClosed, InvFDsStable}},
	} {
		t.Run(tc.poller, func(t *testing.T) {
			breaks := tc.breaks
			if breaks == nil {
				for _, k := range PollerKinds() {
					if k.Name == tc.poller {
						breaks = k.Breaks
					}
				}
			}
			require.NotEmpty(t, breaks)
			rep := runNetns(t, tc.poller)
			assert.False(t, rep.Pass)
			for _, name := range breaks {
				iv := invariantOf(t, rep, name)
				assert.False(t, iv.Pass, "%s must fail %s in netns mode", tc.poller, name)
				assert.NotEmpty(t, iv.Evidence, name)
			}
		})
	}
}

func TestNetnsNeedsRootError(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root: the error for non-root cannot be seen")
	}
	sc := netnsScenario(t)
	p, err := NewPoller("pollerlib", SettingsFor(sc))
	require.NoError(t, err)
	_, err = Run(t.Context(), sc, p)
	assert.ErrorIs(t, err, ErrNeedsRoot)
}

// TestNetnsKilledRunLeavesNothing kills a netns run with SIGKILL while its
// kernel faults are in; the next run removes what it left, and after that
// nothing of either is left.
func TestNetnsKilledRunLeavesNothing(t *testing.T) {
	needNetns(t)
	run := proctest.KillAtReady(t, netnsChildEnv+"=1", 60*time.Second)
	dead := runSites(t, run)
	require.Len(t, dead, 2, "the killed run's state file")
	left := leftovers(t, dead)
	t.Logf("the killed run %s left: %q", run, left)
	assert.Contains(t, left, "namespace "+run+"-0", "a SIGKILL leaves the namespaces")

	rep := runPoller(t, netnsScenario(t), "pollerlib", WithNetnsFamily(netnsFamily))
	assert.True(t, rep.Pass)
	requireNoLeftovers(t, append(dead, rep.Sites...))
}

// netnsChild runs the tiny scenario until killed: its stdout gets
// "READY <run>" once the kernel faults are in.
func netnsChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sc, err := scenarios.Parse("netns-tiny.yaml", []byte(netnsTiny))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	sc.Phases[1].Duration = scenarios.Duration(30 * time.Second)
	p, err := NewPoller("pollerlib", SettingsFor(sc))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	var once sync.Once
	_, err = Run(ctx, sc, p, WithNetnsFamily(netnsFamily), WithProgress(func(pr Progress) {
		if pr.PhaseIndex == 1 && pr.Stage == "load" {
			once.Do(func() {
				// The run's name is the newest state file of our family.
				fmt.Printf("READY %s\n", newestRun())
			})
		}
	}))
	fmt.Fprintln(os.Stderr, "child: run ended without being killed:", err)
	return 3
}

// stateFile is the part of netns's state file the tests read.
type stateFile struct {
	Run   string `json:"run"`
	PID   int    `json:"pid"`
	Sites []struct {
		Name   string       `json:"name"`
		Agents netip.Prefix `json:"agents"`
	} `json:"sites"`
}

func readStateFiles() []stateFile {
	names, _ := filepath.Glob(filepath.Join(netns.StateDir, "*.json"))
	var out []stateFile
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			continue
		}
		var st stateFile
		if json.Unmarshal(b, &st) == nil {
			out = append(out, st)
		}
	}
	return out
}

// newestRun is this process's run of our family.
func newestRun() string {
	for _, st := range readStateFiles() {
		if st.PID == os.Getpid() && strings.HasPrefix(st.Run, netnsFamily+"-") {
			return st.Run
		}
	}
	return "?"
}

// runSites reads run's sites from its state file.
func runSites(t *testing.T, run string) []SiteReport {
	t.Helper()
	var out []SiteReport
	for _, st := range readStateFiles() {
		if st.Run == run {
			for _, s := range st.Sites {
				out = append(out, SiteReport{Name: s.Name, Prefix: s.Agents.String()})
			}
		}
	}
	return out
}

// leftovers lists what of our family is left: namespaces, links (and
// their qdiscs), nftables tables in this namespace, state files, and routes
// into the given sites' prefixes that no live run claims.
func leftovers(t *testing.T, sites []SiteReport) []string {
	t.Helper()
	pre := netnsFamily + "-"
	out, err := netns.Leftovers(pre)
	require.NoError(t, err)
	claimed := map[netip.Prefix]bool{}
	for _, st := range readStateFiles() {
		if strings.HasPrefix(st.Run, pre) {
			out = append(out, "state file "+st.Run+".json")
			continue
		}
		for _, s := range st.Sites {
			claimed[s.Agents] = true
		}
	}
	// A dump the kernel interrupts because the table changed under it (a
	// second make test's runs add and remove routes) is read again.
	var routes []netlink.Route
	for range 5 {
		routes, err = netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	require.NoError(t, err)
	for _, s := range sites {
		p, err := netip.ParsePrefix(s.Prefix)
		require.NoError(t, err)
		if claimed[p] {
			continue // another live run (a parallel test) has these addresses now
		}
		for _, r := range routes {
			if r.Dst == nil {
				continue
			}
			d, ok := netip.AddrFromSlice(r.Dst.IP)
			ones, _ := r.Dst.Mask.Size()
			if ok && ones >= p.Bits() && p.Contains(d.Unmap()) {
				out = append(out, "route "+r.String())
			}
		}
	}
	return out
}

func requireNoLeftovers(t *testing.T, sites []SiteReport) {
	t.Helper()
	require.Empty(t, leftovers(t, sites), "netns runs left these behind")
}
