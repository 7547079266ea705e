package mypoller

import (
	"context"
	"runtime"
	"testing"

	"go.uber.org/goleak"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/harness/harnesstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// adapt plugs a Poller into the harness: one poll is one Do.
func adapt(name string, p *Poller) harness.Poller {
	return harness.Sync(name, func(ctx context.Context, poll harness.Poll) harness.Result {
		t := poll.Target
		pdus, err := p.Do(ctx, Request{Addr: t.Addr.Addr().String(), Port: t.Addr.Port(), Community: t.Community,
			OIDs: poll.OIDs, Root: poll.Root, Bulk: poll.Op == harness.OpBulkWalk})
		return harness.Result{Varbinds: harness.VarbindsFromPDUs(pdus), Err: err}
	}, harness.CloseFunc(p.Close))
}

// The naive poller (a client per request) passes quickstart.
func TestQuickstart(t *testing.T) {
	sc := harnesstest.Bundled(t, "quickstart")
	s := harness.SettingsFor(sc)
	harnesstest.Run(t, sc, adapt("mypoller", New(Config{Timeout: s.Timeout, Retries: s.Retries})))
}

// With clients cached per target, Close leaves a socket per agent open:
// the harness must catch it.
func TestCachedClientsLeak(t *testing.T) {
	sc := harnesstest.Bundled(t, "fd-leak")
	s := harness.SettingsFor(sc)
	p := New(Config{Timeout: s.Timeout, Retries: s.Retries, CacheClients: true})
	harnesstest.Run(t, sc, adapt("mypoller-cached", p),
		harnesstest.ExpectViolated(harness.InvConnectionsClosed, harness.InvFDsStable),
		harnesstest.AllowViolated(harness.InvPhaseExpectations)) // success ratios move with the load
	runtime.KeepAlive(p) // the cache holds the sockets, as a long-lived poller's would
}
