package simagent

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/stretchr/testify/require"
)

// testStore is a small store: part of the system group and a 3-row table.
func testStore(t testing.TB) *mib.Store {
	t.Helper()
	b := mib.NewBuilder("test")
	add := func(oid string, v mib.Value) { b.Add(mib.MustParseOID(oid), v, "") }
	add("1.3.6.1.2.1.1.1.0", mib.String("simagent test"))
	add("1.3.6.1.2.1.1.2.0", mib.ObjectID(mib.MustParseOID("1.3.6.1.4.1.8072.3.2.10")))
	add("1.3.6.1.2.1.1.3.0", mib.Uptime())
	add("1.3.6.1.2.1.1.5.0", mib.String("agent"))
	for i := 1; i <= 3; i++ {
		n := string(rune('0' + i))
		add("1.3.6.1.2.1.2.2.1.1."+n, mib.Integer(int64(i)))
		add("1.3.6.1.2.1.2.2.1.2."+n, mib.String("eth"+n))
		add("1.3.6.1.2.1.2.2.1.10."+n, mib.Counter32(uint32(1000*i)))
		add("1.3.6.1.2.1.31.1.1.1.6."+n, mib.Counter64(uint64(1)<<40+uint64(i)))
	}
	s, err := b.Build()
	require.NoError(t, err)
	return s
}

// frozen is a clock that never moves, so dynamic values are stable.
func frozen() func() time.Time {
	t0 := time.Unix(1_700_000_000, 0)
	return func() time.Time { return t0 }
}

// startFleet starts a fleet on a free port and closes it at cleanup.
func startFleet(t testing.TB, cfg Config) *Fleet {
	t.Helper()
	if !cfg.Listen.IsValid() {
		cfg.Listen = netip.MustParseAddrPort("127.16.0.1:0")
	}
	if cfg.Store == nil && len(cfg.Kinds) == 0 {
		cfg.Store = testStore(t)
	}
	f, err := Start(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	return f
}

// client returns a connected gosnmp client for agent i.
func client(t testing.TB, f *Fleet, i int, v gosnmp.SnmpVersion) *gosnmp.GoSNMP {
	t.Helper()
	a := f.Addr(i)
	g := &gosnmp.GoSNMP{
		Target:         a.Addr().String(),
		Port:           a.Port(),
		Community:      f.Community(),
		Version:        v,
		Timeout:        2 * time.Second,
		Retries:        1,
		MaxOids:        gosnmp.MaxOids,
		MaxRepetitions: 10,
	}
	require.NoError(t, g.Connect())
	t.Cleanup(func() { _ = g.Conn.Close() })
	return g
}

// Test addresses: every test of this package listens on its own
// 127.17.X.1 base so that tests (and packages) never collide.
func testAddr(x int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 17, byte(x), 1}), 0)
}

// waitTimeout bounds every wait on a condition; generous for slow machines.
const waitTimeout = 20 * time.Second

// rawConn is a UDP socket connected to one agent: it sends any bytes and
// sees every datagram the agent returns, which gosnmp hides.
type rawConn struct {
	t    testing.TB
	conn *net.UDPConn
	buf  []byte
}

func dialAgent(t testing.TB, f *Fleet, i int) *rawConn {
	t.Helper()
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(f.Addr(i)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, conn: c, buf: make([]byte, 70000)}
}

func (c *rawConn) send(b []byte) {
	c.t.Helper()
	_, err := c.conn.Write(b)
	require.NoError(c.t, err)
}

// recv waits up to d for one datagram; ok is false when none came.
func (c *rawConn) recv(d time.Duration) (b []byte, ok bool) {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(d)))
	n, err := c.conn.Read(c.buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, false
		}
		require.NoError(c.t, err)
	}
	return append([]byte(nil), c.buf[:n]...), true
}

// mustRecv returns the next datagram or fails the test.
func (c *rawConn) mustRecv() []byte {
	c.t.Helper()
	b, ok := c.recv(waitTimeout)
	require.True(c.t, ok, "no datagram from the agent within %s", waitTimeout)
	return b
}

// roundTrip sends b and returns the first datagram that comes back.
func (c *rawConn) roundTrip(b []byte) []byte {
	c.t.Helper()
	c.send(b)
	return c.mustRecv()
}

// noMore checks that nothing is waiting in the socket right now.
func (c *rawConn) noMore() {
	c.t.Helper()
	b, ok := c.recv(time.Millisecond)
	require.False(c.t, ok, "unexpected datagram % x", b)
}

// reqPacket builds a v1/v2c request for oids with community "public".
func reqPacket(v gosnmp.SnmpVersion, pdu gosnmp.PDUType, id uint32, oids ...string) *gosnmp.SnmpPacket {
	p := &gosnmp.SnmpPacket{Version: v, Community: "public", PDUType: pdu, RequestID: id}
	for _, o := range oids {
		p.Variables = append(p.Variables, gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null})
	}
	return p
}

func bulkPacket(id uint32, nonRep uint8, maxRep uint32, oids ...string) *gosnmp.SnmpPacket {
	p := reqPacket(gosnmp.Version2c, gosnmp.GetBulkRequest, id, oids...)
	p.NonRepeaters, p.MaxRepetitions = nonRep, maxRep
	return p
}

func marshal(t testing.TB, p *gosnmp.SnmpPacket) []byte {
	t.Helper()
	b, err := p.MarshalMsg()
	require.NoError(t, err)
	return b
}

// decodePacket decodes a datagram with gosnmp (on a copy: gosnmp writes
// into its buffer).
func decodePacket(b []byte) (*gosnmp.SnmpPacket, error) {
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
	return g.SnmpDecodePacket(append([]byte(nil), b...))
}

func mustDecode(t testing.TB, b []byte) *gosnmp.SnmpPacket {
	t.Helper()
	p, err := decodePacket(b)
	require.NoError(t, err, "response % x", b)
	require.Equal(t, gosnmp.GetResponse, p.PDUType)
	return p
}

// waitFor polls cond until it holds or waitTimeout passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting: "+what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitHandled waits until agent i has counted n requests and finished each
// (answered or dropped it), with no duplicates or delays in force.
func waitHandled(t testing.TB, f *Fleet, i int, n uint64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("agent %d to handle %d requests", i, n), func() bool {
		s := f.AgentStats(i)
		return s.Requests >= n && s.Responses+sumDrops(s) >= n
	})
}

func sumDrops(s Stats) uint64 {
	var n uint64
	for _, v := range s.Drops {
		n += v
	}
	return n
}

const (
	oidSysDescr  = ".1.3.6.1.2.1.1.1.0"
	oidSysObject = ".1.3.6.1.2.1.1.2.0"
	oidSysUpTime = ".1.3.6.1.2.1.1.3.0"
	oidSysName   = ".1.3.6.1.2.1.1.5.0"
	oidIfIndex   = ".1.3.6.1.2.1.2.2.1.1"
	oidIfDescr   = ".1.3.6.1.2.1.2.2.1.2"
	oidIfIn      = ".1.3.6.1.2.1.2.2.1.10"
	oidIfHCIn    = ".1.3.6.1.2.1.31.1.1.1.6"
)
