package simagent

import (
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/internal/netsnmptest"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// net-snmp's tools (snmpget, snmpgetnext, snmpwalk, snmpbulkwalk) are an
// independent client: against agents serving each data source they must
// print exactly the agent's data. Expected output is rendered from the
// agent's snapshot in net-snmp's -On format (MIB loading is off, so no
// DISPLAY-HINTs or enums apply), and the output is also parsed back with
// mib.ParseWalk and compared value by value. A frozen clock keeps counters
// and sysUpTime still between reads.

// netsnmpSources are the data sets of item 1: the recorded fixtures (one
// device in three files) and a synthetic profile.
var netsnmpSources = []struct {
	name, spec string
	x          int // test address 127.17.x.1
}{
	{"snmprec", "mib/testdata/device.snmprec", 100},
	{"walk-On", "mib/testdata/device-On.walk", 101},
	{"walk-ObentU", "mib/testdata/device-ObentU.walk", 102},
	{"if-mib-24", "if-mib:24", 103},
}

// Output options: numeric OIDs, numeric enums, TimeTicks as bare numbers.
var numericOut = []string{"-On", "-Oe", "-Ot"}

// snmpTool runs a net-snmp tool and returns its output; args are
// options, then the agent and the OIDs (see withAgent).
func snmpTool(t testing.TB, tool, version string, args ...string) string {
	t.Helper()
	all := append([]string{"-v" + version, "-c", "public", "-r", "2", "-t", "5"}, args...)
	out, err := netsnmptest.Run(t, tool, all...)
	require.NoError(t, err)
	return out
}

// withAgent puts the agent address before the OIDs.
func withAgent(opts []string, addr string, oids ...string) []string {
	return append(append(slices.Clone(opts), addr), oids...)
}

// isPrintOrSpace is C's isprint(c) || isspace(c) in the C locale.
func isPrintOrSpace(c byte) bool { return (c >= 0x20 && c < 0x7f) || (c >= '\t' && c <= '\r') }

// netsnmpHex renders bytes as net-snmp's sprint_realloc_hexstring does:
// "XX " per byte, a line break after every 16 bytes.
func netsnmpHex(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%16 == 0 {
			s.WriteByte('\n')
		}
		fmt.Fprintf(&s, "%02X ", c)
	}
	return s.String()
}

// netsnmpTicks renders TimeTicks as net-snmp does without -Ot.
func netsnmpTicks(v uint64) string {
	cs, t := v%100, v/100
	days, t := t/86400, t%86400
	h, m, s := t/3600, t%3600/60, t%60
	var up string
	switch days {
	case 0:
		up = fmt.Sprintf("%d:%02d:%02d.%02d", h, m, s, cs)
	case 1:
		up = fmt.Sprintf("1 day, %d:%02d:%02d.%02d", h, m, s, cs)
	default:
		up = fmt.Sprintf("%d days, %d:%02d:%02d.%02d", days, h, m, s, cs)
	}
	return fmt.Sprintf("Timeticks: (%d) %s", v, up)
}

// netsnmpValue renders a static value as net-snmp prints it with -On and
// no MIBs (snprint_value): numericTicks is -Ot.
func netsnmpValue(t testing.TB, v mib.Value, numericTicks bool) string {
	t.Helper()
	require.Nil(t, v.Dyn, "render a snapshot, not the store")
	c := v.Content
	uint := func() uint64 {
		n, err := ber.ParseUint(c)
		require.NoError(t, err)
		return n
	}
	switch v.Tag {
	case ber.TagInteger:
		n, err := ber.ParseInt(c)
		require.NoError(t, err)
		return "INTEGER: " + strconv.FormatInt(n, 10)
	case ber.TagOctetString:
		if len(c) == 0 {
			return `""`
		}
		if !slices.ContainsFunc(c, func(b byte) bool { return !isPrintOrSpace(b) }) {
			r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
			return `STRING: "` + r.Replace(string(c)) + `"`
		}
		return "Hex-STRING: " + netsnmpHex(c)
	case ber.TagNull:
		return "NULL"
	case ber.TagOID:
		o, err := ber.ParseOID(nil, c)
		require.NoError(t, err)
		return "OID: " + mib.OID(o).String()
	case ber.TagIPAddress:
		return "IpAddress: " + net.IP(c).String()
	case ber.TagCounter32:
		return "Counter32: " + strconv.FormatUint(uint(), 10)
	case ber.TagGauge32:
		return "Gauge32: " + strconv.FormatUint(uint(), 10)
	case ber.TagTimeTicks:
		if numericTicks {
			return strconv.FormatUint(uint(), 10)
		}
		return netsnmpTicks(uint())
	case ber.TagCounter64:
		return "Counter64: " + strconv.FormatUint(uint(), 10)
	case ber.TagOpaque:
		return "OPAQUE: " + netsnmpHex(c)
	}
	t.Fatalf("no rendering for tag 0x%02x", v.Tag)
	return ""
}

const (
	netsnmpNoSuchObject   = "No Such Object available on this agent at this OID"
	netsnmpNoSuchInstance = "No Such Instance currently exists at this OID"
	netsnmpEndOfMib       = "No more variables left in this MIB View (It is past the end of the MIB tree)"
)

// renderWalk is what a tool prints for entries, line by line (values with
// newlines span lines, as in the tool's output).
func renderWalk(t testing.TB, entries []mib.Entry, numericTicks bool) []string {
	t.Helper()
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.OID.String() + " = " + netsnmpValue(t, e.Value, numericTicks) + "\n")
	}
	return outputLines(b.String())
}

// walkToEnd is what a tool prints for a walk that runs to the end of the
// agent's MIB: the entries, then how the agent said it ended (v1: the
// tool notes the noSuchName as "End of MIB"; v2c: the endOfMibView
// varbind, named after the last OID).
func walkToEnd(t testing.TB, entries []mib.Entry, version string, numericTicks bool) []string {
	t.Helper()
	lines := renderWalk(t, entries, numericTicks)
	end := entries[len(entries)-1].OID.String() + " = " + netsnmpEndOfMib
	if version == "1" {
		end = "End of MIB"
	}
	return append(lines[:len(lines)-1], end, "")
}

// trimEndOfMib drops the line snmpwalk -v1 adds at the end of the MIB,
// which is not data.
func trimEndOfMib(out string) string { return strings.TrimSuffix(out, "End of MIB\n") }

func outputLines(out string) []string { return strings.Split(out, "\n") }

// assertLines compares output line by line and reports the first
// difference with some context, not two walls of text.
func assertLines(t testing.TB, want, got []string, what string) bool {
	t.Helper()
	if slices.Equal(want, got) {
		return true
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	ctx := func(ls []string) string {
		lo, hi := max(i-2, 0), min(i+3, len(ls))
		var b strings.Builder
		for k := lo; k < hi; k++ {
			mark := "  "
			if k == i {
				mark = "> "
			}
			fmt.Fprintf(&b, "%s%4d %q\n", mark, k+1, ls[k])
		}
		return b.String()
	}
	t.Errorf("%s: output differs at line %d (want %d lines, got %d)\nwant:\n%sgot:\n%s", what, i+1, len(want), len(got), ctx(want), ctx(got))
	return false
}

// without drops Counter64 entries: a v1 agent hides them.
func without64(entries []mib.Entry) []mib.Entry {
	return slices.DeleteFunc(slices.Clone(entries), func(e mib.Entry) bool { return e.Value.Tag == ber.TagCounter64 })
}

// entryKeys renders entries exactly (OID, tag, content octets) for
// comparing parsed output with a snapshot.
func entryKeys(t testing.TB, entries []mib.Entry) []string {
	t.Helper()
	out := make([]string, len(entries))
	for i, e := range entries {
		require.Nil(t, e.Value.Dyn)
		out[i] = fmt.Sprintf("%s 0x%02x %x", e.OID, e.Value.Tag, e.Value.Content)
	}
	return out
}

// parseOutput reads tool output with mib.ParseWalk and returns its entries.
func parseOutput(t testing.TB, out, name string) []mib.Entry {
	t.Helper()
	s, err := mib.ParseWalk(strings.NewReader(out), name)
	require.NoError(t, err, "parsing the tool's output")
	return s.Snapshot(0, 0)
}

func openSource(t testing.TB, spec string) *mib.Store {
	t.Helper()
	if !strings.Contains(spec, ":") {
		if _, err := os.Stat(spec); err != nil {
			t.Skipf("fixture %s not there yet: %v", spec, err)
		}
	}
	s, err := mib.Open(spec)
	require.NoError(t, err)
	return s
}

func TestNetSNMPToolsReturnExactlyTheData(t *testing.T) {
	netsnmptest.Require(t, "snmpwalk")
	for _, src := range netsnmpSources {
		t.Run(src.name, func(t *testing.T) {
			t.Parallel()
			store := openSource(t, src.spec)
			// Two agents: agent 1 answers from a shared socket by its own
			// address, which net-snmp checks.
			clk := newFakeClock()
			f := startFleet(t, Config{Listen: testAddr(src.x), Agents: 2, Store: store, Seed: 99, Clock: clk.Now})
			// Agents up for a day and more: counters have moved (and
			// 32-bit ones wrapped), then the clock stands still.
			clk.Advance(26*time.Hour + 12345*time.Millisecond)
			addr := f.Addr(1).String()
			snap := f.Snapshot(1)
			require.Equal(t, store.Len(), len(snap))
			v1snap := without64(snap)

			t.Run("walk", func(t *testing.T) {
				for _, tc := range []struct {
					tool, version string
					opts          []string
					want          []mib.Entry
				}{
					{"snmpwalk", "1", numericOut, v1snap},
					{"snmpwalk", "2c", numericOut, snap},
					{"snmpbulkwalk", "2c", numericOut, snap},
					{"snmpbulkwalk", "2c", append([]string{"-Cr50", "-Cn0"}, numericOut...), snap},
					{"snmpbulkwalk", "2c", append([]string{"-Cr1"}, numericOut...), snap},
				} {
					out := snmpTool(t, tc.tool, tc.version, withAgent(tc.opts, addr, ".1.3")...)
					what := tc.tool + " -v" + tc.version + " " + strings.Join(tc.opts, " ")
					assertLines(t, walkToEnd(t, tc.want, tc.version, true), outputLines(out), what)
					assertLines(t, entryKeys(t, tc.want), entryKeys(t, parseOutput(t, trimEndOfMib(out), what)), what+" (parsed)")
				}
			})

			t.Run("get", func(t *testing.T) {
				for _, v := range []string{"1", "2c"} {
					want := snap
					if v == "1" {
						want = v1snap
					}
					var got []string
					for chunk := range slices.Chunk(want, 60) {
						var oids []string
						for _, e := range chunk {
							oids = append(oids, e.OID.String())
						}
						got = append(got, outputLines(snmpTool(t, "snmpget", v, withAgent(numericOut, addr, oids...)...))...)
						got = got[:len(got)-1] // the final newline
					}
					assertLines(t, renderWalk(t, want, true), append(got, ""), "snmpget -v"+v)
				}
				// Exceptions, v2c: another instance of the first object, and
				// an object the agent does not have.
				first := slices.Clone(snap[0].OID)
				first[len(first)-1] += 7
				out := snmpTool(t, "snmpget", "2c", withAgent(numericOut, addr, first.String(), ".1.3.6.1.4.1.424242.1.0")...)
				assert.Equal(t, []string{
					first.String() + " = " + netsnmpNoSuchInstance,
					".1.3.6.1.4.1.424242.1.0 = " + netsnmpNoSuchObject,
					"",
				}, outputLines(out))
			})

			t.Run("getnext", func(t *testing.T) {
				for _, v := range []string{"1", "2c"} {
					entries := snap
					if v == "1" {
						entries = v1snap
					}
					// Ask for the successor of every entry but the last, and
					// of the point just before the first.
					from := []string{".1.3"}
					for _, e := range entries[:len(entries)-1] {
						from = append(from, e.OID.String())
					}
					var got []string
					for chunk := range slices.Chunk(from, 60) {
						got = append(got, outputLines(snmpTool(t, "snmpgetnext", v, withAgent(numericOut, addr, chunk...)...))...)
						got = got[:len(got)-1]
					}
					assertLines(t, renderWalk(t, entries, true), append(got, ""), "snmpgetnext -v"+v)
				}
				last := snap[len(snap)-1].OID.String()
				out := snmpTool(t, "snmpgetnext", "2c", withAgent(numericOut, addr, last)...)
				assert.Equal(t, []string{last + " = " + netsnmpEndOfMib, ""}, outputLines(out))
			})

			t.Run("gosnmp", func(t *testing.T) {
				for _, v := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
					g := client(t, f, 1, v)
					walk, want := g.Walk, snapshotLines(t, snap, true)
					if v == gosnmp.Version2c {
						walk, want = g.BulkWalk, snapshotLines(t, snap, false)
					}
					var got []string
					require.NoError(t, walk(".1.3", func(p gosnmp.SnmpPDU) error { got = append(got, vbLine(p)); return nil }))
					assert.Equal(t, want, got, "%s", v)
				}
			})

			t.Run("round trip", func(t *testing.T) {
				// Record the agent with snmpwalk, serve the recording, walk
				// it again: the same data and the same output.
				for k, opts := range [][]string{{"-On"}, {"-ObentU"}, numericOut} {
					out := snmpTool(t, "snmpwalk", "2c", withAgent(opts, addr, ".1.3")...)
					path := filepath.Join(t.TempDir(), "recorded.walk")
					require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
					again, err := mib.LoadFile(path)
					require.NoError(t, err)
					f2 := startFleet(t, Config{Listen: testAddr(src.x + 10*(k+1)), Store: again, Clock: frozen()})
					assertLines(t, entryKeys(t, snap), entryKeys(t, f2.Snapshot(0)), fmt.Sprintf("%v: recorded data", opts))
					out2 := snmpTool(t, "snmpwalk", "2c", withAgent(opts, f2.Addr(0).String(), ".1.3")...)
					assertLines(t, outputLines(out), outputLines(out2), fmt.Sprintf("%v: walking the recording", opts))
				}
			})

			t.Run("round trip v1", func(t *testing.T) {
				// A v1 recording ends with snmpwalk's "End of MIB" line.
				out := snmpTool(t, "snmpwalk", "1", withAgent([]string{"-On"}, addr, ".1.3")...)
				path := filepath.Join(t.TempDir(), "recorded-v1.walk")
				require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
				again, err := mib.LoadFile(path)
				require.NoError(t, err, "loading a snmpwalk -v1 recording")
				assertLines(t, entryKeys(t, v1snap), entryKeys(t, again.Snapshot(0, 0)), "v1 recording")
			})
		})
	}
}

// TestNetSNMPPrintsTheRecordedFixture compares snmpwalk's own text with
// the recorded fixtures: the agent serving device.snmprec must look, to
// snmpwalk, exactly like the device the walk files were recorded from.
func TestNetSNMPPrintsTheRecordedFixture(t *testing.T) {
	netsnmptest.Require(t, "snmpwalk")
	store := openSource(t, "mib/testdata/device.snmprec")
	f := startFleet(t, Config{Listen: testAddr(140), Store: store, Clock: frozen()})
	addr := f.Addr(0).String()
	for _, tc := range []struct {
		file string
		opts []string
	}{
		{"mib/testdata/device-On.walk", []string{"-On"}},
		{"mib/testdata/device-ObentU.walk", []string{"-ObentU"}},
	} {
		want, err := os.ReadFile(tc.file)
		require.NoError(t, err)
		for _, v := range []string{"1", "2c"} {
			out := snmpTool(t, "snmpwalk", v, withAgent(tc.opts, addr, ".1.3.6.1.2.1")...)
			wantLines := outputLines(string(want))
			if v == "1" {
				wantLines = slices.DeleteFunc(wantLines, func(l string) bool { return strings.Contains(l, "Counter64: ") })
			}
			assertLines(t, wantLines, outputLines(out), fmt.Sprintf("snmpwalk -v%s %v against %s", v, tc.opts, tc.file))
		}
		// The renderer agrees with the recording too.
		var mib2 []mib.Entry
		for _, e := range f.Snapshot(0) {
			if e.OID.HasPrefix(mib.OID{1, 3, 6, 1, 2, 1}) {
				mib2 = append(mib2, e)
			}
		}
		if tc.opts[0] == "-On" {
			assertLines(t, outputLines(string(want)), renderWalk(t, mib2, false), "renderer vs "+tc.file)
		}
	}
}

// edgeStore holds values whose rendering and encoding are easy to get
// wrong.
func edgeStore(t testing.TB) *mib.Store {
	t.Helper()
	b := mib.NewBuilder("edge")
	n := 0
	add := func(v mib.Value) {
		n++
		b.Add(mib.MustParseOID(fmt.Sprintf("1.3.6.1.4.1.99999.%d.0", n)), v, "")
	}
	seq := func(k int) []byte {
		out := make([]byte, k)
		for i := range out {
			out[i] = byte(i * 37)
		}
		return out
	}
	for _, s := range []string{
		"", "plain", `with "quotes" and \ backslash`, "tab\there", "line\nbreak\n", "cr\r\nlf",
		"nul\x00", "\x00", "del\x7f", "caf\xc3\xa9", "latin\xe9", "~ !#$%&'()*+,-./:;<=>?@[]^_`{|}",
	} {
		add(mib.String(s))
	}
	for _, k := range []int{1, 15, 16, 17, 32, 33, 100} {
		add(mib.OctetString(seq(k)))
	}
	for _, v := range []int64{0, -1, 127, 128, -128, -129, 255, 256, math.MaxInt32, math.MinInt32} {
		add(mib.Integer(v))
	}
	for _, v := range []uint32{0, 127, 128, 255, 256, 0x7fffffff, 0x80000000, math.MaxUint32} {
		add(mib.Counter32(v))
		add(mib.Gauge32(v))
		add(mib.TimeTicks(v))
	}
	for _, v := range []uint32{99, 8640000, 8640099, 17280000, 360000} {
		add(mib.TimeTicks(v))
	}
	for _, v := range []uint64{0, 1 << 32, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		add(mib.Counter64(v))
	}
	add(mib.IPAddress([4]byte{0, 0, 0, 0}))
	add(mib.IPAddress([4]byte{255, 255, 255, 255}))
	add(mib.IPAddress([4]byte{10, 1, 2, 3}))
	add(mib.ObjectID(mib.MustParseOID("0.0")))
	add(mib.ObjectID(mib.MustParseOID("1.3.6.1.4.1.4294967295.128.16384.2097152")))
	add(mib.ObjectID(mib.MustParseOID("2.999.3")))
	add(mib.Null())
	add(mib.Opaque([]byte{0x01, 0x02, 0xff}))
	s, err := b.Build()
	require.NoError(t, err)
	return s
}

func TestNetSNMPEdgeValues(t *testing.T) {
	netsnmptest.Require(t, "snmpwalk")
	f := startFleet(t, Config{Listen: testAddr(141), Store: edgeStore(t), Clock: frozen()})
	addr := f.Addr(0).String()
	snap := f.Snapshot(0)
	for _, ticks := range []bool{false, true} {
		opts := []string{"-On"}
		if ticks {
			opts = numericOut
		}
		out := snmpTool(t, "snmpbulkwalk", "2c", withAgent(opts, addr, ".1.3.6.1.4.1.99999")...)
		assertLines(t, walkToEnd(t, snap, "2c", ticks), outputLines(out), fmt.Sprint(opts))
		assertLines(t, entryKeys(t, snap), entryKeys(t, parseOutput(t, out, "edge")), fmt.Sprint(opts, " (parsed)"))
	}
	out := snmpTool(t, "snmpwalk", "1", withAgent(numericOut, addr, ".1.3.6.1.4.1.99999")...)
	assertLines(t, walkToEnd(t, without64(snap), "1", true), outputLines(out), "v1")
	// And gosnmp decodes every one of them as encoded.
	var got []string
	require.NoError(t, client(t, f, 0, gosnmp.Version2c).BulkWalk(".1.3.6.1.4.1.99999", func(p gosnmp.SnmpPDU) error {
		if p.Type != gosnmp.Opaque { // gosnmp decodes Opaque its own way
			got = append(got, vbLine(p))
		}
		return nil
	}))
	var want []string
	for _, e := range snap {
		if e.Value.Tag != ber.TagOpaque {
			want = append(want, entryLine(t, e))
		}
	}
	assert.Equal(t, want, got)
}
