package mib

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNumericParameters(t *testing.T) {
	at := func(rec string, age time.Duration, seed uint64) uint64 {
		t.Helper()
		s, err := parseRec(sysName + "|" + rec)
		require.NoError(t, err)
		v := valueAt(t, s, sysName)
		n, err := ber.ParseUint(v.AppendContentAt(nil, age, time.Time{}, seed))
		require.NoError(t, err)
		return n
	}
	// pow%<time>%2: (rate*t)^2*scale + offset, as public.snmprec uses it.
	assert.Equal(t, uint64(150*150*10*10*100+100), at("66:numeric|function=pow%<time>%2,scale=100,offset=100,rate=150", 10*time.Second, 1))
	// cumulative: a counter at rate*scale a second, whatever the reads.
	assert.Equal(t, uint64(1+18*100), at("65:numeric|rate=18,initial=1,cumulative=1", 100*time.Second, 1))
	// cumulative with deviation stays monotonic and within the noise.
	prev := uint64(0)
	for s := 0; s < 300; s++ {
		v := at("65:numeric|rate=200,deviation=10,cumulative=1", time.Duration(s)*time.Second, 7)
		require.GreaterOrEqual(t, v, prev, "second %d", s)
		require.InDelta(t, float64(200*s), float64(v), 10)
		prev = v
	}
	// cumulative sin: rises by offset*rate a second on average, never falls.
	prev = 0
	for s := 0; s < 100; s++ {
		v := at("65:numeric|scale=0.6,offset=1,deviation=1,function=sin,cumulative=1", time.Duration(s)*time.Second, 3)
		require.GreaterOrEqual(t, v, prev)
		prev = v
	}
	assert.InDelta(t, 99, float64(prev), 3)
	// non-cumulative deviation: the same within a second, per agent.
	a := at("66:numeric|initial=1000,rate=0,deviation=50", 5*time.Second+time.Millisecond, 1)
	assert.Equal(t, a, at("66:numeric|initial=1000,rate=0,deviation=50", 5*time.Second+900*time.Millisecond, 1))
	assert.InDelta(t, 1000, float64(a), 50)
	// falling values clamp at min.
	assert.Equal(t, uint64(10), at("66:numeric|initial=100,rate=-10,min=10", 20*time.Second, 1))
	// wrap as snmpsim: v mod max + min.
	assert.Equal(t, uint64(math.Mod(150, 100)+5), at("66:numeric|initial=0,min=5,max=100,rate=15,function=floor,wrap=1", 10*time.Second, 1))
}

func TestVariationRecords(t *testing.T) {
	s, err := ParseSnmprec(strings.NewReader(strings.Join([]string{
		"1.3.6.1.2.1.2.2.1.1.1|2:error|op=get,status=authorizationError,value=1",
		"1.3.6.1.2.1.2.2.1.2.1|4:error|op=set,status=commitfailed,hexvalue=00127962f940",
		"1.3.6.1.2.1.2.2.1.6.1|4:error|status=noaccess",
		"1.3.6.1.2.1.2.2.1.7.1|4:error|status=noSuchInstance",
		"1.3.6.1.2.1.2.2.1.3.1|2:delay|value=6,wait=100,deviation=20",
		"1.3.6.1.2.1.2.2.1.10.1|65:delay|tlist=gt:1364860800:1000000,value=12345",
		"1.3.6.1.2.1.2.2.1.5.1|66:writecache|value=100000000,op=get,status=noaccess",
		"1.3.6.1.2.1.2.2.1.5.2|66:writecache|value=100000000,op=set,status=noaccess",
	}, "\n")), "v.snmprec")
	require.NoError(t, err)
	sp := func(oid string) *Special { return s.Special(s.Get(MustParseOID(oid))) }
	assert.Equal(t, 16, sp("1.3.6.1.2.1.2.2.1.1.1").ErrStatus)
	assert.Nil(t, sp("1.3.6.1.2.1.2.2.1.2.1"), "op=set: reads serve the value")
	assert.Equal(t, "\x00\x12\x79\x62\xf9\x40", string(valueAt(t, s, "1.3.6.1.2.1.2.2.1.2.1").Content))
	assert.Equal(t, 6, sp("1.3.6.1.2.1.2.2.1.6.1").ErrStatus)
	assert.Equal(t, byte(ber.TagNoSuchInstance), sp("1.3.6.1.2.1.2.2.1.7.1").Exception)
	d, drop := sp("1.3.6.1.2.1.2.2.1.3.1").DelayAt(time.Unix(1e9, 0), 0.5)
	assert.Equal(t, 100*time.Millisecond, d)
	assert.False(t, drop)
	d, _ = sp("1.3.6.1.2.1.2.2.1.3.1").DelayAt(time.Unix(1e9, 0), 0)
	assert.Equal(t, 80*time.Millisecond, d)
	_, drop = sp("1.3.6.1.2.1.2.2.1.10.1").DelayAt(time.Unix(1364860801, 0), 0.5)
	assert.True(t, drop, "past 99999 ms snmpsim sends nothing")
	d, drop = sp("1.3.6.1.2.1.2.2.1.10.1").DelayAt(time.Unix(1364860700, 0), 0.5)
	assert.Equal(t, 500*time.Millisecond, d, "the condition does not hold: the default wait")
	assert.False(t, drop)
	assert.Equal(t, 6, sp("1.3.6.1.2.1.2.2.1.5.1").ErrStatus, "writecache op=get status=noaccess is not readable")
	assert.Nil(t, sp("1.3.6.1.2.1.2.2.1.5.2"))
}

func TestBrokenRecordsAsSnmpsim(t *testing.T) {
	in := "1.3.6.1.2.1.1.1.0|4|ok\n1.3.6.1.2.1.31.1.1.1.1.1|2|Fa3/0/1\n1.3.6.1.2.1.11.14.0|65:numeric|rate=0.001cumulative=1\n"
	_, err := ParseSnmprec(strings.NewReader(in), "b.snmprec")
	requireErr(t, err, "b.snmprec:2: bad Integer32")
	s, err := ParseSnmprecAsSnmpsim(strings.NewReader(in), "b.snmprec")
	require.NoError(t, err)
	require.Equal(t, 3, s.Len())
	assert.Len(t, s.Broken(), 2)
	assert.Contains(t, s.Broken()[0], "b.snmprec:2")
	assert.True(t, s.Special(s.Get(MustParseOID("1.3.6.1.2.1.31.1.1.1.1.1"))).Broken)
}

func TestSapwalkAndGzip(t *testing.T) {
	dir := t.TempDir()
	sap := "1.3.6.1.2.1.1.1.0             , OctetString , Hardware: x86, and more\r\n" +
		"1.3.6.1.2.1.1.2.0             , ObjectID    , 1.3.6.1.4.1.311.1.1.3.1.1\r\n" +
		"1.3.6.1.2.1.2.2.1.6.2         , OctetString , 0x00127962f940\r\n" +
		"1.3.6.1.2.1.4.20.1.3.127.0.0.1, IpAddress   , 255.0.0.0\r\n" +
		"1.3.6.1.2.1.2.2.1.10.2        , Counter     , 42\r\n"
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, _ = w.Write([]byte(sap))
	require.NoError(t, w.Close())
	path := filepath.Join(dir, "dev.sapwalk.gz")
	require.NoError(t, os.WriteFile(path, z.Bytes(), 0o600))
	s, err := LoadFile(path)
	require.NoError(t, err)
	requireValues(t, s, map[string]Value{
		"1.3.6.1.2.1.1.1.0":              String("Hardware: x86, and more"),
		"1.3.6.1.2.1.1.2.0":              ObjectID(MustParseOID("1.3.6.1.4.1.311.1.1.3.1.1")),
		"1.3.6.1.2.1.2.2.1.6.2":          raw(ber.TagOctetString, "\x00\x12\x79\x62\xf9\x40"),
		"1.3.6.1.2.1.4.20.1.3.127.0.0.1": IPAddress([4]byte{255, 0, 0, 0}),
		"1.3.6.1.2.1.2.2.1.10.2":         Counter32(42),
	})
	_, err = ParseSapwalk(strings.NewReader("1.3.6.1.2.1.1.1.0 , Float , 1"), "x.sapwalk")
	requireErr(t, err, `x.sapwalk:1: unknown sapwalk type "Float"`)
	files, err := Recordings(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{path}, files)
}

func TestMultiplexServesTheSeriesInTurn(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "series"), 0o755))
	for i, name := range []string{"00000", "00001", "00002"} {
		rec := "1.3.6.1.2.1.1.5.0|4|outside\n1.3.6.1.2.1.2.1.0|2|" + string(rune('5'+i)) + "\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, "series", name+".snmprec"), []byte(rec), 0o600))
	}
	main := filepath.Join(dir, "sub", "mux.snmprec")
	require.NoError(t, os.MkdirAll(filepath.Dir(main), 0o755))
	require.NoError(t, os.WriteFile(main, []byte("1.3.6.1.2.1.1.1.0|4|base\n1.3.6.1.2.1.2|:multiplex|dir=series,period=10\n"), 0o600))
	s, err := LoadFile(main)
	require.NoError(t, err)
	require.NotNil(t, s.Multiplexed())
	ifNumber := func(age time.Duration) string {
		p := s.Phase(age)
		require.Equal(t, 2, p.Len(), "the base outside the subtree, the series' entries under it")
		return string(valueAt(t, p, "1.3.6.1.2.1.2.1.0").Content)
	}
	assert.Equal(t, ifNumber(0), string(Integer(5).Content))
	assert.Equal(t, ifNumber(15*time.Second), string(Integer(6).Content))
	assert.Equal(t, ifNumber(25*time.Second), string(Integer(7).Content))
	assert.Equal(t, ifNumber(time.Hour), string(Integer(7).Content), "without wrap the last stays")
	assert.Equal(t, "base", string(valueAt(t, s.Phase(time.Hour), "1.3.6.1.2.1.1.1.0").Content))
}
