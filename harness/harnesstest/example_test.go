package harnesstest_test

import (
	"context"
	"testing"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/harness/harnesstest"
)

// The README's example: a gosnmp poller, a client per poll, through
// quickstart. A client per poll needs the CPU: when the harness finds
// itself starved (a second make test on the same cores), its success
// ratios against the 2s deadline and gosnmp's cancel latency (it looks at
// its context only between attempts, gosnmp#432) are speed, not defects,
// and are logged; every resource, accounting and data invariant is still
// asserted, in-flight-bounded and goroutines-bounded too (they forgive
// the harness's own catch-up, not a pile-up).
func TestQuickstartExample(t *testing.T) {
	sc := harnesstest.Bundled(t, "quickstart")
	sc.Fleet.Listen = "127.208.0.1:0" // this test's own network
	s := harness.SettingsFor(sc)
	p := harness.Sync("mypoller", func(ctx context.Context, poll harness.Poll) harness.Result {
		c := harness.GosnmpClient(ctx, poll.Target, s) // or your own client
		if err := c.Connect(); err != nil {
			return harness.Result{Err: err}
		}
		defer c.Conn.Close()
		return harness.GosnmpPoll(c, poll)
	}, nil)
	harnesstest.Run(t, sc, p, harnesstest.WithShort(true),
		harnesstest.AllowViolatedWhenStarved(harness.InvPhaseExpectations, harness.InvCancelLatency))
}
