package simagent

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/internal/benchutil"
	"github.com/snmpchaos/snmpchaos/internal/netsnmptest"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// BenchmarkAmplificationVsSnmpd sends the same small requests to a real
// snmpd and to simagent serving snmpd's own walk (the same data) and to
// simagent serving if-mib:24, each with its defaults, and prints the worst
// amplification (response bytes / request bytes) of each: a simulator
// that answers a 40-byte GetBulk with 60 KB is a hazard on any shared
// network. Target: simagent's worst no worse than snmpd's.

// amplifyRequests are the small requests tried: GetBulks with huge
// max-repetitions from several roots, a GetNext and a Get.
func amplifyRequests() []*gosnmp.SnmpPacket {
	var out []*gosnmp.SnmpPacket
	for _, root := range []string{".1.3.6.1", ".1.3.6.1.2.1.1", ".1.3.6.1.2.1.2.2", ".1.3.6.1.2.1.25.4.2.1.2", ".1.3.6.1.2.1.25.6.3.1.2", ".1.3.6.1.2.1.4", ".1.3.6.1.2.1.31"} {
		for _, reps := range []uint32{10, 100, 1000, 65535} {
			out = append(out, &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetBulkRequest,
				RequestID: 7, MaxRepetitions: reps, Variables: []gosnmp.SnmpPDU{{Name: root, Type: gosnmp.Null}}})
		}
	}
	out = append(out,
		&gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetNextRequest, RequestID: 7, Variables: []gosnmp.SnmpPDU{{Name: ".1.3", Type: gosnmp.Null}}},
		&gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetRequest, RequestID: 7, Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.Null}}})
	return out
}

// worstAmplification sends each request to addr and returns the worst
// response/request ratio and the request that drew it.
func worstAmplification(b *testing.B, addr netip.AddrPort) (float64, string) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	worst, what := 0.0, ""
	buf := make([]byte, 65536)
	for _, p := range amplifyRequests() {
		pkt, err := p.MarshalMsg()
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for try := 0; try < 3 && n == 0; try++ {
			if _, err := c.WriteToUDPAddrPort(pkt, addr); err != nil {
				b.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			n, _, _ = c.ReadFromUDPAddrPort(buf)
		}
		if r := float64(n) / float64(len(pkt)); r > worst {
			worst, what = r, fmt.Sprintf("%v %s max-repetitions %d: %d bytes for %d", p.PDUType, p.Variables[0].Name, p.MaxRepetitions, n, len(pkt))
		}
	}
	return worst, what
}

func BenchmarkAmplificationVsSnmpd(b *testing.B) {
	sd := netsnmptest.StartSnmpd(b, "rocommunity public 127.0.0.1\n")
	walk, err := netsnmptest.Run(b, "snmpwalk", "-v2c", "-c", "public", "-On", "-r", "2", "-t", "5", sd.Addr, ".1")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "snmpd.walk")
	if err := os.WriteFile(path, []byte(walk), 0o600); err != nil {
		b.Fatal(err)
	}
	same, err := mib.LoadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	ifmib, err := mib.Profile("if-mib:24")
	if err != nil {
		b.Fatal(err)
	}
	fs, err := Start(b.Context(), Config{Listen: netip.MustParseAddrPort("127.31.0.1:0"), Store: same})
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	fp, err := Start(b.Context(), Config{Listen: netip.MustParseAddrPort("127.31.1.1:0"), Store: ifmib})
	if err != nil {
		b.Fatal(err)
	}
	defer fp.Close()
	var ref, sim, prof float64
	var refWhat, simWhat, profWhat string
	for range b.N {
		ref, refWhat = worstAmplification(b, netip.MustParseAddrPort(sd.Addr))
		sim, simWhat = worstAmplification(b, fs.Addr(0))
		prof, profWhat = worstAmplification(b, fp.Addr(0))
	}
	b.ReportMetric(ref, "snmpd-x")
	b.ReportMetric(sim, "simagent-x")
	b.ReportMetric(prof, "simagent-ifmib-x")
	b.ReportMetric(0, "ns/op")
	b.Logf("snmpd (%d OIDs): worst %.0fx (%s)", same.Len(), ref, refWhat)
	b.Logf("simagent on snmpd's walk: worst %.0fx (%s)", sim, simWhat)
	b.Logf("simagent on if-mib:24: worst %.0fx (%s)", prof, profWhat)
	b.Log(benchutil.Verdict("worst small-request amplification", sim <= ref && prof <= ref,
		"simagent %.0fx on the same data, %.0fx on if-mib:24, snmpd %.0fx (target: no worse than snmpd)", sim, prof, ref))
}
