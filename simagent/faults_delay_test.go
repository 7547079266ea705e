package simagent

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Delay faults: fixed, jittered, per subtree, and what they hold up.

func TestDelayFixed(t *testing.T) {
	t.Parallel()
	const d = 300 * time.Millisecond
	f := startFleet(t, Config{Listen: testAddr(40), Agents: 2, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{Delay: &Delay{Fixed: Duration(d)}})
	require.NoError(t, err)
	g := gsClient(t, f, 1, gosnmp.Version2c, 10*time.Second, 0)
	for range 3 {
		start := time.Now()
		r, err := g.Get([]string{oidSysName})
		took := time.Since(start)
		require.NoError(t, err)
		assert.Equal(t, []byte("agent"), r.Variables[0].Value)
		assert.GreaterOrEqual(t, took, d)
	}
	waitFor(t, "responses counted", func() bool { return f.AgentStats(1).Responses == 3 })
	assert.EqualValues(t, 3, f.AgentStats(1).Delayed)
	assert.Zero(t, f.AgentStats(0).Delayed)
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// Wall-clock measurements below only ever err upwards (a stalled reader
// or sender makes replies look later), so assertions lean on lower bounds
// and on scales far above scheduling noise.

func TestDelayJitterDistributions(t *testing.T) {
	t.Parallel()
	const n = 40
	dists := []struct {
		dist   string
		jitter time.Duration
	}{{"uniform", time.Second}, {"normal", 600 * time.Millisecond}, {"pareto", 150 * time.Millisecond}}
	var fleets []*Fleet
	for k, d := range dists {
		fleets = append(fleets, startFleet(t, Config{Listen: testAddr(41 + k), Seed: 11, Clock: frozen(), Faults: Faults{
			Delay: &Delay{Jitter: Duration(d.jitter), Dist: d.dist, Max: Duration(3 * time.Second)},
		}}))
	}
	got := latenciesOf(t, n, fleets...)
	q90 := map[string]time.Duration{}
	for k, d := range dists {
		ls := got[k]
		q10, q50 := quantile(ls, 0.1), quantile(ls, 0.5)
		q90[d.dist] = quantile(ls, 0.9)
		t.Logf("%s jitter %s: q10 %s q50 %s q90 %s max %s", d.dist, d.jitter, q10, q50, q90[d.dist], quantile(ls, 1))
		// Spread: the slow tenth lies well apart from the fast tenth
		// (uniform: 0.8 J, normal: 1.5 J, pareto: 3.5 J apart).
		assert.Greater(t, q90[d.dist]-q10, d.jitter/4, "%s: no spread", d.dist)
		assert.Greater(t, q90[d.dist], d.jitter/2, d.dist)
		assert.EqualValues(t, n, fleets[k].AgentStats(0).Delayed)
		assert.EqualValues(t, n, fleets[k].AgentStats(0).Responses)
	}
	// Pareto is heavy-tailed: its slow tenth lies at 3.6 times its scale
	// J (uniform's at 0.9 J, normal's at 1.6 J). Check against 2.5 J.
	assert.Greater(t, q90["pareto"], 375*time.Millisecond, "pareto: no heavy tail")
	assert.Less(t, q90["uniform"], 2500*time.Millisecond, "uniform: a heavy tail")
}

func TestDelaySlowSubtree(t *testing.T) {
	t.Parallel()
	const slow, slower = time.Second, 2 * time.Second
	cases := []struct {
		name string
		pdu  gosnmp.PDUType
		oids []string
		want time.Duration // 0: not delayed
	}{
		{"outside", gosnmp.GetRequest, []string{oidSysName, oidSysDescr}, 0},
		{"inside", gosnmp.GetRequest, []string{oidIfDescr + ".1"}, slow},
		{"one varbind inside", gosnmp.GetRequest, []string{oidSysName, oidIfIndex + ".2"}, slow},
		{"the largest match applies", gosnmp.GetRequest, []string{oidIfDescr + ".1", oidIfIn + ".1"}, slower},
		{"GetNext inside", gosnmp.GetNextRequest, []string{oidIfDescr + ".1"}, slow},
		{"GetNext outside", gosnmp.GetNextRequest, []string{oidSysDescr}, 0},
		{"GetNext answered from inside", gosnmp.GetNextRequest, []string{oidSysName}, slow},
		{"GetBulk running into it", gosnmp.GetBulkRequest, []string{oidSysUpTime}, slow},
	}
	// One agent per case, all asked at once.
	f := startFleet(t, Config{Listen: testAddr(44), Agents: len(cases), Clock: frozen(), Faults: Faults{Delay: &Delay{Prefixes: []PrefixDelay{
		{OID: "1.3.6.1.2.1.2", Delay: Duration(slow)},
		{OID: "1.3.6.1.2.1.2.2.1.10", Delay: Duration(slower)},
	}}}})
	took := make([]time.Duration, len(cases))
	errs := make([]error, len(cases))
	var wg sync.WaitGroup
	for i, tt := range cases {
		g := gsClient(t, f, i, gosnmp.Version2c, 10*time.Second, 0)
		wg.Go(func() {
			start := time.Now()
			switch tt.pdu {
			case gosnmp.GetRequest:
				_, errs[i] = g.Get(tt.oids)
			case gosnmp.GetNextRequest:
				_, errs[i] = g.GetNext(tt.oids)
			default:
				_, errs[i] = g.GetBulk(tt.oids, 0, 5)
			}
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	for i, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, errs[i])
			delayed := f.AgentStats(i).Delayed
			if tt.want == 0 {
				assert.Zero(t, delayed, "not delayed")
				assert.Less(t, took[i], slow)
				return
			}
			assert.EqualValues(t, 1, delayed)
			assert.GreaterOrEqual(t, took[i], tt.want)
		})
	}
}

func TestDelayedReplyHoldsUpNothing(t *testing.T) {
	t.Parallel()
	const d = 3 * time.Second
	f := startFleet(t, Config{Listen: testAddr(45), Agents: 4, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(0)}, Faults{Delay: &Delay{Fixed: Duration(d)}})
	require.NoError(t, err)
	_, err = f.SetFaults(Selector{Index: intp(1)}, Faults{Delay: &Delay{Prefixes: []PrefixDelay{{OID: "1.3.6.1.2.1.2", Delay: Duration(d)}}}})
	require.NoError(t, err)

	type slowResult struct {
		took time.Duration
		err  error
	}
	slowGet := func(i int, oid string) <-chan slowResult {
		g := gsClient(t, f, i, gosnmp.Version2c, 30*time.Second, 0)
		ch := make(chan slowResult, 1)
		go func() {
			start := time.Now()
			_, err := g.Get([]string{oid})
			ch <- slowResult{time.Since(start), err}
		}()
		return ch
	}
	slow0 := slowGet(0, oidSysName)
	slow1 := slowGet(1, oidIfDescr+".1")
	waitFor(t, "two delayed replies", func() bool { return f.Pending() == 2 })

	// Other agents, and other requests to agent 1, answer while both wait.
	meanwhile := 0
	for k := range 15 {
		i := 1 + k%3
		g := client(t, f, i, gosnmp.Version2c)
		r, err := g.Get([]string{oidSysName})
		require.NoError(t, err, "agent %d", i)
		assert.Equal(t, []byte("agent"), r.Variables[0].Value)
		if f.Pending() == 2 {
			meanwhile++
		}
	}
	// Each Get takes a millisecond or so; even a machine slowed a
	// thousandfold answers a few while the delayed replies wait.
	assert.GreaterOrEqual(t, meanwhile, 3, "other requests waited for the delayed replies")
	for _, ch := range []<-chan slowResult{slow0, slow1} {
		r := <-ch
		require.NoError(t, r.err)
		assert.GreaterOrEqual(t, r.took, d)
	}
	assert.EqualValues(t, 1, f.AgentStats(0).Delayed)
	assert.EqualValues(t, 1, f.AgentStats(1).Delayed)
}

func TestCloseDropsPendingReplies(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(46), Clock: frozen(), Faults: Faults{Delay: &Delay{Fixed: Duration(time.Hour)}}})
	c := dialAgent(t, f, 0)
	c.send(getReq(t, 1))
	c.send(getReq(t, 2))
	waitFor(t, "two delayed replies", func() bool { return f.Pending() == 2 })
	require.NoError(t, f.Close())
	require.NoError(t, f.Close(), "Close twice")
	s := f.AgentStats(0)
	assert.EqualValues(t, 2, s.Drops[DropClosed])
	assert.Zero(t, s.Responses)
	c.noMore()
	_, err := f.SetFaults(Selector{}, Faults{})
	assert.ErrorIs(t, err, ErrClosed)
}
