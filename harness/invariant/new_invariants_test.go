package invariant

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

func samplesOf(vals ...int) []report.Sample {
	out := make([]report.Sample, len(vals))
	for i, v := range vals {
		out[i] = report.Sample{T: time.Duration(i) * 100 * time.Millisecond, InFlight: v, FDs: 10 + v, UDPSockets: 2 + v, Goroutines: 5 + v}
	}
	return out
}

func TestInFlightBounded(t *testing.T) {
	sc := &scenarios.Scenario{Invariants: scenarios.Invariants{MaxInFlight: 10}}
	phases := []report.PhaseReport{{Name: "slow", Start: 0, End: time.Second}}
	ev := &Evidence{Scenario: sc, Samples: samplesOf(1, 5, 10, 3), Phases: phases}
	res := inFlightBounded(ev)
	assert.True(t, res.Pass, res.Summary)
	assert.Equal(t, "peak 10 polls in flight at 200ms (bound 10)", res.Summary)

	ev.Samples = samplesOf(1, 12, 40, 30)
	ev.PileUp = &PileUp{T: 200 * time.Millisecond, InFlight: 40, Goroutines: 45, Dump: probe.ParseGoroutines("goroutine 7 [select]:\nmain.wait()\n\t/x.go:1\ncreated by main.start in goroutine 1\n\t/x.go:2\n")}
	res = inFlightBounded(ev)
	assert.False(t, res.Pass)
	assert.Contains(t, res.Summary, "peak 40 in flight at 200ms, bound 10; 3 of 4 samples over it, first at 100ms")
	require.GreaterOrEqual(t, len(res.Evidence), 3)
	assert.Equal(t, "phase slow: peak 40 polls in flight at 200ms, 45 goroutines", res.Evidence[0])
	assert.Contains(t, res.Evidence[1], "at 200ms: 40 polls in flight, 45 goroutines")
	assert.Contains(t, res.Evidence[2], "main.wait")
}

func TestCancelLatency(t *testing.T) {
	sc := &scenarios.Scenario{Invariants: scenarios.Invariants{MaxCancelLatency: scenarios.Duration(250 * time.Millisecond)}}
	fast := report.CancelStats{Count: 100, P50: time.Millisecond, P99: 20 * time.Millisecond, Max: 300 * time.Millisecond}
	slow := report.CancelStats{Count: 100, P50: 900 * time.Millisecond, P99: 1700 * time.Millisecond, Max: 1800 * time.Millisecond}
	few := report.CancelStats{Count: 3, P50: 10 * time.Millisecond, P99: 400 * time.Millisecond, Max: 400 * time.Millisecond}
	ev := &Evidence{Scenario: sc, Phases: []report.PhaseReport{{Name: "a", Cancel: fast}, {Name: "b"}, {Name: "c", Cancel: few}}}
	res := cancelLatency(ev)
	assert.True(t, res.Pass, "p99 within the bound; a few slow ones judged by their median: %v", res.Evidence)
	ev.Phases[1].Cancel = slow
	res = cancelLatency(ev)
	assert.False(t, res.Pass)
	assert.Equal(t, "polls report long after their context ended: p99 1.7s in phase b (max 1.8s), bound 250ms", res.Summary)
	assert.Contains(t, res.Evidence, "phase b: 100 polls outlived their deadline; cancel latency p50 900ms, p99 1.7s, max 1.8s — p99 over the bound of 250ms")
	ev.Phases = nil
	assert.True(t, cancelLatency(ev).Pass, "no poll outlived its deadline")
}

func TestUDPDrops(t *testing.T) {
	zero, five := 0, 5
	sc := &scenarios.Scenario{Invariants: scenarios.Invariants{MaxDrops: &zero}}
	ev := &Evidence{Scenario: sc, Drops: Drops{RcvbufErrors: 7}}
	res := udpDrops(ev)
	assert.True(t, res.Pass, "other processes' drops do not count")
	assert.Contains(t, res.Summary, "7 RcvbufErrors")

	ev.Samples = []report.Sample{{T: 0}, {T: time.Second, SocketDrops: 3}, {T: 2 * time.Second, SocketDrops: 9}}
	ev.Phases = []report.PhaseReport{{Name: "burst", Start: 0, End: 3 * time.Second}}
	ev.Drops = Drops{Sockets: 9, Worst: []string{"udp 127.0.0.1:4000 -> * (inode 5): 9 drops, 212992 bytes queued"}}
	res = udpDrops(ev)
	assert.False(t, res.Pass)
	assert.Contains(t, res.Summary, "dropped 9 datagrams on the poller's sockets (bound 0)")
	assert.Equal(t, []string{"first drops seen at 1s", "phase burst: 9 drops", "udp 127.0.0.1:4000 -> * (inode 5): 9 drops, 212992 bytes queued"}, res.Evidence)
	sc.Invariants.MaxDrops = &five
	ev.Drops.Sockets = 5
	assert.True(t, udpDrops(ev).Pass, "within the bound")
}

func TestDescriptorsBounded(t *testing.T) {
	sc := &scenarios.Scenario{}
	ev := &Evidence{Scenario: sc, Base: report.Sample{FDs: 10, UDPSockets: 2}, Samples: samplesOf(0, 50, 3)}
	res := descriptorsBounded(ev)
	assert.True(t, res.Pass, "no bound set")
	sc.Invariants.MaxFds, sc.Invariants.MaxSockets = 20, 100
	ev.BaseFDs = map[int]string{0: "/dev/null"}
	ev.FDPeak = &FDPeak{T: 100 * time.Millisecond, FDs: 60, UDPSockets: 52,
		Table: map[int]string{0: "/dev/null", 7: "socket:[81234]", 8: "pipe:[3]"},
		UDP:   map[uint64]probe.UDPSocket{81234: {Inode: 81234}}}
	res = descriptorsBounded(ev)
	assert.False(t, res.Pass)
	assert.Equal(t, "60 descriptors at 100ms, 50 over baseline 10 (bound 20)", res.Summary)
	assert.Contains(t, res.Evidence, "fd 7 -> socket:[81234] = udp * -> * (inode 81234)", "descriptor and socket line up")
	assert.Contains(t, res.Evidence, "fd 8 -> pipe:[3]")

	sc.Invariants.MaxFds = 0
	ev.Counts.ByError = map[string]int{"emfile": 4}
	res = descriptorsBounded(ev)
	assert.False(t, res.Pass)
	assert.Contains(t, res.Summary, "4 polls failed with EMFILE")
}

func TestP99Trend(t *testing.T) {
	sc := &scenarios.Scenario{
		Phases:     []scenarios.Phase{{Name: "soak"}, {Name: "chaos", Faults: []scenarios.FaultSet{{}}}},
		Invariants: scenarios.Invariants{P99Trend: &scenarios.P99Trend{Window: scenarios.Duration(5 * time.Second), MaxGrowth: 2, Floor: scenarios.Duration(100 * time.Millisecond)}},
	}
	ms := time.Millisecond
	ev := &Evidence{Scenario: sc, P99Windows: map[int][]time.Duration{0: {200 * ms, 250 * ms, 300 * ms}, 1: {10 * ms, 9000 * ms}}}
	res := p99Trend(ev)
	assert.True(t, res.Pass, "1.5x in the steady phase; the faulty phase is not checked: %v", res.Evidence)
	ev.P99Windows[0] = []time.Duration{200 * ms, 900 * ms, 8000 * ms}
	res = p99Trend(ev)
	assert.False(t, res.Pass)
	require.Len(t, res.Evidence, 1)
	assert.Contains(t, res.Evidence[0], "phase soak: p99 grew 40.0x, from 200ms in the first window to 8s in the last")
	ev.P99Windows[0] = []time.Duration{2 * ms, 50 * ms}
	assert.True(t, p99Trend(ev).Pass, "under the floor growth is noise")
}
