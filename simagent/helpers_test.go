package simagent

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/stretchr/testify/require"
)

// testStore is a small store: part of the system group and a 3-row table.
func testStore(t testing.TB) *mib.Store {
	t.Helper()
	b := mib.NewBuilder("test")
	add := func(oid string, v mib.Value) { b.Add(mib.MustParseOID(oid), v, "") }
	add("1.3.6.1.2.1.1.1.0", mib.String("simagent test"))
	add("1.3.6.1.2.1.1.2.0", mib.ObjectID(mib.MustParseOID("1.3.6.1.4.1.8072.3.2.10")))
	add("1.3.6.1.2.1.1.3.0", mib.Uptime())
	add("1.3.6.1.2.1.1.5.0", mib.String("agent"))
	for i := 1; i <= 3; i++ {
		n := string(rune('0' + i))
		add("1.3.6.1.2.1.2.2.1.1."+n, mib.Integer(int64(i)))
		add("1.3.6.1.2.1.2.2.1.2."+n, mib.String("eth"+n))
		add("1.3.6.1.2.1.2.2.1.10."+n, mib.Counter32(uint32(1000*i)))
		add("1.3.6.1.2.1.31.1.1.1.6."+n, mib.Counter64(uint64(1)<<40+uint64(i)))
	}
	s, err := b.Build()
	require.NoError(t, err)
	return s
}

// frozen is a clock that never moves, so dynamic values are stable.
func frozen() func() time.Time {
	t0 := time.Unix(1_700_000_000, 0)
	return func() time.Time { return t0 }
}

// startFleet starts a fleet on a free port and closes it at cleanup.
func startFleet(t testing.TB, cfg Config) *Fleet {
	t.Helper()
	if !cfg.Listen.IsValid() {
		cfg.Listen = netip.MustParseAddrPort("127.16.0.1:0")
	}
	if cfg.Store == nil {
		cfg.Store = testStore(t)
	}
	f, err := Start(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	return f
}

// client returns a connected gosnmp client for agent i.
func client(t testing.TB, f *Fleet, i int, v gosnmp.SnmpVersion) *gosnmp.GoSNMP {
	t.Helper()
	a := f.Addr(i)
	g := &gosnmp.GoSNMP{
		Target:         a.Addr().String(),
		Port:           a.Port(),
		Community:      f.Community(),
		Version:        v,
		Timeout:        2 * time.Second,
		Retries:        1,
		MaxOids:        gosnmp.MaxOids,
		MaxRepetitions: 10,
	}
	require.NoError(t, g.Connect())
	t.Cleanup(func() { _ = g.Conn.Close() })
	return g
}
