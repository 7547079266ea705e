package simagent

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/internal/benchutil"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// BenchmarkFleetStartMixed10k starts, in a fresh child process, a mixed
// fleet of 10,000 agents: 20% a generated 50,000-OID recording (parsed
// from .snmprec text in the child, the parse counted), 50% if-mib:24 and
// 30% system, with per-agent identity on; then reads sysName.0 from every
// agent. Targets (issue 14): ready in under 1 s, under 200 MB, and 10,000
// distinct names.

const benchMixedRole = "simagent-start-mixed"

var (
	benchMixedBase   = netip.AddrFrom4([4]byte{127, 29, 0, 1})
	benchMixedClient = netip.AddrFrom4([4]byte{127, 30, 0, 1})
)

type benchMixedResult struct {
	Agents, Kinds, BigOIDs int
	Parse, Start           time.Duration
	Initial, Running       benchutil.Proc
	DistinctNames          int
	Error                  string
}

func init() {
	if benchutil.ChildRole() != benchMixedRole {
		return
	}
	var in struct{}
	r := benchMixedResult{}
	if err := benchutil.ReadInput(&in); err != nil {
		r.Error = err.Error()
	} else {
		r = benchMixedChild()
	}
	if err := benchutil.WriteResult(r); err != nil || r.Error != "" {
		fmt.Fprintln(os.Stderr, r.Error, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// bigRecording is the text of a 50,000-OID .snmprec: the system group, a
// 2,000-row ifTable-like table with MACs and serials, and an enterprise
// table filling the rest.
func bigRecording(oids int) string {
	var b strings.Builder
	b.WriteString("1.3.6.1.2.1.1.1.0|4|big chassis\n1.3.6.1.2.1.1.3.0|67:numeric|rate=100\n1.3.6.1.2.1.1.5.0|4|core\n")
	n := 3
	for col := 1; col <= 4 && n < oids; col++ {
		for row := 1; row <= 2000 && n < oids; row++ {
			switch col {
			case 1:
				fmt.Fprintf(&b, "1.3.6.1.2.1.2.2.1.1.%d|2|%d\n", row, row)
			case 2:
				fmt.Fprintf(&b, "1.3.6.1.2.1.2.2.1.2.%d|4|port %d\n", row, row)
			case 3:
				fmt.Fprintf(&b, "1.3.6.1.2.1.2.2.1.6.%d|4x|00127962%04x\n", row, row)
			case 4:
				fmt.Fprintf(&b, "1.3.6.1.2.1.2.2.1.10.%d|65:numeric|rate=%d\n", row, 1000+row)
			}
			n++
		}
	}
	for i := 1; n < oids; i++ {
		fmt.Fprintf(&b, "1.3.6.1.4.1.99999.1.1.%d.%d|4|value %d\n", 1+i%7, i, i)
		n++
	}
	return b.String()
}

func benchMixedChild() (r benchMixedResult) {
	fail := func(err error) benchMixedResult { r.Error = err.Error(); return r }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	text := bigRecording(50000)
	var err error
	if r.Initial, err = benchutil.Sample(true); err != nil {
		return fail(err)
	}
	t0 := time.Now()
	big, err := mib.ParseSnmprec(strings.NewReader(text), "core-switch.snmprec")
	if err != nil {
		return fail(err)
	}
	ifmib, err := mib.Profile("if-mib:24")
	if err != nil {
		return fail(err)
	}
	sys, err := mib.Profile("system")
	if err != nil {
		return fail(err)
	}
	r.Parse = time.Since(t0)
	text = ""
	r.BigOIDs = big.Len()
	t0 = time.Now()
	f, err := Start(ctx, Config{Agents: 10000, Listen: netip.AddrPortFrom(benchMixedBase, 0), Identity: Identity{On: true}, Seed: 1,
		Kinds: []Kind{{Name: "core", Store: big, Share: 0.2}, {Name: "access", Store: ifmib, Share: 0.5}, {Name: "server", Store: sys, Share: 0.3}}})
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	r.Start = time.Since(t0)
	r.Agents, r.Kinds = f.Len(), len(f.Kinds())
	if r.Running, err = benchutil.Sample(true); err != nil {
		return fail(err)
	}
	names, err := benchSysNames(f, benchMixedClient)
	if err != nil {
		return fail(err)
	}
	r.DistinctNames = len(names)
	return r
}

// benchSysNames reads sysName.0 from every agent, a window of requests in
// flight at a time, and returns the distinct names.
func benchSysNames(f *Fleet, client netip.Addr) (map[string]bool, error) {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(client, 0)))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetReadBuffer(4 << 20)
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: f.Community(), PDUType: gosnmp.GetRequest, RequestID: 1,
		Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.Null}}}
	pkt, err := p.MarshalMsg()
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	got := map[netip.Addr]bool{}
	buf := make([]byte, 4096)
	g := gosnmp.GoSNMP{}
	for from := 0; from < f.Len(); from += 500 {
		to := min(from+500, f.Len())
		for try := 0; try < 5; try++ {
			for i := from; i < to; i++ {
				if !got[f.Addr(i).Addr()] {
					if _, err := c.WriteToUDPAddrPort(pkt, f.Addr(i)); err != nil {
						return nil, err
					}
				}
			}
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			for n := 0; n < to-from; n++ {
				k, src, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					break // resend what is missing
				}
				resp, err := g.SnmpDecodePacket(buf[:k])
				if err != nil || len(resp.Variables) != 1 || got[src.Addr()] {
					continue
				}
				got[src.Addr()] = true
				if v, ok := resp.Variables[0].Value.([]byte); ok {
					names[string(v)] = true
				}
			}
			done := true
			for i := from; i < to; i++ {
				done = done && got[f.Addr(i).Addr()]
			}
			if done {
				break
			}
		}
	}
	if len(got) != f.Len() {
		return nil, fmt.Errorf("%d of %d agents answered sysName", len(got), f.Len())
	}
	return names, nil
}

func BenchmarkFleetStartMixed10k(b *testing.B) {
	var r benchMixedResult
	for range b.N {
		if err := benchutil.RunChild(b.Context(), benchMixedRole, struct{}{}, &r, "-test.run=^$", "-test.bench=^$"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.Start)/float64(time.Millisecond), "start-ms")
	b.ReportMetric(benchutil.MB(r.Running.PeakRSS), "peak-rss-MB")
	b.ReportMetric(float64(r.DistinctNames), "distinct-sysnames")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d agents of %d kinds (a %d-OID recording parsed with the profiles in %s): Start %s; RSS %.1f MB at first, %.1f MB running, peak %.1f MB; %d distinct sysNames",
		r.Agents, r.Kinds, r.BigOIDs, r.Parse.Round(time.Millisecond), r.Start.Round(time.Microsecond),
		benchutil.MB(r.Initial.RSS), benchutil.MB(r.Running.RSS), benchutil.MB(r.Running.PeakRSS), r.DistinctNames)
	b.Log(benchutil.Verdict("mixed 10k fleet start time", r.Start < time.Second, "%s to ready (target < 1s)", r.Start.Round(time.Microsecond)))
	b.Log(benchutil.Verdict("mixed 10k fleet RSS", r.Running.PeakRSS < 200<<20, "peak %.1f MB for the whole process with the parsed data (target < 200 MB)", benchutil.MB(r.Running.PeakRSS)))
	b.Log(benchutil.Verdict("mixed 10k fleet identities", r.DistinctNames == r.Agents, "%d distinct sysNames of %d agents", r.DistinctNames, r.Agents))
}
