package simagent

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/simagent/ber"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Protocol edge cases, checked on the wire with gosnmp as an independent
// codec: hand-built requests (gosnmp's SnmpPacket.MarshalMsg) sent on a raw
// UDP socket, responses decoded by gosnmp and compared with the agent's
// snapshot.

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

// vbLine renders a decoded varbind as "name type value" for comparisons.
func vbLine(p gosnmp.SnmpPDU) string {
	var v string
	switch x := p.Value.(type) {
	case nil:
	case []byte:
		v = hex.EncodeToString(x)
	default:
		v = fmt.Sprint(x)
	}
	return p.Name + " " + p.Type.String() + " " + v
}

func vbLines(ps []gosnmp.SnmpPDU) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, vbLine(p))
	}
	return out
}

// entryLine renders a snapshot entry the way vbLine renders what gosnmp
// decodes for it.
func entryLine(t testing.TB, e mib.Entry) string {
	t.Helper()
	c := e.Value.Content
	var v string
	switch e.Value.Tag {
	case ber.TagInteger:
		n, err := ber.ParseInt(c)
		require.NoError(t, err)
		v = strconv.FormatInt(n, 10)
	case ber.TagOctetString, ber.TagOpaque:
		v = hex.EncodeToString(c)
	case ber.TagNull:
	case ber.TagOID:
		o, err := ber.ParseOID(nil, c)
		require.NoError(t, err)
		v = mib.OID(o).String()
	case ber.TagIPAddress:
		v = net.IP(c).String()
	case ber.TagCounter32, ber.TagGauge32, ber.TagTimeTicks, ber.TagCounter64:
		n, err := ber.ParseUint(c)
		require.NoError(t, err)
		v = strconv.FormatUint(n, 10)
	default:
		t.Fatalf("entry %s: unexpected tag 0x%02x", e.OID, e.Value.Tag)
	}
	return e.OID.String() + " " + gosnmp.Asn1BER(e.Value.Tag).String() + " " + v
}

// endLine is the line of an exception varbind.
func endLine(name string, typ gosnmp.Asn1BER) string { return name + " " + typ.String() + " " }

// snapshotLines renders what a walk of agent i must return: v1 skips
// Counter64.
func snapshotLines(t testing.TB, snap []mib.Entry, v1 bool) []string {
	t.Helper()
	var out []string
	for _, e := range snap {
		if v1 && e.Value.Tag == ber.TagCounter64 {
			continue
		}
		out = append(out, entryLine(t, e))
	}
	return out
}

// refBulk is an independent, size-unlimited GetBulk (RFC 3416 4.2.3) over
// a snapshot: the first nonRep names get their successor, the others
// maxRep successors each, interleaved; a repeater past the end answers
// endOfMibView under the last name it reached; the agent may stop after a
// repetition in which every repeater is at the end.
func refBulk(t testing.TB, snap []mib.Entry, nonRep, maxRep int, names ...string) []string {
	t.Helper()
	next := func(o mib.OID) (mib.Entry, bool) {
		for _, e := range snap {
			if mib.Compare(e.OID, o) > 0 {
				return e, true
			}
		}
		return mib.Entry{}, false
	}
	oids := make([]mib.OID, len(names))
	for i, n := range names {
		oids[i] = mib.MustParseOID(n)
	}
	nonRep = min(max(nonRep, 0), len(oids))
	var out []string
	for _, o := range oids[:nonRep] {
		if e, ok := next(o); ok {
			out = append(out, entryLine(t, e))
		} else {
			out = append(out, endLine(o.String(), gosnmp.EndOfMibView))
		}
	}
	last := append([]mib.OID(nil), oids[nonRep:]...)
	ended := make([]bool, len(last))
	for r := 0; r < maxRep && len(last) > 0; r++ {
		all := true
		for j := range last {
			e, ok := next(last[j])
			if ended[j] || !ok {
				ended[j] = true
				out = append(out, endLine(last[j].String(), gosnmp.EndOfMibView))
				continue
			}
			all = false
			last[j] = e.OID
			out = append(out, entryLine(t, e))
		}
		if all {
			break
		}
	}
	return out
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

func TestGetBulkRepetitionsPerRFC3416(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(1), Clock: frozen()})
	snap := f.Snapshot(0)
	c := dialAgent(t, f, 0)
	ln := func(i int) string { return entryLine(t, snap[i]) }
	// The test store in order: 0 sysDescr, 1 sysObjectID, 2 sysUpTime,
	// 3 sysName, 4-6 ifIndex.1-3, 7-9 ifDescr.1-3, 10-12 ifInOctets.1-3,
	// 13-15 ifHCInOctets.1-3.
	tests := []struct {
		name   string
		nonRep uint8
		maxRep uint32
		oids   []string
		want   []string // nil: just compare with refBulk
	}{
		{
			name: "one non-repeater, two repeaters", nonRep: 1, maxRep: 3,
			oids: []string{oidSysDescr, oidIfIndex, oidIfDescr},
			want: []string{ln(1), ln(4), ln(7), ln(5), ln(8), ln(6), ln(9)},
		},
		{
			name: "max-repetitions 0 answers only non-repeaters", nonRep: 2, maxRep: 0,
			oids: []string{oidSysDescr, oidSysName, oidIfIndex},
			want: []string{ln(1), ln(4)},
		},
		{
			name: "non-repeaters above the varbind count", nonRep: 9, maxRep: 5,
			oids: []string{oidSysDescr, oidIfIn},
			want: []string{ln(1), ln(10)},
		},
		{
			name: "no non-repeaters", nonRep: 0, maxRep: 2,
			oids: []string{oidIfIn, oidIfHCIn},
			want: []string{ln(10), ln(13), ln(11), ln(14)},
		},
		{
			name: "past the end: endOfMibView repeated", nonRep: 0, maxRep: 4,
			oids: []string{oidIfHCIn + ".2", oidIfIn + ".3"},
			want: []string{
				ln(15), ln(13),
				endLine(oidIfHCIn+".3", gosnmp.EndOfMibView), ln(14),
				endLine(oidIfHCIn+".3", gosnmp.EndOfMibView), ln(15),
				endLine(oidIfHCIn+".3", gosnmp.EndOfMibView), endLine(oidIfHCIn+".3", gosnmp.EndOfMibView),
			},
		},
		{
			name: "every repeater at the end stops the response", nonRep: 1, maxRep: 10,
			oids: []string{oidIfHCIn + ".3", oidIfHCIn + ".3"},
			want: []string{endLine(oidIfHCIn+".3", gosnmp.EndOfMibView), endLine(oidIfHCIn+".3", gosnmp.EndOfMibView)},
		},
		{name: "whole MIB in one go", nonRep: 0, maxRep: 100, oids: []string{".1.3"}},
		{name: "three repeaters from the root", nonRep: 1, maxRep: 7, oids: []string{".1.3", ".1.3.6.1.2.1.1.3", ".1.3.6.1.2.1.2", ".1.3.6.1.2.1.31"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := uint32(100 + i)
			p := mustDecode(t, c.roundTrip(marshal(t, bulkPacket(id, tt.nonRep, tt.maxRep, tt.oids...))))
			require.Equal(t, id, p.RequestID)
			require.Equal(t, gosnmp.NoError, p.Error)
			ref := refBulk(t, snap, int(tt.nonRep), int(tt.maxRep), tt.oids...)
			if tt.want != nil {
				require.Equal(t, tt.want, ref, "the reference disagrees with the hand-written answer")
			}
			assert.Equal(t, ref, vbLines(p.Variables))
		})
	}
}

func TestGetAndGetNextExceptions(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(2), Clock: frozen()})
	snap := f.Snapshot(0)
	line := func(oid string) string {
		for _, e := range snap {
			if e.OID.String() == oid {
				return entryLine(t, e)
			}
		}
		t.Fatalf("%s not in the store", oid)
		return ""
	}
	t.Run("v2c", func(t *testing.T) {
		g := client(t, f, 0, gosnmp.Version2c)
		r, err := g.Get([]string{
			oidSysDescr,
			".1.3.6.1.2.1.1.4.0",     // no such object: nothing under sysContact
			oidIfIndex + ".9",        // no such instance: ifIndex has other rows
			".1.3.6.1.2.1.1.1.1",     // no such instance of sysDescr
			".1.3.6.1.4.1.99999.1.0", // no such object
			oidIfHCIn + ".2",         // Counter64 is fine in v2c
		})
		require.NoError(t, err)
		assert.Equal(t, gosnmp.NoError, r.Error)
		assert.Equal(t, []string{
			line(oidSysDescr),
			endLine(".1.3.6.1.2.1.1.4.0", gosnmp.NoSuchObject),
			endLine(oidIfIndex+".9", gosnmp.NoSuchInstance),
			endLine(".1.3.6.1.2.1.1.1.1", gosnmp.NoSuchInstance),
			endLine(".1.3.6.1.4.1.99999.1.0", gosnmp.NoSuchObject),
			line(oidIfHCIn + ".2"),
		}, vbLines(r.Variables))

		r, err = g.GetNext([]string{oidSysName, oidIfHCIn + ".3", ".2.999"})
		require.NoError(t, err)
		assert.Equal(t, gosnmp.NoError, r.Error)
		assert.Equal(t, []string{
			line(oidIfIndex + ".1"),
			endLine(oidIfHCIn+".3", gosnmp.EndOfMibView),
			endLine(".2.999", gosnmp.EndOfMibView),
		}, vbLines(r.Variables))
	})
	t.Run("v1", func(t *testing.T) {
		g := client(t, f, 0, gosnmp.Version1)
		for _, tt := range []struct {
			name    string
			pdu     gosnmp.PDUType
			oids    []string
			wantIdx uint8
		}{
			{"missing object", gosnmp.GetRequest, []string{oidSysDescr, ".1.3.6.1.2.1.1.4.0", oidSysName}, 2},
			{"missing instance", gosnmp.GetRequest, []string{oidIfIndex + ".9"}, 1},
			{"Counter64 does not exist in v1", gosnmp.GetRequest, []string{oidSysName, oidIfIn + ".1", oidIfHCIn + ".1"}, 3},
			{"GetNext past the end", gosnmp.GetNextRequest, []string{oidSysDescr, oidIfIn + ".3"}, 2},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var r *gosnmp.SnmpPacket
				var err error
				if tt.pdu == gosnmp.GetRequest {
					r, err = g.Get(tt.oids)
				} else {
					r, err = g.GetNext(tt.oids)
				}
				require.NoError(t, err)
				assert.Equal(t, gosnmp.NoSuchName, r.Error)
				assert.Equal(t, tt.wantIdx, r.ErrorIndex)
				// RFC 1157: the response echoes the request's varbinds.
				var want []string
				for _, o := range tt.oids {
					want = append(want, endLine(o, gosnmp.Null))
				}
				assert.Equal(t, want, vbLines(r.Variables))
			})
		}
		r, err := g.GetNext([]string{oidIfIn + ".3"})
		require.NoError(t, err)
		assert.Equal(t, gosnmp.NoSuchName, r.Error, "v1 GetNext must skip Counter64 and end")
	})
}

func TestSetIsRefused(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(3), Clock: frozen()})
	for _, tt := range []struct {
		v    gosnmp.SnmpVersion
		want gosnmp.SNMPError
	}{{gosnmp.Version2c, gosnmp.NotWritable}, {gosnmp.Version1, gosnmp.NoSuchName}} {
		t.Run(tt.v.String(), func(t *testing.T) {
			g := client(t, f, 0, tt.v)
			r, err := g.Set([]gosnmp.SnmpPDU{{Name: oidSysName, Type: gosnmp.OctetString, Value: []byte("renamed")}})
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.Error)
			assert.EqualValues(t, 1, r.ErrorIndex)
			require.Len(t, r.Variables, 1)
			assert.Equal(t, []byte("renamed"), r.Variables[0].Value, "varbinds are echoed")
			// Nothing changed.
			got, err := g.Get([]string{oidSysName})
			require.NoError(t, err)
			assert.Equal(t, []byte("agent"), got.Variables[0].Value)
		})
	}
}

func TestWrongCommunityGetsNoReplyAndIsCounted(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(4), Clock: frozen(), Community: "s3cret"})
	c := dialAgent(t, f, 0)
	bad := reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 1, oidSysName)
	bad.Community = "public"
	good := reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 2, oidSysName)
	good.Community = "s3cret"
	for range 3 {
		c.send(marshal(t, bad))
	}
	// The agent reads one socket in order: the first reply is the good one.
	p := mustDecode(t, c.roundTrip(marshal(t, good)))
	assert.EqualValues(t, 2, p.RequestID)
	assert.Equal(t, "s3cret", p.Community)
	c.noMore()
	s := f.AgentStats(0)
	assert.EqualValues(t, 3, s.Drops[DropBadCommunity])
	assert.EqualValues(t, 4, s.Requests)
	assert.EqualValues(t, 1, s.Responses)

	// A real client with the wrong community times out.
	g := client(t, f, 0, gosnmp.Version2c)
	g.Community, g.Timeout, g.Retries = "public", 200*time.Millisecond, 0
	_, err := g.Get([]string{oidSysName})
	require.Error(t, err)
	waitFor(t, "the fourth bad community", func() bool { return f.AgentStats(0).Drops[DropBadCommunity] == 4 })
}

func TestRefusedVersionsAndPDUs(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(5), Clock: frozen()})
	c := dialAgent(t, f, 0)
	v1Bulk := bulkPacket(1, 0, 10, oidSysDescr)
	v1Bulk.Version = gosnmp.Version1
	trap := reqPacket(gosnmp.Version2c, gosnmp.SNMPv2Trap, 2, oidSysDescr)
	resp := reqPacket(gosnmp.Version2c, gosnmp.GetResponse, 3, oidSysDescr)
	inform := reqPacket(gosnmp.Version2c, gosnmp.InformRequest, 4, oidSysDescr)
	v2u := marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 5, oidSysDescr))
	v2u[4] = 2 // version 2 (the historic SNMPv2u): SEQUENCE len, INTEGER 1 <version>
	require.Equal(t, []byte{0x02, 0x01, 0x02}, v2u[2:5])
	refused := [][]byte{marshal(t, v1Bulk), marshal(t, trap), marshal(t, resp), marshal(t, inform), v2u}
	for _, b := range refused {
		c.send(b)
	}
	p := mustDecode(t, c.roundTrip(marshal(t, reqPacket(gosnmp.Version1, gosnmp.GetRequest, 6, oidSysDescr))))
	assert.EqualValues(t, 6, p.RequestID, "refused requests got a reply")
	c.noMore()
	s := f.AgentStats(0)
	assert.EqualValues(t, len(refused), s.Drops[DropUnsupported])
	assert.Zero(t, s.Malformed)
	assert.EqualValues(t, 1, s.Responses)
}

// malformedPayloads returns datagrams no agent can decode.
func malformedPayloads(t testing.TB) [][]byte {
	t.Helper()
	valid := marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetNextRequest, 77, oidSysDescr, oidIfIndex))
	var out [][]byte
	out = append(out, nil) // empty datagram
	for n := 1; n < len(valid); n++ {
		out = append(out, valid[:n:n]) // every truncation
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 30 {
		b := make([]byte, 1+r.IntN(300))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if b[0] == ber.TagSequence {
			b[0] = 0xff
		}
		out = append(out, b)
	}
	// Everything after the outer header, with a valid prefix.
	body := valid[2:]
	huge := [][]byte{
		append([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, body...),            // 4 GiB message
		append([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, body...),            // 2 GiB message
		append([]byte{0x30, 0x88, 0, 0, 0, 0, 0, 0, 0, 1}, body...),            // 8-byte length
		append([]byte{0x30, 0x80}, append(append([]byte{}, body...), 0, 0)...), // indefinite length
		append([]byte{0x3f, byte(len(body))}, body...),                         // multi-byte tag
	}
	out = append(out, huge...)
	// Community with a length past the end.
	b := append([]byte{}, valid...)
	require.Equal(t, byte(ber.TagOctetString), b[5])
	b[6] = 0x7f
	out = append(out, b)
	// Version with 12 content bytes (overflows int64).
	msg := []byte{0x02, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	msg = append(msg, valid[5:]...)
	out = append(out, append([]byte{0x30, 0x81, byte(len(msg))}, msg...))
	// An OID arc above 2^32.
	out = append(out, getWithOIDContent([]byte{0x2b, 0x06, 0x01, 0x9f, 0xff, 0xff, 0xff, 0xff, 0x7f}))
	// More varbinds than any request may carry.
	var many []string
	for range maxVarbinds + 1 {
		many = append(many, oidSysDescr)
	}
	out = append(out, marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 78, many...)))
	return out
}

// getWithOIDContent hand-builds a v2c Get of one varbind whose OID has the
// given content octets.
func getWithOIDContent(oid []byte) []byte {
	tlv := func(tag byte, c []byte) []byte { return ber.AppendTLV(nil, tag, c) }
	vb := tlv(ber.TagSequence, append(tlv(ber.TagOID, oid), ber.TagNull, 0))
	pdu := append(tlv(ber.TagInteger, []byte{9}), tlv(ber.TagInteger, []byte{0})...)
	pdu = append(pdu, tlv(ber.TagInteger, []byte{0})...)
	pdu = append(pdu, tlv(ber.TagSequence, vb)...)
	msg := append(tlv(ber.TagInteger, []byte{1}), tlv(ber.TagOctetString, []byte("public"))...)
	msg = append(msg, tlv(ber.PDUGet, pdu)...)
	return tlv(ber.TagSequence, msg)
}

func TestMalformedRequestsAreCountedAndSurvived(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(6), Agents: 3, Clock: frozen()})
	// Sanity: the hand builder makes a valid request when the OID is.
	c := dialAgent(t, f, 1)
	p := mustDecode(t, c.roundTrip(getWithOIDContent([]byte{0x2b, 6, 1, 2, 1, 1, 5, 0})))
	require.Equal(t, []byte("agent"), p.Variables[0].Value)

	bad := malformedPayloads(t)
	for i, b := range bad {
		c.send(b)
		if i%16 == 15 { // pace: stay far below the socket buffer
			waitHandled(t, f, 1, uint64(i+2))
		}
	}
	p = mustDecode(t, c.roundTrip(marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 4242, oidSysName))))
	assert.EqualValues(t, 4242, p.RequestID, "a malformed request got a reply")
	c.noMore()
	s := f.AgentStats(1)
	assert.EqualValues(t, len(bad), s.Malformed)
	assert.EqualValues(t, len(bad), s.Drops[DropMalformed])
	assert.EqualValues(t, len(bad)+2, s.Requests)
	assert.EqualValues(t, 2, s.Responses)
	assert.Zero(t, f.AgentStats(0).Requests+f.AgentStats(2).Requests, "other agents saw nothing")
}

func TestMutatedRequestsNeverCrashTheAgent(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(7), Clock: frozen()})
	c := dialAgent(t, f, 0)
	seeds := [][]byte{
		marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 1, oidSysDescr, oidIfDescr+".2")),
		marshal(t, reqPacket(gosnmp.Version1, gosnmp.GetNextRequest, 2, oidIfIndex)),
		marshal(t, bulkPacket(3, 1, 5, oidSysDescr, oidIfIndex, oidIfHCIn)),
	}
	r := rand.New(rand.NewPCG(3, 4))
	const n = 600
	for i := range n {
		b := append([]byte(nil), seeds[r.IntN(len(seeds))]...)
		for range 1 + r.IntN(3) {
			switch r.IntN(3) {
			case 0:
				b[r.IntN(len(b))] = byte(r.Uint32())
			case 1:
				b[r.IntN(len(b))] ^= 1 << r.IntN(8)
			case 2:
				b = b[:r.IntN(len(b))+1]
			}
		}
		c.send(b)
		if i%16 == 15 {
			waitHandled(t, f, 0, uint64(i+1))
		}
	}
	waitHandled(t, f, 0, n)
	for {
		if _, ok := c.recv(50 * time.Millisecond); !ok {
			break
		}
	}
	p := mustDecode(t, c.roundTrip(marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 99, oidSysName))))
	assert.Equal(t, []byte("agent"), p.Variables[0].Value)
	s := f.AgentStats(0)
	assert.EqualValues(t, n+1, s.Requests)
	assert.Equal(t, s.Requests, s.Responses+sumDrops(s), "every request answered once or dropped once: %+v", s)
	assert.Positive(t, s.Malformed)
	t.Logf("mutations: %+v", s)
}

// bigStore has 60 entries of 50-byte strings under .1, one 1000-byte string
// at .2.0 and a small value at .3.0, under 1.3.6.1.4.1.99999.
func bigStore(t testing.TB) *mib.Store {
	t.Helper()
	b := mib.NewBuilder("big")
	for i := 1; i <= 60; i++ {
		b.Add(mib.MustParseOID(fmt.Sprintf("1.3.6.1.4.1.99999.1.%d", i)), mib.String(fmt.Sprintf("%02d%s", i, strings.Repeat("x", 48))), "")
	}
	b.Add(mib.MustParseOID("1.3.6.1.4.1.99999.2.0"), mib.String(strings.Repeat("y", 1000)), "")
	b.Add(mib.MustParseOID("1.3.6.1.4.1.99999.3.0"), mib.Integer(3), "")
	s, err := b.Build()
	require.NoError(t, err)
	return s
}

const bigRoot = ".1.3.6.1.4.1.99999"

func TestGetBulkShrinksToMaxMsgSizeAndProgresses(t *testing.T) {
	const maxSize = 484
	f := startFleet(t, Config{Listen: testAddr(8), Store: bigStore(t), MaxMsgSize: maxSize, Clock: frozen()})
	snap := f.Snapshot(0)
	all := snapshotLines(t, snap, false)
	c := dialAgent(t, f, 0)
	var got []string
	cur := bigRoot
	var responses int
	for id := uint32(1); ; id++ {
		b := c.roundTrip(marshal(t, bulkPacket(id, 0, 200, cur)))
		require.LessOrEqual(t, len(b), maxSize, "response %d exceeds the maximum message size", id)
		p := mustDecode(t, b)
		if p.Error == gosnmp.TooBig {
			// The 1000-byte value cannot fit in any response.
			assert.Empty(t, p.Variables, "v2c tooBig carries no varbinds")
			assert.Equal(t, bigRoot+".1.60", cur)
			break
		}
		require.Equal(t, gosnmp.NoError, p.Error)
		require.NotEmpty(t, p.Variables, "no progress from %s", cur)
		responses++
		got = append(got, vbLines(p.Variables)...)
		cur = p.Variables[len(p.Variables)-1].Name
		require.Less(t, responses, 60, "walk does not end")
	}
	assert.Equal(t, all[:60], got, "the shrunk responses together are the data, in order")
	assert.Greater(t, responses, 5, "responses were not shrunk")
	s := f.AgentStats(0)
	assert.EqualValues(t, responses+1, s.Truncated)

	// Past the big value, GetBulk answers again.
	p := mustDecode(t, c.roundTrip(marshal(t, bulkPacket(500, 0, 10, bigRoot+".2.0"))))
	assert.Equal(t, []string{all[61], endLine(bigRoot+".3.0", gosnmp.EndOfMibView)}, vbLines(p.Variables))

	// Non-repeaters are cut from the end too, never overflowing.
	names := make([]string, 20)
	for i := range names {
		names[i] = fmt.Sprintf("%s.1.%d", bigRoot, i)
	}
	b := c.roundTrip(marshal(t, bulkPacket(501, 20, 5, names...)))
	assert.LessOrEqual(t, len(b), maxSize)
	p = mustDecode(t, b)
	require.NotEmpty(t, p.Variables)
	assert.Equal(t, all[:len(p.Variables)], vbLines(p.Variables))
}

func TestGetThatCannotFitGetsTooBig(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(9), Store: bigStore(t), MaxMsgSize: 484, Clock: frozen()})
	c := dialAgent(t, f, 0)
	ten := make([]string, 10)
	for i := range ten {
		ten[i] = fmt.Sprintf("%s.1.%d", bigRoot, i+1)
	}
	for _, tt := range []struct {
		name string
		pdu  gosnmp.PDUType
		oids []string
	}{
		{"one value too big", gosnmp.GetRequest, []string{bigRoot + ".2.0"}},
		{"many values together too big", gosnmp.GetRequest, ten},
		{"GetNext to a value too big", gosnmp.GetNextRequest, []string{bigRoot + ".1.60"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Run("v2c", func(t *testing.T) {
				p := mustDecode(t, c.roundTrip(marshal(t, reqPacket(gosnmp.Version2c, tt.pdu, 7, tt.oids...))))
				assert.Equal(t, gosnmp.TooBig, p.Error)
				assert.Zero(t, p.ErrorIndex)
				assert.Empty(t, p.Variables)
			})
			t.Run("v1", func(t *testing.T) {
				b := c.roundTrip(marshal(t, reqPacket(gosnmp.Version1, tt.pdu, 8, tt.oids...)))
				p := mustDecode(t, b)
				assert.Equal(t, gosnmp.TooBig, p.Error)
				assert.Zero(t, p.ErrorIndex)
				var want []string
				for _, o := range tt.oids {
					want = append(want, endLine(o, gosnmp.Null))
				}
				assert.Equal(t, want, vbLines(p.Variables), "v1 tooBig echoes the request's varbinds")
			})
		})
	}
	// What fits is answered.
	p := mustDecode(t, c.roundTrip(marshal(t, reqPacket(gosnmp.Version2c, gosnmp.GetRequest, 9, ten[:4]...))))
	assert.Equal(t, gosnmp.NoError, p.Error)
	assert.Len(t, p.Variables, 4)
}

// TestResponsesMatchGosnmpEncoding checks the agent's hand-written encoder
// byte for byte against gosnmp's, for every value type of the test store.
func TestResponsesMatchGosnmpEncoding(t *testing.T) {
	f := startFleet(t, Config{Listen: testAddr(10), Clock: frozen()})
	c := dialAgent(t, f, 0)
	for _, v := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
		var names []string
		for _, e := range f.Snapshot(0) {
			if v == gosnmp.Version1 && e.Value.Tag == ber.TagCounter64 {
				continue
			}
			names = append(names, e.OID.String())
		}
		b := c.roundTrip(marshal(t, reqPacket(v, gosnmp.GetRequest, 31337, names...)))
		p := mustDecode(t, b)
		require.Equal(t, gosnmp.NoError, p.Error)
		p.PDUType = gosnmp.GetResponse
		again, err := p.MarshalMsg()
		require.NoError(t, err)
		if !bytes.Equal(again, b) {
			t.Errorf("%s: agent and gosnmp encode differently:\nagent  % x\ngosnmp % x", v, b, again)
		}
	}
}
