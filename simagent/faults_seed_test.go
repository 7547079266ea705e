package simagent

import (
	"math"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Selectors and run-time changes, same-seed replay, and stats.

// --- selectors and run-time changes ---

func TestSelectorsResolveAsDocumented(t *testing.T) {
	labels := []LabelRange{{From: 0, To: 3, Labels: map[string]string{"rack": "a"}}, {From: 4, To: 9, Labels: map[string]string{"rack": "b", "os": "x"}}}
	f := startFleet(t, Config{Listen: testAddr(61), Agents: 10, Seed: 7, Labels: labels, Clock: frozen()})
	same := startFleet(t, Config{Listen: testAddr(62), Agents: 10, Seed: 7, Labels: labels, Clock: frozen()})
	other := startFleet(t, Config{Listen: testAddr(63), Agents: 10, Seed: 8, Labels: labels, Clock: frozen()})
	sel := func(f *Fleet, s Selector) []int {
		t.Helper()
		idx, err := f.Select(s)
		require.NoError(t, err, "%s", s)
		return idx
	}
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	assert.Equal(t, all, sel(f, Selector{}))
	assert.Equal(t, all, sel(f, Selector{All: true}))
	assert.Equal(t, []int{3}, sel(f, Selector{Index: intp(3)}))
	assert.Equal(t, []int{2, 3, 4}, sel(f, Selector{Range: &IndexRange{From: 2, To: 4}}))
	assert.Equal(t, []int{0, 1, 2, 3}, sel(f, Selector{Label: "rack=a"}))
	assert.Equal(t, []int{4, 5, 6, 7, 8, 9}, sel(f, Selector{Label: "os=x"}))
	_, err := f.Select(Selector{Label: "rack=c"})
	assert.ErrorContains(t, err, "matches no agent (labels: os=x, rack=a, rack=b)", "a label that matches none is an error, never an empty set")

	three := sel(f, Selector{Count: 3})
	assert.Len(t, three, 3)
	assert.Len(t, unique(three), 3)
	assert.Equal(t, three, sel(same, Selector{Count: 3}), "same seed, same agents")
	assert.NotEqual(t, three, sel(other, Selector{Count: 3}), "another seed, other agents")
	five := sel(f, Selector{Count: 5})
	assert.Subset(t, five, three, "a smaller share is part of a larger one")
	assert.Len(t, sel(f, Selector{Percent: 25}), 2, "25%% of 10 rounds down")
	assert.Len(t, sel(f, Selector{Percent: 1}), 1, "at least one")
	assert.Equal(t, five, sel(f, Selector{Percent: 50}))
	assert.ElementsMatch(t, all, sel(f, Selector{Count: 10}))

	for _, bad := range []Selector{
		{Index: intp(10)}, {Index: intp(-1)}, {Count: 11}, {Count: -1}, {Percent: 101},
		{Range: &IndexRange{From: 5, To: 3}}, {Range: &IndexRange{From: 0, To: 10}},
		{Label: "rack"}, {Label: "=a"}, {Label: "rack=c"}, {Percent: math.NaN()},
		{Index: intp(1), Count: 2}, {All: true, Label: "rack=a"},
	} {
		_, err := f.Select(bad)
		assert.Error(t, err, "%+v", bad)
		_, err = f.SetFaults(bad, Faults{Blackhole: &Blackhole{}})
		assert.Error(t, err, "%+v", bad)
	}
	for _, text := range []string{"all", "index=4", "count=3", "percent=12.5", "range=2-5", "label=rack=b"} {
		s, err := ParseSelector(text)
		require.NoError(t, err, text)
		assert.Equal(t, text, s.String())
		again, err := ParseSelector(s.String())
		require.NoError(t, err)
		assert.Equal(t, s, again)
	}
	for _, text := range []string{"index", "index=x", "range=3", "count=1.5", "what=1"} {
		_, err := ParseSelector(text)
		assert.Error(t, err, text)
	}
	for i := range 10 {
		assert.Equal(t, Faults{}, f.Faults(i), "resolving changed nothing")
	}
}

func unique(xs []int) map[int]bool {
	m := map[int]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func TestSetFaultsChangesOnlySelectedAgentsWhileRunning(t *testing.T) {
	labels := []LabelRange{{From: 0, To: 2, Labels: map[string]string{"role": "core"}}}
	f := startFleet(t, Config{Listen: testAddr(64), Agents: 8, Seed: 1, Labels: labels, Clock: frozen()})
	conns := make([]*rawConn, f.Len())
	for i := range conns {
		conns[i] = dialAgent(t, f, i)
	}
	// probe sends one Get to every agent and returns those that answered.
	id := uint32(0)
	probe := func() []int {
		t.Helper()
		var out []int
		id++
		for i, c := range conns {
			if len(exchange(t, f, i, c, [][]byte{getReq(t, id)})) > 0 {
				out = append(out, i)
			}
		}
		return out
	}
	require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7}, probe())

	silence := Faults{Blackhole: &Blackhole{}}
	n, err := f.SetFaults(Selector{Label: "role=core"}, silence)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, []int{3, 4, 5, 6, 7}, probe())

	n, err = f.SetFaults(Selector{Index: intp(1)}, Faults{})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []int{1, 3, 4, 5, 6, 7}, probe())

	n, err = f.SetFaults(Selector{Range: &IndexRange{From: 6, To: 7}}, silence)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []int{1, 3, 4, 5}, probe())

	picked, err := f.Select(Selector{Count: 2})
	require.NoError(t, err)
	_, err = f.SetFaults(Selector{All: true}, Faults{})
	require.NoError(t, err)
	_, err = f.SetFaults(Selector{Count: 2}, silence)
	require.NoError(t, err)
	want := []int{}
	for i := range f.Len() {
		if !slices.Contains(picked, i) {
			want = append(want, i)
		}
	}
	assert.Equal(t, want, probe())

	// Faults read back as set; a bad fault changes nothing.
	for i := range f.Len() {
		if slices.Contains(picked, i) {
			assert.Equal(t, silence, f.Faults(i))
		} else {
			assert.Equal(t, Faults{}, f.Faults(i))
		}
	}
	_, err = f.SetFaults(Selector{}, Faults{Drop: &Drop{Prob: 1.5}})
	require.ErrorIs(t, err, ErrBadFault)
	assert.Contains(t, err.Error(), "drop.prob")
	assert.Equal(t, want, probe())
}

// --- the same seed gives the same decisions ---

// faultMix hits requests with every random fault that keeps replies
// immediate.
var faultMix = Faults{
	Drop:        &Drop{Prob: 0.1, Burst: &Burst{GoodToBad: 0.05, BadToGood: 0.5, LossBad: 0.9}},
	Duplicate:   &Duplicate{Prob: 0.15},
	WrongID:     &Chance{Prob: 0.1},
	Garbage:     &Chance{Prob: 0.1},
	ErrorStatus: &ErrorStatus{Status: "genErr", Prob: 0.1},
}

// decisionRun starts a fleet, applies faultMix to every agent and returns
// what agents 1 and 2 sent back, datagram by datagram, for the same 300
// requests (request-ids 1000, 2000, ...: a wrong id stands out).
func decisionRun(t *testing.T, x int, seed uint64) (agent1, agent2 [][]byte) {
	t.Helper()
	f := startFleet(t, Config{Listen: testAddr(x), Agents: 3, Seed: seed, Clock: frozen()})
	_, err := f.SetFaults(Selector{}, faultMix)
	require.NoError(t, err)
	reqs := make([][]byte, 300)
	for i := range reqs {
		reqs[i] = getReq(t, uint32(i+1)*1000)
	}
	agent1 = exchange(t, f, 1, dialAgent(t, f, 1), reqs)
	agent2 = exchange(t, f, 2, dialAgent(t, f, 2), reqs)
	return agent1, agent2
}

// outcomes classifies what decisionRun got back.
func outcomes(dgrams [][]byte) map[string]int {
	m := map[string]int{}
	ids := map[uint32]int{}
	for _, b := range dgrams {
		p, err := decodePacket(b)
		switch {
		case err != nil:
			m["garbage"]++
			continue
		case p.RequestID%1000 != 0:
			m["wrongID"]++
		case p.Error == gosnmp.GenErr:
			m["genErr"]++
		}
		ids[p.RequestID]++
	}
	for id := uint32(1000); id <= 300_000; id += 1000 {
		switch {
		case ids[id] == 0:
			m["unanswered"]++
		case ids[id] > 1:
			m["duplicated"]++
		}
	}
	return m
}

func TestSameSeedSameDecisions(t *testing.T) {
	a1, a2 := decisionRun(t, 65, 42)
	b1, b2 := decisionRun(t, 66, 42)
	c1, _ := decisionRun(t, 67, 43)
	t.Logf("seed 42 agent 1: %d datagrams %v", len(a1), outcomes(a1))
	t.Logf("seed 42 agent 2: %d datagrams %v", len(a2), outcomes(a2))
	t.Logf("seed 43 agent 1: %d datagrams %v", len(c1), outcomes(c1))
	assert.Equal(t, a1, b1, "same seed: the same datagrams, byte for byte, in the same order")
	assert.Equal(t, a2, b2)
	assert.NotEqual(t, outcomes(a1), outcomes(c1), "another seed decides otherwise")
	assert.NotEqual(t, outcomes(a1), outcomes(a2), "agents draw from their own streams")
	o := outcomes(a1)
	for _, k := range []string{"unanswered", "duplicated", "wrongID", "garbage", "genErr"} {
		assert.Positive(t, o[k], "no %s: the mix did not exercise every fault", k)
	}
}

// seededDelays computes, apart from any fleet, the delays an agent with
// index agent in a fleet with seed decides for its first n requests under
// faults given at start. Wall time can only make replies look later, never
// earlier, so these are exact lower bounds for what a client measures.
func seededDelays(t testing.TB, faults Faults, seed uint64, agent, n int) []time.Duration {
	t.Helper()
	p, err := compile(&faults)
	require.NoError(t, err)
	at := time.Unix(1_700_000_000, 0)
	fs := newFaultState(p, at, seed, agent, 0)
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = fs.decide(at).delay
	}
	return out
}

func TestSameSeedSameDelays(t *testing.T) {
	t.Parallel()
	const n = 12
	faults := Faults{Delay: &Delay{Jitter: Duration(3 * time.Second)}}
	want21, want22 := seededDelays(t, faults, 21, 0, n), seededDelays(t, faults, 22, 0, n)
	far := 0
	for i := range n {
		if want21[i]-want22[i] > time.Second {
			far++
		}
	}
	require.GreaterOrEqual(t, far, 2, "seeds 21 and 22 should draw apart: %v %v", want21, want22)

	var fleets []*Fleet
	for k, seed := range []uint64{21, 21, 22} {
		fleets = append(fleets, startFleet(t, Config{Listen: testAddr(68 + k), Seed: seed, Clock: frozen(), Faults: faults}))
	}
	got := latenciesOf(t, n, fleets...)
	t.Logf("seed 21 decides %v\n  fleet a: %v\n  fleet b: %v\nseed 22 decides %v\n  fleet c: %v", want21, got[0], got[1], want22, got[2])
	for k, want := range [][]time.Duration{want21, want21, want22} {
		for i, d := range want {
			l := got[k][i]
			assert.GreaterOrEqual(t, l, d, "fleet %d request %d: replied before its seed's delay", k, i+1)
			assert.Less(t, l, d+2*time.Second, "fleet %d request %d: far later than its seed's delay", k, i+1)
		}
	}
	// Seen from the wire, fleet c does not follow seed 21.
	early := 0
	for i := range n {
		if got[2][i] < want21[i] {
			early++
		}
	}
	assert.Positive(t, early, "fleet c behaves as seed 21 decides")
}

// --- stats ---

func TestStatsCountEverything(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(71), Agents: 3, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{Delay: &Delay{Fixed: Duration(20 * time.Millisecond)}, Drop: &Drop{EveryNth: 4}})
	require.NoError(t, err)
	_, err = f.SetFaults(Selector{Index: intp(2)}, Faults{Truncate: &Truncate{BulkVarbinds: 2}, Duplicate: &Duplicate{}})
	require.NoError(t, err)

	type tally struct{ in, out, sent, got int }
	var want [3]tally
	// Agent 0: 5 good requests, 2 in a wrong community, 1 malformed, one
	// v1 GetBulk.
	c0 := dialAgent(t, f, 0)
	var reqs [][]byte
	reqs = append(reqs, getReqs(t, 5)...)
	wrongCommunity := reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 6, oidSysName)
	wrongCommunity.Community = "nope"
	reqs = append(reqs, marshal(t, wrongCommunity), marshal(t, wrongCommunity), []byte{0x30, 0x03, 0x02, 0x01})
	v1Bulk := bulkPacket(7, 0, 3, oidSysDescr)
	v1Bulk.Version = gosnmp.Version1
	reqs = append(reqs, marshal(t, v1Bulk))
	for _, b := range reqs {
		want[0].in += len(b)
	}
	d0 := exchange(t, f, 0, c0, reqs)
	want[0].in += len(marshal(t, wrongCommunityMarker(f)))
	for _, b := range d0 {
		want[0].out += len(b)
	}
	// Agent 1: 8 delayed requests, every 4th dropped.
	c1 := dialAgent(t, f, 1)
	for id := uint32(1); id <= 8; id++ {
		b := getReq(t, id)
		want[1].in += len(b)
		c1.send(b)
	}
	for range 6 {
		want[1].out += len(c1.mustRecv())
	}
	// Agent 2: 3 bulk requests cut to 2 varbinds, each sent twice.
	c2 := dialAgent(t, f, 2)
	var bulk [][]byte
	for id := uint32(1); id <= 3; id++ {
		bulk = append(bulk, marshal(t, bulkPacket(id, 0, 10, ".1.3.6.1")))
		want[2].in += len(bulk[id-1])
	}
	d2 := exchange(t, f, 2, c2, bulk)
	want[2].in += len(marshal(t, wrongCommunityMarker(f)))
	require.Len(t, d2, 6)
	for _, b := range d2 {
		assert.Len(t, mustDecode(t, b).Variables, 2)
		want[2].out += len(b)
	}
	// And one datagram to an address of no agent.
	stray, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(addAddr(f.Addr(0).Addr(), 5), f.Addr(0).Port())))
	require.NoError(t, err)
	defer stray.Close()
	_, err = stray.Write(getReq(t, 1))
	require.NoError(t, err)
	waitFor(t, "the stray datagram", func() bool { return f.Stats().Drops[DropUnknownAgent] == 1 })

	s0, s1, s2 := f.AgentStats(0), f.AgentStats(1), f.AgentStats(2)
	drops := func(kv ...any) map[string]uint64 {
		m := map[string]uint64{}
		for _, r := range DropReasons() {
			m[r] = 0
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = uint64(kv[i+1].(int))
		}
		return m
	}
	assert.Equal(t, Stats{Requests: 10, Responses: 5, Malformed: 1, BytesIn: uint64(want[0].in), BytesOut: uint64(want[0].out),
		Drops: drops(DropBadCommunity, 3, DropMalformed, 1, DropUnsupported, 1)}, s0)
	assert.Equal(t, Stats{Requests: 8, Responses: 6, Delayed: 6, BytesIn: uint64(want[1].in), BytesOut: uint64(want[1].out),
		Drops: drops(DropFault, 2)}, s1)
	assert.Equal(t, Stats{Requests: 4, Responses: 6, Truncated: 3, Faulted: 3, BytesIn: uint64(want[2].in), BytesOut: uint64(want[2].out),
		Drops: drops(DropBadCommunity, 1)}, s2)
	total := f.Stats()
	assert.Equal(t, s0.Requests+s1.Requests+s2.Requests, total.Requests)
	assert.Equal(t, s0.Responses+s1.Responses+s2.Responses, total.Responses)
	assert.Equal(t, s0.BytesIn+s1.BytesIn+s2.BytesIn, total.BytesIn)
	assert.Equal(t, s0.BytesOut+s1.BytesOut+s2.BytesOut, total.BytesOut)
	assert.EqualValues(t, 6, total.Delayed)
	assert.EqualValues(t, 3, total.Truncated)
	assert.EqualValues(t, 1, total.Malformed)
	assert.Equal(t, drops(DropBadCommunity, 4, DropMalformed, 1, DropUnsupported, 1, DropFault, 2, DropUnknownAgent, 1), total.Drops)
}
