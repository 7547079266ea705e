package pollerlib

import (
	"errors"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func one(i int) simagent.Selector { return simagent.Selector{Index: &i} }

func dur(d time.Duration) simagent.Duration { return simagent.Duration(d) }

// setFaults applies faults to agent i.
func setFaults(t testing.TB, f *simagent.Fleet, i int, faults simagent.Faults) {
	t.Helper()
	n, err := f.SetFaults(one(i), faults)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// walkBoth walks agent i's data, n times each with BulkWalk (all of
// mib-2) and Walk (the system group, to keep one request per OID short),
// and checks every result: equal to the agent's data, or an error in
// allowed. It returns how many walks succeeded.
func walkBoth(t *testing.T, p *Poller, f *simagent.Fleet, i, n int, allowed ...error) int {
	t.Helper()
	ok := 0
	for range n {
		for _, bulk := range []bool{true, false} {
			walk, root := p.WalkAll, oidSystem
			if bulk {
				walk, root = p.BulkWalkAll, oidIfMIB
			}
			want := agentData(t, f, i, root, false)
			got, err := walk(ctxTimeout(t, 60*time.Second), target(f, i), root)
			if err == nil {
				require.Equal(t, want, canon(got), "bulk=%v", bulk)
				ok++
				continue
			}
			typed := false
			for _, a := range allowed {
				typed = typed || errors.Is(err, a)
			}
			require.True(t, typed, "bulk=%v: untyped or unexpected error %v", bulk, err)
		}
	}
	return ok
}

func TestFaultDelay(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Delay: &simagent.Delay{Fixed: dur(40 * time.Millisecond)}})
	p := newPoller(t, WithTimeouts(time.Second, 20*time.Millisecond, 2*time.Second))
	require.Equal(t, 2, walkBoth(t, p, f, 1, 1))
	st := p.Stats()
	assert.GreaterOrEqual(t, st.RTT.Max, 40*time.Millisecond)
	s, err := p.session(t.Context(), target(f, 1))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, s.attemptTimeout(0), 40*time.Millisecond, "timeout adapts above the RTT")
}

func TestFaultJitter(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Delay: &simagent.Delay{Jitter: dur(30 * time.Millisecond), Dist: "pareto", Max: dur(300 * time.Millisecond)}})
	p := newPoller(t, fastOpts()...)
	assert.Positive(t, walkBoth(t, p, f, 1, 2, ErrTimeout))
}

func TestFaultDrop(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Drop: &simagent.Drop{Prob: 0.3}})
	p := newPoller(t, append(fastOpts(), WithRetries(10))...)
	assert.Positive(t, walkBoth(t, p, f, 1, 2, ErrTimeout))
	st := p.Stats()
	assert.Positive(t, st.Retries)
	assert.Positive(t, st.Timeouts)
}

func TestFaultBurstDrop(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Drop: &simagent.Drop{Burst: &simagent.Burst{GoodToBad: 0.1, BadToGood: 0.3, LossBad: 1}}})
	p := newPoller(t, append(fastOpts(), WithRetries(20), WithBackoff(1.5, 100*time.Millisecond))...)
	assert.Positive(t, walkBoth(t, p, f, 1, 2, ErrTimeout))
	assert.Positive(t, p.Stats().Retries)
}

func TestFaultBlackholeThenRecovery(t *testing.T) {
	f, clk := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Blackhole: &simagent.Blackhole{For: dur(10 * time.Second)}})
	p := newPoller(t, WithTimeouts(50*time.Millisecond, 10*time.Millisecond, 100*time.Millisecond), WithRetries(1), WithBreaker(2, time.Second))
	tg := target(f, 1)
	for range 2 {
		_, err := p.Get(ctxTimeout(t, 10*time.Second), tg, oidSysName)
		require.ErrorIs(t, err, ErrTimeout)
	}
	sent := f.AgentStats(1).Requests
	_, err := p.Get(ctxTimeout(t, 10*time.Second), tg, oidSysName)
	require.ErrorIs(t, err, ErrCircuitOpen, "breaker open after 2 failures")
	assert.Equal(t, sent, f.AgentStats(1).Requests, "an open circuit fails fast, sending nothing")

	clk.Advance(11 * time.Second) // the blackhole ends
	eventually(t, 20*time.Second, "recovery", func() bool {
		_, err := p.Get(ctxTimeout(t, 10*time.Second), tg, oidSysName)
		return err == nil
	})
	require.Equal(t, 2, walkBoth(t, p, f, 1, 1))
	assert.Positive(t, p.Stats().Polls[OutcomeCircuitOpen])
}

func TestFaultBulkTruncation(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Truncate: &simagent.Truncate{BulkVarbinds: 3}})
	p := newPoller(t)
	require.Equal(t, 2, walkBoth(t, p, f, 1, 1))
	assert.Positive(t, f.AgentStats(1).Truncated)
}

func TestFaultSmallMaxMsgSize(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Truncate: &simagent.Truncate{MaxMsgSize: 484}})
	p := newPoller(t, WithMaxRepetitions(200))
	require.Equal(t, 2, walkBoth(t, p, f, 1, 1))

	// A Get too big for one response is split until it fits.
	want := agentData(t, f, 1, oidIfMIB, false)
	var oids []OID
	for _, l := range want {
		oids = append(oids, MustParseOID(l[:indexSpace(l)]))
	}
	got, err := p.Get(ctxTimeout(t, 10*time.Second), target(f, 1), oids...)
	require.NoError(t, err)
	assert.Equal(t, want, canon(got))
	assert.Positive(t, f.AgentStats(1).Truncated, "the agent did answer tooBig")
}

func TestFaultTooBigAlways(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{ErrorStatus: &simagent.ErrorStatus{Status: "tooBig"}})
	p := newPoller(t, WithDegrade(0, 1))
	_, err := p.BulkWalkAll(ctxTimeout(t, 10*time.Second), target(f, 1), oidIfMIB)
	require.ErrorIs(t, err, ErrTooBig)
	_, err = p.Get(ctxTimeout(t, 10*time.Second), target(f, 1), oidSysDescr, oidSysName)
	require.ErrorIs(t, err, ErrTooBig)
	s, err := p.session(t.Context(), target(f, 1))
	require.NoError(t, err)
	assert.Equal(t, 1, s.repetitions(), "max-repetitions shrank to 1")
}

func TestFaultErrorStatus(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{ErrorStatus: &simagent.ErrorStatus{Status: "genErr"}})
	p := newPoller(t)
	_, err := p.Get(ctxTimeout(t, 10*time.Second), target(f, 1), oidSysDescr)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StatusGenErr, se.Status)
	_, err = p.BulkWalkAll(ctxTimeout(t, 10*time.Second), target(f, 1), oidIfMIB)
	require.ErrorIs(t, err, ErrStatus)
}

func TestFaultDuplicate(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Duplicate: &simagent.Duplicate{Copies: 2}})
	p := newPoller(t)
	require.Equal(t, 4, walkBoth(t, p, f, 1, 2))
	eventually(t, 10*time.Second, "duplicates counted", func() bool { return p.Stats().Duplicate > 0 })
}

func TestFaultWrongRequestID(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 3})
	setFaults(t, f, 1, simagent.Faults{WrongID: &simagent.Chance{Prob: 1}})
	setFaults(t, f, 2, simagent.Faults{WrongID: &simagent.Chance{Prob: 0.3}})
	p1 := newPoller(t, append(fastOpts(), WithRetries(2))...)
	p := newPoller(t, append(fastOpts(), WithRetries(10))...)
	_, err := p1.Get(ctxTimeout(t, 10*time.Second), target(f, 1), oidSysDescr)
	require.ErrorIs(t, err, ErrTimeout, "answers with the wrong request-id never reach the caller")
	assert.Positive(t, p1.Stats().Unknown)
	assert.Positive(t, walkBoth(t, p, f, 2, 2, ErrTimeout))
}

func TestFaultGarbage(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 3})
	setFaults(t, f, 1, simagent.Faults{Garbage: &simagent.Chance{Prob: 1}})
	setFaults(t, f, 2, simagent.Faults{Garbage: &simagent.Chance{Prob: 0.3}})
	p1 := newPoller(t, append(fastOpts(), WithRetries(2))...)
	p := newPoller(t, append(fastOpts(), WithRetries(10))...)
	_, err := p1.Get(ctxTimeout(t, 10*time.Second), target(f, 1), oidSysDescr)
	require.True(t, errors.Is(err, ErrTimeout) || errors.Is(err, ErrDecode), "got %v", err)
	assert.Positive(t, p1.Stats().Malformed+p1.Stats().DecodeErrors)
	assert.Positive(t, walkBoth(t, p, f, 2, 2, ErrTimeout, ErrDecode))
}

func TestFaultCutBytes(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Truncate: &simagent.Truncate{CutBytes: 40}})
	p := newPoller(t, append(fastOpts(), WithRetries(1))...)
	_, err := p.BulkWalkAll(ctxTimeout(t, 10*time.Second), target(f, 1), oidIfMIB)
	require.True(t, errors.Is(err, ErrTimeout) || errors.Is(err, ErrDecode), "got %v", err)
}

func TestFaultLoopingOIDs(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Loop: &simagent.Loop{After: ".1.3.6.1.2.1.2.2.1.2.3", Rewind: ".1.3.6.1.2.1.2.2.1.1.1"}})
	p := newPoller(t)
	for _, bulk := range []bool{true, false} {
		walk := p.WalkAll
		if bulk {
			walk = p.BulkWalkAll
		}
		_, err := walk(ctxTimeout(t, 10*time.Second), target(f, 1), oidIfMIB)
		require.ErrorIs(t, err, ErrOIDNotIncreasing, "bulk=%v", bulk)
		var ni *NotIncreasingError
		require.ErrorAs(t, err, &ni)
		assert.Equal(t, ".1.3.6.1.2.1.2.2.1.1.1", ni.Got.String())
	}
}

// TestFaultLoopBackBeforeRoot is the walk-stall regression: an agent that
// loops back to an OID before the walk's root must fail the walk with
// ErrOIDNotIncreasing, not end it as if the subtree were complete.
func TestFaultLoopBackBeforeRoot(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{Loop: &simagent.Loop{After: ".1.3.6.1.2.1.2.2.1.5.2", Rewind: ".1.3.6.1.2.1.2.2.1.1.1"}})
	p := newPoller(t)
	root := MustParseOID(".1.3.6.1.2.1.31.1.1.1.1") // ifName: every answer lies past After
	for _, bulk := range []bool{true, false} {
		walk := p.WalkAll
		if bulk {
			walk = p.BulkWalkAll
		}
		got, err := walk(ctxTimeout(t, 10*time.Second), target(f, 1), root)
		require.ErrorIs(t, err, ErrOIDNotIncreasing, "bulk=%v: got %d varbinds", bulk, len(got))
	}
}

func TestFaultPrematureEndOfMib(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	last := MustParseOID(".1.3.6.1.2.1.2.2.1.5.2")
	setFaults(t, f, 1, simagent.Faults{EndOfMib: &simagent.EndOfMib{After: last.String()}})
	p := newPoller(t)
	want := upTo(agentData(t, f, 1, oidIfMIB, false), last)
	for _, v := range []Version{V2c, V1} {
		tg := target(f, 1)
		tg.Version = v
		got, err := p.BulkWalkAll(ctxTimeout(t, 10*time.Second), tg, oidIfMIB)
		require.NoError(t, err, v)
		assert.Equal(t, want, canon(got), v)
		got, err = p.WalkAll(ctxTimeout(t, 10*time.Second), tg, oidIfMIB)
		require.NoError(t, err, v)
		assert.Equal(t, want, canon(got), v)
	}
}

func TestFaultAgentRestart(t *testing.T) {
	f, clk := startFleet(t, simagent.Config{Agents: 2})
	clk.Advance(time.Hour)
	p := newPoller(t, WithTimeouts(50*time.Millisecond, 10*time.Millisecond, 100*time.Millisecond), WithRetries(1), WithBreaker(2, 50*time.Millisecond))
	tg := target(f, 1)
	before, err := p.Get(ctxTimeout(t, 10*time.Second), tg, oidSysUpTime)
	require.NoError(t, err)
	require.EqualValues(t, 360000, before[0].Uint)

	setFaults(t, f, 1, simagent.Faults{Restart: &simagent.Restart{Downtime: dur(5 * time.Second)}})
	_, err = p.Get(ctxTimeout(t, 10*time.Second), tg, oidSysUpTime)
	require.ErrorIs(t, err, ErrTimeout, "down while restarting")

	clk.Advance(7 * time.Second)
	var after []Varbind
	eventually(t, 20*time.Second, "agent back", func() bool {
		after, err = p.Get(ctxTimeout(t, 10*time.Second), tg, oidSysUpTime)
		return err == nil
	})
	assert.EqualValues(t, 200, after[0].Uint, "sysUpTime restarted")
	require.Equal(t, 2, walkBoth(t, p, f, 1, 1))
}
