package harness

import (
	"context"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/fleet"
	"github.com/snmpchaos/snmpchaos/internal/benchutil"
	"github.com/snmpchaos/snmpchaos/internal/proctest"
	"github.com/snmpchaos/snmpchaos/pollerlib"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// pass polls every agent of f once (a 3-OID Get) with workers goroutines
// and one pollerlib poller, and returns polls/s and the failures.
func pass(b *testing.B, f fleet.Fleet, workers int) (rate float64, failed int) {
	p, err := pollerlib.New(pollerlib.WithSockets(2))
	require.NoError(b, err)
	defer func() { require.NoError(b, p.Close(context.Background())) }()
	oids := []pollerlib.OID{
		pollerlib.MustParseOID(".1.3.6.1.2.1.1.3.0"), pollerlib.MustParseOID(".1.3.6.1.2.1.1.5.0"),
		pollerlib.MustParseOID(".1.3.6.1.2.1.2.2.1.10.1"),
	}
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	n := f.Len()
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := pollerlib.Target{Addr: f.Addr(i).String(), Community: pollerlib.Secret(f.Community())}
				if vbs, err := p.Get(context.Background(), t, oids...); err != nil || len(vbs) != len(oids) {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds(), int(errs.Load())
}

// BenchmarkFleetOutOfProcess polls 20,000 agents with pollerlib, once in
// this process and once in 2 simagent child processes, alternating over
// pairs of passes, and reports polls/s of each and the median ratio, with
// this process's goroutines and descriptors in each mode.
func BenchmarkFleetOutOfProcess(b *testing.B) {
	const agents, workers, pairs = 20000, 256, 3
	store, err := mib.Profile("if-mib:2")
	require.NoError(b, err)
	inproc, err := simagent.Start(b.Context(), simagent.Config{
		Agents: agents, Listen: netip.MustParseAddrPort("127.20.0.1:0"), Store: store, Seed: 42,
	})
	require.NoError(b, err)
	b.Cleanup(func() { _ = inproc.Close() })
	bin := proctest.SimagentBinary(b)
	spawned, err := fleet.Spawn(b.Context(), fleet.SpawnConfig{
		Binary: bin, Processes: 2, Agents: agents, Listen: netip.MustParseAddrPort("127.21.0.1:0"),
		Profile: store.Name(), Store: store, Community: "public", Seed: 42, Watch: time.Second,
	})
	require.NoError(b, err)
	b.Cleanup(func() { _ = spawned.Close() })

	var in, out []float64
	var inErr, outErr int
	var ratios []float64
	for b.Loop() {
		for k := range pairs {
			var ri, ro float64
			var ei, eo int
			if k%2 == 0 {
				ri, ei = pass(b, inproc, workers)
				ro, eo = pass(b, spawned, workers)
			} else {
				ro, eo = pass(b, spawned, workers)
				ri, ei = pass(b, inproc, workers)
			}
			in, out = append(in, ri), append(out, ro)
			inErr, outErr = inErr+ei, outErr+eo
			ratios = append(ratios, ro/ri)
		}
	}
	slices.Sort(ratios)
	ratio := ratios[len(ratios)/2]
	procs := spawned.Processes()
	b.ReportMetric(slices.Max(in), "inprocess-polls/s")
	b.ReportMetric(slices.Max(out), "2proc-polls/s")
	b.ReportMetric(ratio, "polls-ratio")
	b.Logf("3-OID Get x %d agents, %d workers, pollerlib 2 sockets, %d alternating pairs: in-process best %.0f polls/s (%d failed in all runs), 2 child processes best %.0f polls/s (%d failed); ratios %.2f; GOMAXPROCS %d",
		agents, workers, pairs, slices.Max(in), inErr, slices.Max(out), outErr, ratios, runtime.GOMAXPROCS(0))
	for _, p := range procs {
		if r := p.Resources; r != nil {
			b.Logf("child pid %d (%d agents): peak fds %d, sockets %d, threads %d, rss %d MiB", p.PID, p.Agents, r.Peak.FDs, r.Peak.Sockets, r.Peak.Threads, r.Peak.RSS>>20)
		}
	}
	b.Log(benchutil.Verdict("2-process fleet polls/s vs in-process", ratio >= 0.9, "%.2fx, median of %d pairs (target >= 0.9x: moving the fleet out costs the poller nothing)", ratio, pairs))
	b.Log(benchutil.Verdict("no failed polls", inErr+outErr == 0, "%d in-process, %d out of process", inErr, outErr))
}
