package pollerlib

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/internal/benchutil"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/stretchr/testify/require"
)

// BenchmarkCancelLatency measures how long a Get to a silent agent takes to
// return once its context is cancelled: pollerlib with a 5 s timeout, and
// side by side gosnmp with a 1 s timeout, which only checks its context
// between attempts and so waits out the attempt in flight (gosnmp#432).
// Target: pollerlib's p99 under 50 ms, whatever its timeout.
func BenchmarkCancelLatency(b *testing.B) {
	f := benchFleet(b, 1, "system", simagent.Faults{Blackhole: &simagent.Blackhole{}})
	p, err := New(WithTimeouts(5*time.Second, 5*time.Second, 5*time.Second), WithBreaker(0, 0))
	require.NoError(b, err)
	defer func() { require.NoError(b, p.Close(context.Background())) }()
	var lat []time.Duration
	for b.Loop() {
		for range 100 {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan time.Time, 1)
			go func() {
				_, _ = p.Get(ctx, target(f, 0), oidSysDescr)
				done <- time.Now()
			}()
			for p.Stats().InFlight == 0 {
				runtime.Gosched()
			}
			t0 := time.Now()
			cancel()
			lat = append(lat, (<-done).Sub(t0))
		}
	}
	// gosnmp: a few samples, each about its 1 s timeout.
	var base []time.Duration
	for range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		g := gosnmpClient(f, 0)
		g.Timeout, g.Retries, g.Context = time.Second, 3, ctx
		require.NoError(b, g.Connect())
		done := make(chan time.Time, 1)
		go func() {
			_, _ = g.Get([]string{oidSysDescr.String()})
			done <- time.Now()
		}()
		time.Sleep(100 * time.Millisecond) // let the first attempt go out
		t0 := time.Now()
		cancel()
		base = append(base, (<-done).Sub(t0))
		_ = g.Conn.Close()
	}
	b.ReportMetric(float64(pct(lat, 0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(pct(lat, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(pct(lat, 1).Microseconds()), "max-µs")
	b.ReportMetric(float64(pct(base, 0.5).Microseconds()), "gosnmp-p50-µs")
	b.Logf("pollerlib (timeout 5s): p50 %s, p99 %s, max %s over %d cancels", pct(lat, 0.5), pct(lat, 0.99), pct(lat, 1), len(lat))
	b.Logf("gosnmp (timeout 1s, baseline): p50 %s, max %s over %d cancels", pct(base, 0.5), pct(base, 1), len(base))
	// p50 against p50: gosnmp's 5 samples have no p99 of their own.
	b.Log(benchutil.Verdict("cancel latency", pct(lat, 0.99) <= 50*time.Millisecond,
		"pollerlib p99 %s (target <= 50ms); p50 %s against gosnmp's p50 %s", pct(lat, 0.99), pct(lat, 0.5), pct(base, 0.5)))
}
