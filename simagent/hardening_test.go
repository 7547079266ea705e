package simagent

import (
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests of issue 15's findings 4 (unbounded delay queue) and 8
// (bulk-cut not counted as faulted).

func TestFinding4DelaysBounded(t *testing.T) {
	for _, spec := range []string{"delay=1000000h", "delay=61m", "jitter=2h", "maxdelay=90m", "slow=1.3.6.1:2h"} {
		_, err := ParseFaultSpec(spec)
		require.ErrorIs(t, err, ErrBadFault, spec)
		assert.ErrorContains(t, err, "over the bound of 1h0m0s (simagent.MaxDelay)", spec)
	}
	_, err := ParseFaultSpec("delay=1h,jitter=1h,dist=pareto")
	require.NoError(t, err, "the bound itself is allowed")
	f := Faults{Delay: &Delay{Prefixes: []PrefixDelay{{OID: "1.3.6", Delay: Duration(3 * time.Hour)}}}}
	assert.ErrorContains(t, f.Validate(), "delay.prefixes[0].delay: delay 3h0m0s over the bound")
	// A heavy tail and a prefix on top stay within the bound.
	p, err := compile(&Faults{Delay: &Delay{Fixed: MaxDelay, Prefixes: []PrefixDelay{{OID: "1.3", Delay: MaxDelay}}}})
	require.NoError(t, err)
	assert.Equal(t, MaxDelay.D(), p.delayFor(MaxDelay.D(), [][]uint32{{1, 3, 6}}))
}

func TestFinding4DelayQueueCappedAndClearedFaultsFreeIt(t *testing.T) {
	const held, sent = 20, 50
	f := startFleet(t, Config{Listen: testAddr(150), Seed: 3, MaxPending: held, Faults: Faults{Delay: &Delay{Fixed: Duration(time.Hour)}}})
	c := dialAgent(t, f, 0)
	for _, r := range getReqs(t, sent) {
		c.send(r)
	}
	waitFor(t, "every request handled", func() bool {
		s := f.Stats()
		return s.Drops[DropQueueFull]+uint64(f.Pending()) == sent
	})
	s := f.Stats()
	assert.Equal(t, held, f.Pending(), "the queue holds MaxPending replies")
	assert.Equal(t, uint64(sent-held), s.Drops[DropQueueFull], "the rest is dropped and counted")
	assert.Equal(t, uint64(sent), s.Delayed)
	_, ok := c.recv(100 * time.Millisecond)
	assert.False(t, ok, "nothing is sent before its hour")

	// Clearing the faults sends the held replies now: the queue is empty.
	n, err := f.SetFaults(Selector{All: true}, Faults{})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	waitFor(t, "the queue empties", func() bool { return f.Pending() == 0 })
	got := 0
	for range held {
		if _, ok := c.recv(waitTimeout); ok {
			got++
		}
	}
	assert.Equal(t, held, got, "the held replies went out when the delay was cleared")
	assert.Equal(t, uint64(held), f.Stats().Responses)
}

func TestFinding4DelayQueueBytesCapped(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(151), Seed: 3, MaxPendingBytes: 1, Faults: Faults{Delay: &Delay{Fixed: Duration(time.Hour)}}})
	c := dialAgent(t, f, 0)
	c.send(getReq(t, 1))
	waitFor(t, "the reply dropped: over MaxPendingBytes", func() bool { return f.Stats().Drops[DropQueueFull] == 1 })
	assert.Zero(t, f.Pending())
	_, err := Start(t.Context(), Config{Listen: testAddr(152), Store: testStore(t), MaxPending: -1})
	assert.ErrorIs(t, err, ErrConfig)
}

func TestFinding8BulkCutCountsAsFaulted(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(153), Seed: 3, Faults: Faults{Truncate: &Truncate{BulkVarbinds: 2}}})
	c := dialAgent(t, f, 0)
	resp := mustDecode(t, c.roundTrip(marshal(t, bulkPacket(7, 0, 10, "1.3.6.1.2.1.1"))))
	require.Len(t, resp.Variables, 2, "bulk-cut=2 cut the reply")
	s := f.Stats()
	assert.Equal(t, uint64(1), s.Truncated)
	assert.Equal(t, uint64(1), s.Faulted, "a reply cut by a fault is a faulted reply")

	// Without a truncate fault nothing counts as faulted.
	g := startFleet(t, Config{Listen: testAddr(154), Seed: 3})
	_, err := client(t, g, 0, gosnmp.Version2c).GetBulk([]string{"1.3.6.1.2.1.1"}, 0, 3)
	require.NoError(t, err)
	assert.Zero(t, g.Stats().Faulted)
}
