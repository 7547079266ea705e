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
	sc := &scenarios.Scenario{Load: scenarios.Load{Deadline: scenarios.Duration(time.Second)}, Invariants: scenarios.Invariants{MaxInFlight: 10}}
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
	require.GreaterOrEqual(t, len(res.Evidence), 4)
	assert.Equal(t, "over the bound from 100ms to 300ms (3 samples), peak 40 at 200ms: the harness handed over only 0 polls late around it (latest 0s after due), fewer than the 30 over the bound, and the process was not starved (its threads ran 0s, waited 0s for a CPU)", res.Evidence[0])
	assert.Equal(t, "phase slow: peak 40 polls in flight at 200ms, 45 goroutines", res.Evidence[1])
	assert.Contains(t, res.Evidence[2], "at 200ms: 40 polls in flight, 45 goroutines")
	assert.Contains(t, res.Evidence[3], "main.wait")
}

// lagged marks samples[i] as taken right after the harness handed over
// late polls late, the latest lag after their due time.
func lagged(samples []report.Sample, i, late int, lag time.Duration) []report.Sample {
	samples[i].Late, samples[i].DispatchLag = late, lag
	return samples
}

// TestBoundsForgiveOnlyTheHarnessCatchUp: a moment over the in-flight and
// goroutine bounds made of polls the harness itself handed over late (it
// was descheduled, then caught up), or while the machine starved the
// process, is forgiven and named; one the harness's side does not
// explain, one its late polls cannot account for, and one that outlasts
// every poll's deadline (a pile-up) still fail.
func TestBoundsForgiveOnlyTheHarnessCatchUp(t *testing.T) {
	// grace: a 1s deadline + 500ms cancel latency; a round: the 1s interval.
	sc := &scenarios.Scenario{
		Load:       scenarios.Load{Deadline: scenarios.Duration(time.Second), Interval: scenarios.Duration(time.Second)},
		Phases:     []scenarios.Phase{{Name: "p"}},
		Invariants: scenarios.Invariants{MaxInFlight: 10, MaxGoroutines: 10, MaxCancelLatency: scenarios.Duration(500 * time.Millisecond)},
	}
	phases := []report.PhaseReport{{Name: "p", Start: 0}}
	// 100ms apart: over the bound (10; goroutines 5 + 10) from 200ms to
	// 400ms, peak 40, 30 over.
	spikeVals := []int{1, 2, 25, 40, 30, 3, 2}
	spike := func() []report.Sample { return samplesOf(spikeVals...) }
	// quiet is n samples under the bound before the spike's excursion.
	quiet := func(n int) []report.Sample {
		vals := make([]int, n)
		for i := range vals {
			vals[i] = 1
		}
		return samplesOf(append(vals, spikeVals[2:]...)...)
	}
	check := func(samples []report.Sample) (report.InvariantResult, report.InvariantResult) {
		ev := &Evidence{Scenario: sc, Samples: samples, Phases: phases, Base: report.Sample{Goroutines: 5}, After: report.Sample{Goroutines: 5}}
		return inFlightBounded(ev), goroutinesBounded(ev)
	}
	t.Run("a catch-up is forgiven and named", func(t *testing.T) {
		for _, at := range []int{1, 2, 4} { // just before, at the start, during
			f, g := check(lagged(spike(), at, 35, 700*time.Millisecond))
			assert.True(t, f.Pass, "late polls in sample %d: %s %v", at, f.Summary, f.Evidence)
			assert.True(t, g.Pass, "late polls in sample %d: %s %v", at, g.Summary, g.Evidence)
			assert.Equal(t, "peak 40 polls in flight at 300ms (bound 10); over it 1 time(s), up to 40 in flight, each in at most 3 samples in a row (200ms from first to last): 1 right after the harness handed over up to 35 polls late (up to 700ms after they came due); the harness's side, not a pile-up, forgiven within 1.5s (the longest deadline + maxCancelLatency)", f.Summary)
			assert.Contains(t, g.Summary, "over it 1 time(s), up to 45 goroutines")
		}
		// Late polls as long before the excursion as a poll may live.
		f, _ := check(lagged(quiet(16), 1, 35, time.Second))
		assert.True(t, f.Pass, "late polls 1.5s before the excursion at 1.6s: %s", f.Summary)
	})
	t.Run("a moment while the machine starved the process is forgiven", func(t *testing.T) {
		samples := spike()
		for i := 2; i <= 4; i++ { // the excursion's windows: waited more than ran
			samples[i].CPU = probe.CPUTime{Running: 40 * time.Millisecond, Waiting: 60 * time.Millisecond}
		}
		f, g := check(samples)
		assert.True(t, f.Pass, f.Evidence)
		assert.True(t, g.Pass, g.Evidence)
		assert.Contains(t, f.Summary, "1 while the machine starved the process (its threads waited 180ms for a CPU, ran 120ms)")
		samples[3].CPU.Running = time.Second // over the excursion it ran more than it waited
		f, _ = check(samples)
		assert.False(t, f.Pass, f.Summary)
		assert.Contains(t, f.Evidence[0], "the process was not starved (its threads ran 1.08s, waited 180ms for a CPU)")

		// A round's burst caught 4ms after the sample before, whose
		// window holds the starvation (walk-stall's run: ran 38ms, waited
		// 554ms; then ran 12ms, waited 10ms): the look-back counts it.
		samples = samplesOf(1, 2, 2, 40, 3)
		samples[2].T, samples[3].T = 296*time.Millisecond, 300*time.Millisecond
		samples[2].CPU = probe.CPUTime{Running: 38 * time.Millisecond, Waiting: 554 * time.Millisecond}
		samples[3].CPU = probe.CPUTime{Running: 12 * time.Millisecond, Waiting: 10 * time.Millisecond}
		f, _ = check(samples)
		assert.True(t, f.Pass, f.Evidence)
		assert.Contains(t, f.Summary, "its threads waited 564ms for a CPU, ran 50ms")

		// Starved, but over the bound for longer than a round of the
		// schedule (1.2s, within the 1.5s grace): the poller's pace.
		vals := []int{1, 2}
		for range 13 {
			vals = append(vals, 40)
		}
		samples = samplesOf(append(vals, 3)...)
		for i := range samples {
			samples[i].CPU = probe.CPUTime{Running: 10 * time.Millisecond, Waiting: 90 * time.Millisecond}
		}
		f, g = check(samples)
		assert.False(t, f.Pass, f.Summary)
		assert.False(t, g.Pass, g.Summary)
		assert.Equal(t, "over the bound from 200ms to 1.4s (13 samples), peak 40 at 200ms: longer than a load interval (1s) while the machine starved the process, and the harness handed over only 0 polls late around it, fewer than the 30 over the bound", f.Evidence[0])
	})
	t.Run("no harness lag: fails", func(t *testing.T) {
		f, g := check(spike())
		assert.False(t, f.Pass)
		assert.False(t, g.Pass)
		assert.Contains(t, f.Evidence[0], "the harness handed over only 0 polls late around it")
	})
	t.Run("too few late polls for the excess: fails", func(t *testing.T) {
		f, _ := check(lagged(spike(), 2, 29, 150*time.Millisecond))
		assert.False(t, f.Pass, "29 late polls cannot account for 30 over the bound")
		assert.Contains(t, f.Evidence[0], "only 29 polls late around it (latest 150ms after due), fewer than the 30 over the bound")
	})
	t.Run("late polls long before: fails", func(t *testing.T) {
		f, _ := check(lagged(quiet(17), 1, 35, time.Second))
		assert.False(t, f.Pass, "late polls 1.6s before the excursion, more than a poll may live: %s", f.Summary)
	})
	t.Run("a pile-up outlasts the grace: fails whatever the lag", func(t *testing.T) {
		vals := []int{1, 2}
		for range 20 { // over the bound for 1.9s, past the 1.5s
			vals = append(vals, 200)
		}
		samples := samplesOf(append(vals, 3)...)
		for i := range samples { // the harness lagged, and was starved, all along
			samples[i].Late, samples[i].DispatchLag = 500, time.Second
			samples[i].CPU = probe.CPUTime{Running: 10 * time.Millisecond, Waiting: 90 * time.Millisecond}
		}
		f, g := check(samples)
		assert.False(t, f.Pass, f.Summary)
		assert.False(t, g.Pass, g.Summary)
		assert.Contains(t, f.Summary, "20 of 23 samples over it, first at 200ms")
		assert.Equal(t, "over the bound from 200ms to 2.1s (20 samples), peak 200 at 200ms: longer than the 1.5s any poll may live (the longest deadline + maxCancelLatency)", f.Evidence[0])
	})
	t.Run("a phase's longer deadline widens the grace", func(t *testing.T) {
		long := *sc
		long.Phases = []scenarios.Phase{{Name: "p"}, {Name: "q", Deadline: scenarios.Duration(3 * time.Second)}}
		assert.Equal(t, 3500*time.Millisecond, graceOf(&long))
		assert.Equal(t, 1500*time.Millisecond, graceOf(sc))
	})
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
