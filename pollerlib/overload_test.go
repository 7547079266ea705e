package pollerlib

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A call past WithMaxInFlight fails at once with a typed error and sends
// nothing; once calls finish, new ones are taken again.
func TestMaxInFlightRefusesAtOnce(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Blackhole: &simagent.Blackhole{}})
	const bound = 4
	p := newPoller(t, WithMaxInFlight(bound), WithTimeouts(5*time.Second, 5*time.Second, 5*time.Second), WithBreaker(0, 0))
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	errs := make([]error, bound)
	for i := range bound {
		wg.Go(func() { _, errs[i] = p.Get(ctx, target(f, 1), oidSysDescr) })
	}
	eventually(t, 10*time.Second, "the bound's worth of calls in flight", func() bool {
		st := p.Stats()
		return st.Operations == bound && st.InFlight == bound
	})
	sent := p.Stats().Requests
	_, err := p.Get(t.Context(), target(f, 0), oidSysDescr)
	require.ErrorIs(t, err, ErrOverloaded)
	var oe *OverloadError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, OverloadError{InFlight: bound, Limit: bound}, *oe)
	assert.Contains(t, err.Error(), "limit 4")
	st := p.Stats()
	assert.Equal(t, sent, st.Requests, "a refused call sends nothing")
	assert.Equal(t, uint64(1), st.Polls[OutcomeOverloaded])
	assert.Equal(t, bound, st.MaxOperations)
	assert.Equal(t, OutcomeOverloaded, Outcome(err))

	cancel()
	wg.Wait()
	for _, e := range errs {
		require.ErrorIs(t, e, context.Canceled)
	}
	assert.Zero(t, p.Stats().Operations)
	_, err = p.Get(ctxTimeout(t, 10*time.Second), target(f, 0), oidSysDescr)
	require.NoError(t, err, "calls are taken again once the others ended")
}

// The bound holds whatever the rate of calls: many more callers than the
// bound, all at once against a silent agent, each refused or in flight.
func TestMaxInFlightBoundsABurst(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Blackhole: &simagent.Blackhole{}})
	const bound, callers = 8, 200
	p := newPoller(t, WithMaxInFlight(bound), WithTimeouts(5*time.Second, 5*time.Second, 5*time.Second), WithBreaker(0, 0))
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var mu sync.Mutex
	overloaded := 0
	for range callers {
		wg.Go(func() {
			_, err := p.Get(ctx, target(f, 1), oidSysDescr)
			if err != nil && Outcome(err) == OutcomeOverloaded {
				mu.Lock()
				overloaded++
				mu.Unlock()
			}
		})
	}
	eventually(t, 10*time.Second, "every caller refused or in flight", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return overloaded+p.Stats().Operations == callers
	})
	assert.Equal(t, bound, p.Stats().Operations)
	mu.Lock()
	assert.Equal(t, callers-bound, overloaded)
	mu.Unlock()
	cancel()
	wg.Wait()
}

func TestMaxInFlightOption(t *testing.T) {
	for _, n := range []int{0, -1, 1<<20 + 1} {
		_, err := New(WithMaxInFlight(n))
		require.ErrorContains(t, err, "max in flight", "n=%d", n)
	}
	_, err := New(WithReadBuffer(-1))
	require.ErrorContains(t, err, "read buffer")
}

func rmemMax(t *testing.T) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reading SO_RCVBUF back is Linux-only here")
	}
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	require.NoError(t, err)
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return n
}

// The poller reads back what the kernel granted, and says so when
// net.core.rmem_max cut its receive buffer short.
func TestReadBufferGrantedAndCapped(t *testing.T) {
	limit := rmemMax(t)
	small := min(64<<10, limit)
	p := newPoller(t, WithReadBuffer(small))
	rb := p.Stats().ReadBuffer
	assert.Equal(t, ReadBufferStats{Wanted: small, Granted: small}, rb)

	var logs bytes.Buffer
	big := limit*2 + 4096
	p = newPoller(t, WithReadBuffer(big), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	rb = p.Stats().ReadBuffer
	assert.Equal(t, ReadBufferStats{Wanted: big, Granted: limit, Capped: true}, rb)
	assert.Contains(t, logs.String(), "net.core.rmem_max")
	assert.Contains(t, logs.String(), "sysctl -w net.core.rmem_max="+strconv.Itoa(big))
}

// By default the buffer is sized for the fan-in: one reply of every call
// a socket may carry.
func TestReadBufferSizedForFanIn(t *testing.T) {
	rmemMax(t)
	c := defaults()
	c.maxInFlight, c.sockets = 1000, 2
	assert.Equal(t, 500*replyBudget, c.rcvbufWanted())
	c.maxInFlight = 10
	assert.Equal(t, minRcvbuf, c.rcvbufWanted(), "never below the floor")
	c.maxInFlight = 1 << 20
	assert.Equal(t, maxRcvbuf, c.rcvbufWanted(), "never above the ceiling")
	p := newPoller(t, WithMaxInFlight(256), WithSockets(2))
	rb := p.Stats().ReadBuffer
	assert.Equal(t, max(128*replyBudget, minRcvbuf), rb.Wanted)
	assert.Positive(t, rb.Granted)
}
