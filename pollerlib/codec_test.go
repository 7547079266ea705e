package pollerlib

import (
	"fmt"
	"testing"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/internal/benchutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gosnmpDecode is the decoder codec.go replaced: gosnmp's, then fromPDU.
// The tests hold the new one to it.
func gosnmpDecode(b []byte) (m message, vbs []Varbind, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gosnmp panicked: %v", r)
		}
	}()
	pkt, err := (&gosnmp.GoSNMP{Version: gosnmp.Version2c}).SnmpDecodePacket(b)
	if err != nil {
		return m, nil, err
	}
	m = message{version: int64(pkt.Version), community: []byte(pkt.Community), pdu: byte(pkt.PDUType),
		reqID: int64(pkt.RequestID), status: int64(pkt.Error), index: int64(pkt.ErrorIndex)}
	vbs = make([]Varbind, len(pkt.Variables))
	for i, v := range pkt.Variables {
		if vbs[i], err = fromPDU(v); err != nil {
			return m, nil, err
		}
	}
	return m, vbs, nil
}

func newDecode(b []byte) (message, []Varbind, error) {
	m, err := parseMessage(b)
	if err != nil {
		return m, nil, err
	}
	vbs, err := parseVarbinds(m.vbl)
	m.vbl = nil // gosnmpDecode has none to compare
	return m, vbs, err
}

// responsePacket encodes a v2c Response with gosnmp.
func responsePacket(t testing.TB, id uint32, status gosnmp.SNMPError, vars ...gosnmp.SnmpPDU) []byte {
	t.Helper()
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse,
		RequestID: id, Error: status, ErrorIndex: 1, Variables: vars}
	if status == 0 {
		p.ErrorIndex = 0
	}
	b, err := p.MarshalMsg()
	require.NoError(t, err)
	return b
}

// codecVars has a varbind of every type gosnmp can encode.
var codecVars = []gosnmp.SnmpPDU{
	{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: []byte("Linux box \x00\xff")},
	{Name: ".1.3.6.1.2.1.1.1.1", Type: gosnmp.OctetString, Value: []byte{}},
	{Name: ".1.3.6.1.2.1.1.2.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.8072.3.2.10"},
	{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(4294967295)},
	{Name: ".1.3.6.1.2.1.1.7.0", Type: gosnmp.Integer, Value: 72},
	{Name: ".1.3.6.1.2.1.1.7.1", Type: gosnmp.Integer, Value: -2147483648},
	{Name: ".1.3.6.1.2.1.2.2.1.10.1", Type: gosnmp.Counter32, Value: uint32(4000000000)},
	{Name: ".1.3.6.1.2.1.2.2.1.5.1", Type: gosnmp.Gauge32, Value: uint32(1000000000)},
	{Name: ".1.3.6.1.2.1.31.1.1.1.6.1", Type: gosnmp.Counter64, Value: uint64(18446744073709551615)},
	{Name: ".1.3.6.1.2.1.4.20.1.1.192.0.2.1", Type: gosnmp.IPAddress, Value: "192.0.2.1"},
	{Name: ".1.3.6.1.2.1.4.20.1.1.2001", Type: gosnmp.IPAddress, Value: "2001:db8::1"},
	{Name: ".1.3.6.1.4.1.2021.10.1.6.1", Type: gosnmp.Opaque, Value: []byte{0x9f, 0x78, 0x04, 0x3f, 0xc0, 0x00, 0x00}},
	{Name: ".1.3.6.1.4.1.2021.10.1.6.2", Type: gosnmp.Opaque, Value: []byte{0x9f, 0x79, 0x08, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18}},
	{Name: ".1.3.6.1.4.1.2021.10.1.6.3", Type: gosnmp.Opaque, Value: []byte{1, 2, 3}},
	{Name: ".1.3.6.1.2.1.99.1", Type: gosnmp.Uinteger32, Value: uint32(7)},
	{Name: ".1.3.6.1.2.1.99.2", Type: gosnmp.Null},
	{Name: ".1.3.6.1.2.1.99.3", Type: gosnmp.NoSuchObject},
	{Name: ".1.3.6.1.2.1.99.4", Type: gosnmp.NoSuchInstance},
	{Name: ".1.3.6.1.2.1.99.5", Type: gosnmp.EndOfMibView},
	{Name: ".2.999.4294967295.0", Type: gosnmp.Integer, Value: 0},
}

// Every type decodes to the Varbind the gosnmp path produced, envelope
// fields included.
func TestCodecDecodesAsGosnmp(t *testing.T) {
	for i, v := range codecVars {
		b := responsePacket(t, uint32(100+i), 0, v)
		wm, want, err := gosnmpDecode(b)
		require.NoError(t, err, v.Name)
		gm, got, err := newDecode(b)
		require.NoError(t, err, v.Name)
		assert.Equal(t, want, got, "%s %s", v.Name, v.Type)
		assert.Equal(t, wm, gm, v.Name)
	}
	b := responsePacket(t, 1<<31-1, gosnmp.NoSuchName, codecVars...)
	wm, want, err := gosnmpDecode(b)
	require.NoError(t, err)
	gm, got, err := newDecode(b)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, wm, gm)
	assert.Equal(t, int64(gosnmp.NoSuchName), gm.status)
	assert.Len(t, got, len(codecVars))
}

// Bad input is an error, never a panic, for both decoders alike.
func TestCodecRejectsMalformed(t *testing.T) {
	good := responsePacket(t, 5, 0, codecVars[0], codecVars[4])
	for n := range len(good) - 1 {
		b := append([]byte(nil), good[:n]...)
		_, _, err := newDecode(b)
		assert.Error(t, err, "cut at %d", n)
	}
	for _, c := range [][]byte{
		{0x40, 0x03, 1, 2, 3},                   // IpAddress of 3 octets
		{0x44, 0x00},                            // empty Opaque
		{0x02, 0x00},                            // empty INTEGER
		{0x02, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9}, // INTEGER over 64 bits
		{0x47, 0x00},                            // empty UInteger32
		{0x06, 0x01, 0x81},                      // truncated OID arc
		{0x45, 0x00},                            // unknown type
	} {
		vb := append([]byte{0x06, 0x02, 0x2b, 0x06}, c...)
		vbl := append([]byte{0x30, byte(len(vb))}, vb...)
		_, err := parseVarbinds(vbl)
		assert.Error(t, err, "% x", c)
		_, _, gerr := gosnmpDecode(wrapVBL(vbl))
		assert.Error(t, gerr, "gosnmp accepted % x", c)
	}
}

// wrapVBL puts a varbind list's TLV into a v2c Response to request 1.
func wrapVBL(vbl []byte) []byte {
	pdu := append([]byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, byte(len(vbl))}, vbl...)
	msg := append([]byte{0x02, 0x01, 0x01, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c', 0xa2, byte(len(pdu))}, pdu...)
	return append([]byte{0x30, byte(len(msg))}, msg...)
}

// Requests encode so that gosnmp reads back what was asked.
func TestCodecEncodesRequests(t *testing.T) {
	oids := []OID{MustParseOID(".1.3.6.1.2.1.1.1.0"), MustParseOID(".1.3.6.1.2.1.2.2.1.10.4294967295"), MustParseOID(".2.999.1")}
	for _, tc := range []struct {
		v   Version
		req request
	}{
		{V2c, request{pdu: gosnmp.GetRequest, oids: oids}},
		{V1, request{pdu: gosnmp.GetNextRequest, oids: oids[:1]}},
		{V2c, request{pdu: gosnmp.GetBulkRequest, oids: oids, nonRep: 1, maxRep: 65535}},
		{V2c, request{pdu: gosnmp.GetRequest}},
	} {
		for _, id := range []uint32{1, 127, 128, 1<<31 - 1} {
			b := appendRequest(nil, tc.v, "c0mmunity-\x00", &tc.req, id)
			p, err := (&gosnmp.GoSNMP{Version: tc.v.gosnmp()}).SnmpDecodePacket(b)
			require.NoError(t, err)
			assert.Equal(t, tc.v.gosnmp(), p.Version)
			assert.Equal(t, "c0mmunity-\x00", p.Community)
			assert.Equal(t, tc.req.pdu, p.PDUType)
			assert.Equal(t, id, p.RequestID)
			if tc.req.pdu == gosnmp.GetBulkRequest {
				assert.Equal(t, uint8(tc.req.nonRep), p.NonRepeaters)
				assert.Equal(t, uint32(tc.req.maxRep), p.MaxRepetitions)
			}
			require.Len(t, p.Variables, len(tc.req.oids))
			for i, v := range p.Variables {
				assert.Equal(t, tc.req.oids[i].String(), v.Name)
				assert.Equal(t, gosnmp.Null, v.Type)
			}
			got, ok := matchID(b)
			_ = got
			assert.False(t, ok, "a request is not a response")
		}
	}
}

// Wherever both decoders accept a message, they agree on every field.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(responsePacket(f, 1, 0, codecVars...))
	for _, v := range codecVars {
		f.Add(responsePacket(f, 7, 0, v))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		gm, got, err := newDecode(b)
		wm, want, werr := gosnmpDecode(b)
		if err != nil || werr != nil {
			return
		}
		if wm.status > 255 || wm.index > 255 || gm.status != wm.status || gm.index != wm.index {
			return // gosnmp keeps error-status and -index in a byte
		}
		if wm.version != gm.version {
			return // gosnmp's own version handling differs for v3 and unknown ones
		}
		if uint32(wm.reqID) == uint32(gm.reqID) {
			// request-id is an Integer32 (RFC 3416): a negative one is read
			// signed here, as a uint32 by gosnmp; matching is on the same
			// 32 bits either way.
			wm.reqID = gm.reqID
		}
		assert.Equal(t, wm, gm)
		assert.Equal(t, want, got)
	})
}

// BenchmarkDecodeResponse decodes a 5-scalar Get response and a 48-varbind
// GetBulk response with gosnmp (plus fromPDU, as pollerlib did) and with
// codec.go, and prints the ratio.
func BenchmarkDecodeResponse(b *testing.B) {
	bulk := make([]gosnmp.SnmpPDU, 0, 48)
	for i := range 24 {
		bulk = append(bulk, gosnmp.SnmpPDU{Name: fmt.Sprintf(".1.3.6.1.2.1.2.2.1.10.%d", i+1), Type: gosnmp.Counter32, Value: uint32(123456789 + i)})
		bulk = append(bulk, gosnmp.SnmpPDU{Name: fmt.Sprintf(".1.3.6.1.2.1.2.2.1.16.%d", i+1), Type: gosnmp.Counter32, Value: uint32(987654321 + i)})
	}
	for _, tc := range []struct {
		name string
		pkt  []byte
	}{
		{"get-5-scalars", responsePacket(b, 42, 0, codecVars[0], codecVars[2], codecVars[3], codecVars[4], codecVars[6])},
		{"bulk-48-counters", responsePacket(b, 42, 0, bulk...)},
	} {
		var ns [2]float64
		for k, dec := range []func([]byte) (message, []Varbind, error){gosnmpDecode, newDecode} {
			name := []string{"gosnmp", "ber"}[k]
			b.Run(tc.name+"/"+name, func(b *testing.B) {
				buf := make([]byte, len(tc.pkt))
				b.ReportAllocs()
				for b.Loop() {
					copy(buf, tc.pkt) // gosnmp may keep slices into it
					if _, _, err := dec(buf); err != nil {
						b.Fatal(err)
					}
				}
				ns[k] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				if k == 1 && ns[0] > 0 {
					b.Log(benchutil.Verdict("decode "+tc.name, ns[1] < ns[0], "snmp/ber %.0f ns vs gosnmp %.0f ns per response: %.1fx faster", ns[1], ns[0], ns[0]/ns[1]))
				}
			})
		}
	}
}
