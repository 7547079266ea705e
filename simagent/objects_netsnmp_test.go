package simagent

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/internal/netsnmptest"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snmpdRecording starts a real snmpd, walks it whole with snmpwalk and
// returns the agent and the walk loaded as a store: the same data for
// snmpd and simagent.
func snmpdRecording(t *testing.T, conf string) (*netsnmptest.Snmpd, *mib.Store) {
	t.Helper()
	sd, s, _ := snmpdWalk(t, conf)
	return sd, s
}

// snmpdWalk is snmpdRecording with the walk's text.
func snmpdWalk(t *testing.T, conf string) (*netsnmptest.Snmpd, *mib.Store, string) {
	t.Helper()
	sd := netsnmptest.StartSnmpd(t, "rocommunity public 127.0.0.1\n"+conf)
	out := snmpTool(t, "snmpwalk", "2c", "-On", sd.Addr, ".1")
	path := filepath.Join(t.TempDir(), "snmpd.walk")
	require.NoError(t, os.WriteFile(path, []byte(out), 0o600))
	s, err := mib.LoadFile(path)
	require.NoError(t, err)
	require.Greater(t, s.Len(), 100, "snmpd's walk")
	return sd, s, out
}

// outcome classifies one line of snmpget -On output: a value, or which
// exception.
func outcome(line string) string {
	_, v, _ := strings.Cut(line, " = ")
	switch v {
	case netsnmpNoSuchObject:
		return "noSuchObject"
	case netsnmpNoSuchInstance:
		return "noSuchInstance"
	}
	return "value"
}

// TestGetExceptionsMatchSnmpd: on the same data (snmpd's own walk) a Get
// for a name that is not there gets the same exception from simagent as
// from snmpd: noSuchObject for groups, tables, entries and unknown
// objects; noSuchInstance at a scalar or column, below an existing
// instance, or for a missing row.
func TestGetExceptionsMatchSnmpd(t *testing.T) {
	sd, store := snmpdRecording(t, "")
	f := startFleet(t, Config{Listen: netip.MustParseAddrPort("127.17.40.1:0"), Store: store, Clock: frozen()})
	probes := []string{
		".1.3.6.1.2.1.1",                    // system group
		".1.3.6.1.2.1.1.5",                  // sysName, the scalar object
		".1.3.6.1.2.1.1.5.0",                // sysName.0
		".1.3.6.1.2.1.1.5.0.1",              // below an instance
		".1.3.6.1.2.1.1.5.1",                // a scalar's wrong instance
		".1.3.6.1.2.1.1.99.0",               // unknown object in a known group
		".1.3.6.1.2.1.2.1",                  // ifNumber
		".1.3.6.1.2.1.2.1.0.0",              // below ifNumber.0
		".1.3.6.1.2.1.2.2",                  // ifTable
		".1.3.6.1.2.1.2.2.1",                // ifEntry
		".1.3.6.1.2.1.2.2.1.2",              // ifDescr, the column
		".1.3.6.1.2.1.2.2.1.2.0",            // before the first row
		".1.3.6.1.2.1.2.2.1.2.1",            // ifDescr.1 (lo)
		".1.3.6.1.2.1.2.2.1.2.1.5",          // below an instance
		".1.3.6.1.2.1.2.2.1.2.9999",         // a missing row
		".1.3.6.1.2.1.2.2.1.99.1",           // an unknown column
		".1.3.6.1.2.1.1.9.1",                // sysOREntry
		".1.3.6.1.2.1.1.9.1.2",              // sysORID
		".1.3.6.1.2.1.1.9.1.2.999",          // a missing row
		".1.3.6.1.2.1.4.20.1.1.127.0.0.1",   // ipAdEntAddr (a 4-arc index)
		".1.3.6.1.2.1.4.20.1.1.127.0.0.2",   // a missing row
		".1.3.6.1.2.1.4.20.1.1.127.0.0",     // a short index
		".1.3.6.1.2.1.4.20.1.1.127.0.0.1.5", // below an instance
		".1.3.6.1.2.1.99",                   // unknown group
		".1.3.6.1",                          // far above
		".1.3.6.1.4.1.99999.1.0",            // unknown enterprise
	}
	args := append([]string{"-On", "-Oe", "-Ot"}, "") // agent filled in below
	get := func(addr string) []string {
		args[len(args)-1] = addr
		var lines []string
		for _, p := range probes { // one at a time: one exception per request
			out := snmpTool(t, "snmpget", "2c", append(args, p)...)
			lines = append(lines, outcome(strings.TrimSpace(out)))
		}
		return lines
	}
	want, got := get(sd.Addr), get(f.Addr(0).String())
	for i, p := range probes {
		assert.Equal(t, want[i], got[i], "Get %s: snmpd answers %s", p, want[i])
	}
	// Not all alike: the probes cover both exceptions and values.
	assert.Contains(t, want, "noSuchObject")
	assert.Contains(t, want, "noSuchInstance")
	assert.Contains(t, want, "value")
}

// walkNames is the OIDs of an snmpwalk -On output, in order.
func walkNames(out string) []string {
	var names []string
	for _, l := range strings.Split(out, "\n") {
		if name, _, ok := strings.Cut(l, " = "); ok {
			names = append(names, name)
		}
	}
	return names
}

// TestBulkCapAndLargeGetsMatchSnmpd: GetBulk repetitions are capped as
// snmpd caps them (maxGetbulkResponses 100: max-repetitions shrinks to
// 100 / repeaters, non-repeaters on top), and a Get of more than 1,024
// varbinds is answered, as snmpd answers it.
//
// snmpd serves the host's live tables (interfaces, addresses), which a
// second make test's namespaces and nodes change at any time; a mismatch
// counts only if snmpd still has the names it was recorded with, else the
// test records it again (at most 3 times).
func TestBulkCapAndLargeGetsMatchSnmpd(t *testing.T) {
	for attempt := 1; ; attempt++ {
		sd, store, out := snmpdWalk(t, "")
		f := startFleet(t, Config{Listen: netip.MustParseAddrPort("127.17.41.1:0"), Store: store, Clock: frozen()})
		diffs := bulkCapDiffs(t, netip.MustParseAddrPort(sd.Addr), f.Addr(0))
		if len(diffs) == 0 {
			return
		}
		again := walkNames(snmpTool(t, "snmpwalk", "2c", "-On", sd.Addr, ".1"))
		if slices.Equal(again, walkNames(out)) || attempt == 3 {
			t.Fatalf("simagent on snmpd's walk answers otherwise than snmpd (attempt %d; snmpd's names unchanged: %v):\n%s",
				attempt, slices.Equal(again, walkNames(out)), strings.Join(diffs, "\n"))
		}
		t.Logf("attempt %d: snmpd's names changed under the test (%d then %d), recording again", attempt, len(walkNames(out)), len(again))
	}
}

// bulkCapDiffs asks snmpd at ref and simagent at sim the same GetBulks and
// large Gets and lists where the answers differ.
func bulkCapDiffs(t *testing.T, refAddr, simAddr netip.AddrPort) []string {
	t.Helper()
	dial := func(ap netip.AddrPort) *gosnmp.GoSNMP {
		g := &gosnmp.GoSNMP{Target: ap.Addr().String(), Port: ap.Port(), Community: "public", Version: gosnmp.Version2c,
			Timeout: 5 * time.Second, Retries: 2, MaxOids: 1 << 20}
		require.NoError(t, g.Connect())
		t.Cleanup(func() { _ = g.Conn.Close() })
		return g
	}
	ref, sim := dial(refAddr), dial(simAddr)
	repeat := func(n int, oid string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = oid
		}
		return out
	}
	var diffs []string
	for _, tc := range []struct {
		name    string
		oids    []string
		nonRep  uint8
		maxReps uint32
	}{
		{"one repeater", []string{".1.3.6.1.2.1.1"}, 0, 1000},
		{"two repeaters", []string{".1.3.6.1.2.1.1", ".1.3.6.1.2.1.2"}, 0, 60},
		{"non-repeaters on top", []string{".1.3.6.1.2.1.1", ".1.3.6.1.2.1.2", ".1.3", ".1.3.6.1.2.1.4"}, 3, 1000},
		{"40 repeaters", repeat(40, ".1.3.6.1.2.1.1"), 0, 5},
		{"more repeaters than the cap", repeat(101, ".1.3.6.1.2.1.1"), 0, 5},
		{"under the cap", []string{".1.3.6.1.2.1.1"}, 0, 30},
	} {
		want, err := ref.GetBulk(tc.oids, tc.nonRep, tc.maxReps)
		require.NoError(t, err, tc.name)
		got, err := sim.GetBulk(tc.oids, tc.nonRep, tc.maxReps)
		require.NoError(t, err, tc.name)
		if want.Error != got.Error {
			diffs = append(diffs, fmt.Sprintf("%s: error-status %v, snmpd %v", tc.name, got.Error, want.Error))
		}
		if len(got.Variables) != len(want.Variables) {
			diffs = append(diffs, fmt.Sprintf("%s: %d varbinds, snmpd %d", tc.name, len(got.Variables), len(want.Variables)))
			continue
		}
		for i := range want.Variables {
			if want.Variables[i].Name != got.Variables[i].Name {
				diffs = append(diffs, fmt.Sprintf("%s: varbind %d is %s, snmpd's %s", tc.name, i+1, got.Variables[i].Name, want.Variables[i].Name))
			}
		}
	}
	for _, n := range []int{1025, 3000} {
		want, err := ref.Get(repeat(n, ".1.3.6.1.2.1.1.5.0"))
		require.NoError(t, err, "snmpd, %d varbinds", n)
		got, err := sim.Get(repeat(n, ".1.3.6.1.2.1.1.5.0"))
		require.NoError(t, err, "simagent, %d varbinds", n)
		if want.Error != got.Error || len(got.Variables) != len(want.Variables) {
			diffs = append(diffs, fmt.Sprintf("Get of %d varbinds: %v and %d varbinds, snmpd %v and %d", n, got.Error, len(got.Variables), want.Error, len(want.Variables)))
		}
	}
	return diffs
}
