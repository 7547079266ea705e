package harness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/internal/mibtest"
	"github.com/snmpchaos/snmpchaos/harness/invariant"
	"github.com/snmpchaos/snmpchaos/pollerlib"
	"github.com/snmpchaos/snmpchaos/scenarios"
	"github.com/snmpchaos/snmpchaos/simagent"
)

func newTestRecorder(t *testing.T, gen *uint64) (*recorder, *int) {
	t.Helper()
	released := 0
	r := newRecorder(2, 4, invariant.NewWalkChecker(mibtest.TypesStore(t)), func(int) simagent.Faults { return simagent.Faults{} },
		func() uint64 { return *gen }, func() { released++ })
	return r, &released
}

func TestRecorderAccountsEachPollOnce(t *testing.T) {
	var gen uint64
	r, released := newTestRecorder(t, &gen)
	now := time.Now()
	target := Target{Index: 1, Addr: netip.MustParseAddrPort("127.0.0.2:161")}
	get := r.begin(Poll{ID: 1, Target: target, Op: OpGet, OIDs: []string{".1.3"}}, 0, now, now.Add(time.Second), 0)
	walk := r.begin(Poll{ID: 2, Target: target, Op: OpWalk, Root: ".1.3.6.1.4.1.99.1"}, 0, now, now.Add(time.Second), 0)
	lost := r.begin(Poll{ID: 3, Target: target, Op: OpGet, OIDs: []string{".1.3"}}, 1, now, now.Add(time.Second), 0)
	failed := r.begin(Poll{ID: 4, Target: target, Op: OpGet, OIDs: []string{".1.3"}}, 1, now, now.Add(time.Second), 0)
	_ = lost
	assert.Equal(t, 4, r.inFlight())

	r.done(get, Result{})
	r.done(get, Result{}) // a duplicate
	r.done(walk, Result{Varbinds: nil})
	r.done(failed, Result{Err: fmt.Errorf("op: %w", pollerlib.ErrTimeout)})
	assert.Equal(t, 3, *released, "a slot per first report")
	assert.Equal(t, 1, r.reap(now.Add(time.Hour), time.Minute), "the lost poll's slot comes back")
	assert.Equal(t, 4, *released)

	c, unreported := r.finish(now.Add(2 * time.Second))
	assert.Equal(t, 4, c.Scheduled)
	assert.Equal(t, 2, c.Succeeded)
	assert.Equal(t, 1, c.Failed)
	assert.Equal(t, 1, c.Unreported)
	assert.Equal(t, 1, c.Duplicate)
	assert.Equal(t, 1, c.Overdue)
	assert.Equal(t, 1, c.Partial, "an empty walk of a non-empty subtree")
	assert.Equal(t, map[string]int{"timeout": 1}, c.ByError)
	require.Len(t, unreported, 1)
	assert.Contains(t, unreported[0], "poll 3 (agent 1 127.0.0.2:161, get .1.3) never reported")
	require.Len(t, r.duplicates, 1)
	assert.Contains(t, r.duplicates[0], "poll 1")
	require.Len(t, r.partials, 1)
	assert.Contains(t, r.partials[0], "partial: 0 of 1")

	r.done(lost, Result{}) // after the books closed: ignored
	assert.Equal(t, 1, r.lateAfter)
}

func TestRecorderStraddledPolls(t *testing.T) {
	var gen uint64 = 2
	r, _ := newTestRecorder(t, &gen)
	target := Target{Index: 0}
	p := r.begin(Poll{ID: 1, Target: target, Op: OpWalk, Root: ".1.3.6.1.4.1.99.1"}, 0, time.Now(), time.Now().Add(time.Hour), 0)
	gen = 4 // the faults changed while it ran
	r.done(p, Result{})
	c, _ := r.finish(time.Now())
	assert.Equal(t, 0, c.Partial, "not compared")
	assert.Equal(t, 1, c.Unverified)
	assert.Equal(t, 1, r.phases[0].straddled)
	assert.Equal(t, []int{1, 0}, r.straddledOK())
	assert.Equal(t, 1, r.phases[0].polls, "a straddling poll counts in the phase it started in")
	assert.Equal(t, 1, r.phases[0].succeeded)
	assert.Equal(t, 1, r.phases[0].latency.n, "and in its latency")
}

// A poll the closed model could not start is scheduled and failed, in its
// phase and in the counts.
func TestRecorderSkippedPollIsAFailure(t *testing.T) {
	var gen uint64
	r, _ := newTestRecorder(t, &gen)
	r.skip(Poll{ID: 1, Target: Target{Index: 2}, Op: OpGet, OIDs: []string{".1.3"}}, 1)
	c, _ := r.finish(time.Now())
	assert.Equal(t, 1, c.Scheduled)
	assert.Equal(t, 1, c.Failed)
	assert.Equal(t, 1, c.Skipped)
	assert.Equal(t, map[string]int{"skipped": 1}, c.ByError)
	ph := r.phases[1]
	assert.Equal(t, 1, ph.polls)
	assert.Equal(t, 1, ph.failed)
	assert.Equal(t, int32(1), ph.polledByAgent[2])
	assert.Contains(t, ph.examples["skipped"], "agent 2 get .1.3: harness: skipped")
}

// Cancel latency is the time from a poll's deadline to its report, for
// polls that reported after it.
func TestRecorderCancelLatency(t *testing.T) {
	var gen uint64
	r, _ := newTestRecorder(t, &gen)
	start := time.Now().Add(-time.Second)
	late := r.begin(Poll{ID: 1, Target: Target{Index: 0}, Op: OpGet}, 0, start, start.Add(500*time.Millisecond), 0)
	early := r.begin(Poll{ID: 2, Target: Target{Index: 0}, Op: OpGet}, 0, start, start.Add(time.Hour), 0)
	r.done(late, Result{Err: fmt.Errorf("x: %w", pollerlib.ErrTimeout)})
	r.done(early, Result{})
	h := r.phases[0].cancel
	require.Equal(t, 1, h.n, "only the poll that outlived its deadline")
	assert.GreaterOrEqual(t, h.max, 500*time.Millisecond)
}

func TestPartialWalkEvidenceNamesPhaseFaultsAndTime(t *testing.T) {
	var gen uint64
	r := newRecorder(2, 4, invariant.NewWalkChecker(mibtest.TypesStore(t)),
		func(int) simagent.Faults {
			return simagent.Faults{ErrorStatus: &simagent.ErrorStatus{Status: "tooBig", Prob: 0.2}}
		},
		func() uint64 { return gen }, func() {})
	r.t0, r.phaseNames = time.Now().Add(-3*time.Second), []string{"healthy", "error-status"}
	p := r.begin(Poll{ID: 1, Target: Target{Index: 3, Addr: netip.MustParseAddrPort("127.0.0.4:161")}, Op: OpBulkWalk, Root: ".1.3.6.1.4.1.99.1"}, 1, time.Now(), time.Now().Add(time.Hour), 0)
	r.done(p, Result{})
	require.Len(t, r.partials, 1)
	line := r.partials[0]
	assert.Contains(t, line, "agent 3 (127.0.0.4:161) bulkwalk .1.3.6.1.4.1.99.1 in phase error-status, 3")
	assert.Contains(t, line, "agent faults then: error=tooBig,error-prob=0.2")
	assert.Contains(t, line, "partial: 0 of 1 varbinds")
}

func TestLatencyHist(t *testing.T) {
	var h latencyHist
	assert.Zero(t, h.quantile(0.99))
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	p50, p99 := h.quantile(0.5), h.quantile(0.99)
	assert.InDelta(t, float64(50*time.Millisecond), float64(p50), float64(50*time.Millisecond)*0.05)
	assert.GreaterOrEqual(t, p99, 99*time.Millisecond)
	assert.LessOrEqual(t, p99, 100*time.Millisecond, "never above the maximum")
	assert.Equal(t, 100*time.Millisecond, h.max)
	h.add(time.Hour) // past the last bucket
	assert.Equal(t, time.Hour, h.quantile(1))
}

// Issue 15 (a sibling of finding 4): a poller that reports a new error kind
// per poll (an external one may) does not grow the counts without bound,
// and a kind that is not a short identifier is counted as "error".
func TestRecorderBoundsErrorKinds(t *testing.T) {
	var gen uint64
	r, _ := newTestRecorder(t, &gen)
	now := time.Now()
	target := Target{Index: 1, Addr: netip.MustParseAddrPort("127.0.0.2:161")}
	const polls = 3 * MaxErrorKinds
	for i := range polls {
		ps := r.begin(Poll{ID: uint64(i + 1), Target: target, Op: OpGet, OIDs: []string{".1.3"}}, 0, now, now.Add(time.Hour), 0)
		r.done(ps, Result{Err: kindErr(fmt.Sprintf("kind%d", i))})
	}
	ps := r.begin(Poll{ID: polls + 1, Target: target, Op: OpGet, OIDs: []string{".1.3"}}, 0, now, now.Add(time.Hour), 0)
	r.done(ps, Result{Err: kindErr("not a kind: " + strings.Repeat("x", 100))})
	c, _ := r.finish(now.Add(time.Second))
	assert.Equal(t, polls+1, c.Failed, "every failure is counted")
	assert.Len(t, c.ByError, MaxErrorKinds+1, "64 kinds and other")
	assert.Equal(t, polls-MaxErrorKinds+1, c.ByError[OtherErrorKind]+c.ByError["error"])
	assert.Equal(t, 1, c.ByError["kind0"])
}

type kindErr string

func (k kindErr) Error() string { return "poll failed: " + string(k) }
func (k kindErr) Kind() string  { return string(k) }

// TestDriverRecordsItsOwnLateness: polls the driver hands over after their
// due time (here it starts 300ms behind its schedule, as after a stall)
// count as late in the report's counts and in the next sample; the
// sampler's window starts afresh after each look.
func TestDriverRecordsItsOwnLateness(t *testing.T) {
	var gen uint64
	r, _ := newTestRecorder(t, &gen)
	p := Sync("instant", func(context.Context, Poll) Result { return Result{} }, nil)
	applied := make(chan struct{})
	close(applied)
	now := time.Now()
	d := &driver{
		poller: p, targets: make([]Target, 4), ops: []scenarios.Op{{Kind: "get", Weight: 1, OIDs: []string{".1.3"}}},
		interval: time.Hour, rng: rand.New(rand.NewPCG(1, 2)), rec: r,
		phaseStart: []time.Time{now}, applied: []chan struct{}{applied}, current: &atomic.Int32{},
		deadline: func(int) time.Duration { return time.Minute },
		start:    now.Add(-300 * time.Millisecond), end: now.Add(time.Minute),
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { d.run(ctx, t.Context()) })
	// One round: every target due at start; the next round is an hour on.
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.inflight) == 0 && r.counts.Scheduled == 4
	}, time.Minute, 5*time.Millisecond)
	cancel()
	wg.Wait()
	require.NoError(t, p.Close(t.Context()))
	counts, _ := r.finish(time.Now())
	assert.Equal(t, 4, counts.Late, "every poll handed over 300ms late")
	assert.GreaterOrEqual(t, counts.WorstLag, 300*time.Millisecond)
	var s Sample
	r.takeWindow(&s)
	assert.Equal(t, 4, s.Late)
	assert.GreaterOrEqual(t, s.DispatchLag, 300*time.Millisecond)
	assert.Equal(t, 4, s.Completed)
	r.takeWindow(&s)
	assert.Zero(t, s.Late, "the window starts afresh")
	assert.Zero(t, s.DispatchLag)
}
