package mib

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

func testStore(t *testing.T) *Store {
	t.Helper()
	b := NewBuilder("test")
	// Added out of order on purpose: Build sorts.
	for _, o := range []string{".1.3.6.1.2.1.2.2.1.10.2", ".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.2.2.1.2.1", ".1.3.6.1.2.1.1.5.0", ".1.3.6.1.2.1.2.2.1.10.1"} {
		b.Add(MustParseOID(o), String(o), "")
	}
	s, err := b.Build()
	require.NoError(t, err)
	return s
}

func TestBuildSorts(t *testing.T) {
	s := testStore(t)
	want := []string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.5.0", ".1.3.6.1.2.1.2.2.1.2.1", ".1.3.6.1.2.1.2.2.1.10.1", ".1.3.6.1.2.1.2.2.1.10.2"}
	require.Equal(t, len(want), s.Len())
	for i, w := range want {
		o, v := s.At(i)
		require.Equal(t, w, o.String())
		require.Equal(t, w, string(v.Content), "value travels with its OID")
	}
}

func TestGetNext(t *testing.T) {
	s := testStore(t)
	tests := []struct {
		name     string
		oid      string
		wantGet  int
		wantNext int // index of the next OID; s.Len() when none
	}{
		{name: "before first", oid: ".1.3.6.1", wantGet: -1, wantNext: 0},
		{name: "prefix of first", oid: ".1.3.6.1.2.1.1.1", wantGet: -1, wantNext: 0},
		{name: "exact first", oid: ".1.3.6.1.2.1.1.1.0", wantGet: 0, wantNext: 1},
		{name: "below first, longer", oid: ".1.3.6.1.2.1.1.1.0.0", wantGet: -1, wantNext: 1},
		{name: "between", oid: ".1.3.6.1.2.1.1.3.0", wantGet: -1, wantNext: 1},
		{name: "between, arc 2 vs 10", oid: ".1.3.6.1.2.1.2.2.1.3", wantGet: -1, wantNext: 3},
		{name: "exact middle", oid: ".1.3.6.1.2.1.2.2.1.2.1", wantGet: 2, wantNext: 3},
		{name: "exact last", oid: ".1.3.6.1.2.1.2.2.1.10.2", wantGet: 4, wantNext: 5},
		{name: "after last", oid: ".1.3.6.1.2.1.2.2.1.10.3", wantGet: -1, wantNext: 5},
		{name: "far after last", oid: ".2.1", wantGet: -1, wantNext: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := MustParseOID(tt.oid)
			require.Equal(t, tt.wantGet, s.Get(o), "Get")
			require.Equal(t, tt.wantNext, s.Next(o), "Next")
		})
	}
}

func TestGetNextEmpty(t *testing.T) {
	s, err := NewBuilder("empty").Build()
	require.NoError(t, err)
	require.Equal(t, -1, s.Get(MustParseOID(".1.3")))
	require.Equal(t, 0, s.Next(MustParseOID(".1.3")))
}

func TestBuildDuplicate(t *testing.T) {
	b := NewBuilder("dup")
	b.Add(MustParseOID(".1.3.6.1"), Integer(1), "a.snmprec:3")
	b.Add(MustParseOID(".1.3.6.2"), Integer(2), "")
	b.addLine(MustParseOID(".1.3.6.1"), Integer(3), 9)
	_, err := b.Build()
	requireErr(t, err, "dup:9: duplicate OID .1.3.6.1 (first at a.snmprec:3)")
}

func TestDynamicAt(t *testing.T) {
	const max32 = math.MaxUint32
	tests := []struct {
		name string
		d    Dynamic
		age  time.Duration
		want uint64
	}{
		{name: "counter at start", d: Dynamic{Kind: DynCounter, Initial: 1000, Rate: 10, Bits: 32}, age: 0, want: 1000},
		{name: "counter moves with age", d: Dynamic{Kind: DynCounter, Initial: 1000, Rate: 10, Bits: 32}, age: 10 * time.Second, want: 1100},
		{name: "negative age is start", d: Dynamic{Kind: DynCounter, Initial: 7, Rate: 10, Bits: 32}, age: -time.Second, want: 7},
		{name: "counter32 wraps at 2^32", d: Dynamic{Kind: DynCounter, Initial: max32 - 9, Rate: 1, Bits: 32}, age: 20 * time.Second, want: 10},
		{name: "counter32 just below wrap", d: Dynamic{Kind: DynCounter, Initial: max32 - 9, Rate: 1, Bits: 32}, age: 9 * time.Second, want: max32},
		{name: "counter64 passes 2^32", d: Dynamic{Kind: DynCounter, Initial: max32 - 9, Rate: 1, Bits: 64}, age: 20 * time.Second, want: max32 + 11},
		{name: "counter64 wraps at 2^64", d: Dynamic{Kind: DynCounter, Initial: math.MaxUint64 - 9, Rate: 1, Bits: 64}, age: 20 * time.Second, want: 10},
		{name: "huge increase stays defined", d: Dynamic{Kind: DynCounter, Rate: 1e30, Bits: 32}, age: time.Hour, want: floatToWrapped(1e30*3600) & max32},
		{name: "uptime in ticks", d: *Uptime().Dyn, age: 12345 * time.Millisecond, want: 1234},
		{name: "uptime wraps at 2^32 ticks", d: *Uptime().Dyn, age: (1<<32+5)*10*time.Millisecond + 3*time.Millisecond, want: 5},
		{name: "bounded clamps at max", d: Dynamic{Kind: DynCounter, Rate: 10, Bits: 32, Max: 50}, age: 10 * time.Second, want: 50},
		{name: "bounded wraps to min", d: Dynamic{Kind: DynCounter, Initial: 10, Rate: 1, Bits: 32, Min: 10, Max: 19, Wrap: true}, age: 12 * time.Second, want: 12},
		{name: "bounded below min reads min", d: Dynamic{Kind: DynCounter, Initial: 1, Bits: 32, Min: 5, Max: 9}, age: 0, want: 5},
		{name: "bounded full 64-bit range wraps naturally", d: Dynamic{Kind: DynCounter, Initial: math.MaxUint64, Rate: 1, Bits: 64, Max: math.MaxUint64, Wrap: true}, age: 2 * time.Second, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.d.At(tt.age, 42))
		})
	}
}

func TestDynamicSpread(t *testing.T) {
	d := Dynamic{Kind: DynCounter, Rate: 100, Spread: 0.5, Bits: 64}
	seen := map[uint64]bool{}
	for seed := range uint64(50) {
		v := d.At(100*time.Second, seed)
		require.GreaterOrEqual(t, v, uint64(10000), "seed %d", seed)
		require.LessOrEqual(t, v, uint64(15000), "seed %d", seed)
		require.Equal(t, v, d.At(100*time.Second, seed), "deterministic for a seed")
		seen[v] = true
	}
	require.Greater(t, len(seen), 40, "agents should differ")
}

func TestStoreAppendValueAndSnapshot(t *testing.T) {
	b := NewBuilder("dyn")
	b.Add(MustParseOID(".1.3.6.1.2.1.1.3.0"), Uptime(), "")
	b.Add(MustParseOID(".1.3.6.1.2.1.1.5.0"), String("x"), "")
	b.Add(MustParseOID(".1.3.6.1.2.1.2.2.1.10.1"), Counter(ber.TagCounter32, 100, 2, 0), "")
	s, err := b.Build()
	require.NoError(t, err)
	require.Equal(t, 2, s.Dynamic())

	require.Equal(t, ber.AppendUint(nil, 500), s.AppendValue(nil, 0, 5*time.Second, 1), "uptime")
	require.Equal(t, []byte("x"), s.AppendValue(nil, 1, 5*time.Second, 1), "static")
	require.Equal(t, ber.AppendUint(nil, 110), s.AppendValue(nil, 2, 5*time.Second, 1), "counter")

	snap := s.Snapshot(5*time.Second, 1)
	require.Len(t, snap, 3)
	require.Nil(t, snap[2].Value.Dyn)
	require.Equal(t, byte(ber.TagCounter32), snap[2].Value.Tag)
	require.Equal(t, ber.AppendUint(nil, 110), snap[2].Value.Content)
}
