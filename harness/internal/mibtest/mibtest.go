// Package mibtest builds the small agent data the harness's tests share:
// a store that holds one value of every SMI type, so that tests of the
// varbind conversions, the walk checker and the recorder read the same
// data. Only tests import it.
package mibtest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// TypesStore holds one value of every SMI type, and a moving counter.
func TypesStore(t *testing.T) *mib.Store {
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
