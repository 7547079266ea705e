package mib

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

func TestProfileSizes(t *testing.T) {
	tests := []struct {
		name        string
		wantLen     int
		wantDynamic int
	}{
		{name: "system", wantLen: 8, wantDynamic: 1},
		{name: "if-mib:1", wantLen: 9 + 41},
		{name: "if-mib:2", wantLen: 9 + 41*2},
		{name: "if-mib:48", wantLen: 9 + 41*48},
		{name: "if-mib:1000", wantLen: 9 + 41*1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Profile(tt.name)
			require.NoError(t, err)
			require.Equal(t, tt.name, s.Name())
			require.Equal(t, tt.wantLen, s.Len())
			if tt.wantDynamic > 0 {
				require.Equal(t, tt.wantDynamic, s.Dynamic())
			} else {
				require.Greater(t, s.Dynamic(), 1, "counters move")
			}
			for i := 1; i < s.Len(); i++ {
				a, _ := s.At(i - 1)
				b, _ := s.At(i)
				require.Negative(t, Compare(a, b), "OIDs strictly increase at %d: %s, %s", i, a, b)
			}
		})
	}
}

func TestProfileErrors(t *testing.T) {
	tests := []struct{ name, wantErr string }{
		{name: "if-mib:0", wantErr: `mib: profile "if-mib:0": want if-mib:N with N from 1 to 100000`},
		{name: "if-mib:100001", wantErr: `profile "if-mib:100001": want if-mib:N`},
		{name: "if-mib:-3", wantErr: `profile "if-mib:-3"`},
		{name: "if-mib:x", wantErr: `profile "if-mib:x"`},
		{name: "if-mib", wantErr: `profile "if-mib"`},
		{name: "if-mib:", wantErr: `profile "if-mib:"`},
		{name: "system:2", wantErr: `profile "system:2": system takes no argument`},
		{name: "host-resources", wantErr: `mib: unknown profile "host-resources" (known: if-mib:N, system)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Profile(tt.name)
			requireErr(t, err, tt.wantErr)
		})
	}
}

func TestProfileIfMIBLayout(t *testing.T) {
	const n = 10
	s, err := Profile(fmt.Sprintf("if-mib:%d", n))
	require.NoError(t, err)

	// The walk order: system group, ifNumber, ifTable by column then
	// index, ifXTable likewise.
	var want []string
	for c := 1; c <= 8; c++ {
		want = append(want, fmt.Sprintf(".1.3.6.1.2.1.1.%d.0", c))
	}
	want = append(want, ".1.3.6.1.2.1.2.1.0")
	for c := 1; c <= 22; c++ {
		for i := 1; i <= n; i++ {
			want = append(want, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.%d.%d", c, i))
		}
	}
	for c := 1; c <= 19; c++ {
		for i := 1; i <= n; i++ {
			want = append(want, fmt.Sprintf(".1.3.6.1.2.1.31.1.1.1.%d.%d", c, i))
		}
	}
	require.Equal(t, len(want), s.Len())
	for i, w := range want {
		o, _ := s.At(i)
		require.Equal(t, w, o.String())
	}

	require.Equal(t, Integer(n).Content, valueAt(t, s, ".1.3.6.1.2.1.2.1.0").Content, "ifNumber")
	require.Equal(t, Integer(7).Content, valueAt(t, s, ".1.3.6.1.2.1.2.2.1.1.7").Content, "ifIndex")
	require.Equal(t, s.Get(MustParseOID(".1.3.6.1.2.1.31.1.1.1.1.1")), s.Next(MustParseOID(".1.3.6.1.2.1.2.2.1.22.10")), "next after the ifTable is the ifXTable")
	require.Equal(t, s.Len(), s.Next(MustParseOID(".1.3.6.1.2.1.31.1.1.1.19.10")), "ifCounterDiscontinuityTime.N is last")
}

func TestProfileIfMIBTypes(t *testing.T) {
	s, err := Profile("if-mib:3")
	require.NoError(t, err)
	system := map[int]byte{1: ber.TagOctetString, 2: ber.TagOID, 3: ber.TagTimeTicks, 4: ber.TagOctetString,
		5: ber.TagOctetString, 6: ber.TagOctetString, 7: ber.TagInteger, 8: ber.TagTimeTicks}
	ifTable := map[int]byte{1: ber.TagInteger, 2: ber.TagOctetString, 3: ber.TagInteger, 4: ber.TagInteger,
		5: ber.TagGauge32, 6: ber.TagOctetString, 7: ber.TagInteger, 8: ber.TagInteger, 9: ber.TagTimeTicks,
		21: ber.TagGauge32, 22: ber.TagOID}
	for c := 10; c <= 20; c++ {
		ifTable[c] = ber.TagCounter32
	}
	ifXTable := map[int]byte{1: ber.TagOctetString, 14: ber.TagInteger, 15: ber.TagGauge32, 16: ber.TagInteger,
		17: ber.TagInteger, 18: ber.TagOctetString, 19: ber.TagTimeTicks}
	for c := 2; c <= 5; c++ {
		ifXTable[c] = ber.TagCounter32
	}
	for c := 6; c <= 13; c++ {
		ifXTable[c] = ber.TagCounter64
	}
	check := func(prefix string, cols map[int]byte, index string) {
		t.Helper()
		for c, tag := range cols {
			oid := fmt.Sprintf("%s.%d.%s", prefix, c, index)
			require.Equal(t, tag, valueAt(t, s, oid).Tag, oid)
		}
	}
	check(".1.3.6.1.2.1.1", system, "0")
	for i := 1; i <= 3; i++ {
		check(".1.3.6.1.2.1.2.2.1", ifTable, fmt.Sprint(i))
		check(".1.3.6.1.2.1.31.1.1.1", ifXTable, fmt.Sprint(i))
		require.Len(t, valueAt(t, s, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.6.%d", i)).Content, 6, "ifPhysAddress")
	}
	require.NotNil(t, valueAt(t, s, ".1.3.6.1.2.1.1.3.0").Dyn, "sysUpTime moves")
	require.Equal(t, ObjectID(OID{0, 0}).Content, valueAt(t, s, ".1.3.6.1.2.1.2.2.1.22.2").Content, "ifSpecific is zeroDotZero")
	require.Equal(t, "Gi0/2", string(valueAt(t, s, ".1.3.6.1.2.1.31.1.1.1.1.2").Content), "ifName")
	require.Equal(t, "GigabitEthernet0/2", string(valueAt(t, s, ".1.3.6.1.2.1.2.2.1.2.2").Content), "ifDescr")
	require.Equal(t, []byte{2, 0x53, 0x43, 0, 0, 3}, valueAt(t, s, ".1.3.6.1.2.1.2.2.1.6.3").Content, "ifPhysAddress")
}

func TestProfileIfMIBDeterministic(t *testing.T) {
	a, err := Profile("if-mib:50")
	require.NoError(t, err)
	b, err := Profile("if-mib:50")
	require.NoError(t, err)
	for _, age := range []time.Duration{0, time.Minute} {
		require.Equal(t, a.Snapshot(age, 9), b.Snapshot(age, 9), "same data at %v", age)
	}
}

func TestProfileIfMIBCountersMove(t *testing.T) {
	s, err := Profile("if-mib:64")
	require.NoError(t, err)
	at := func(oid string, age time.Duration, seed uint64) uint64 {
		i := s.Get(MustParseOID(oid))
		require.GreaterOrEqual(t, i, 0, oid)
		v, err := ber.ParseUint(s.AppendValue(nil, i, age, seed))
		require.NoError(t, err)
		return v
	}
	moving, still := 0, 0
	for i := 1; i <= 64; i++ {
		up := Integer(1).Content
		oper := valueAt(t, s, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.8.%d", i)).Content
		in32 := fmt.Sprintf(".1.3.6.1.2.1.2.2.1.10.%d", i)
		in64 := fmt.Sprintf(".1.3.6.1.2.1.31.1.1.1.6.%d", i)
		if string(oper) != string(up) {
			require.Nil(t, valueAt(t, s, in32).Dyn, "a down interface's counters stand still")
			still++
			continue
		}
		moving++
		// A 64-bit counter rises by about its rate times the age.
		d0, d10 := at(in64, 0, 1), at(in64, 10*time.Second, 1)
		require.Greater(t, d10, d0, "ifHCInOctets.%d rises", i)
		require.Less(t, d10-d0, uint64(10*1.25e9*0.1*1.5)+1, "at most 10%% of 10G, spread 50%%")
		require.Equal(t, d0&math.MaxUint32, at(in32, 0, 1), "HC and 32-bit counters start alike")
		require.LessOrEqual(t, at(in32, time.Hour, 1), uint64(math.MaxUint32))
		require.NotEqual(t, at(in64, time.Hour, 1), at(in64, time.Hour, 2), "agents differ")
	}
	require.Positive(t, moving)
	require.Positive(t, still, "some interfaces are down")
}

func TestProfileIfMIBWrapsCounter32(t *testing.T) {
	s, err := Profile("if-mib:16")
	require.NoError(t, err)
	wrapped := 0
	for i := 1; i <= 16; i++ {
		_, v := s.At(s.Get(MustParseOID(fmt.Sprintf(".1.3.6.1.2.1.2.2.1.10.%d", i))))
		if v.Dyn == nil {
			continue
		}
		prev := v.Dyn.At(0, 3)
		for age := time.Second; age <= time.Hour; age += 10 * time.Second {
			cur := v.Dyn.At(age, 3)
			if cur < prev {
				wrapped++
				break
			}
			prev = cur
		}
	}
	require.Positive(t, wrapped, "busy 32-bit octet counters wrap within an hour")
}

func TestProfiles(t *testing.T) {
	lines := Profiles()
	require.Len(t, lines, len(profiles))
	joined := strings.Join(lines, "\n")
	require.Contains(t, joined, "if-mib:N")
	require.Contains(t, joined, "system")
	for _, l := range lines {
		require.NotContains(t, l, "\n")
		name := strings.Fields(l)[0]
		if name == "if-mib:N" {
			name = "if-mib:4"
		}
		_, err := Profile(name)
		require.NoError(t, err, "listed profile %q builds", name)
	}
}

func BenchmarkProfileIfMIB1000(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Profile("if-mib:1000"); err != nil {
			b.Fatal(err)
		}
	}
}

// On a device ifInOctets is ifHCInOctets modulo 2^32, and both move at the
// same rate; so are the other twins (packets, multicast, broadcast).
func TestIfMIBTwinCountersAgree(t *testing.T) {
	s, err := Profile("if-mib:24")
	require.NoError(t, err)
	twins := [][2]uint32{{10, 6}, {11, 7}, {16, 10}, {17, 11}} // ifTable column, ifXTable column
	read := func(oid OID, age time.Duration, seed uint64) uint64 {
		i := s.Get(oid)
		require.GreaterOrEqual(t, i, 0, "%s", oid)
		n, err := ber.ParseUint(s.AppendValue(nil, i, age, seed))
		require.NoError(t, err)
		return n
	}
	moved := false
	for _, seed := range []uint64{1, 99, 12345} {
		for _, age := range []time.Duration{0, time.Minute, 3 * time.Hour, 40 * 24 * time.Hour} {
			for ifc := uint32(1); ifc <= 24; ifc++ {
				for _, tw := range twins {
					c32 := read(OID{1, 3, 6, 1, 2, 1, 2, 2, 1, tw[0], ifc}, age, seed)
					c64 := read(OID{1, 3, 6, 1, 2, 1, 31, 1, 1, 1, tw[1], ifc}, age, seed)
					require.Equal(t, c64&0xffffffff, c32, "if %d columns %v, seed %d, age %v", ifc, tw, seed, age)
					moved = moved || c64 != read(OID{1, 3, 6, 1, 2, 1, 31, 1, 1, 1, tw[1], ifc}, 0, seed)
				}
			}
		}
	}
	require.True(t, moved, "the counters move")
}
