package simagent

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/internal/netsnmptest"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every example recording Debian's snmpsim package ships is walked with
// net-snmp's tools, v1 and v2c, once served by snmpsim itself (the
// reference: the program these files are written for) and once by
// simagent, and the two readings must agree line by line: the same OIDs in
// the same order, the same types, the same values where the value is
// static, the same errors and timeouts. Where the two differ by design the
// comparison says so: values that move (snmpsim's numeric module, uptime)
// compare by type; the snmpEngine and usmStats objects are simagent's live
// engine's; noSuchObject and noSuchInstance count alike (snmpsim only
// answers noSuchInstance; simagent answers as snmpd).

// snmpsimErrors are where snmpsim misreads an example and simagent does
// not: the comparison accepts the difference there, and only there.
var snmpsimErrors = map[string]string{
	// snmpwalk output escapes a backslash as \\; snmpsim serves both.
	"backslash": "foreignformats/linux foreignformats/winxp1",
	// net-snmp prints BITS as hex then bit numbers ("80 0"); snmpsim
	// reads the bit numbers as more bytes.
	"bits": "foreignformats/linux",
	// net-snmp prints an Opaque float as "Opaque: Float: 0.05"; snmpsim
	// serves it as an ASN.1 REAL inside the Opaque, not as net-snmp's
	// opaque float (9f 78).
	"opaque-float": "foreignformats/linux",
	// A string with bytes that are not ASCII: snmpsim drops them.
	"non-ascii": "foreignformats/winxp1",
	// A recorded "= No more variables left ..." line: snmpsim serves it
	// as an empty string, simagent (and snmpd) hold no value there.
	"exception-as-value": "foreignformats/winxp1",
	// snmpsim's index mis-sorts an OID written with a leading-zero arc
	// (hp_perf.snmprec:747 ...44.56.00) and ends the walk before it.
	"early-end": "hp_perf",
}

func snmpsimError(kind, community string) bool {
	return slices.Contains(strings.Fields(snmpsimErrors[kind]), community)
}

// refusedExamples are the example recordings simagent refuses, by
// community: their modules need systems outside the simulator.
var refusedExamples = []string{"variation/notification", "variation/sql", "variation/subprocess"}

func TestSnmpsimExamplesWalkAsSnmpsimServesThem(t *testing.T) {
	if _, err := os.Stat(netsnmptest.SnmpsimExamples); err != nil {
		netsnmptest.Require(t, "snmpsimd") // installs Debian's snmpsim when root
	}
	if _, err := os.Stat(netsnmptest.SnmpsimExamples); err != nil {
		msg := "snmpsim's examples are not installed at " + netsnmptest.SnmpsimExamples
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	netsnmptest.Require(t, "snmpbulkwalk")
	sim := netsnmptest.StartSnmpsim(t, netsnmptest.SnmpsimExamples, "public")
	files, err := mib.Recordings(netsnmptest.SnmpsimExamples)
	require.NoError(t, err)
	var refused []string
	type job struct {
		community string
		store     *mib.Store
	}
	var jobs []job
	for _, f := range files {
		rel, _ := filepath.Rel(netsnmptest.SnmpsimExamples, f)
		community := strings.TrimSuffix(strings.TrimSuffix(rel, ".gz"), filepath.Ext(strings.TrimSuffix(rel, ".gz")))
		s, err := mib.LoadFile(f)
		if err != nil {
			require.True(t, errors.Is(err, mib.ErrUnsupported), "%s: %v", rel, err)
			refused = append(refused, community)
			continue
		}
		jobs = append(jobs, job{community, s})
	}
	slices.Sort(refused)
	assert.Equal(t, refusedExamples, refused, "refused recordings (the README lists them)")
	require.GreaterOrEqual(t, len(jobs), 30)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for k, j := range jobs {
		f := startFleet(t, Config{Listen: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 17, 60, byte(k + 1)}), 0), Store: j.store})
		for _, version := range []string{"1", "2c"} {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				compareWalks(t, j.store, version, j.community, sim.Addr, f.Addr(0).String())
			})
		}
	}
	wg.Wait()
}

// walkRoot is where a walk of community starts: the whole tree, but for
// v1 of the 51,000-OID switch (one GetNext per OID to snmpsim takes
// minutes) its interfaces group.
func walkRoot(version, community string) string {
	if version == "1" && community == "cisco_16_switch" {
		return ".1.3.6.1.2.1.2"
	}
	return ".1.3.6.1"
}

var timeoutLine = regexp.MustCompile(`Timeout: No Response from \S+`)

// compareWalks walks one recording from snmpsim (community) and from
// simagent (community public) and compares the readings.
func compareWalks(t *testing.T, s *mib.Store, version, community, simAddr, agentAddr string) {
	name := community + " v" + version
	tool, extra := "snmpwalk", []string{}
	if version == "2c" {
		tool, extra = "snmpbulkwalk", []string{"-Cr25"}
	}
	run := func(addr, comm string) (stdout, stderr string) {
		args := append([]string{"-v" + version, "-c", comm, "-On", "-t", "3", "-r", "2"}, extra...)
		out, err := netsnmptest.RunFor(t, 10*time.Minute, tool, append(args, addr, walkRoot(version, community))...)
		var te *netsnmptest.ToolError
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Stderr == "" && !strings.HasSuffix(out, "\n")) {
			t.Errorf("%s: %s did not finish: %v", name, tool, err)
		} else if errors.As(err, &te) {
			stderr = timeoutLine.ReplaceAllString(strings.TrimSpace(te.Stderr), "Timeout: No Response")
		} else if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return out, stderr
	}
	wantOut, wantErr := run(simAddr, community)
	gotOut, gotErr := run(agentAddr, "public")
	if !assert.Equal(t, wantErr, gotErr, "%s: errors", name) {
		return
	}
	want, got := walkEnd(walkLines(wantOut)), walkEnd(walkLines(gotOut))
	if snmpsimError("exception-as-value", community) {
		// snmpsim serves a recorded exception line as an empty string.
		want = slices.DeleteFunc(want, func(l string) bool {
			o, v, _ := strings.Cut(l, " = ")
			oid, err := mib.ParseOID(o)
			return err == nil && v == `""` && s.Get(oid) < 0
		})
	}
	n := min(len(want), len(got))
	for i := range n {
		if !sameLine(s, community, want[i], got[i]) {
			t.Errorf("%s: line %d of %d differs:\n snmpsim:  %q\n simagent: %q", name, i+1, len(want), want[i], got[i])
			return
		}
	}
	if snmpsimError("early-end", community) && len(want) < len(got) {
		t.Logf("%s: snmpsim ends the walk early after %d of simagent's %d lines (a known snmpsim error); compared up to there", name, len(want), len(got))
	} else {
		assert.Equal(t, len(want), len(got), "%s: lines (snmpsim's last: %q)", name, want[max(len(want)-1, 0):])
	}
	assert.NotEmpty(t, want, "%s: the reference walk read nothing", name)
}

// walkLines splits tool output into one entry per OID (continuation lines
// of multi-line strings stay with theirs). Repeated endOfMibView lines
// count once: snmpsim fills a GetBulk's repetitions past the end with
// them, snmpd and simagent stop there (RFC 3416 4.2.3 allows both).
func walkLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if len(lines) > 0 && l == lines[len(lines)-1] && strings.HasSuffix(l, " = "+netsnmpEndOfMib) {
			continue
		}
		if strings.HasPrefix(l, ".") && strings.Contains(l, " = ") || len(lines) == 0 {
			lines = append(lines, l)
			continue
		}
		lines[len(lines)-1] += "\n" + l
	}
	return lines
}

// walkEnd drops how a walk ends, which the tools print differently for
// equally valid answers: v1's "End of MIB", and the endOfMibView line
// (named after the last OID by snmpsim, after the request's by snmpd and
// simagent).
func walkEnd(lines []string) []string {
	if n := len(lines); n > 0 {
		lines[n-1] = strings.TrimSuffix(lines[n-1], "\nEnd of MIB")
		if strings.HasSuffix(lines[n-1], " = "+netsnmpEndOfMib) {
			lines = lines[:n-1]
		}
	}
	return lines
}

// sameLine compares one OID's reading: exactly, or by type where the
// value moves or is simagent's own by design.
func sameLine(s *mib.Store, community, want, got string) bool {
	if want == got {
		return true
	}
	wo, wv, _ := strings.Cut(want, " = ")
	go_, gv, _ := strings.Cut(got, " = ")
	if wo != go_ {
		return false
	}
	if snmpsimError("backslash", community) && unescape(unescape(wv)) == unescape(gv) {
		return true
	}
	if snmpsimError("opaque-float", community) && strings.HasPrefix(wv, "OPAQUE: 09 ") && strings.HasPrefix(gv, "Opaque: Float: ") {
		return true
	}
	if snmpsimError("bits", community) && strings.HasPrefix(wv, "Hex-STRING: ") && strings.HasPrefix(wv, gv) {
		return true
	}
	if snmpsimError("non-ascii", community) && strings.HasPrefix(wv, `STRING: "`) && strings.HasPrefix(gv, "Hex-STRING: ") {
		var ascii []byte
		for _, h := range strings.Fields(strings.TrimPrefix(gv, "Hex-STRING: ")) {
			if b, err := strconv.ParseUint(h, 16, 8); err == nil && b < 0x80 {
				ascii = append(ascii, byte(b))
			}
		}
		return `STRING: "`+string(ascii)+`"` == wv
	}
	exc := func(v string) bool { return v == netsnmpNoSuchInstance || v == netsnmpNoSuchObject }
	if exc(wv) && exc(gv) {
		return true
	}
	o, err := mib.ParseOID(wo)
	if err != nil {
		return false
	}
	moving := o.HasPrefix(mib.OID{1, 3, 6, 1, 6, 3, 10, 2, 1}) || o.HasPrefix(mib.OID{1, 3, 6, 1, 6, 3, 15, 1, 1})
	if i := s.Get(o); i >= 0 {
		_, v := s.At(i)
		moving = moving || v.Dyn != nil
	}
	if m := s.Multiplexed(); m != nil && o.HasPrefix(m.Prefix) {
		moving = true // which recording of the series is served depends on each server's uptime
	}
	wt, _, _ := strings.Cut(wv, ":")
	gt, _, _ := strings.Cut(gv, ":")
	return moving && wt == gt
}

// unescape undoes net-snmp's escaping of \ and " in a printed string.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '"') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
