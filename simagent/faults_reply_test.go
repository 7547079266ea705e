package simagent

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Faults that alter or withhold replies: truncation, duplicates, wrong
// request-ids, garbage, loops, premature endOfMibView, error-status and
// agent restarts.

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

// TestRestartClearedEarly: replacing a restart inside its downtime brings
// the agent back at once, with uptime from that moment (not from when the
// downtime would have ended, which would read 0 meanwhile).
func TestRestartClearedEarly(t *testing.T) {
	clk := newFakeClock()
	f := startFleet(t, Config{Listen: testAddr(74), Store: dynStore(t), Clock: clk.Now,
		Faults: Faults{Restart: &Restart{Downtime: Duration(time.Minute)}}})
	clk.Advance(10 * time.Second)
	_, err := f.SetFaults(Selector{All: true}, Faults{})
	require.NoError(t, err)
	assert.Equal(t, time.Duration(0), f.Age(0), "up from the moment the restart was cleared")
	clk.Advance(3 * time.Second)
	r, err := client(t, f, 0, gosnmp.Version2c).Get([]string{oidSysUpTime, oidIfIn + ".1"})
	require.NoError(t, err)
	assert.EqualValues(t, 300, r.Variables[0].Value)
	assert.EqualValues(t, 1000+100*3, r.Variables[1].Value)
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
