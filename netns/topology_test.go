//go:build linux

package netns

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/internal/proctest"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func TestBuildAndClose(t *testing.T) {
	needNetns(t)
	top, err := Build(t.Context(), Config{Family: testFamily, Sites: 2})
	require.NoError(t, err)
	run, prefixes := top.Run(), sitePrefixes(top)
	p, ok := parseName(run)
	require.True(t, ok, run)
	assert.Equal(t, os.Getpid(), p.pid)

	for i, s := range top.Sites() {
		assert.Equal(t, i, s.Index())
		assert.Equal(t, siteName(run, i), s.Name())
		assert.True(t, BenchmarkRange.Contains(s.Agent(0)))
		assert.True(t, BenchmarkRange.Contains(s.PollerAddr()))
		assert.Equal(t, 20, s.Agents().Bits())
		assert.Equal(t, 4094, s.Capacity())
		assert.Same(t, s, top.SiteOf(s.Agent(4093)))
		_, err := os.Stat(filepath.Join(netnsDir, s.Name()))
		require.NoError(t, err, "named namespace")

		// The poller's end: the address, and the route to the agents
		// through the site's end, with the blackhole fallback under it.
		l, err := netlink.LinkByName(s.Name())
		require.NoError(t, err)
		assert.Equal(t, "veth", l.Type())
		addrs, err := netlink.AddrList(l, unix.AF_INET)
		require.NoError(t, err)
		require.Len(t, addrs, 1)
		assert.Equal(t, s.PollerAddr().String(), addrs[0].IP.String())
		routes, err := dumpRetry(func() ([]netlink.Route, error) {
			return netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Dst: prefixIPNet(s.Agents())}, netlink.RT_FILTER_DST)
		})
		require.NoError(t, err)
		var types []int
		for _, r := range routes {
			assert.Equal(t, RouteProtocol, r.Protocol)
			types = append(types, r.Type)
			if r.Type == unix.RTN_UNICAST {
				assert.Equal(t, s.SiteAddr().String(), r.Gw.String())
			}
		}
		assert.ElementsMatch(t, []int{unix.RTN_UNICAST, unix.RTN_BLACKHOLE}, types)

		// Inside: the other end with the site address and the agents'
		// prefix local on lo.
		require.NoError(t, s.Do(func() error {
			inner, err := netlink.LinkByName(s.Name())
			if err != nil {
				return err
			}
			a, err := netlink.AddrList(inner, unix.AF_INET)
			if err != nil {
				return err
			}
			assert.Len(t, a, 1)
			assert.Equal(t, s.SiteAddr().String(), a[0].IP.String())
			local, err := dumpRetry(func() ([]netlink.Route, error) {
				return netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_LOCAL, Dst: prefixIPNet(s.Agents())}, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_DST)
			})
			if err != nil {
				return err
			}
			assert.Len(t, local, 1, "AnyIP route")
			return nil
		}))
	}
	assert.False(t, top.Site(0).Agents().Overlaps(top.Site(1).Agents()))
	assert.Empty(t, leftoversExpectingSome(t, top), "unexpected state before close")

	require.NoError(t, top.Close())
	requireGone(t, run, prefixes)
	require.NoError(t, top.Close(), "second Close")
	require.ErrorIs(t, top.Site(0).Do(func() error { return nil }), ErrClosed)
	require.ErrorIs(t, top.Site(0).Drop(DropSpec{Prob: 0.1}).Inject(t.Context()), ErrClosed)
}

// leftoversExpectingSome checks that leftovers does see a live run (so
// that its empty answer after Close means something) and returns what it
// finds that is not expected.
func leftoversExpectingSome(t *testing.T, top *Topology) []string {
	t.Helper()
	got := leftovers(t, top.Run(), sitePrefixes(top))
	want := map[string]bool{}
	for _, s := range top.Sites() {
		want["namespace "+s.Name()] = true
		want["link "+s.Name()] = true
	}
	var unexpected []string
	seen := map[string]bool{}
	for _, g := range got {
		seen[g] = true
		if !want[g] && !strings.HasPrefix(g, "route ") && !strings.HasPrefix(g, "state file ") && !strings.HasPrefix(g, "ip ") {
			unexpected = append(unexpected, g)
		}
	}
	for w := range want {
		assert.True(t, seen[w], "leftovers does not see %s", w)
	}
	return unexpected
}

func TestDoRunsInSiteAndRestores(t *testing.T) {
	top := build(t, Config{})
	s := top.Site(0)
	before, err := currentNamespace()
	require.NoError(t, err)
	defer before.Close()
	for range 20 {
		require.NoError(t, s.Do(func() error {
			addrs, err := net.InterfaceAddrs()
			if err != nil {
				return err
			}
			var got []string
			for _, a := range addrs {
				got = append(got, a.String())
			}
			assert.Contains(t, got, netip.PrefixFrom(s.SiteAddr(), 30).String())
			return nil
		}))
	}
	// No thread of the process was left in the site: this goroutine's
	// thread, whichever it is, is in the original namespace.
	after, err := currentNamespace()
	require.NoError(t, err)
	defer after.Close()
	assert.True(t, before.Equal(after))
	assert.Panics(t, func() { _ = s.Do(func() error { panic("boom") }) })
	assert.ErrorIs(t, s.Do(func() error { return context.Canceled }), context.Canceled)
	assert.ErrorContains(t, s.Do(func() error { runtime.Goexit(); return nil }), "Goexit")
}

// TestFleetInSite: 2,000 agents in a site, reached from the poller's
// namespace over the veth with the gosnmp client.
func TestFleetInSite(t *testing.T) {
	top := build(t, Config{Sites: 2})
	store, err := mib.Open("if-mib:4")
	require.NoError(t, err)
	s := top.Site(1)
	f := startFleet(t, s, 2000, store)
	require.Equal(t, s.Listen(agentPort), f.Addr(0))
	require.True(t, s.Agents().Contains(f.Addr(1999).Addr()))

	veth, err := netlink.LinkByName(s.Name())
	require.NoError(t, err)
	rx0 := veth.Attrs().Statistics.RxPackets

	start := time.Now()
	failed := getAll(f.Addrs(), 16, 2*time.Second)
	require.Zero(t, failed, "Gets that failed out of 2000")
	t.Logf("2000 Gets in %s", time.Since(start))

	// Walks return every OID of the agent's data.
	for _, i := range []int{0, 777, 1999} {
		g, err := snmpClient(f.Addr(i), 2*time.Second, 1)
		require.NoError(t, err)
		var n int
		require.NoError(t, g.BulkWalk("1.3.6.1.2.1", func(gosnmp.SnmpPDU) error { n++; return nil }))
		_ = g.Conn.Close()
		assert.Equal(t, store.Len(), n, "agent %d", i)
	}

	// The replies came in through the veth: real routing, not loopback.
	veth, err = netlink.LinkByName(s.Name())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, veth.Attrs().Statistics.RxPackets-rx0, uint64(2000))

	// Nothing listens for the agents in the poller's namespace: another
	// site's prefix is routed but has no fleet.
	other := netip.AddrPortFrom(top.Site(0).Agent(0), agentPort)
	assert.Error(t, get(other, 200*time.Millisecond))
}

// TestStaleRunRemoved: a run killed with SIGKILL before it cleaned up
// leaves namespaces, veths, routes, nftables rules and qdiscs; the next
// Build of the family removes them.
func TestStaleRunRemoved(t *testing.T) {
	needNetns(t)
	run := proctest.KillAtReady(t, crashChildEnv+"=1", 30*time.Second)

	st := readStates()
	var prefixes []netip.Prefix
	for _, s := range st {
		if s.Run == run {
			for _, site := range s.Sites {
				prefixes = append(prefixes, site.Agents)
			}
		}
	}
	require.Len(t, prefixes, 2, "the dead run's state file")
	left := leftovers(t, run, prefixes)
	t.Logf("the killed run %s left: %q", run, left)
	assert.Contains(t, left, "namespace "+run+"-0")
	assert.Contains(t, left, "link "+run+"-1")
	assert.Contains(t, left, "qdisc tbf on "+run+"-1")
	assert.Contains(t, tablesIn(t, run+"-0"), nftTable, "the drop's table inside the dead site")

	top := build(t, Config{})
	assert.NotEqual(t, run, top.Run())
	// The new run may take the dead run's addresses: its routes are
	// checked apart.
	var free []netip.Prefix
	for _, p := range prefixes {
		if s := top.SiteOf(p.Addr()); s != nil {
			requireOnlySiteRoutes(t, s)
		} else {
			free = append(free, p)
		}
	}
	requireGone(t, run, free)
}

// tablesIn lists the nftables tables in the named namespace.
func tablesIn(t *testing.T, ns string) []string {
	t.Helper()
	h, err := vnetns.GetFromName(ns)
	require.NoError(t, err)
	defer h.Close()
	c, err := nftables.New(nftables.WithNetNSFd(int(h)))
	require.NoError(t, err)
	tables, err := c.ListTables()
	require.NoError(t, err)
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
	}
	return names
}

func TestCleanupRemovesRun(t *testing.T) {
	needNetns(t)
	top, err := Build(t.Context(), Config{Family: testFamily, Sites: 2})
	require.NoError(t, err)
	drop := top.Site(1).Drop(DropSpec{Prob: 0.2})
	require.NoError(t, drop.Inject(t.Context()))
	run, prefixes := top.Run(), sitePrefixes(top)
	require.NoError(t, Cleanup(run+"-"))
	requireGone(t, run, prefixes)
	// The topology's Close still works, with nothing left to remove.
	require.NoError(t, top.Close())
	requireGone(t, run, prefixes)
}

// requireOnlySiteRoutes checks that the routes to s's agents are s's own:
// one through its veth and the blackhole fallback.
func requireOnlySiteRoutes(t *testing.T, s *Site) {
	t.Helper()
	l, err := netlink.LinkByName(s.Name())
	require.NoError(t, err)
	routes, err := dumpRetry(func() ([]netlink.Route, error) {
		return netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Dst: prefixIPNet(s.Agents())}, netlink.RT_FILTER_DST)
	})
	require.NoError(t, err)
	require.Len(t, routes, 2, "routes to %s", s.Agents())
	for _, r := range routes {
		if r.Type == unix.RTN_UNICAST {
			assert.Equal(t, l.Attrs().Index, r.LinkIndex, "route to %s", s.Agents())
		} else {
			assert.Equal(t, unix.RTN_BLACKHOLE, r.Type)
		}
	}
}

func TestCleanupOnlyTouchesOurNames(t *testing.T) {
	assert.True(t, ours("sct-1f-0-1", "sct-1f-0-"))
	assert.True(t, ours("sct-1f-0", "sct-1f-0-"))
	assert.True(t, ours("sct-1f-0-1", "sct-"))
	assert.False(t, ours("sct-1f-1-0", "sct-1f-0-"))
	assert.False(t, ours("eth0", ""))
	assert.False(t, ours("lo", "l"))
	assert.False(t, ours("docker0", "d"))
}
