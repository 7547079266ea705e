package simagent

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Requests the agent refuses or cannot parse: Set, a wrong community,
// unsupported versions and PDUs, malformed and mutated datagrams. Each is
// counted and none stops the agent.

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
