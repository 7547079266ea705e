package simagent

import (
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Drop faults: probability, bursts, blackhole windows, every Nth.

func TestDropProbability(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(47), Seed: 3, Clock: frozen(), Faults: Faults{Drop: &Drop{Prob: 0.3}}})
	const n = 500
	got := answered(t, exchange(t, f, 0, dialAgent(t, f, 0), getReqs(t, n)))
	lost := n - len(got)
	share := float64(lost) / n
	t.Logf("lost %d of %d (%.3f)", lost, n, share)
	assert.InDelta(t, 0.3, share, 0.08)
	for id, k := range got {
		assert.Equal(t, 1, k, "request %d answered %d times", id, k)
	}
	s := f.AgentStats(0)
	assert.EqualValues(t, lost, s.Drops[DropFault])
	assert.EqualValues(t, n-lost, s.Responses)
}

func TestDropBurstGilbertElliott(t *testing.T) {
	const n = 2000
	burst := &Burst{GoodToBad: 0.05, BadToGood: 0.25, LossBad: 1}
	// The same long-run loss rate, independent: 0.05 / (0.05 + 0.25).
	f := startFleet(t, Config{Listen: testAddr(48), Agents: 2, Seed: 5, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(0)}, Faults{Drop: &Drop{Burst: burst}})
	require.NoError(t, err)
	_, err = f.SetFaults(Selector{Index: intp(1)}, Faults{Drop: &Drop{Prob: 1.0 / 6}})
	require.NoError(t, err)
	var runs [2][]int
	var loss [2]float64
	for i := range 2 {
		got := answered(t, exchange(t, f, i, dialAgent(t, f, i), getReqs(t, n)))
		runs[i] = lossRuns(got, n)
		loss[i] = float64(n-len(got)) / n
		assert.EqualValues(t, n-len(got), f.AgentStats(i).Drops[DropFault])
	}
	t.Logf("bursty: loss %.3f, %d runs, mean run %.2f; independent: loss %.3f, %d runs, mean run %.2f",
		loss[0], len(runs[0]), mean(runs[0]), loss[1], len(runs[1]), mean(runs[1]))
	assert.InDelta(t, 1.0/6, loss[0], 0.08)
	assert.InDelta(t, 1.0/6, loss[1], 0.05)
	// Bad-state runs last 1/0.25 = 4 requests on average; independent
	// losses 1/(1-1/6) = 1.2.
	assert.Greater(t, mean(runs[0]), 2.5, "losses do not come in bursts")
	assert.Less(t, mean(runs[1]), 1.6)
}

func TestDropBlackholeWindow(t *testing.T) {
	clk := newFakeClock()
	f := startFleet(t, Config{Listen: testAddr(49), Agents: 2, Clock: clk.Now})
	c0, c1 := dialAgent(t, f, 0), dialAgent(t, f, 1)
	_, err := f.SetFaults(Selector{Index: intp(0)}, Faults{Blackhole: &Blackhole{For: Duration(10 * time.Second)}})
	require.NoError(t, err)
	silent := func(what string) {
		t.Helper()
		assert.Empty(t, exchange(t, f, 0, c0, getReqs(t, 3)), what)
		assert.Len(t, exchange(t, f, 1, c1, getReqs(t, 1)), 1, "agent 1 must answer")
	}
	silent("at the start of the window")
	// A real client times out.
	_, err = gsClient(t, f, 0, gosnmp.Version2c, 200*time.Millisecond, 1).Get([]string{oidSysName})
	require.Error(t, err)
	waitFor(t, "the client's two attempts", func() bool { return f.AgentStats(0).Drops[DropBlackhole] == 5 })
	clk.Advance(9*time.Second + 999*time.Millisecond)
	silent("just before the window ends")
	clk.Advance(time.Millisecond)
	assert.Len(t, exchange(t, f, 0, c0, getReqs(t, 3)), 3, "answers once the window is over")
	assert.EqualValues(t, 8, f.AgentStats(0).Drops[DropBlackhole])

	// For 0: silent until replaced.
	_, err = f.SetFaults(Selector{Index: intp(0)}, Faults{Blackhole: &Blackhole{}})
	require.NoError(t, err)
	clk.Advance(24 * time.Hour)
	silent("a day later")
	_, err = f.SetFaults(Selector{Index: intp(0)}, Faults{})
	require.NoError(t, err)
	assert.Len(t, exchange(t, f, 0, c0, getReqs(t, 2)), 2)
	assert.EqualValues(t, 11, f.AgentStats(0).Drops[DropBlackhole])
}

func TestDropEveryNth(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(50), Clock: frozen(), Faults: Faults{Drop: &Drop{EveryNth: 3}}})
	c := dialAgent(t, f, 0)
	got := answered(t, exchange(t, f, 0, c, getReqs(t, 12)))
	var ids []int
	for id := range 12 {
		if got[uint32(id+1)] == 0 {
			ids = append(ids, id+1)
		}
	}
	assert.Equal(t, []int{3, 6, 9, 12}, ids)
	// New faults count afresh.
	_, err := f.SetFaults(Selector{}, Faults{Drop: &Drop{EveryNth: 2}})
	require.NoError(t, err)
	got = answered(t, exchange(t, f, 0, c, getReqs(t, 5)))
	assert.Equal(t, map[uint32]int{1: 1, 3: 1, 5: 1}, got)
}

// lossRuns returns the lengths of runs of consecutive lost requests 1..n.
func lossRuns(got map[uint32]int, n int) []int {
	var runs []int
	run := 0
	for id := 1; id <= n+1; id++ {
		if id <= n && got[uint32(id)] == 0 {
			run++
			continue
		}
		if run > 0 {
			runs = append(runs, run)
		}
		run = 0
	}
	return runs
}

func mean(xs []int) float64 {
	s := 0
	for _, x := range xs {
		s += x
	}
	return float64(s) / float64(len(xs))
}
