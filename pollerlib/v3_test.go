package pollerlib

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/snmp/usm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var v3User = usm.User{Name: "ops", Auth: usm.SHA, AuthPass: "authsecret1", Priv: usm.AES, PrivPass: "privsecret1"}

// withClock makes the poller's v3 engine-time estimate follow clk.
func withClock(clk func() time.Time) Option {
	return optionFunc(func(c *config) error { c.clock = clk; return nil })
}

// startV3Fleet starts agents at 127.22.100+x.1 knowing v3User.
func startV3Fleet(t *testing.T, x int, agents int) (*simagent.Fleet, *manualClock) {
	t.Helper()
	return startFleet(t, simagent.Config{Listen: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 22, byte(100 + x), 1}), 0),
		Agents: agents, Users: []usm.User{v3User, {Name: "md5", Auth: usm.MD5, AuthPass: "authsecret2"}}})
}

func v3Target(f *simagent.Fleet, i int) Target {
	return Target{Addr: f.Addr(i).String(), Version: V3, User: v3User, Context: "ctx"}
}

func setV3Faults(t *testing.T, f *simagent.Fleet, spec string) {
	t.Helper()
	fs, err := simagent.ParseFaultSpec(spec)
	require.NoError(t, err)
	_, err = f.SetFaults(simagent.Selector{All: true}, fs)
	require.NoError(t, err)
}

func TestV3GetAndWalkMatchTheAgent(t *testing.T) {
	f, clk := startV3Fleet(t, 0, 3)
	// Timeouts of 2-10 s: a loaded machine (-race, a second test run) once
	// answered a discovery after the default 1 s, and its resend counted as
	// a second discovery.
	p := newPoller(t, withClock(clk.Now), WithTimeouts(10*time.Second, 2*time.Second, 10*time.Second))
	for i := range 3 {
		tg := v3Target(f, i)
		vbs, err := p.BulkWalkAll(ctxTimeout(t, 10*time.Second), tg, oidInterface)
		require.NoError(t, err)
		assert.Equal(t, agentData(t, f, i, oidInterface, false), canon(vbs))
		vbs, err = p.WalkAll(ctxTimeout(t, 10*time.Second), tg, oidSystem)
		require.NoError(t, err)
		assert.Equal(t, agentData(t, f, i, oidSystem, false), canon(vbs))
		got, err := p.Get(ctxTimeout(t, 5*time.Second), tg, oidSysDescr)
		require.NoError(t, err)
		require.Len(t, got, 1)
	}
	auth := Target{Addr: f.Addr(0).String(), Version: V3, User: usm.User{Name: "md5", Auth: usm.MD5, AuthPass: "authsecret2"}}
	_, err := p.Get(ctxTimeout(t, 5*time.Second), auth, oidSysDescr)
	require.NoError(t, err)
	st := p.Stats()
	// Discoveries counts discovery datagrams, resends too: one per agent
	// and user, and at most the resends more.
	assert.GreaterOrEqual(t, st.V3.Discoveries, uint64(4), "one discovery per agent and user: %+v", st.V3)
	assert.LessOrEqual(t, st.V3.Discoveries, 4+st.Retries, "one discovery per agent and user, %d resends: %+v", st.Retries, st.V3)
	assert.Zero(t, st.V3.BadMAC)
	assert.Zero(t, st.V3.TimeSyncs)
}

// TestV3EngineTimeAdvancesLocally is gosnmp #509/#511: the same session
// keeps working long past the 150 s window without a resync, because it
// advances the engine time it learnt; a reboot, a clock step and a lost
// engine ID each cost one Report and an immediate resend.
func TestV3EngineTimeAdvancesLocally(t *testing.T) {
	f, clk := startV3Fleet(t, 1, 1)
	p := newPoller(t, withClock(clk.Now), WithRetries(1), WithBreaker(0, 0))
	tg := v3Target(f, 0)
	get := func(what string) {
		t.Helper()
		_, err := p.Get(ctxTimeout(t, 5*time.Second), tg, oidSysDescr)
		require.NoError(t, err, what)
	}
	get("first")
	for range 6 {
		clk.Advance(10 * time.Minute)
		get("an hour on")
	}
	st := p.Stats().V3
	assert.Zero(t, st.TimeSyncs, "engine time advanced locally: %+v", st)
	assert.Equal(t, uint64(1), st.Discoveries)

	setV3Faults(t, f, "engine-reboot")
	get("after a reboot")
	assert.Equal(t, uint64(1), p.Stats().V3.TimeSyncs)
	boots, _ := f.EngineTime(0)
	assert.Equal(t, uint32(2), boots)

	setV3Faults(t, f, "time-drift=10m")
	get("after the agent's clock jumped ahead")
	setV3Faults(t, f, "time-drift=-5m")
	get("after it jumped back")
	assert.Equal(t, uint64(3), p.Stats().V3.TimeSyncs)
	assert.Equal(t, uint64(3), f.USMStats(0).NotInTimeWindows)

	setV3Faults(t, f, "restart=30s")
	clk.Advance(31 * time.Second)
	get("after a restart")
	assert.Equal(t, uint64(4), p.Stats().V3.TimeSyncs)
}

func TestV3ReportStormIsBounded(t *testing.T) {
	f, clk := startV3Fleet(t, 2, 1)
	p := newPoller(t, withClock(clk.Now), WithTimeouts(50*time.Millisecond, 20*time.Millisecond, 100*time.Millisecond), WithRetries(1), WithBreaker(0, 0))
	tg := v3Target(f, 0)
	_, err := p.Get(ctxTimeout(t, 5*time.Second), tg, oidSysDescr)
	require.NoError(t, err)
	setV3Faults(t, f, "report-storm=1m")
	before := f.Stats().Requests
	_, err = p.Get(ctxTimeout(t, 5*time.Second), tg, oidSysDescr)
	require.ErrorIs(t, err, ErrUSM)
	var re *ReportError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, usm.StatUnknownEngineIDs, re.Stat)
	sent := f.Stats().Requests - before
	assert.LessOrEqual(t, sent, uint64(2+maxV3Resends), "requests in one Get under a storm")
	clk.Advance(2 * time.Minute)
	_, err = p.Get(ctxTimeout(t, 5*time.Second), tg, oidSysDescr)
	require.NoError(t, err, "after the storm")
}

// Under a report storm a Get fails with the agent's Report once its
// immediate resends are spent, and does not wait out its retries' timeouts
// first (which made the p99 of v3-engine-reboot's report-storm phase 1.4 s).
func TestV3ReportStormFailsAtTheReport(t *testing.T) {
	f, clk := startV3Fleet(t, 9, 1)
	p := newPoller(t, withClock(clk.Now), WithTimeouts(2*time.Second, time.Second, 5*time.Second), WithRetries(3), WithBreaker(0, 0))
	tg := v3Target(f, 0)
	_, err := p.Get(ctxTimeout(t, 10*time.Second), tg, oidSysDescr)
	require.NoError(t, err)
	setV3Faults(t, f, "report-storm=1m")
	before, st0 := f.Stats().Requests, p.Stats()
	_, err = p.Get(ctxTimeout(t, 30*time.Second), tg, oidSysDescr)
	var re *ReportError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, usm.StatUnknownEngineIDs, re.Stat)
	st := p.Stats()
	assert.Equal(t, uint64(1+maxV3Resends), f.Stats().Requests-before, "the request and its immediate resends, no retries")
	assert.Equal(t, st0.Timeouts, st.Timeouts, "no attempt waited for its timeout")
	assert.Equal(t, st0.Retries, st.Retries)
}

// TestV3WrongCredentialsFailFast: a Report (usmStats) ends the call with its
// reason at once. What shows it is the poller's own counters, not a wall
// clock: no attempt timed out and none was retried. With a first timeout of
// 5 s and 3 retries, a poller that ignored the Report would count a timeout
// and take 5 s or more; the elapsed bound is that first timeout, far above
// what even a loaded machine takes for the exchange (a 900 ms bound against
// the default 1 s timeout failed at 900.36 ms at load 40, -race).
func TestV3WrongCredentialsFailFast(t *testing.T) {
	f, clk := startV3Fleet(t, 3, 1)
	const firstTimeout = 5 * time.Second
	p := newPoller(t, withClock(clk.Now), WithTimeouts(firstTimeout, 50*time.Millisecond, firstTimeout), WithRetries(3))
	for _, tc := range []struct {
		u    usm.User
		want usm.Stat
	}{
		{usm.User{Name: "ops", Auth: usm.SHA, AuthPass: "wrongsecret", Priv: usm.AES, PrivPass: "privsecret1"}, usm.StatWrongDigests},
		{usm.User{Name: "ops", Auth: usm.SHA, AuthPass: "authsecret1", Priv: usm.AES, PrivPass: "wrongsecret"}, usm.StatDecryptionErrors},
		{usm.User{Name: "who", Auth: usm.SHA, AuthPass: "authsecret1"}, usm.StatUnknownUserNames},
		{usm.User{Name: "md5", Auth: usm.MD5, AuthPass: "authsecret2", Priv: usm.DES, PrivPass: "privsecret2"}, usm.StatUnsupportedSecLevels},
	} {
		before := p.Stats()
		start := time.Now()
		_, err := p.Get(ctxTimeout(t, 30*time.Second), Target{Addr: f.Addr(0).String(), Version: V3, User: tc.u}, oidSysDescr)
		elapsed := time.Since(start)
		var re *ReportError
		require.ErrorAs(t, err, &re, tc.want.String())
		assert.Equal(t, tc.want, re.Stat)
		after := p.Stats()
		assert.Equal(t, before.Timeouts, after.Timeouts, "%s: fails at the Report, no attempt timed out", tc.want)
		assert.Equal(t, before.Retries, after.Retries, "%s: fails at the Report, nothing retried", tc.want)
		assert.Greater(t, after.Requests, before.Requests, "%s: a request went out", tc.want)
		assert.Less(t, elapsed, firstTimeout, "%s: fails before the first timeout", tc.want)
		assertNoSecret(t, err.Error())
	}
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{"authsecret", "privsecret", "wrongsecret"} {
		assert.NotContains(t, s, secret)
	}
}

func TestV3SecretsNeverShow(t *testing.T) {
	f, clk := startV3Fleet(t, 4, 1)
	p := newPoller(t, withClock(clk.Now))
	tg := v3Target(f, 0)
	key, err := p.Key(ctxTimeout(t, time.Second), tg)
	require.NoError(t, err)
	other := tg
	other.User.PrivPass = "privsecret9"
	key2, err := p.Key(ctxTimeout(t, time.Second), other)
	require.NoError(t, err)
	assert.NotEqual(t, key, key2, "credentials are part of the session key")
	st, err := json.Marshal(p.Stats())
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v", tg, tg, tg), key.String(), tg.String(), string(st)} {
		assertNoSecret(t, s)
	}
	_, err = p.Get(ctxTimeout(t, time.Second), Target{Addr: f.Addr(0).String(), Version: V3, User: usm.User{Name: "x", Auth: usm.SHA, AuthPass: "authsecret"}}, oidSysDescr)
	require.Error(t, err)
	assertNoSecret(t, err.Error())
}

// tamperProxy relays UDP between the poller and one agent and flips one
// byte of every response while tamper is set.
type tamperProxy struct {
	conn   *net.UDPConn
	agent  netip.AddrPort
	mu     sync.Mutex
	tamper bool
	client netip.AddrPort
	wg     sync.WaitGroup
}

func startTamperProxy(t *testing.T, agent netip.AddrPort) *tamperProxy {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 22, 99, 1)})
	require.NoError(t, err)
	px := &tamperProxy{conn: c, agent: agent}
	px.wg.Go(px.run)
	t.Cleanup(func() { _ = c.Close(); px.wg.Wait() })
	return px
}

func (px *tamperProxy) run() {
	buf := make([]byte, 65536)
	for {
		n, from, err := px.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		b := buf[:n]
		px.mu.Lock()
		to := px.agent
		if from == px.agent {
			to = px.client
			if px.tamper {
				b[n-3] ^= 0x40 // inside the (encrypted) PDU
			}
		} else {
			px.client = from
		}
		px.mu.Unlock()
		_, _ = px.conn.WriteToUDPAddrPort(b, to)
	}
}

func (px *tamperProxy) set(on bool) { px.mu.Lock(); px.tamper = on; px.mu.Unlock() }

func TestV3TamperedResponsesAreRejected(t *testing.T) {
	f, clk := startV3Fleet(t, 5, 1)
	px := startTamperProxy(t, f.Addr(0))
	p := newPoller(t, withClock(clk.Now), WithTimeouts(100*time.Millisecond, 50*time.Millisecond, 200*time.Millisecond), WithRetries(2), WithBreaker(0, 0))
	tg := v3Target(f, 0)
	tg.Addr = px.conn.LocalAddr().String()
	_, err := p.Get(ctxTimeout(t, 5*time.Second), tg, oidSysDescr)
	require.NoError(t, err)
	px.set(true)
	_, err = p.Get(ctxTimeout(t, 5*time.Second), tg, oidSysDescr)
	require.ErrorIs(t, err, ErrTimeout, "nothing delivered")
	st := p.Stats()
	assert.Equal(t, uint64(3), st.V3.BadMAC, "every tampered response counted")
	assert.Zero(t, st.DecodeErrors)
	px.set(false)
	_, err = p.Get(ctxTimeout(t, 5*time.Second), tg, oidSysDescr)
	require.NoError(t, err)
}
