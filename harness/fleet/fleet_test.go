package fleet

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/scenarios"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

const tiny = `version: 1
name: tiny
fleet:
  agents: 3
  listen: 127.171.0.1:0
  profile: if-mib:2
load:
  interval: 1s
  ops: [{kind: get, oids: [.1.3.6.1.2.1.1.3.0]}]
phases: [{name: one, duration: 1s}]
`

func TestStartInProcess(t *testing.T) {
	sc, err := scenarios.Parse("tiny.yaml", []byte(tiny))
	require.NoError(t, err)
	f, err := Start(t.Context(), Config{Scenario: sc, Listen: netip.MustParseAddrPort("127.171.0.1:0"), Seed: 1, ReadyTimeout: 10 * time.Second})
	require.NoError(t, err, "the agents answer a GetNext before Start returns")
	defer f.Close()
	assert.Equal(t, 3, f.Len())
	assert.Equal(t, "127.171.0.3", f.Addr(2).Addr().String())
	assert.Positive(t, f.Store().Len())
	n, err := f.SetFaults(simagent.Selector{Range: &simagent.IndexRange{From: 1, To: 1}}, simagent.Faults{Blackhole: &simagent.Blackhole{}})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.NotNil(t, f.Faults(1).Blackhole)
	assert.Nil(t, f.Faults(0).Blackhole)

	sc.Fleet.Data, sc.Fleet.Profile = "no-such-file.snmprec", ""
	_, err = Start(t.Context(), Config{Scenario: sc, Listen: netip.MustParseAddrPort("127.171.0.1:0")})
	assert.ErrorContains(t, err, "harness: scenario tiny: fleet data")
}

// startFleet starts n agents on base with labels on the first.
func startFleet(t *testing.T, store *mib.Store, base string, n int) *simagent.Fleet {
	t.Helper()
	f, err := simagent.Start(t.Context(), simagent.Config{Agents: n, Listen: netip.MustParseAddrPort(base), Store: store,
		Labels: []simagent.LabelRange{{From: 0, To: 0, Labels: map[string]string{"role": "first"}}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// A Set numbers the agents of its fleets one after another and changes
// faults in the fleet each agent lives in.
func TestSetJoinsFleets(t *testing.T) {
	store, err := mib.Open("if-mib:2")
	require.NoError(t, err)
	a := startFleet(t, store, "127.172.0.1:0", 2)
	b := startFleet(t, store, "127.173.0.1:0", 3)
	s := NewSet(7, a, b)
	require.Equal(t, 5, s.Len())
	assert.Equal(t, a.Addr(1), s.Addr(1))
	assert.Equal(t, b.Addr(0), s.Addr(2))
	assert.Equal(t, b.Addr(2), s.Addr(4))
	require.NoError(t, WaitReady(t.Context(), s, 10*time.Second))

	idx, err := s.Select(simagent.Selector{Label: "role=first"})
	require.NoError(t, err)
	assert.Equal(t, []int{0, 2}, idx, "labels are the fleets' own, at global indexes")

	n, err := s.SetFaults(simagent.Selector{Range: &simagent.IndexRange{From: 1, To: 3}}, simagent.Faults{Blackhole: &simagent.Blackhole{}})
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	for i, want := range []bool{false, true, true, true, false} {
		assert.Equal(t, want, s.Faults(i).Blackhole != nil, "agent %d", i)
	}
	assert.NotNil(t, a.Faults(1).Blackhole, "agent 1 is a's second")
	assert.Nil(t, b.Faults(2).Blackhole)

	_, err = s.SetFaults(simagent.Selector{All: true}, simagent.Faults{})
	require.NoError(t, err)
	assert.Nil(t, b.Faults(0).Blackhole, "all: every fleet cleared")
	assert.GreaterOrEqual(t, s.Stats().Requests, a.Stats().Requests+1, "the set sums its fleets' counters")
	assert.NoError(t, s.Close())
}
