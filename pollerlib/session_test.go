package pollerlib

import (
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testSession(t *testing.T, opts ...Option) *session {
	t.Helper()
	cfg := defaults()
	for _, o := range opts {
		require.NoError(t, o.apply(&cfg))
	}
	require.NoError(t, cfg.check())
	return newSession(SessionKey{}, "public", &cfg, cfg.initialTimeout)
}

func TestRTOFollowsRFC6298(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		want    time.Duration
	}{
		{"initial", nil, time.Second},
		{"first sample: srtt + 4*rtt/2", []time.Duration{100 * ms}, 300 * ms},
		{"steady: variance decays", []time.Duration{100 * ms, 100 * ms, 100 * ms, 100 * ms}, 100*ms + 4*(100*ms*27/128)},
		{"tiny RTTs clamp to min", []time.Duration{ms, ms, ms, ms, ms, ms, ms, ms}, 50 * ms},
		{"huge RTTs clamp to max", []time.Duration{10 * time.Second}, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSession(t)
			for _, r := range tc.samples {
				s.sample(r)
			}
			assert.InDelta(t, float64(tc.want), float64(s.attemptTimeout(0)), float64(2*ms))
		})
	}
}

func TestBackoffCapped(t *testing.T) {
	s := testSession(t, WithTimeouts(100*time.Millisecond, 50*time.Millisecond, 5*time.Second), WithBackoff(2, 700*time.Millisecond))
	var got []time.Duration
	for k := range 5 {
		got = append(got, s.attemptTimeout(k))
	}
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{100 * ms, 200 * ms, 400 * ms, 700 * ms, 700 * ms}, got)
	s.backOff()
	assert.Equal(t, 200*ms, s.attemptTimeout(0), "a failed exchange doubles the RTO")
	s.sample(10 * ms)
	assert.Equal(t, 50*ms, s.attemptTimeout(0), "a sample recomputes it")
}

func TestBreakerOpensAndProbes(t *testing.T) {
	s := testSession(t, WithBreaker(3, time.Second))
	now := time.Unix(1000, 0)
	for range 3 {
		probe, err := s.admit(now)
		require.NoError(t, err)
		s.exchanged(now, probe, resultFail)
	}
	_, err := s.admit(now.Add(500 * time.Millisecond))
	require.ErrorIs(t, err, ErrCircuitOpen)
	later := now.Add(1100 * time.Millisecond)
	probe, err := s.admit(later)
	require.NoError(t, err)
	require.True(t, probe, "half-open lets one probe through")
	_, err = s.admit(later)
	require.ErrorIs(t, err, ErrCircuitOpen, "only one probe at a time")
	s.exchanged(later, true, resultFail)
	_, err = s.admit(later.Add(500 * time.Millisecond))
	require.ErrorIs(t, err, ErrCircuitOpen, "a failed probe reopens")
	end := later.Add(1100 * time.Millisecond)
	probe, err = s.admit(end)
	require.NoError(t, err)
	s.exchanged(end, probe, resultOK)
	probe, err = s.admit(end)
	require.NoError(t, err)
	require.False(t, probe, "closed after a good probe")
	// A cancelled probe neither closes nor reopens, and frees the slot.
	s = testSession(t, WithBreaker(1, time.Second))
	s.exchanged(now, false, resultFail)
	probe, _ = s.admit(now.Add(2 * time.Second))
	s.exchanged(now, probe, resultNeutral)
	probe, err = s.admit(now.Add(2 * time.Second))
	require.NoError(t, err)
	require.True(t, probe)
}

func TestDegradeAndRecoverSteps(t *testing.T) {
	s := testSession(t, WithDegrade(2, 3))
	steps := []struct {
		r    result
		want mode
	}{
		{resultFail, modeBulk}, {resultFail, modeNext},
		{resultFail, modeNext}, {resultNeutral, modeNext}, {resultFail, modeSingle},
		{resultFail, modeSingle}, {resultFail, modeSingle},
		{resultOK, modeSingle}, {resultOK, modeSingle}, {resultOK, modeNext},
		{resultOK, modeNext}, {resultOK, modeNext}, {resultOK, modeBulk},
		{resultOK, modeBulk},
	}
	for i, st := range steps {
		s.noted(s.currentMode(), st.r)
		require.Equal(t, st.want, s.currentMode(), "step %d", i)
	}
	v1 := testSession(t, WithDegrade(1, 1))
	v1.key.Version = V1
	v1.mode = v1.baseMode()
	v1.noted(modeNext, resultOK)
	assert.Equal(t, modeNext, v1.currentMode(), "v1 never climbs to GetBulk")
}

// TestDegradeUnderFailuresThenRecover drives a target's step down with
// real failures and back up once it answers again.
func TestDegradeUnderFailuresThenRecover(t *testing.T) {
	f, _ := startFleet(t, simagent.Config{Agents: 2})
	setFaults(t, f, 1, simagent.Faults{ErrorStatus: &simagent.ErrorStatus{Status: "genErr"}})
	p := newPoller(t, WithDegrade(2, 3))
	tg := target(f, 1)
	s, err := p.session(t.Context(), tg)
	require.NoError(t, err)
	for range 4 {
		_, err := p.BulkWalkAll(ctxTimeout(t, 5*time.Second), tg, oidSystem)
		require.ErrorIs(t, err, ErrStatus)
	}
	require.Equal(t, modeSingle, s.currentMode())
	before := f.AgentStats(1).Requests
	setFaults(t, f, 1, simagent.Faults{})
	got, err := p.Get(ctxTimeout(t, 5*time.Second), tg, oidSysDescr, oidSysName)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.EqualValues(t, 2, f.AgentStats(1).Requests-before, "degraded: one OID per request")
	for range 6 {
		_, err := p.BulkWalkAll(ctxTimeout(t, 5*time.Second), tg, oidSystem)
		require.NoError(t, err)
	}
	require.Equal(t, modeBulk, s.currentMode(), "successes climb back to GetBulk")
	want := agentData(t, f, 1, oidIfMIB, false)
	got, err = p.BulkWalkAll(ctxTimeout(t, 5*time.Second), tg, oidIfMIB)
	require.NoError(t, err)
	assert.Equal(t, want, canon(got))
}
