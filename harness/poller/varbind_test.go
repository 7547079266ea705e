package poller

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/internal/mibtest"
	"github.com/snmpchaos/snmpchaos/harness/invariant"
	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/pollerlib"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// The same data read through gosnmp, through pollerlib and straight from
// the store renders the same.
func TestVarbindConversionsAgree(t *testing.T) {
	store := mibtest.TypesStore(t)
	f, err := simagent.Start(t.Context(), simagent.Config{Agents: 1, Listen: netip.MustParseAddrPort("127.120.0.1:0"), Store: store})
	require.NoError(t, err)
	defer f.Close()
	want := make([]pollapi.Varbind, store.Len())
	for i := range want {
		want[i] = invariant.VarbindFromMIB(store.At(i))
	}
	root := ".1.3.6.1.4.1.99"

	g := &gosnmp.GoSNMP{Target: f.Addr(0).Addr().String(), Port: f.Addr(0).Port(), Community: "public", Version: gosnmp.Version2c, Timeout: 2 * time.Second, Retries: 1}
	require.NoError(t, g.Connect())
	defer g.Close()
	pdus, err := g.BulkWalkAll(root)
	require.NoError(t, err)
	var viaGosnmp []pollapi.Varbind
	for _, p := range pdus {
		viaGosnmp = append(viaGosnmp, VarbindFromPDU(p))
	}

	lib, err := pollerlib.New(pollerlib.WithLocalAddr(netip.MustParseAddr("127.0.0.1")))
	require.NoError(t, err)
	defer lib.Close(context.Background())
	vbs, err := lib.BulkWalkAll(t.Context(), pollerlib.Target{Addr: f.Addr(0).String()}, pollerlib.MustParseOID(root))
	require.NoError(t, err)
	var viaLib []pollapi.Varbind
	for _, v := range vbs {
		viaLib = append(viaLib, VarbindFromPollerlib(v))
	}

	require.Len(t, viaGosnmp, len(want))
	require.Len(t, viaLib, len(want))
	for i := range want {
		if want[i].Value == "" && want[i].Type == ber.TagCounter32 { // moving: compare name and type
			viaGosnmp[i].Value, viaLib[i].Value = "", ""
		}
		assert.Equal(t, want[i], viaGosnmp[i], "gosnmp %d", i)
		assert.Equal(t, want[i], viaLib[i], "pollerlib %d", i)
	}
	assert.Equal(t, "-42", want[0].Value)
	assert.Equal(t, "0001fe61", want[1].Value)
	assert.Equal(t, ".1.3.6.1.4.1.8072.3.2.10", want[2].Value)
	assert.Equal(t, "198.51.100.3", want[3].Value)
	assert.Equal(t, "9223372036854775813", want[7].Value)

	// An agent's snapshot renders the same too.
	for i, e := range f.Snapshot(0) {
		if _, v := store.At(i); v.Dyn == nil {
			assert.Equal(t, want[i], invariant.VarbindFromEntry(e))
		}
	}

	// A walk checker over the same store agrees with both.
	w := invariant.NewWalkChecker(store)
	assert.Empty(t, w.Check(root, false, simagent.Faults{}, viaGosnmp))
	assert.Empty(t, w.Check(root, false, simagent.Faults{}, viaLib))
}

func TestVarbindFromPDUEdgeCases(t *testing.T) {
	assert.Equal(t, pollapi.Varbind{OID: ".1.3.6", Type: byte(gosnmp.NoSuchObject)}, VarbindFromPDU(gosnmp.SnmpPDU{Name: "1.3.6", Type: gosnmp.NoSuchObject}))
	assert.Equal(t, pollapi.Varbind{OID: ".1.3.6", Type: ber.TagOpaque, Value: "1.5"}, VarbindFromPDU(gosnmp.SnmpPDU{Name: ".1.3.6", Type: gosnmp.OpaqueFloat, Value: float32(1.5)}))
	assert.Equal(t, pollapi.Varbind{OID: ".1.3.6", Type: byte(gosnmp.ObjectIdentifier), Value: ".1.2.3"}, VarbindFromPDU(gosnmp.SnmpPDU{Name: ".1.3.6", Type: gosnmp.ObjectIdentifier, Value: "1.2.3"}))
}
