package simagent

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Protocol edge cases, checked on the wire with gosnmp as an independent
// codec: hand-built requests (gosnmp's SnmpPacket.MarshalMsg) sent on a raw
// UDP socket, responses decoded by gosnmp and compared with the agent's
// snapshot.

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
