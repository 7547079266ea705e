package simagent

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/simagent/ber"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every fault, shown on the wire: with gosnmp where a poller would see it,
// with a raw socket where gosnmp hides it (duplicates, wrong request-ids,
// cut datagrams). Decisions are seeded, so every count below is exact for
// the seed a test uses; bounds are loose only where wall time is measured.

// fakeClock is a fleet clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// getReq is a v2c Get of sysName.0 with request-id id.
func getReq(t testing.TB, id uint32) []byte {
	t.Helper()
	return marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, id, oidSysName))
}

func getReqs(t testing.TB, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		out[i] = getReq(t, uint32(i+1))
	}
	return out
}

// exchange sends reqs to agent i in order and returns every datagram the
// agent sent back for them, in the order sent. Faults in force must not
// delay replies. It ends with a request in a wrong community, which the
// agent drops before drawing any fault decision: once that is counted, the
// agent (which reads one client's datagrams in order, on one goroutine)
// has finished with every request before it.
func exchange(t testing.TB, f *Fleet, i int, c *rawConn, reqs [][]byte) [][]byte {
	t.Helper()
	before := f.AgentStats(i)
	var out [][]byte
	for k, b := range reqs {
		c.send(b)
		if k%16 == 15 { // pace: stay far below both sockets' buffers
			waitFor(t, "agent to read the requests", func() bool { return f.AgentStats(i).Requests >= before.Requests+uint64(k+1) })
			for {
				b, ok := c.recv(time.Millisecond)
				if !ok {
					break
				}
				out = append(out, b)
			}
		}
	}
	c.send(marshal(t, wrongCommunityMarker(f)))
	waitFor(t, "the marker request", func() bool {
		return f.AgentStats(i).Drops[DropBadCommunity] > before.Drops[DropBadCommunity]
	})
	n := f.AgentStats(i).Responses - before.Responses
	for uint64(len(out)) < n {
		out = append(out, c.mustRecv())
	}
	c.noMore()
	return out
}

// answered maps request-ids to the number of decodable replies carrying
// them.
func answered(t testing.TB, dgrams [][]byte) map[uint32]int {
	t.Helper()
	m := map[uint32]int{}
	for _, b := range dgrams {
		m[mustDecode(t, b).RequestID]++
	}
	return m
}

// lossRuns returns the lengths of runs of consecutive lost requests 1..n.
func lossRuns(got map[uint32]int, n int) []int {
	var runs []int
	run := 0
	for id := 1; id <= n+1; id++ {
		if id <= n && got[uint32(id)] == 0 {
			run++
			continue
		}
		if run > 0 {
			runs = append(runs, run)
		}
		run = 0
	}
	return runs
}

func mean(xs []int) float64 {
	s := 0
	for _, x := range xs {
		s += x
	}
	return float64(s) / float64(len(xs))
}

// gsClient is a gosnmp client for agent i with its own timeout and retries.
func gsClient(t testing.TB, f *Fleet, i int, v gosnmp.SnmpVersion, timeout time.Duration, retries int) *gosnmp.GoSNMP {
	t.Helper()
	g := client(t, f, i, v)
	g.Timeout, g.Retries = timeout, retries
	return g
}

func intp(i int) *int { return &i }

// --- delay ---

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

// latencies sends n Gets to addr back to back on one socket and returns
// how long each reply took, by request order. It calls no testing.T
// method, so several may run side by side on goroutines.
func latencies(addr netip.AddrPort, n int) ([]time.Duration, error) {
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	sent := make([]time.Time, n)
	for k := range n {
		b, err := reqPacket(gosnmp.Version2c, gosnmp.GetRequest, uint32(k+1), oidSysName).MarshalMsg()
		if err != nil {
			return nil, err
		}
		sent[k] = time.Now()
		if _, err := c.Write(b); err != nil {
			return nil, err
		}
	}
	out := make([]time.Duration, n)
	buf := make([]byte, 65536)
	if err := c.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		return nil, err
	}
	for range n {
		m, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		at := time.Now()
		p, err := decodePacket(buf[:m])
		if err != nil {
			return nil, err
		}
		k := int(p.RequestID) - 1
		if k < 0 || k >= n || out[k] != 0 {
			return nil, fmt.Errorf("unexpected reply to request %d", k+1)
		}
		out[k] = at.Sub(sent[k])
	}
	return out, nil
}

// latenciesOf measures agent 0 of every fleet side by side.
func latenciesOf(t testing.TB, n int, fleets ...*Fleet) [][]time.Duration {
	t.Helper()
	out := make([][]time.Duration, len(fleets))
	errs := make([]error, len(fleets))
	var wg sync.WaitGroup
	for i, f := range fleets {
		wg.Go(func() { out[i], errs[i] = latencies(f.Addr(0), n) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return out
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

// --- drop ---

func TestDropProbability(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(47), Seed: 3, Clock: frozen(), Faults: Faults{Drop: &Drop{Prob: 0.3}}})
	const n = 500
	got := answered(t, exchange(t, f, 0, dialAgent(t, f, 0), getReqs(t, n)))
	lost := n - len(got)
	share := float64(lost) / n
	t.Logf("lost %d of %d (%.3f)", lost, n, share)
	assert.InDelta(t, 0.3, share, 0.08)
	for id, k := range got {
		assert.Equal(t, 1, k, "request %d answered %d times", id, k)
	}
	s := f.AgentStats(0)
	assert.EqualValues(t, lost, s.Drops[DropFault])
	assert.EqualValues(t, n-lost, s.Responses)
}

func TestDropBurstGilbertElliott(t *testing.T) {
	const n = 2000
	burst := &Burst{GoodToBad: 0.05, BadToGood: 0.25, LossBad: 1}
	// The same long-run loss rate, independent: 0.05 / (0.05 + 0.25).
	f := startFleet(t, Config{Listen: testAddr(48), Agents: 2, Seed: 5, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(0)}, Faults{Drop: &Drop{Burst: burst}})
	require.NoError(t, err)
	_, err = f.SetFaults(Selector{Index: intp(1)}, Faults{Drop: &Drop{Prob: 1.0 / 6}})
	require.NoError(t, err)
	var runs [2][]int
	var loss [2]float64
	for i := range 2 {
		got := answered(t, exchange(t, f, i, dialAgent(t, f, i), getReqs(t, n)))
		runs[i] = lossRuns(got, n)
		loss[i] = float64(n-len(got)) / n
		assert.EqualValues(t, n-len(got), f.AgentStats(i).Drops[DropFault])
	}
	t.Logf("bursty: loss %.3f, %d runs, mean run %.2f; independent: loss %.3f, %d runs, mean run %.2f",
		loss[0], len(runs[0]), mean(runs[0]), loss[1], len(runs[1]), mean(runs[1]))
	assert.InDelta(t, 1.0/6, loss[0], 0.08)
	assert.InDelta(t, 1.0/6, loss[1], 0.05)
	// Bad-state runs last 1/0.25 = 4 requests on average; independent
	// losses 1/(1-1/6) = 1.2.
	assert.Greater(t, mean(runs[0]), 2.5, "losses do not come in bursts")
	assert.Less(t, mean(runs[1]), 1.6)
}

func TestDropBlackholeWindow(t *testing.T) {
	clk := newFakeClock()
	f := startFleet(t, Config{Listen: testAddr(49), Agents: 2, Clock: clk.Now})
	c0, c1 := dialAgent(t, f, 0), dialAgent(t, f, 1)
	_, err := f.SetFaults(Selector{Index: intp(0)}, Faults{Blackhole: &Blackhole{For: Duration(10 * time.Second)}})
	require.NoError(t, err)
	silent := func(what string) {
		t.Helper()
		assert.Empty(t, exchange(t, f, 0, c0, getReqs(t, 3)), what)
		assert.Len(t, exchange(t, f, 1, c1, getReqs(t, 1)), 1, "agent 1 must answer")
	}
	silent("at the start of the window")
	// A real client times out.
	_, err = gsClient(t, f, 0, gosnmp.Version2c, 200*time.Millisecond, 1).Get([]string{oidSysName})
	require.Error(t, err)
	waitFor(t, "the client's two attempts", func() bool { return f.AgentStats(0).Drops[DropBlackhole] == 5 })
	clk.Advance(9*time.Second + 999*time.Millisecond)
	silent("just before the window ends")
	clk.Advance(time.Millisecond)
	assert.Len(t, exchange(t, f, 0, c0, getReqs(t, 3)), 3, "answers once the window is over")
	assert.EqualValues(t, 8, f.AgentStats(0).Drops[DropBlackhole])

	// For 0: silent until replaced.
	_, err = f.SetFaults(Selector{Index: intp(0)}, Faults{Blackhole: &Blackhole{}})
	require.NoError(t, err)
	clk.Advance(24 * time.Hour)
	silent("a day later")
	_, err = f.SetFaults(Selector{Index: intp(0)}, Faults{})
	require.NoError(t, err)
	assert.Len(t, exchange(t, f, 0, c0, getReqs(t, 2)), 2)
	assert.EqualValues(t, 11, f.AgentStats(0).Drops[DropBlackhole])
}

func TestDropEveryNth(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(50), Clock: frozen(), Faults: Faults{Drop: &Drop{EveryNth: 3}}})
	c := dialAgent(t, f, 0)
	got := answered(t, exchange(t, f, 0, c, getReqs(t, 12)))
	var ids []int
	for id := range 12 {
		if got[uint32(id+1)] == 0 {
			ids = append(ids, id+1)
		}
	}
	assert.Equal(t, []int{3, 6, 9, 12}, ids)
	// New faults count afresh.
	_, err := f.SetFaults(Selector{}, Faults{Drop: &Drop{EveryNth: 2}})
	require.NoError(t, err)
	got = answered(t, exchange(t, f, 0, c, getReqs(t, 5)))
	assert.Equal(t, map[uint32]int{1: 1, 3: 1, 5: 1}, got)
}

// --- truncation ---

func TestTruncateBulkVarbinds(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(51), Agents: 2, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{Truncate: &Truncate{BulkVarbinds: 3}})
	require.NoError(t, err)
	snap := f.Snapshot(1)
	c := dialAgent(t, f, 1)
	p := mustDecode(t, c.roundTrip(marshal(t, bulkPacket(1, 1, 10, oidSysDescr, oidIfIndex, oidIfDescr))))
	assert.Equal(t, refBulk(t, snap, 1, 10, oidSysDescr, oidIfIndex, oidIfDescr)[:3], vbLines(p.Variables))
	assert.EqualValues(t, 1, f.AgentStats(1).Truncated)
	// Get is not cut.
	p = mustDecode(t, c.roundTrip(marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 2, oidSysDescr, oidSysObject, oidSysUpTime, oidSysName))))
	assert.Len(t, p.Variables, 4)
	// A bulk walk that continues from short responses still gets everything.
	var got []string
	g := client(t, f, 1, gosnmp.Version2c)
	require.NoError(t, g.BulkWalk(".1.3.6.1", func(p gosnmp.SnmpPDU) error { got = append(got, vbLine(p)); return nil }))
	assert.Equal(t, snapshotLines(t, snap, false), got)
	assert.Zero(t, f.AgentStats(0).Truncated)
}

func TestTruncateMaxMsgSize(t *testing.T) {
	const limit = 100
	f := startFleet(t, Config{Listen: testAddr(52), Agents: 2, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{Truncate: &Truncate{MaxMsgSize: limit}})
	require.NoError(t, err)
	oids := []string{oidSysDescr, oidSysObject, oidSysName, oidIfDescr + ".1", oidIfDescr + ".2", oidIfDescr + ".3"}
	r, err := client(t, f, 0, gosnmp.Version2c).Get(oids)
	require.NoError(t, err)
	assert.Equal(t, gosnmp.NoError, r.Error, "the healthy agent answers")
	for _, v := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
		r, err = client(t, f, 1, v).Get(oids)
		require.NoError(t, err)
		assert.Equal(t, gosnmp.TooBig, r.Error, "%s", v)
	}
	// GetBulk shrinks to the limit and still makes progress.
	c := dialAgent(t, f, 1)
	b := c.roundTrip(marshal(t, bulkPacket(9, 0, 20, ".1.3.6.1")))
	assert.LessOrEqual(t, len(b), limit)
	p := mustDecode(t, b)
	require.NotEmpty(t, p.Variables)
	assert.Less(t, len(p.Variables), f.Store().Len())
	var got []string
	require.NoError(t, client(t, f, 1, gosnmp.Version2c).BulkWalk(".1.3.6.1", func(p gosnmp.SnmpPDU) error { got = append(got, vbLine(p)); return nil }))
	assert.Equal(t, snapshotLines(t, f.Snapshot(1), false), got)
	assert.Positive(t, f.AgentStats(1).Truncated)
}

func TestTruncateCutBytes(t *testing.T) {
	const cut = 20
	f := startFleet(t, Config{Listen: testAddr(53), Agents: 2, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{Truncate: &Truncate{CutBytes: cut}})
	require.NoError(t, err)
	whole := dialAgent(t, f, 0).roundTrip(getReq(t, 5))
	part := dialAgent(t, f, 1).roundTrip(getReq(t, 5))
	require.Greater(t, len(whole), cut)
	assert.Len(t, part, cut)
	assert.Equal(t, whole[:cut], part, "the datagram is the reply, cut")
	_, err = decodePacket(part)
	assert.Error(t, err, "a cut reply must not decode")

	_, err = gsClient(t, f, 1, gosnmp.Version2c, 5*time.Second, 0).Get([]string{oidSysName})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "timeout", "gosnmp sees a decode error, not silence")
	t.Logf("gosnmp: %v", err)
	assert.EqualValues(t, 2, f.AgentStats(1).Truncated)
}

// --- altered replies ---

func TestDuplicateResponse(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(54), Agents: 2, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(0)}, Faults{Duplicate: &Duplicate{}})
	require.NoError(t, err)
	_, err = f.SetFaults(Selector{Index: intp(1)}, Faults{Duplicate: &Duplicate{Copies: 3}, Delay: &Delay{Fixed: Duration(50 * time.Millisecond)}})
	require.NoError(t, err)

	d := exchange(t, f, 0, dialAgent(t, f, 0), getReqs(t, 1))
	require.Len(t, d, 2)
	assert.Equal(t, d[0], d[1])
	assert.EqualValues(t, 1, mustDecode(t, d[0]).RequestID)

	// Delayed duplicates: all four copies come after the delay.
	c := dialAgent(t, f, 1)
	c.send(getReq(t, 7))
	for range 4 {
		assert.EqualValues(t, 7, mustDecode(t, c.mustRecv()).RequestID)
	}
	waitFor(t, "responses counted", func() bool { return f.AgentStats(1).Responses == 4 })
	c.noMore()

	// gosnmp skips the stale copy left in its socket (issue #68 is fixed).
	g := client(t, f, 0, gosnmp.Version2c)
	for range 3 {
		r, err := g.Get([]string{oidSysName})
		require.NoError(t, err)
		assert.Equal(t, []byte("agent"), r.Variables[0].Value)
	}
	waitFor(t, "responses counted", func() bool { return f.AgentStats(0).Responses == 8 })
	s := f.AgentStats(0)
	assert.EqualValues(t, 5, s.Requests, "4 requests and exchange's marker")
	assert.EqualValues(t, 4, s.Faulted)
}

func TestWrongRequestID(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(55), Agents: 2, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{WrongID: &Chance{Prob: 1}})
	require.NoError(t, err)
	right := dialAgent(t, f, 0).roundTrip(getReq(t, 1000))
	wrong := dialAgent(t, f, 1).roundTrip(getReq(t, 1000))
	p := mustDecode(t, wrong)
	assert.NotEqualValues(t, 1000, p.RequestID)
	assert.EqualValues(t, 1001, p.RequestID)
	// Otherwise the reply is right.
	want := mustDecode(t, right)
	want.RequestID = p.RequestID
	assert.Equal(t, vbLines(want.Variables), vbLines(p.Variables))

	// gosnmp ignores the replies and times out after its retries.
	_, err = gsClient(t, f, 1, gosnmp.Version2c, 200*time.Millisecond, 2).Get([]string{oidSysName})
	require.Error(t, err)
	waitFor(t, "three attempts", func() bool { return f.AgentStats(1).Requests == 4 })
	s := f.AgentStats(1)
	assert.EqualValues(t, 4, s.Responses)
	assert.EqualValues(t, 4, s.Faulted)
}

func TestGarbageResponse(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(56), Agents: 2, Seed: 9, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{Garbage: &Chance{Prob: 1}})
	require.NoError(t, err)
	right := dialAgent(t, f, 0).roundTrip(getReq(t, 1))
	c := dialAgent(t, f, 1)
	for id := range uint32(20) {
		b := c.roundTrip(getReq(t, id+1))
		assert.Len(t, b, len(right), "garbage of the reply's size")
		_, err := decodePacket(b)
		assert.Error(t, err, "garbage decoded: % x", b)
		assert.NotEqual(t, right, b)
	}
	_, err = gsClient(t, f, 1, gosnmp.Version2c, 5*time.Second, 0).Get([]string{oidSysName})
	require.Error(t, err)
	assert.EqualValues(t, 21, f.AgentStats(1).Faulted)
}

func TestLoopingOIDs(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(57), Agents: 3, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{Loop: &Loop{After: oidIfIndex + ".2", Rewind: oidSysDescr}})
	require.NoError(t, err)
	_, err = f.SetFaults(Selector{Index: intp(2)}, Faults{Loop: &Loop{After: oidIfIndex + ".2"}})
	require.NoError(t, err)

	g := client(t, f, 1, gosnmp.Version2c)
	r, err := g.GetNext([]string{oidIfIndex + ".1"})
	require.NoError(t, err)
	assert.Equal(t, oidIfIndex+".2", r.Variables[0].Name, "before After the agent is sane")
	r, err = g.GetNext([]string{oidIfIndex + ".2"})
	require.NoError(t, err)
	assert.Equal(t, oidSysDescr, r.Variables[0].Name, "past After it rewinds")
	r, err = client(t, f, 2, gosnmp.Version1).GetNext([]string{oidIfIndex + ".2"})
	require.NoError(t, err)
	assert.Equal(t, oidIfIndex+".2", r.Variables[0].Name, "default rewind: the same OID again")

	// GetBulk loops too: OIDs do not increase within one response.
	c := dialAgent(t, f, 1)
	p := mustDecode(t, c.roundTrip(marshal(t, bulkPacket(1, 0, 12, oidSysDescr))))
	var names []mib.OID
	for _, v := range p.Variables {
		names = append(names, mib.MustParseOID(v.Name))
	}
	assert.False(t, slices.IsSortedFunc(names, func(a, b mib.OID) int { return mib.Compare(a, b) }), "%v", vbLines(p.Variables))

	// A walk never ends by itself: gosnmp notices here, or we stop it.
	errLooping := errors.New("walk went on for too long")
	for _, walk := range []func(string, gosnmp.WalkFunc) error{client(t, f, 1, gosnmp.Version1).Walk, client(t, f, 1, gosnmp.Version2c).BulkWalk} {
		n := 0
		err := walk(".1.3.6.1", func(gosnmp.SnmpPDU) error {
			if n++; n > 200 {
				return errLooping
			}
			return nil
		})
		require.Error(t, err)
		t.Logf("walk: %v", err)
	}
	assert.Positive(t, f.AgentStats(1).Faulted)
}

func TestPrematureEndOfMibView(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(58), Agents: 2, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{EndOfMib: &EndOfMib{After: oidIfIndex + ".3"}})
	require.NoError(t, err)
	snap := f.Snapshot(1)
	g := client(t, f, 1, gosnmp.Version2c)
	r, err := g.GetNext([]string{oidIfIndex + ".2", oidIfIndex + ".3"})
	require.NoError(t, err)
	assert.Equal(t, []string{entryLine(t, snap[6]), endLine(oidIfIndex+".3", gosnmp.EndOfMibView)}, vbLines(r.Variables))
	r, err = g.Get([]string{oidIfDescr + ".1"})
	require.NoError(t, err)
	assert.Equal(t, []string{entryLine(t, snap[7])}, vbLines(r.Variables), "Get is not affected")
	r, err = client(t, f, 1, gosnmp.Version1).GetNext([]string{oidIfIndex + ".3"})
	require.NoError(t, err)
	assert.Equal(t, gosnmp.NoSuchName, r.Error, "v1 has no endOfMibView")

	// Walks end early and silently: the data stops at ifIndex.3.
	for _, v := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
		var got []string
		g := client(t, f, 1, v)
		walk := g.Walk
		if v == gosnmp.Version2c {
			walk = g.BulkWalk
		}
		require.NoError(t, walk(".1.3.6.1", func(p gosnmp.SnmpPDU) error { got = append(got, vbLine(p)); return nil }))
		assert.Equal(t, snapshotLines(t, snap[:7], false), got, "%s", v)
	}
}

func TestErrorStatusInjection(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(59), Agents: 2, Seed: 4, Clock: frozen()})
	oids := []string{oidSysDescr, oidSysName}
	for _, tt := range []struct {
		status  string
		v       gosnmp.SnmpVersion
		want    gosnmp.SNMPError
		wantIdx uint8
		echo    bool
	}{
		{"genErr", gosnmp.Version2c, gosnmp.GenErr, 1, true},
		{"genErr", gosnmp.Version1, gosnmp.GenErr, 1, true},
		{"5", gosnmp.Version2c, gosnmp.GenErr, 1, true},
		{"tooBig", gosnmp.Version2c, gosnmp.TooBig, 0, false},
		{"tooBig", gosnmp.Version1, gosnmp.TooBig, 0, true},
		{"resourceUnavailable", gosnmp.Version2c, gosnmp.ResourceUnavailable, 1, true},
		{"resourceUnavailable", gosnmp.Version1, gosnmp.GenErr, 1, true},
		{"notWritable", gosnmp.Version1, gosnmp.NoSuchName, 1, true},
		{"wrongValue", gosnmp.Version1, gosnmp.BadValue, 1, true},
	} {
		t.Run(tt.status+"/"+tt.v.String(), func(t *testing.T) {
			_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{ErrorStatus: &ErrorStatus{Status: tt.status}})
			require.NoError(t, err)
			r, err := client(t, f, 1, tt.v).Get(oids)
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.Error)
			assert.Equal(t, tt.wantIdx, r.ErrorIndex)
			if tt.echo {
				assert.Equal(t, []string{endLine(oidSysDescr, gosnmp.Null), endLine(oidSysName, gosnmp.Null)}, vbLines(r.Variables))
			} else {
				assert.Empty(t, r.Variables)
			}
		})
	}
	// With a probability, some requests fail and the others are right.
	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{ErrorStatus: &ErrorStatus{Status: "genErr", Prob: 0.4}})
	require.NoError(t, err)
	const n = 300
	failed := 0
	for _, b := range exchange(t, f, 1, dialAgent(t, f, 1), getReqs(t, n)) {
		p := mustDecode(t, b)
		if p.Error == gosnmp.GenErr {
			failed++
		} else {
			assert.Equal(t, []byte("agent"), p.Variables[0].Value)
		}
	}
	t.Logf("genErr in %d of %d", failed, n)
	assert.InDelta(t, 0.4, float64(failed)/n, 0.1)
	r, err := client(t, f, 0, gosnmp.Version2c).Get(oids)
	require.NoError(t, err)
	assert.Equal(t, gosnmp.NoError, r.Error, "other agents are healthy")
}

// dynStore has sysUpTime and a Counter32 that rises 100/s from 1000.
func dynStore(t testing.TB) *mib.Store {
	t.Helper()
	b := mib.NewBuilder("dyn")
	b.Add(mib.MustParseOID(oidSysUpTime), mib.Uptime(), "")
	b.Add(mib.MustParseOID(oidIfIn+".1"), mib.Counter(ber.TagCounter32, 1000, 100, 0), "")
	s, err := b.Build()
	require.NoError(t, err)
	return s
}

func TestAgentRestart(t *testing.T) {
	clk := newFakeClock()
	f := startFleet(t, Config{Listen: testAddr(60), Agents: 3, Store: dynStore(t), Clock: clk.Now})
	read := func(i int) (uptime, counter any) {
		t.Helper()
		r, err := client(t, f, i, gosnmp.Version2c).Get([]string{oidSysUpTime, oidIfIn + ".1"})
		require.NoError(t, err)
		return r.Variables[0].Value, r.Variables[1].Value
	}
	clk.Advance(100 * time.Second)
	up, ctr := read(1)
	assert.EqualValues(t, 10000, up)
	assert.EqualValues(t, 1000+100*100, ctr)

	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{Restart: &Restart{Downtime: Duration(30 * time.Second)}})
	require.NoError(t, err)
	assert.Less(t, f.Age(1), time.Duration(0), "down")
	c := dialAgent(t, f, 1)
	assert.Empty(t, exchange(t, f, 1, c, getReqs(t, 2)), "silent while down")
	clk.Advance(29 * time.Second)
	assert.Empty(t, exchange(t, f, 1, c, getReqs(t, 2)), "still down")
	assert.EqualValues(t, 4, f.AgentStats(1).Drops[DropRestarting])
	up, _ = read(0)
	assert.EqualValues(t, 12900, up, "other agents keep running")

	clk.Advance(6 * time.Second) // back for 5 s
	up, ctr = read(1)
	assert.EqualValues(t, 500, up, "sysUpTime restarts from zero")
	assert.EqualValues(t, 1000+100*5, ctr, "counters restart")
	assert.Equal(t, 5*time.Second, f.Age(1))
	snap := f.Snapshot(1)
	assert.Equal(t, []string{oidSysUpTime + " TimeTicks 500", oidIfIn + ".1 Counter32 1500"}, snapshotLines(t, snap, false))
	up, _ = read(0)
	assert.EqualValues(t, 13500, up)

	// Without downtime the reset is immediate.
	_, err = f.SetFaults(Selector{Range: &IndexRange{From: 0, To: 0}}, Faults{Restart: &Restart{}})
	require.NoError(t, err)
	up, ctr = read(0)
	assert.EqualValues(t, 0, up)
	assert.EqualValues(t, 1000, ctr)
}

// --- selectors and run-time changes ---

func TestSelectorsResolveAsDocumented(t *testing.T) {
	labels := []LabelRange{{From: 0, To: 3, Labels: map[string]string{"rack": "a"}}, {From: 4, To: 9, Labels: map[string]string{"rack": "b", "os": "x"}}}
	f := startFleet(t, Config{Listen: testAddr(61), Agents: 10, Seed: 7, Labels: labels, Clock: frozen()})
	same := startFleet(t, Config{Listen: testAddr(62), Agents: 10, Seed: 7, Labels: labels, Clock: frozen()})
	other := startFleet(t, Config{Listen: testAddr(63), Agents: 10, Seed: 8, Labels: labels, Clock: frozen()})
	sel := func(f *Fleet, s Selector) []int {
		t.Helper()
		idx, err := f.Select(s)
		require.NoError(t, err, "%s", s)
		return idx
	}
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	assert.Equal(t, all, sel(f, Selector{}))
	assert.Equal(t, all, sel(f, Selector{All: true}))
	assert.Equal(t, []int{3}, sel(f, Selector{Index: intp(3)}))
	assert.Equal(t, []int{2, 3, 4}, sel(f, Selector{Range: &IndexRange{From: 2, To: 4}}))
	assert.Equal(t, []int{0, 1, 2, 3}, sel(f, Selector{Label: "rack=a"}))
	assert.Equal(t, []int{4, 5, 6, 7, 8, 9}, sel(f, Selector{Label: "os=x"}))
	assert.Empty(t, sel(f, Selector{Label: "rack=c"}))

	three := sel(f, Selector{Count: 3})
	assert.Len(t, three, 3)
	assert.Len(t, unique(three), 3)
	assert.Equal(t, three, sel(same, Selector{Count: 3}), "same seed, same agents")
	assert.NotEqual(t, three, sel(other, Selector{Count: 3}), "another seed, other agents")
	five := sel(f, Selector{Count: 5})
	assert.Subset(t, five, three, "a smaller share is part of a larger one")
	assert.Len(t, sel(f, Selector{Percent: 25}), 2, "25%% of 10 rounds down")
	assert.Len(t, sel(f, Selector{Percent: 1}), 1, "at least one")
	assert.Equal(t, five, sel(f, Selector{Percent: 50}))
	assert.ElementsMatch(t, all, sel(f, Selector{Count: 10}))

	for _, bad := range []Selector{
		{Index: intp(10)}, {Index: intp(-1)}, {Count: 11}, {Count: -1}, {Percent: 101},
		{Range: &IndexRange{From: 5, To: 3}}, {Range: &IndexRange{From: 0, To: 10}},
		{Label: "rack"}, {Index: intp(1), Count: 2}, {All: true, Label: "rack=a"},
	} {
		_, err := f.Select(bad)
		assert.Error(t, err, "%+v", bad)
		_, err = f.SetFaults(bad, Faults{Blackhole: &Blackhole{}})
		assert.Error(t, err, "%+v", bad)
	}
	for _, text := range []string{"all", "index=4", "count=3", "percent=12.5", "range=2-5", "label=rack=b"} {
		s, err := ParseSelector(text)
		require.NoError(t, err, text)
		assert.Equal(t, text, s.String())
		again, err := ParseSelector(s.String())
		require.NoError(t, err)
		assert.Equal(t, s, again)
	}
	for _, text := range []string{"index", "index=x", "range=3", "count=1.5", "what=1"} {
		_, err := ParseSelector(text)
		assert.Error(t, err, text)
	}
	for i := range 10 {
		assert.Equal(t, Faults{}, f.Faults(i), "resolving changed nothing")
	}
}

func unique(xs []int) map[int]bool {
	m := map[int]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func TestSetFaultsChangesOnlySelectedAgentsWhileRunning(t *testing.T) {
	labels := []LabelRange{{From: 0, To: 2, Labels: map[string]string{"role": "core"}}}
	f := startFleet(t, Config{Listen: testAddr(64), Agents: 8, Seed: 1, Labels: labels, Clock: frozen()})
	conns := make([]*rawConn, f.Len())
	for i := range conns {
		conns[i] = dialAgent(t, f, i)
	}
	// probe sends one Get to every agent and returns those that answered.
	id := uint32(0)
	probe := func() []int {
		t.Helper()
		var out []int
		id++
		for i, c := range conns {
			if len(exchange(t, f, i, c, [][]byte{getReq(t, id)})) > 0 {
				out = append(out, i)
			}
		}
		return out
	}
	require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7}, probe())

	silence := Faults{Blackhole: &Blackhole{}}
	n, err := f.SetFaults(Selector{Label: "role=core"}, silence)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, []int{3, 4, 5, 6, 7}, probe())

	n, err = f.SetFaults(Selector{Index: intp(1)}, Faults{})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []int{1, 3, 4, 5, 6, 7}, probe())

	n, err = f.SetFaults(Selector{Range: &IndexRange{From: 6, To: 7}}, silence)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []int{1, 3, 4, 5}, probe())

	picked, err := f.Select(Selector{Count: 2})
	require.NoError(t, err)
	_, err = f.SetFaults(Selector{All: true}, Faults{})
	require.NoError(t, err)
	_, err = f.SetFaults(Selector{Count: 2}, silence)
	require.NoError(t, err)
	want := []int{}
	for i := range f.Len() {
		if !slices.Contains(picked, i) {
			want = append(want, i)
		}
	}
	assert.Equal(t, want, probe())

	// Faults read back as set; a bad fault changes nothing.
	for i := range f.Len() {
		if slices.Contains(picked, i) {
			assert.Equal(t, silence, f.Faults(i))
		} else {
			assert.Equal(t, Faults{}, f.Faults(i))
		}
	}
	_, err = f.SetFaults(Selector{}, Faults{Drop: &Drop{Prob: 1.5}})
	require.ErrorIs(t, err, ErrBadFault)
	assert.Contains(t, err.Error(), "drop.prob")
	assert.Equal(t, want, probe())
}

// --- the same seed gives the same decisions ---

// faultMix hits requests with every random fault that keeps replies
// immediate.
var faultMix = Faults{
	Drop:        &Drop{Prob: 0.1, Burst: &Burst{GoodToBad: 0.05, BadToGood: 0.5, LossBad: 0.9}},
	Duplicate:   &Duplicate{Prob: 0.15},
	WrongID:     &Chance{Prob: 0.1},
	Garbage:     &Chance{Prob: 0.1},
	ErrorStatus: &ErrorStatus{Status: "genErr", Prob: 0.1},
}

// decisionRun starts a fleet, applies faultMix to every agent and returns
// what agents 1 and 2 sent back, datagram by datagram, for the same 300
// requests (request-ids 1000, 2000, ...: a wrong id stands out).
func decisionRun(t *testing.T, x int, seed uint64) (agent1, agent2 [][]byte) {
	t.Helper()
	f := startFleet(t, Config{Listen: testAddr(x), Agents: 3, Seed: seed, Clock: frozen()})
	_, err := f.SetFaults(Selector{}, faultMix)
	require.NoError(t, err)
	reqs := make([][]byte, 300)
	for i := range reqs {
		reqs[i] = getReq(t, uint32(i+1)*1000)
	}
	agent1 = exchange(t, f, 1, dialAgent(t, f, 1), reqs)
	agent2 = exchange(t, f, 2, dialAgent(t, f, 2), reqs)
	return agent1, agent2
}

// outcomes classifies what decisionRun got back.
func outcomes(dgrams [][]byte) map[string]int {
	m := map[string]int{}
	ids := map[uint32]int{}
	for _, b := range dgrams {
		p, err := decodePacket(b)
		switch {
		case err != nil:
			m["garbage"]++
			continue
		case p.RequestID%1000 != 0:
			m["wrongID"]++
		case p.Error == gosnmp.GenErr:
			m["genErr"]++
		}
		ids[p.RequestID]++
	}
	for id := uint32(1000); id <= 300_000; id += 1000 {
		switch {
		case ids[id] == 0:
			m["unanswered"]++
		case ids[id] > 1:
			m["duplicated"]++
		}
	}
	return m
}

func TestSameSeedSameDecisions(t *testing.T) {
	a1, a2 := decisionRun(t, 65, 42)
	b1, b2 := decisionRun(t, 66, 42)
	c1, _ := decisionRun(t, 67, 43)
	t.Logf("seed 42 agent 1: %d datagrams %v", len(a1), outcomes(a1))
	t.Logf("seed 42 agent 2: %d datagrams %v", len(a2), outcomes(a2))
	t.Logf("seed 43 agent 1: %d datagrams %v", len(c1), outcomes(c1))
	assert.Equal(t, a1, b1, "same seed: the same datagrams, byte for byte, in the same order")
	assert.Equal(t, a2, b2)
	assert.NotEqual(t, outcomes(a1), outcomes(c1), "another seed decides otherwise")
	assert.NotEqual(t, outcomes(a1), outcomes(a2), "agents draw from their own streams")
	o := outcomes(a1)
	for _, k := range []string{"unanswered", "duplicated", "wrongID", "garbage", "genErr"} {
		assert.Positive(t, o[k], "no %s: the mix did not exercise every fault", k)
	}
}

// seededDelays computes, apart from any fleet, the delays an agent with
// index agent in a fleet with seed decides for its first n requests under
// faults given at start. Wall time can only make replies look later, never
// earlier, so these are exact lower bounds for what a client measures.
func seededDelays(t testing.TB, faults Faults, seed uint64, agent, n int) []time.Duration {
	t.Helper()
	p, err := compile(&faults)
	require.NoError(t, err)
	at := time.Unix(1_700_000_000, 0)
	fs := newFaultState(p, at, seed, agent, 0)
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = fs.decide(at, [][]uint32{mib.MustParseOID(oidSysName)}).delay
	}
	return out
}

func TestSameSeedSameDelays(t *testing.T) {
	t.Parallel()
	const n = 12
	faults := Faults{Delay: &Delay{Jitter: Duration(3 * time.Second)}}
	want21, want22 := seededDelays(t, faults, 21, 0, n), seededDelays(t, faults, 22, 0, n)
	far := 0
	for i := range n {
		if want21[i]-want22[i] > time.Second {
			far++
		}
	}
	require.GreaterOrEqual(t, far, 2, "seeds 21 and 22 should draw apart: %v %v", want21, want22)

	var fleets []*Fleet
	for k, seed := range []uint64{21, 21, 22} {
		fleets = append(fleets, startFleet(t, Config{Listen: testAddr(68 + k), Seed: seed, Clock: frozen(), Faults: faults}))
	}
	got := latenciesOf(t, n, fleets...)
	t.Logf("seed 21 decides %v\n  fleet a: %v\n  fleet b: %v\nseed 22 decides %v\n  fleet c: %v", want21, got[0], got[1], want22, got[2])
	for k, want := range [][]time.Duration{want21, want21, want22} {
		for i, d := range want {
			l := got[k][i]
			assert.GreaterOrEqual(t, l, d, "fleet %d request %d: replied before its seed's delay", k, i+1)
			assert.Less(t, l, d+2*time.Second, "fleet %d request %d: far later than its seed's delay", k, i+1)
		}
	}
	// Seen from the wire, fleet c does not follow seed 21.
	early := 0
	for i := range n {
		if got[2][i] < want21[i] {
			early++
		}
	}
	assert.Positive(t, early, "fleet c behaves as seed 21 decides")
}

// --- stats ---

func TestStatsCountEverything(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(71), Agents: 3, Clock: frozen()})
	_, err := f.SetFaults(Selector{Index: intp(1)}, Faults{Delay: &Delay{Fixed: Duration(20 * time.Millisecond)}, Drop: &Drop{EveryNth: 4}})
	require.NoError(t, err)
	_, err = f.SetFaults(Selector{Index: intp(2)}, Faults{Truncate: &Truncate{BulkVarbinds: 2}, Duplicate: &Duplicate{}})
	require.NoError(t, err)

	type tally struct{ in, out, sent, got int }
	var want [3]tally
	// Agent 0: 5 good requests, 2 in a wrong community, 1 malformed, one
	// v1 GetBulk.
	c0 := dialAgent(t, f, 0)
	var reqs [][]byte
	reqs = append(reqs, getReqs(t, 5)...)
	wrongCommunity := reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 6, oidSysName)
	wrongCommunity.Community = "nope"
	reqs = append(reqs, marshal(t, wrongCommunity), marshal(t, wrongCommunity), []byte{0x30, 0x03, 0x02, 0x01})
	v1Bulk := bulkPacket(7, 0, 3, oidSysDescr)
	v1Bulk.Version = gosnmp.Version1
	reqs = append(reqs, marshal(t, v1Bulk))
	for _, b := range reqs {
		want[0].in += len(b)
	}
	d0 := exchange(t, f, 0, c0, reqs)
	want[0].in += len(marshal(t, wrongCommunityMarker(f)))
	for _, b := range d0 {
		want[0].out += len(b)
	}
	// Agent 1: 8 delayed requests, every 4th dropped.
	c1 := dialAgent(t, f, 1)
	for id := uint32(1); id <= 8; id++ {
		b := getReq(t, id)
		want[1].in += len(b)
		c1.send(b)
	}
	for range 6 {
		want[1].out += len(c1.mustRecv())
	}
	// Agent 2: 3 bulk requests cut to 2 varbinds, each sent twice.
	c2 := dialAgent(t, f, 2)
	var bulk [][]byte
	for id := uint32(1); id <= 3; id++ {
		bulk = append(bulk, marshal(t, bulkPacket(id, 0, 10, ".1.3.6.1")))
		want[2].in += len(bulk[id-1])
	}
	d2 := exchange(t, f, 2, c2, bulk)
	want[2].in += len(marshal(t, wrongCommunityMarker(f)))
	require.Len(t, d2, 6)
	for _, b := range d2 {
		assert.Len(t, mustDecode(t, b).Variables, 2)
		want[2].out += len(b)
	}
	// And one datagram to an address of no agent.
	stray, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(addAddr(f.Addr(0).Addr(), 5), f.Addr(0).Port())))
	require.NoError(t, err)
	defer stray.Close()
	_, err = stray.Write(getReq(t, 1))
	require.NoError(t, err)
	waitFor(t, "the stray datagram", func() bool { return f.Stats().Drops[DropUnknownAgent] == 1 })

	s0, s1, s2 := f.AgentStats(0), f.AgentStats(1), f.AgentStats(2)
	drops := func(kv ...any) map[string]uint64 {
		m := map[string]uint64{}
		for _, r := range DropReasons() {
			m[r] = 0
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = uint64(kv[i+1].(int))
		}
		return m
	}
	assert.Equal(t, Stats{Requests: 10, Responses: 5, Malformed: 1, BytesIn: uint64(want[0].in), BytesOut: uint64(want[0].out),
		Drops: drops(DropBadCommunity, 3, DropMalformed, 1, DropUnsupported, 1)}, s0)
	assert.Equal(t, Stats{Requests: 8, Responses: 6, Delayed: 6, BytesIn: uint64(want[1].in), BytesOut: uint64(want[1].out),
		Drops: drops(DropFault, 2)}, s1)
	assert.Equal(t, Stats{Requests: 4, Responses: 6, Truncated: 3, Faulted: 3, BytesIn: uint64(want[2].in), BytesOut: uint64(want[2].out),
		Drops: drops(DropBadCommunity, 1)}, s2)
	total := f.Stats()
	assert.Equal(t, s0.Requests+s1.Requests+s2.Requests, total.Requests)
	assert.Equal(t, s0.Responses+s1.Responses+s2.Responses, total.Responses)
	assert.Equal(t, s0.BytesIn+s1.BytesIn+s2.BytesIn, total.BytesIn)
	assert.Equal(t, s0.BytesOut+s1.BytesOut+s2.BytesOut, total.BytesOut)
	assert.EqualValues(t, 6, total.Delayed)
	assert.EqualValues(t, 3, total.Truncated)
	assert.EqualValues(t, 1, total.Malformed)
	assert.Equal(t, drops(DropBadCommunity, 4, DropMalformed, 1, DropUnsupported, 1, DropFault, 2, DropUnknownAgent, 1), total.Drops)
}

// wrongCommunityMarker is the marker request exchange sends.
func wrongCommunityMarker(f *Fleet) *gosnmp.SnmpPacket {
	m := reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 0x7ffffff0, oidSysName)
	m.Community = f.Community() + "-marker"
	return m
}

// TestRestartInInitialFaults: a Restart among a fleet's initial faults
// behaves as one applied by SetFaults at start: silent for Downtime, then
// up with sysUpTime from zero.
func TestRestartInInitialFaults(t *testing.T) {
	clk := newFakeClock()
	f := startFleet(t, Config{Listen: testAddr(72), Store: dynStore(t), Clock: clk.Now,
		Faults: Faults{Restart: &Restart{Downtime: Duration(30 * time.Second)}}})
	c := dialAgent(t, f, 0)
	assert.Empty(t, exchange(t, f, 0, c, getReqs(t, 1)), "silent while down")
	clk.Advance(35 * time.Second)
	r, err := client(t, f, 0, gosnmp.Version2c).Get([]string{oidSysUpTime, oidIfIn + ".1"})
	require.NoError(t, err)
	assert.EqualValues(t, 500, r.Variables[0].Value, "up for 5 s after a 30 s downtime")
	assert.EqualValues(t, 1000+100*5, r.Variables[1].Value)
	assert.Equal(t, 5*time.Second, f.Age(0))
}

// TestTruncatedCountsEachReplyOnce: a reply both cut to K varbinds and cut
// at N bytes is one truncated reply.
func TestTruncatedCountsEachReplyOnce(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(73), Clock: frozen(),
		Faults: Faults{Truncate: &Truncate{BulkVarbinds: 2, CutBytes: 30}}})
	c := dialAgent(t, f, 0)
	for id := uint32(1); id <= 3; id++ {
		assert.Len(t, c.roundTrip(marshal(t, bulkPacket(id, 0, 10, ".1.3.6.1"))), 30)
	}
	assert.EqualValues(t, 3, f.AgentStats(0).Truncated)
}
