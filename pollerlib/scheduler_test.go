package pollerlib

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunOneResultPerScheduledPoll polls healthy, slow and silent agents
// and checks that every target's polls form an unbroken sequence, each
// with one result, and that in-flight polls stay under the bound.
func TestRunOneResultPerScheduledPoll(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 12})
	setFaults(t, f, 1, simagent.Faults{Blackhole: &simagent.Blackhole{}})
	setFaults(t, f, 2, simagent.Faults{Delay: &simagent.Delay{Fixed: dur(120 * time.Millisecond)}})
	p := newPoller(t, WithTimeouts(30*time.Millisecond, 10*time.Millisecond, 60*time.Millisecond), WithRetries(1))
	var targets []Target
	for i := range f.Len() {
		targets = append(targets, target(f, i))
	}
	const bound = 3
	var inFlight, peak atomic.Int64
	var mu sync.Mutex
	results := map[int][]PollResult{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var total atomic.Int64
	err := func() error {
		go func() {
			for total.Load() < 150 && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
		}()
		return p.Run(ctx, Schedule{
			Targets:     targets,
			Interval:    50 * time.Millisecond,
			MaxInFlight: bound,
			Poll: func(ctx context.Context, p *Poller, t Target) ([]Varbind, error) {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for {
					m := peak.Load()
					if n <= m || peak.CompareAndSwap(m, n) {
						break
					}
				}
				return p.Get(ctx, t, oidSysName)
			},
			OnResult: func(r PollResult) {
				mu.Lock()
				results[r.Index] = append(results[r.Index], r)
				mu.Unlock()
				total.Add(1)
			},
		})
	}()
	require.NoError(t, err)
	assert.LessOrEqual(t, peak.Load(), int64(bound))
	require.Len(t, results, len(targets))
	for i, rs := range results {
		seen := map[uint64]bool{}
		for _, r := range rs {
			require.False(t, seen[r.Seq], "target %d poll %d has two results", i, r.Seq)
			seen[r.Seq] = true
			if r.Err == nil {
				require.Len(t, r.Varbinds, 1)
			} else {
				require.NotEqual(t, OutcomeError, Outcome(r.Err), "typed error: %v", r.Err)
			}
		}
		for s := range uint64(len(rs)) {
			require.True(t, seen[s], "target %d: poll %d has no result", i, s)
		}
	}
	var silentOK int
	for _, r := range results[1] {
		if r.Err == nil {
			silentOK++
		}
	}
	assert.Zero(t, silentOK, "a blackholed agent never succeeds")
	assert.Zero(t, p.Stats().Goroutines-2, "scheduler goroutines gone after Run")
}

func TestRunStopsOnClose(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 3})
	p, err := New()
	require.NoError(t, err)
	var n atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- p.Run(context.Background(), Schedule{
			Targets:  []Target{target(f, 0), target(f, 1), target(f, 2)},
			Interval: 10 * time.Millisecond,
			Poll:     GetPoll(oidSysName),
			OnResult: func(PollResult) { n.Add(1) },
		})
	}()
	eventually(t, 5*time.Second, "polls", func() bool { return n.Load() > 10 })
	require.NoError(t, p.Close(ctxTimeout(t, 5*time.Second)))
	require.ErrorIs(t, <-done, ErrClosed)
	assert.Zero(t, p.Stats().Goroutines)
}
