package harness

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/pollerlib"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// typesStore holds one value of every SMI type, and a moving counter.
func typesStore(t *testing.T) *mib.Store {
	t.Helper()
	b := mib.NewBuilder("types")
	add := func(oid string, v mib.Value) { b.Add(mib.MustParseOID(oid), v, "") }
	add(".1.3.6.1.4.1.99.1.0", mib.Integer(-42))
	add(".1.3.6.1.4.1.99.2.0", mib.OctetString([]byte{0, 1, 0xfe, 'a'}))
	add(".1.3.6.1.4.1.99.3.0", mib.ObjectID(mib.MustParseOID(".1.3.6.1.4.1.8072.3.2.10")))
	add(".1.3.6.1.4.1.99.4.0", mib.IPAddress([4]byte{198, 51, 100, 3}))
	add(".1.3.6.1.4.1.99.5.0", mib.Counter32(4000000000))
	add(".1.3.6.1.4.1.99.6.0", mib.Gauge32(7))
	add(".1.3.6.1.4.1.99.7.0", mib.TimeTicks(123456))
	add(".1.3.6.1.4.1.99.8.0", mib.Counter64(1<<63+5))
	add(".1.3.6.1.4.1.99.9.0", mib.Opaque([]byte{0x30, 0x01}))
	add(".1.3.6.1.4.1.99.10.0", mib.Counter(ber.TagCounter32, 100, 1000, 0))
	s, err := b.Build()
	require.NoError(t, err)
	return s
}

// The same data read through gosnmp, through pollerlib and straight from
// the store renders the same.
func TestVarbindConversionsAgree(t *testing.T) {
	store := typesStore(t)
	f, err := simagent.Start(t.Context(), simagent.Config{Agents: 1, Listen: netip.MustParseAddrPort("127.120.0.1:0"), Store: store})
	require.NoError(t, err)
	defer f.Close()
	want := make([]Varbind, store.Len())
	for i := range want {
		want[i] = VarbindFromMIB(store.At(i))
	}
	root := ".1.3.6.1.4.1.99"

	g := &gosnmp.GoSNMP{Target: f.Addr(0).Addr().String(), Port: f.Addr(0).Port(), Community: "public", Version: gosnmp.Version2c, Timeout: 2 * time.Second, Retries: 1}
	require.NoError(t, g.Connect())
	defer g.Close()
	pdus, err := g.BulkWalkAll(root)
	require.NoError(t, err)
	var viaGosnmp []Varbind
	for _, p := range pdus {
		viaGosnmp = append(viaGosnmp, VarbindFromPDU(p))
	}

	lib, err := pollerlib.New(pollerlib.WithLocalAddr(netip.MustParseAddr("127.0.0.1")))
	require.NoError(t, err)
	defer lib.Close(context.Background())
	vbs, err := lib.BulkWalkAll(t.Context(), pollerlib.Target{Addr: f.Addr(0).String()}, pollerlib.MustParseOID(root))
	require.NoError(t, err)
	var viaLib []Varbind
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
			assert.Equal(t, want[i], VarbindFromEntry(e))
		}
	}

	// A walk checker over the same store agrees with both.
	w := &walkChecker{store: store}
	assert.Empty(t, w.check(root, false, simagent.Faults{}, viaGosnmp))
	assert.Empty(t, w.check(root, false, simagent.Faults{}, viaLib))
}

func TestVarbindFromPDUEdgeCases(t *testing.T) {
	assert.Equal(t, Varbind{OID: ".1.3.6", Type: byte(gosnmp.NoSuchObject)}, VarbindFromPDU(gosnmp.SnmpPDU{Name: "1.3.6", Type: gosnmp.NoSuchObject}))
	assert.Equal(t, Varbind{OID: ".1.3.6", Type: ber.TagOpaque, Value: "1.5"}, VarbindFromPDU(gosnmp.SnmpPDU{Name: ".1.3.6", Type: gosnmp.OpaqueFloat, Value: float32(1.5)}))
	assert.Equal(t, Varbind{OID: ".1.3.6", Type: byte(gosnmp.ObjectIdentifier), Value: ".1.2.3"}, VarbindFromPDU(gosnmp.SnmpPDU{Name: ".1.3.6", Type: gosnmp.ObjectIdentifier, Value: "1.2.3"}))
}
