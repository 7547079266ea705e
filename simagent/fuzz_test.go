package simagent

import (
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/require"
)

// fuzzFaults are the faults of the fuzzed fleet's agents, one agent each;
// the fuzzer picks the agent. Only faults that leave a reply decodable.
var fuzzFaults = []Faults{
	{}, // healthy: agent 0
	{Truncate: &Truncate{MaxMsgSize: 100}},
	{Truncate: &Truncate{BulkVarbinds: 3}},
	{Loop: &Loop{After: "1.3.6.1.2.1.2.2.1.10.2", Rewind: "1.3.6.1.2.1.2.2.1.1"}},
	{EndOfMib: &EndOfMib{After: "1.3.6.1.2.1.2.2.1.5"}},
	{ErrorStatus: &ErrorStatus{Status: "genErr"}},
	{ErrorStatus: &ErrorStatus{Status: "tooBig"}},
	{ErrorStatus: &ErrorStatus{Status: "notWritable"}},
	{WrongID: &Chance{Prob: 1}},
	{Duplicate: &Duplicate{Copies: 1}},
}

const fuzzWrongIDAgent = 8

var (
	fuzzBase = netip.AddrFrom4([4]byte{127, 26, 0, 1})
	fuzzSink = netip.AddrFrom4([4]byte{127, 26, 255, 1})
)

// FuzzRequest feeds packets to an agent through Fleet.handle, the code a
// serving goroutine runs for every datagram (decode, checks, faults,
// response, send), with the reply going to a socket of the test. No input
// may crash the agent; when gosnmp accepts the request, every reply must
// decode with gosnmp as a Response with the request's version, community
// and request-id.
func FuzzRequest(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		for agent := range fuzzFaults {
			f.Add(seed, uint8(agent))
		}
	}
	for _, seed := range fuzzMutants(f) {
		f.Add(seed, uint8(0))
	}

	fl, err := Start(f.Context(), Config{Agents: len(fuzzFaults), Listen: netip.AddrPortFrom(fuzzBase, 0), Store: benchStore(f), Seed: 1})
	require.NoError(f, err)
	f.Cleanup(func() { require.NoError(f, fl.Close()) })
	for i, fs := range fuzzFaults {
		_, err := fl.SetFaults(Selector{Index: &i}, fs)
		require.NoError(f, err)
	}
	sink, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(fuzzSink, 0)))
	require.NoError(f, err)
	f.Cleanup(func() { _ = sink.Close() })
	dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	w := &worker{buf: make([]byte, 65536), oob: make([]byte, oobSize), woob: make([]byte, oobSize)}
	buf := make([]byte, 65536)

	f.Fuzz(func(t *testing.T, pkt []byte, agent uint8) {
		i := int(agent) % len(fuzzFaults)
		a := fl.agents[i]
		sent := a.c.responses.Load()
		fl.handle(w, fl.socks[0], a, slices.Clone(pkt), dst)
		sent = a.c.responses.Load() - sent

		req := gosnmpDecode(pkt)
		for range sent {
			require.NoError(t, sink.SetReadDeadline(time.Now().Add(10*time.Second)))
			n, from, err := sink.ReadFromUDPAddrPort(buf)
			require.NoError(t, err, "reading a reply the agent counted as sent")
			require.Equal(t, a.addr.Addr(), from.Addr(), "reply from the agent's address")
			if req == nil {
				continue // gosnmp refuses the request: nothing to hold the reply to
			}
			resp, err := (&gosnmp.GoSNMP{}).SnmpDecodePacket(slices.Clone(buf[:n]))
			require.NoError(t, err, "gosnmp cannot decode the reply % x\nto the request % x", buf[:n], pkt)
			require.Equal(t, gosnmp.GetResponse, resp.PDUType)
			require.Equal(t, req.Version, resp.Version)
			require.Equal(t, req.Community, resp.Community)
			wantID := req.RequestID
			if i == fuzzWrongIDAgent {
				wantID = uint32(wrongID(int64(wantID)))
			}
			require.Equal(t, wantID, resp.RequestID, "request-id")
			if i == 0 && resp.Error == gosnmp.NoError && (req.PDUType == gosnmp.GetRequest || req.PDUType == gosnmp.GetNextRequest) {
				require.Len(t, resp.Variables, len(req.Variables), "one varbind per requested OID")
				for k, v := range resp.Variables {
					if req.PDUType == gosnmp.GetRequest {
						require.Equal(t, req.Variables[k].Name, v.Name)
					}
				}
			}
		}
	})
}

// gosnmpDecode decodes a request with gosnmp, or returns nil when gosnmp
// refuses it (or panics: a gosnmp bug, not the agent's).
func gosnmpDecode(pkt []byte) (p *gosnmp.SnmpPacket) {
	defer func() {
		if recover() != nil {
			p = nil
		}
	}()
	p, err := (&gosnmp.GoSNMP{}).SnmpDecodePacket(slices.Clone(pkt))
	if err != nil || (p.Version != gosnmp.Version1 && p.Version != gosnmp.Version2c) {
		return nil
	}
	return p
}

// fuzzSeeds are well-formed requests of every kind the agent answers, and
// some it must not, encoded by gosnmp.
func fuzzSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	type req struct {
		pdu            gosnmp.PDUType
		community      string
		nonRep, maxRep uint32
		oids           []string
	}
	reqs := []req{
		{pdu: gosnmp.GetRequest, oids: []string{".1.3.6.1.2.1.1.3.0"}},
		{pdu: gosnmp.GetRequest, oids: []string{".1.3.6.1.2.1.2.2.1.10.1", ".1.3.6.1.2.1.31.1.1.1.6.1", ".1.3.6.1.2.1.1.5.0"}},
		{pdu: gosnmp.GetRequest, oids: []string{".1.3.6.1.2.1.2.2.1.10.99", ".1.3.6.1.9.9", ".0.0"}},
		{pdu: gosnmp.GetNextRequest, oids: []string{".1.3.6.1"}},
		{pdu: gosnmp.GetNextRequest, oids: []string{".1.3.6.1.2.1.2.2.1.10.24", ".1.3.6.1.2.1.31.1.1.1.19.24", ".2.999"}},
		{pdu: gosnmp.GetBulkRequest, nonRep: 1, maxRep: 10, oids: []string{".1.3.6.1.2.1.1", ".1.3.6.1.2.1.2.2.1.10", ".1.3.6.1.2.1.31.1.1.1.19.23"}},
		{pdu: gosnmp.GetBulkRequest, maxRep: 1000, oids: []string{".1.3.6.1"}},
		{pdu: gosnmp.GetBulkRequest, nonRep: 5, maxRep: 0, oids: []string{".1.3.6.1.2.1.1.1.0"}},
		{pdu: gosnmp.SetRequest, oids: []string{".1.3.6.1.2.1.1.5.0"}},
		{pdu: gosnmp.GetRequest, community: "private", oids: []string{".1.3.6.1.2.1.1.3.0"}},
	}
	var out [][]byte
	for _, v := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
		for _, r := range reqs {
			p := &gosnmp.SnmpPacket{Version: v, Community: r.community, PDUType: r.pdu, RequestID: 0x1234567,
				NonRepeaters: uint8(r.nonRep), MaxRepetitions: r.maxRep}
			if p.Community == "" {
				p.Community = "public"
			}
			for _, o := range r.oids {
				vb := gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null}
				if r.pdu == gosnmp.SetRequest {
					vb = gosnmp.SnmpPDU{Name: o, Type: gosnmp.OctetString, Value: "new name"}
				}
				p.Variables = append(p.Variables, vb)
			}
			b, err := p.MarshalMsg()
			require.NoError(tb, err)
			out = append(out, b)
		}
	}
	return out
}

// fuzzMutants are seeds cut short and with bytes changed in the places a
// decoder gets wrong: lengths, the request-id, OID arcs.
func fuzzMutants(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, s := range fuzzSeeds(tb) {
		out = append(out, s[:len(s)/2], s[:len(s)-1], s[:2])
		for _, at := range []int{1, 3, len(s) / 3, len(s) / 2, len(s) - 3} {
			for _, b := range []byte{0x00, 0x7f, 0x80, 0x84, 0xff} {
				m := slices.Clone(s)
				m[at] = b
				out = append(out, m)
			}
		}
	}
	return out
}
