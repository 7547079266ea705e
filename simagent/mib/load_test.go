package mib

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// numericOID is the one record of testdata/device.snmprec that the walk
// fixtures lack: a numeric variation (netSnmpPlaypen, outside mib-2).
const numericOID = ".1.3.6.1.4.1.8072.9999.9999.1.0"

func TestFixturesAgree(t *testing.T) {
	rec, err := LoadFile("testdata/device.snmprec")
	require.NoError(t, err)
	require.Equal(t, 150, rec.Len())
	require.Equal(t, 1, rec.Dynamic(), "only the numeric record moves")
	require.NotNil(t, valueAt(t, rec, numericOID).Dyn)

	want := rec.Snapshot(0, 0)
	want = want[:len(want)-1] // the numeric record sorts last
	require.NotEqual(t, numericOID, want[len(want)-1].OID.String())

	for _, f := range []string{"device-On.walk", "device-ObentU.walk", "device-mibs.walk"} {
		t.Run(f, func(t *testing.T) {
			s, err := LoadFile(filepath.Join("testdata", f))
			require.NoError(t, err)
			got := s.Snapshot(0, 0)
			require.Equal(t, len(want), len(got))
			for i := range want {
				require.Equal(t, want[i].OID.String(), got[i].OID.String(), "entry %d", i)
				require.Equal(t, want[i].Value.Tag, got[i].Value.Tag, "tag of %s", want[i].OID)
				require.Equal(t, string(want[i].Value.Content), string(got[i].Value.Content), "content of %s", want[i].OID)
			}
		})
	}
}

func TestFixtureValues(t *testing.T) {
	s, err := LoadFile("testdata/device.snmprec")
	require.NoError(t, err)
	requireValue := func(oid string, want Value) {
		t.Helper()
		v := valueAt(t, s, oid)
		require.Equal(t, want.Tag, v.Tag, oid)
		require.Equal(t, string(want.Content), string(v.Content), oid)
	}
	requireValue(".1.3.6.1.2.1.1.4.0", String("NOC on call\nnoc@example.net"))
	requireValue(".1.3.6.1.2.1.1.6.0", String(`DC1 "North" hall, rack 12\B`))
	requireValue(".1.3.6.1.2.1.1.3.0", TimeTicks(8641234))
	requireValue(".1.3.6.1.2.1.2.2.1.6.2", OctetString([]byte{0x52, 0x54, 0, 0x12, 0x34, 0x56}))
	requireValue(".1.3.6.1.2.1.4.20.1.1.198.51.100.1", IPAddress([4]byte{198, 51, 100, 1}))
	requireValue(".1.3.6.1.2.1.31.1.1.1.6.2", Counter64(4<<32+3651043677))
	d := valueAt(t, s, numericOID).Dyn
	require.Equal(t, uint64(1100), d.At(10*time.Second, 1))
}

func TestLoadFileFormat(t *testing.T) {
	dir := t.TempDir()
	const recData = "# header\n\n1.3.6.1.2.1.1.5.0|4|x\n"
	const walkData = "# header\n\n.1.3.6.1.2.1.1.5.0 = STRING: \"x\"\n"
	tests := []struct {
		name, file, data string
		wantErr          string
	}{
		{name: "snmprec by suffix", file: "a.snmprec", data: recData},
		{name: "walk by suffix", file: "a.walk", data: walkData},
		{name: "snmpwalk suffix", file: "a.snmpwalk", data: walkData},
		{name: "txt suffix", file: "a.txt", data: walkData},
		{name: "upper-case suffix", file: "A.SNMPREC", data: recData},
		{name: "snmprec sniffed", file: "a.dat", data: recData},
		{name: "walk sniffed", file: "a.dat", data: walkData},
		{name: "walk without MIBs sniffed", file: "a", data: "iso.3.6.1.2.1.1.5.0 = STRING: \"x\"\n"},
		{name: "unknown content", file: "a.dat", data: "hello\n", wantErr: "a.dat: cannot tell the format"},
		{name: "wrong suffix names file and line", file: "b.snmprec", data: walkData, wantErr: "b.snmprec:3: missing fields"},
		{name: "walk error names file and line", file: "c.walk", data: walkData + "junk\n", wantErr: `c.walk:4: cannot parse "junk"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			require.NoError(t, os.WriteFile(path, []byte(tt.data), 0o600))
			s, err := LoadFile(path)
			if tt.wantErr != "" {
				requireErr(t, err, filepath.Join(dir, tt.wantErr))
				return
			}
			require.NoError(t, err)
			require.Equal(t, path, s.Name())
			require.Equal(t, "x", string(valueAt(t, s, ".1.3.6.1.2.1.1.5.0").Content))
		})
	}
}

func TestLoadFileEmptyAndMissing(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.dat")
	require.NoError(t, os.WriteFile(empty, []byte("\n# nothing\n"), 0o600))
	s, err := LoadFile(empty)
	require.NoError(t, err)
	require.Equal(t, 0, s.Len())

	_, err = LoadFile(filepath.Join(dir, "missing.snmprec"))
	requireErr(t, err, "missing.snmprec")
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestOpen(t *testing.T) {
	tests := []struct {
		spec    string
		wantLen int
		wantErr string
	}{
		{spec: "if-mib:2", wantLen: 9 + 41*2},
		{spec: "system", wantLen: 8},
		{spec: "testdata/device.snmprec", wantLen: 150},
		{spec: "testdata/device-On.walk", wantLen: 149},
		{spec: "if-mib:0", wantErr: `profile "if-mib:0"`},
		{spec: "testdata/nope.walk", wantErr: "testdata/nope.walk"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := Open(tt.spec)
			if tt.wantErr != "" {
				requireErr(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantLen, s.Len())
			require.Equal(t, tt.spec, s.Name())
		})
	}
}

// recording50k is a 50,000-OID recording in both formats: ifTable-like
// rows of strings, integers, counters, gauges, hex strings and OIDs.
func recording50k() (snmprec, walk []byte) {
	var r, w bytes.Buffer
	const rows = 5000
	for col := 1; col <= 10; col++ {
		for i := 1; i <= rows; i++ {
			oid := fmt.Sprintf("1.3.6.1.2.1.2.2.1.%d.%d", col, i)
			switch col {
			case 1, 3, 4, 7:
				fmt.Fprintf(&r, "%s|2|%d\n", oid, i*col)
				fmt.Fprintf(&w, ".%s = INTEGER: %d\n", oid, i*col)
			case 2:
				fmt.Fprintf(&r, "%s|4|GigabitEthernet0/%d uplink\n", oid, i)
				fmt.Fprintf(&w, ".%s = STRING: \"GigabitEthernet0/%d uplink\"\n", oid, i)
			case 5:
				fmt.Fprintf(&r, "%s|66|1000000000\n", oid)
				fmt.Fprintf(&w, ".%s = Gauge32: 1000000000\n", oid)
			case 6:
				fmt.Fprintf(&r, "%s|4x|02005e%06x\n", oid, i)
				fmt.Fprintf(&w, ".%s = Hex-STRING: 02 00 5E %02X %02X %02X \n", oid, byte(i>>16), byte(i>>8), byte(i))
			case 8:
				fmt.Fprintf(&r, "%s|6|1.3.6.1.4.1.9.1.%d\n", oid, i)
				fmt.Fprintf(&w, ".%s = OID: .1.3.6.1.4.1.9.1.%d\n", oid, i)
			case 9:
				fmt.Fprintf(&r, "%s|67|%d\n", oid, i*1000)
				fmt.Fprintf(&w, ".%s = Timeticks: (%d) 0:00:10.00\n", oid, i*1000)
			default:
				fmt.Fprintf(&r, "%s|65|%d\n", oid, uint32(i)*2654435761)
				fmt.Fprintf(&w, ".%s = Counter32: %d\n", oid, uint32(i)*2654435761)
			}
		}
	}
	return r.Bytes(), w.Bytes()
}

func TestLoad50k(t *testing.T) {
	rec, walk := recording50k()
	for _, tt := range []struct {
		name  string
		parse func() (*Store, error)
	}{
		{"snmprec", func() (*Store, error) { return ParseSnmprec(bytes.NewReader(rec), "50k.snmprec") }},
		{"walk", func() (*Store, error) { return ParseWalk(bytes.NewReader(walk), "50k.walk") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.parse()
			require.NoError(t, err)
			require.Equal(t, 50000, s.Len())
			require.Equal(t, []byte{2, 0, 0x5e, 0, 0x13, 0x88}, valueAt(t, s, ".1.3.6.1.2.1.2.2.1.6.5000").Content)
			require.Equal(t, byte(ber.TagCounter32), valueAt(t, s, ".1.3.6.1.2.1.2.2.1.10.1").Tag)
			// Few allocations: OIDs and contents come from shared chunks.
			allocs := testing.AllocsPerRun(2, func() { _, _ = tt.parse() })
			require.Less(t, allocs, 1000.0, "allocations per 50k-OID load")
		})
	}
}

func BenchmarkLoadSnmprec50k(b *testing.B) {
	rec, _ := recording50k()
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSnmprec(bytes.NewReader(rec), "50k.snmprec"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadWalk50k(b *testing.B) {
	_, walk := recording50k()
	b.SetBytes(int64(len(walk)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseWalk(bytes.NewReader(walk), "50k.walk"); err != nil {
			b.Fatal(err)
		}
	}
}

// Issue 15 (a sibling of finding 6): a data file that never ends (a
// device, a FIFO) is refused, not read forever.
func TestLoadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	_, err := LoadFile("/dev/zero")
	require.Error(t, err)
	require.Contains(t, err.Error(), "/dev/zero: not a regular file")
	_, err = LoadFile(t.TempDir())
	require.Error(t, err)
	require.Contains(t, err.Error(), "not a regular file")
}

// TestParsersReadLinesAlike checks the line reading the three parsers
// share (readLines): a byte order mark on the first line and CRLF ends
// are dropped, comments count as lines in error positions, and a line
// past maxLine is an error naming its line.
func TestParsersReadLinesAlike(t *testing.T) {
	long := strings.Repeat("a", maxLine+1)
	for _, tc := range []struct {
		name        string
		parse       func(io.Reader, string) (*Store, error)
		good, bad   string
		wantBadLine string
	}{
		{"snmprec", ParseSnmprec, "1.3.6.1.2.1.1.5.0|4|x", "1.3.6.1.2.1.1.6.0", "missing fields"},
		{"sapwalk", ParseSapwalk, "1.3.6.1.2.1.1.5.0 , OctetString , x", "1.3.6.1.2.1.1.6.0", "broken record"},
		{"walk", ParseWalk, `.1.3.6.1.2.1.1.5.0 = STRING: "x"`, "junk", `cannot parse "junk"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "f." + tc.name
			s, err := tc.parse(strings.NewReader("\xef\xbb\xbf"+tc.good+"\r\n# note\r\n"), name)
			require.NoError(t, err)
			requireValues(t, s, map[string]Value{"1.3.6.1.2.1.1.5.0": String("x")})

			_, err = tc.parse(strings.NewReader(tc.good+"\n# note\n"+tc.bad+"\n"), name)
			requireErr(t, err, name+":3: "+tc.wantBadLine)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, 3, pe.Line)

			_, err = tc.parse(strings.NewReader(tc.good+"\n"+long+"\n"), name)
			requireErr(t, err, name+":2: line longer than")
		})
	}
}
