//go:build linux

package netns

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
)

// TestDropFivePercent measures a 5% nftables drop on the wire: Gets with
// no retries, the share lost, and the rule's own counter.
func TestDropFivePercent(t *testing.T) {
	top := build(t, Config{})
	s := top.Site(0)
	f := startFleet(t, s, 2000, nil)
	drop := s.Drop(DropSpec{Prob: 0.05})
	require.True(t, drop.Available())
	require.NoError(t, drop.Inject(t.Context()))
	defer func() { require.NoError(t, drop.Recover(t.Context())) }()
	require.ErrorIs(t, drop.Inject(t.Context()), ErrActive)

	const n = 2000
	failed := getAll(f.Addrs(), 48, time.Second)
	c, err := drop.Dropped()
	require.NoError(t, err)
	received := f.Stats().Requests
	share := float64(failed) / n
	t.Logf("%s: %d of %d Gets lost (%.1f%%); the rule dropped %d requests, the agents got %d", drop.Name(), failed, n, 100*share, c.Packets, received)
	// Every request was either dropped by the rule or reached an agent.
	assert.Equal(t, uint64(n), c.Packets+received, "dropped + received")
	// 5% of 2000 is 100, with a standard deviation of about 10.
	assert.InDelta(t, 0.05, float64(c.Packets)/n, 0.025, "share the kernel dropped")
	// The client saw them lost, and little else: a reply may come late
	// on a loaded machine.
	assert.GreaterOrEqual(t, uint64(failed), c.Packets)
	assert.InDelta(t, 0.05, share, 0.04, "share of Gets lost")

	require.NoError(t, drop.Recover(t.Context()))
	require.NoError(t, drop.Recover(t.Context()), "second Recover")
	assert.Zero(t, getAll(agentAddrs(f, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 4, time.Second), "after Recover")
}

func TestBlackhole(t *testing.T) {
	top := build(t, Config{})
	s := top.Site(0)
	f := startFleet(t, s, 300, nil)
	// Agents 0-254 are 198.18.0.1-198.18.0.255; agent 255 is 198.18.1.0.
	rng := netip.PrefixFrom(s.Agent(0), 24).Masked()
	in, out := agentAddrs(f, 0, 100, 254), agentAddrs(f, 255, 299)

	part := s.Blackhole(rng)
	require.NoError(t, part.Inject(t.Context()))
	assert.Equal(t, len(in), getAll(in, 4, 300*time.Millisecond), "agents in %s", rng)
	assert.Zero(t, getAll(out, 4, time.Second), "agents outside %s", rng)
	c, err := part.Dropped()
	require.NoError(t, err)
	assert.Equal(t, uint64(len(in)), c.Packets)
	require.NoError(t, part.Recover(t.Context()))
	assert.Zero(t, getAll(in, 4, time.Second), "after Recover")

	all := s.Blackhole(netip.Prefix{})
	require.NoError(t, all.Inject(t.Context()))
	assert.Equal(t, 5, getAll(append(in, out...), 5, 300*time.Millisecond), "whole site")
	require.NoError(t, all.Recover(t.Context()))
	assert.Zero(t, getAll(append(in, out...), 5, time.Second), "after Recover")

	// A range outside the site is refused.
	bad := s.Blackhole(netip.MustParsePrefix("198.19.0.0/24"))
	assert.False(t, bad.Available())
	assert.Error(t, bad.Inject(t.Context()))
}

func TestLinkDown(t *testing.T) {
	top := build(t, Config{})
	s := top.Site(0)
	f := startFleet(t, s, 10, nil)
	down := s.LinkDown()
	require.NoError(t, down.Inject(t.Context()))
	assert.Equal(t, 3, getAll(agentAddrs(f, 0, 5, 9), 3, 300*time.Millisecond), "while down")
	require.NoError(t, down.Recover(t.Context()))
	// Reachable at once: Recover returns when the link carries traffic.
	assert.Zero(t, getAll(agentAddrs(f, 0, 5, 9), 3, time.Second), "after Recover")
}

// TestFlap: agents are unreachable while the link is down and reachable
// while it is up; after the cycles the link stays up, and Recover stops a
// flap early.
func TestFlap(t *testing.T) {
	top := build(t, Config{})
	s := top.Site(0)
	f := startFleet(t, s, 10, nil)
	a := f.Addr(3)
	type change struct {
		up bool
		at time.Time
	}
	const period = 700 * time.Millisecond
	changes := make(chan change, 16)
	flap := s.Flap(FlapSpec{Down: period, Up: period, Cycles: 2,
		OnChange: func(up bool, at time.Time) { changes <- change{up, at} }})
	require.NoError(t, flap.Inject(t.Context()))
	defer func() { require.NoError(t, flap.Recover(t.Context())) }()
	var got []bool
	timeout := time.After(10 * time.Second)
	for len(got) < 4 {
		select {
		case c := <-changes:
			got = append(got, c.up)
			// Probe well inside the period; a test goroutine that woke up
			// too late to do so says so rather than fail.
			if time.Since(c.at) > period/3 {
				t.Logf("probe for up=%v skipped: woke %s after the change", c.up, time.Since(c.at))
				continue
			}
			err := get(a, period/3)
			if c.up {
				assert.NoError(t, err, "agent while up")
			} else {
				assert.Error(t, err, "agent while down")
			}
		case <-timeout:
			t.Fatalf("flap changes so far %v, want 4", got)
		}
	}
	assert.Equal(t, []bool{false, true, false, true}, got)
	require.NoError(t, flap.Recover(t.Context()))
	assert.Empty(t, changes, "no change after the cycles (link already up)")
	require.NoError(t, get(a, time.Second))

	// An endless flap stopped by Recover, while down.
	endless := s.Flap(FlapSpec{Down: 5 * time.Second, Up: time.Second})
	require.NoError(t, endless.Inject(t.Context()))
	assert.Error(t, get(a, 200*time.Millisecond))
	require.NoError(t, endless.Recover(t.Context()))
	require.NoError(t, get(a, time.Second), "agent after Recover")
}

// TestBandwidth: a tbf qdisc is installed on both veth ends with the
// rate asked for, and a bulk walk takes at least as long as the rate
// allows.
func TestBandwidth(t *testing.T) {
	top := build(t, Config{})
	s := top.Site(0)
	store, err := mib.Open("if-mib:32")
	require.NoError(t, err)
	f := startFleet(t, s, 2, store)

	walk := func() (time.Duration, uint64) {
		t.Helper()
		before := txBytes(t, s)
		g, err := snmpClient(f.Addr(1), 3*time.Second, 2)
		require.NoError(t, err)
		defer g.Conn.Close()
		start := time.Now()
		n := 0
		require.NoError(t, g.BulkWalk("1.3.6.1.2.1", func(gosnmp.SnmpPDU) error { n++; return nil }))
		require.Equal(t, store.Len(), n)
		return time.Since(start), txBytes(t, s) - before
	}
	free, bytes := walk()

	const rate = 256_000 // bit/s
	const burst = 4000
	bw := s.Bandwidth(BandwidthSpec{Rate: rate, Burst: burst})
	require.NoError(t, bw.Inject(t.Context()))
	defer func() { require.NoError(t, bw.Recover(t.Context())) }()
	for _, end := range []struct {
		h    *netlink.Handle
		link int
	}{{top.rootH, s.outer}, {s.h, s.inner}} {
		l, err := end.h.LinkByIndex(end.link)
		require.NoError(t, err)
		qs, err := end.h.QdiscList(l)
		require.NoError(t, err)
		require.Len(t, qs, 1)
		tbf, ok := qs[0].(*netlink.Tbf)
		require.True(t, ok, "qdisc %s", qs[0].Type())
		assert.Equal(t, uint64(rate/8), tbf.Rate)
	}
	limited, limitedBytes := walk()
	// tbf lets at most burst bytes through at once and the rest at the
	// rate: the walk cannot be faster than that.
	floor := time.Duration(float64(limitedBytes-burst) / (rate / 8) * float64(time.Second))
	t.Logf("bulk walk of %d OIDs: %s unlimited (%d bytes), %s at %s (%d bytes, floor %s)", store.Len(), free, bytes, limited, formatRate(rate), limitedBytes, floor)
	require.Greater(t, floor, 500*time.Millisecond, "the walk should be big enough to feel the limit")
	assert.GreaterOrEqual(t, limited, floor*9/10)
	assert.Less(t, free, limited/2)

	require.NoError(t, bw.Recover(t.Context()))
	assert.NotContains(t, innerQdiscs(t, s), "tbf")
}

// txBytes is what the site's end of the veth sent: the replies.
func txBytes(t *testing.T, s *Site) uint64 {
	t.Helper()
	l, err := s.h.LinkByIndex(s.inner)
	require.NoError(t, err)
	return l.Attrs().Statistics.TxBytes
}

// TestNetem: netem is offered only where the kernel has it. This kernel
// (CI's) has not: there the fault must say unavailable.
func TestNetem(t *testing.T) {
	top := build(t, Config{})
	s := top.Site(0)
	nf := s.Netem(NetemSpec{Delay: 50 * time.Millisecond})
	err := top.NetemSupport()
	t.Logf("netem support: %v", err)
	if err != nil {
		assert.False(t, nf.Available())
		assert.ErrorIs(t, nf.Inject(t.Context()), ErrUnavailable)
		require.NoError(t, nf.Recover(t.Context()))
		return
	}
	f := startFleet(t, s, 1, nil)
	require.True(t, nf.Available())
	require.NoError(t, nf.Inject(t.Context()))
	defer func() { require.NoError(t, nf.Recover(t.Context())) }()
	start := time.Now()
	require.NoError(t, get(f.Addr(0), 2*time.Second))
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
}

// TestCloseRecoversFaults: Close stops a flap and removes filters and
// qdiscs with the site; Recover after Close is a no-op.
func TestCloseRecoversFaults(t *testing.T) {
	needNetns(t)
	top, err := Build(t.Context(), Config{Family: testFamily})
	require.NoError(t, err)
	s := top.Site(0)
	faults := []Fault{
		s.Drop(DropSpec{Prob: 0.5, Dir: BothWays}),
		s.Bandwidth(BandwidthSpec{Rate: 10e6}),
		s.Flap(FlapSpec{Down: 20 * time.Millisecond, Up: 20 * time.Millisecond}),
	}
	g := Group("", faults...)
	require.True(t, g.Available())
	require.NoError(t, g.Inject(t.Context()))
	run, prefixes := top.Run(), sitePrefixes(top)
	require.NoError(t, top.Close())
	requireGone(t, run, prefixes)
	require.NoError(t, g.Recover(t.Context()))
}

func TestGroupUndoesOnFailure(t *testing.T) {
	top := build(t, Config{})
	s := top.Site(0)
	bw := s.Bandwidth(BandwidthSpec{Rate: 1e6, Dir: FromAgents})
	second := s.Bandwidth(BandwidthSpec{Rate: 2e6, Dir: FromAgents})
	// A second root qdisc on the same end fails, and leaves the first
	// alone.
	require.NoError(t, bw.Inject(t.Context()))
	require.Error(t, second.Inject(t.Context()))
	assert.Equal(t, []string{"tbf"}, innerQdiscs(t, s))
	require.NoError(t, bw.Recover(t.Context()))
	assert.NotContains(t, innerQdiscs(t, s), "tbf")

	// A group recovers what it injected before the failure.
	g := Group("two limits", bw, second)
	require.Error(t, g.Inject(t.Context()))
	assert.NotContains(t, innerQdiscs(t, s), "tbf")
	require.NoError(t, bw.Inject(t.Context()), "bw was recovered by the group")
	require.NoError(t, bw.Recover(t.Context()))
	assert.Equal(t, "two limits", g.Name())
}

// innerQdiscs lists the kinds of the qdiscs on the site's veth end.
func innerQdiscs(t *testing.T, s *Site) []string {
	t.Helper()
	l, err := s.h.LinkByIndex(s.inner)
	require.NoError(t, err)
	qs, err := s.h.QdiscList(l)
	require.NoError(t, err)
	var kinds []string
	for _, q := range qs {
		kinds = append(kinds, q.Type())
	}
	return kinds
}
