package mib

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

const (
	sysDescr   = ".1.3.6.1.2.1.1.1.0"
	sysContact = ".1.3.6.1.2.1.1.4.0"
)

func parseWalk(input string) (*Store, error) {
	return ParseWalk(strings.NewReader(input), "test.walk")
}

func TestParseWalkValues(t *testing.T) {
	str := func(s string) map[string]Value { return map[string]Value{sysDescr: String(s)} }
	one := func(v Value) map[string]Value { return map[string]Value{sysDescr: v} }
	tests := []struct {
		name  string
		input string
		want  map[string]Value
	}{
		// Strings.
		{name: "quoted", input: sysDescr + ` = STRING: "Linux box 5.10"`, want: str("Linux box 5.10")},
		{name: "quoted escapes", input: sysDescr + ` = STRING: "say \"hi\" C:\\dir"`, want: str(`say "hi" C:\dir`)},
		{name: "quoted keeps inner blanks", input: sysDescr + ` = STRING: "  a  "  `, want: str("  a  ")},
		{name: "quoted then units", input: sysDescr + ` = STRING: "42" percent`, want: str("42")},
		{name: "quoted without leading dot", input: sysDescr[1:] + ` = STRING: "x"`, want: str("x")},
		{name: "iso prefix without MIBs", input: `iso.3.6.1.2.1.1.1.0 = STRING: "x"`, want: str("x")},
		{name: "empty string, no type", input: sysDescr + ` = ""`, want: str("")},
		{name: "empty hinted string", input: sysDescr + " = STRING: ", want: str("")},
		{name: "empty hinted string, no blank", input: sysDescr + " = STRING:", want: str("")},
		{name: "unquoted DISPLAY-HINT", input: sysDescr + " = STRING: Linux cray 2.6.37 #2 SMP i686", want: str("Linux cray 2.6.37 #2 SMP i686")},
		{name: "unquoted keeps quotes", input: sysDescr + ` = STRING: say "hi"`, want: str(`say "hi"`)},
		{name: "hint 1x: is bytes", input: sysDescr + " = STRING: 0:12:79:62:f9:40", want: one(raw(ber.TagOctetString, "\x00\x12\x79\x62\xf9\x40"))},
		{name: "multi-line quoted", input: sysContact + " = STRING: \"NOC on call\nnoc@example.net\"\n" + sysDescr + ` = STRING: "d"`,
			want: map[string]Value{sysContact: String("NOC on call\nnoc@example.net"), sysDescr: String("d")}},
		{name: "multi-line quoted, blank and varbind-like lines inside", input: sysDescr + " = STRING: \"a\n\n.1.3.6.1.2.1.1.5.0 = STRING: \\\"b\\\"\nc\"",
			want: str("a\n\n.1.3.6.1.2.1.1.5.0 = STRING: \"b\"\nc")},
		{name: "multi-line quoted keeps CR of CRLF content", input: sysDescr + " = STRING: \"Cisco IOS\r\nTechnical Support\"\n", want: str("Cisco IOS\r\nTechnical Support")},
		{name: "CRLF file", input: sysDescr + " = STRING: \"x\"\r\n" + sysContact + " = INTEGER: 5\r\n", want: map[string]Value{sysDescr: String("x"), sysContact: Integer(5)}},
		{name: "multi-line unquoted", input: sysContact + " = STRING: NOC on call\nnoc@example.net\n  key = value\n\n" + sysDescr + " = STRING: d",
			want: map[string]Value{sysContact: String("NOC on call\nnoc@example.net\n  key = value"), sysDescr: String("d")}},
		{name: "string printed without type", input: sysDescr + ` = "quick"`, want: str("quick")},
		// Hex strings.
		{name: "hex", input: sysDescr + " = Hex-STRING: 00 1A 2B ", want: one(raw(ber.TagOctetString, "\x00\x1a\x2b"))},
		{name: "hex lower case", input: sysDescr + " = Hex-STRING: 0a ff", want: one(raw(ber.TagOctetString, "\x0a\xff"))},
		{name: "hex continued as net-snmp wraps it", input: sysDescr + " = Hex-STRING: 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F\n10 11 12 \n" + sysContact + " = INTEGER: 1",
			want: map[string]Value{sysDescr: raw(ber.TagOctetString, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12"), sysContact: Integer(1)}},
		{name: "hex with -OT text", input: sysDescr + " = Hex-STRING: 41 42 00   [AB.]", want: one(raw(ber.TagOctetString, "AB\x00"))},
		{name: "BITS with numbers", input: sysDescr + " = BITS: 80 40 0 9 ", want: one(raw(ber.TagOctetString, "\x80\x40"))},
		{name: "BITS with labels", input: sysDescr + " = BITS: C0 up(0) down(1) ", want: one(raw(ber.TagOctetString, "\xc0"))},
		{name: "BITS bit number like hex", input: sysDescr + " = BITS: 00 20 10 ", want: one(raw(ber.TagOctetString, "\x00\x20"))},
		{name: "BITS none set", input: sysDescr + " = BITS: 00 ", want: one(raw(ber.TagOctetString, "\x00"))},
		// Numbers.
		{name: "INTEGER", input: sysDescr + " = INTEGER: 5", want: one(Integer(5))},
		{name: "INTEGER negative", input: sysDescr + " = INTEGER: -1", want: one(Integer(-1))},
		{name: "INTEGER enum", input: sysDescr + " = INTEGER: up(1)", want: one(Integer(1))},
		{name: "INTEGER enum label with digits", input: sysDescr + " = INTEGER: ethernetCsmacd(6)", want: one(Integer(6))},
		{name: "INTEGER units", input: sysDescr + " = INTEGER: 8000000 KBytes", want: one(Integer(8000000))},
		{name: "INTEGER d-1 hint", input: sysDescr + " = INTEGER: 2.5", want: one(Integer(25))},
		{name: "INTEGER d-2 hint below one", input: sysDescr + " = INTEGER: .05 C", want: one(Integer(5))},
		{name: "INTEGER bounds", input: sysDescr + " = INTEGER: -2147483648\n" + sysContact + " = INTEGER: 2147483647",
			want: map[string]Value{sysDescr: Integer(math.MinInt32), sysContact: Integer(math.MaxInt32)}},
		{name: "Gauge32", input: sysDescr + " = Gauge32: 1000000000", want: one(Gauge32(1000000000))},
		{name: "Gauge32 units", input: sysDescr + " = Gauge32: 100 Mbps", want: one(Gauge32(100))},
		{name: "Unsigned32", input: sysDescr + " = Unsigned32: 7", want: one(Gauge32(7))},
		{name: "UInteger32", input: sysDescr + " = UInteger32: 4294967295", want: one(Gauge32(math.MaxUint32))},
		{name: "Counter32", input: sysDescr + " = Counter32: 4294967295", want: one(Counter32(math.MaxUint32))},
		{name: "Counter64", input: sysDescr + " = Counter64: 18446744073709551615", want: one(Counter64(math.MaxUint64))},
		{name: "Timeticks", input: sysDescr + " = Timeticks: (12345) 0:02:03.45", want: one(TimeTicks(12345))},
		{name: "Timeticks days", input: sysDescr + " = Timeticks: (864000000) 100 days, 0:00:00.00", want: one(TimeTicks(864000000))},
		{name: "Timeticks numeric after type", input: sysDescr + " = Timeticks: 12345", want: one(TimeTicks(12345))},
		{name: "Timeticks bare (-Ot)", input: sysDescr + " = 12345", want: one(TimeTicks(12345))},
		// Others.
		{name: "OID", input: sysDescr + " = OID: .1.3.6.1.4.1.8072.3.2.10", want: one(ObjectID(OID{1, 3, 6, 1, 4, 1, 8072, 3, 2, 10}))},
		{name: "OID zeroDotZero", input: sysDescr + " = OID: .0.0", want: one(ObjectID(OID{0, 0}))},
		{name: "OID without MIBs", input: sysDescr + " = OID: iso.3.6.1.4.1.8072.3.2.10", want: one(ObjectID(OID{1, 3, 6, 1, 4, 1, 8072, 3, 2, 10}))},
		{name: "OID ccitt without MIBs", input: sysDescr + " = OID: ccitt.0", want: one(ObjectID(OID{0, 0}))},
		{name: "IpAddress", input: sysDescr + " = IpAddress: 198.51.100.254", want: one(IPAddress([4]byte{198, 51, 100, 254}))},
		{name: "Network Address", input: sysDescr + " = Network Address: 0A:01:02:FF", want: one(IPAddress([4]byte{10, 1, 2, 255}))},
		{name: "NULL", input: sysDescr + " = NULL", want: one(Null())},
		{name: "OPAQUE hex", input: sysDescr + " = OPAQUE: 41 02 03 ", want: one(Opaque([]byte{0x41, 2, 3}))},
		{name: "Opaque Float", input: sysDescr + " = Opaque: Float: 1.500000", want: one(Opaque([]byte{0x9f, 0x78, 4, 0x3f, 0xc0, 0, 0}))},
		{name: "Opaque Double", input: sysDescr + " = Opaque: Double: 2.5", want: one(Opaque([]byte{0x9f, 0x79, 8, 0x40, 0x04, 0, 0, 0, 0, 0, 0}))},
		{name: "Opaque Counter64", input: sysDescr + " = Opaque: Counter64: 5", want: one(Opaque([]byte{0x9f, 0x76, 1, 5}))},
		{name: "Opaque UInt64", input: sysDescr + " = Opaque: UInt64: 200", want: one(Opaque([]byte{0x9f, 0x7b, 2, 0, 200}))},
		{name: "Opaque Int64", input: sysDescr + " = Opaque: Int64: -1", want: one(Opaque([]byte{0x9f, 0x7a, 1, 0xff}))},
		{name: "Wrong Type prefix dropped", input: sysDescr + " = Wrong Type (should be OCTET STRING): INTEGER: 5", want: one(Integer(5))},
		// Lines that hold no value.
		{name: "skipped lines", input: "# recorded with snmpwalk -On\n\n" +
			".1.3.6.1.2.1.1.9.0 = No Such Object available on this agent at this OID\n" +
			".1.3.6.1.2.1.1.1.1 = No Such Instance currently exists at this OID\n" +
			sysDescr + " = INTEGER: 1\n" +
			".1.3.6.1.2.1.1.1.0.1 = No more variables left in this MIB View (It is past the end of the MIB tree)\n" +
			"Variables found: 1\nTotal traversal time = 0.012 seconds\n", want: one(Integer(1))},
		{name: "v1 end of MIB", input: sysDescr + " = INTEGER: 1\nEnd of MIB\n", want: one(Integer(1))},
		{name: "v2c end of view names the last OID", input: sysDescr + " = INTEGER: 1\n" + sysDescr + " = No more variables left in this MIB View (It is past the end of the MIB tree)\n", want: one(Integer(1))},
		{name: "string ending in newline", input: sysDescr + " = STRING: \"line\nbreak\n\"\n", want: str("line\nbreak\n")},
		{name: "string of blanks and a tab", input: sysDescr + " = STRING: \"  \t \"", want: str("  \t ")},
		{name: "BOM", input: "\xef\xbb\xbf" + sysDescr + " = INTEGER: 1", want: one(Integer(1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseWalk(tt.input)
			require.NoError(t, err)
			require.Equal(t, "test.walk", s.Name())
			requireValues(t, s, tt.want)
		})
	}
}

func TestParseWalkErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string
		unsupp  bool
	}{
		{name: "symbolic OID", input: sysDescr + " = INTEGER: 1\nSNMPv2-MIB::sysDescr.0 = STRING: x", wantErr: `test.walk:2: symbolic OID "SNMPv2-MIB::sysDescr.0": record the walk with numeric OIDs (snmpwalk -On)`},
		{name: "full symbolic OID (-Of)", input: ".iso.org.dod.internet.mgmt.mib-2.system.sysDescr.0 = STRING: x", wantErr: "test.walk:1: symbolic OID"},
		{name: "symbolic OID after unquoted string", input: sysDescr + " = STRING: a\nIF-MIB::ifDescr.1 = STRING: b", wantErr: "test.walk:2: symbolic OID"},
		{name: "symbolic OID value", input: sysDescr + " = OID: NET-SNMP-MIB::netSnmpAgentOIDs.10", wantErr: `test.walk:1: symbolic OID value "NET-SNMP-MIB::netSnmpAgentOIDs.10"`},
		{name: "garbage line", input: sysDescr + " = INTEGER: 1\nhello world", wantErr: `test.walk:2: cannot parse "hello world": want OID = TYPE: VALUE`},
		{name: "bad OID", input: ".1.3.6..1 = INTEGER: 1", wantErr: `test.walk:1: OID: bad OID "1.3.6..1": empty arc 4`},
		{name: "missing value", input: sysDescr + " = ", wantErr: `test.walk:1: missing value after "="`},
		{name: "missing type", input: sysDescr + " = hello", wantErr: `test.walk:1: cannot parse value "hello": want TYPE: VALUE`},
		{name: "unknown type", input: sysDescr + " = Foo: 1", wantErr: `test.walk:1: type "Foo" is not supported`, unsupp: true},
		{name: "NsapAddress", input: sysDescr + " = NsapAddress: 01 02", wantErr: `type "NsapAddress" is not supported`, unsupp: true},
		{name: "unterminated quote", input: sysDescr + " = INTEGER: 1\n" + sysContact + " = STRING: \"never\nclosed\n", wantErr: "test.walk:2: quoted string not closed before the end of the file"},
		{name: "bad hex", input: sysDescr + " = Hex-STRING: 00 GG", wantErr: `test.walk:1: bad hex byte "GG"`},
		{name: "bad hex continuation", input: sysDescr + " = Hex-STRING: 00 01\nnot hex\n", wantErr: `test.walk:2: cannot parse "not hex": want hex bytes continuing the value from line 1`},
		{name: "bad BITS", input: sysDescr + " = BITS: 80 5", wantErr: `test.walk:1: cannot parse BITS value "80 5"`},
		{name: "bad BITS after lines", input: "# c\n" + sysDescr + " = BITS: 80 5\n" + sysContact + " = INTEGER: 1", wantErr: "test.walk:2: cannot parse BITS"},
		{name: "bad INTEGER", input: sysDescr + " = INTEGER: many", wantErr: `test.walk:1: bad INTEGER value "many": want a decimal number`},
		{name: "INTEGER out of range", input: sysDescr + " = INTEGER: 2147483648", wantErr: "test.walk:1: INTEGER value 2147483648 out of range [-2147483648, 2147483647]"},
		{name: "Counter32 out of range", input: sysDescr + " = Counter32: 4294967296", wantErr: "Counter32 value 4294967296 out of range [0, 4294967295]"},
		{name: "Gauge32 negative", input: sysDescr + " = Gauge32: -1", wantErr: "Gauge32 value -1 out of range"},
		{name: "Counter64 out of range", input: sysDescr + " = Counter64: 18446744073709551616", wantErr: "Counter64 value 18446744073709551616 out of range"},
		{name: "Timeticks out of range", input: sysDescr + " = Timeticks: (4294967296) 497 days, 2:27:52.96", wantErr: "Timeticks value 4294967296 out of range"},
		{name: "bare number out of range", input: sysDescr + " = 4294967296", wantErr: "test.walk:1: Timeticks value 4294967296 out of range"},
		{name: "bad IpAddress", input: sysDescr + " = IpAddress: 1.2.3", wantErr: `test.walk:1: bad IpAddress "1.2.3"`},
		{name: "bad Network Address", input: sysDescr + " = Network Address: 01:02:03", wantErr: "bad Network Address"},
		{name: "bad Opaque float", input: sysDescr + " = Opaque: Float: x", wantErr: `test.walk:1: bad Opaque Float value "x"`},
		{name: "unknown Opaque type", input: sysDescr + " = Opaque: Real: 1", wantErr: `Opaque type "Real" is not supported`, unsupp: true},
		{name: "duplicate", input: sysDescr + " = INTEGER: 1\n" + sysContact + " = STRING: \"a\nb\"\n" + sysDescr[1:] + " = INTEGER: 2", wantErr: "test.walk:4: duplicate OID .1.3.6.1.2.1.1.1.0 (first at test.walk:1)"},
		{name: "line numbers after multi-line values", input: sysContact + " = STRING: \"a\nb\nc\"\n" + sysDescr + " = Hex-STRING: 00\n01\n.1.3.6.1.2.1.1.5.0 = INTEGER: x", wantErr: "test.walk:6: bad INTEGER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseWalk(tt.input)
			requireErr(t, err, tt.wantErr)
			require.Equal(t, tt.unsupp, errors.Is(err, ErrUnsupported), "errors.Is(err, ErrUnsupported)")
		})
	}
}

// TestOpaqueFloatMatchesGosnmp checks the Opaque Float and Double
// encodings against what gosnmp marshals for OpaqueFloat and OpaqueDouble.
func TestOpaqueFloatMatchesGosnmp(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		typ   gosnmp.Asn1BER
		value any
	}{
		{name: "float", line: "Opaque: Float: 1.500000", typ: gosnmp.OpaqueFloat, value: float32(1.5)},
		{name: "negative float", line: "Opaque: Float: -273.149994", typ: gosnmp.OpaqueFloat, value: float32(-273.15)},
		{name: "double", line: "Opaque: Double: 2.25", typ: gosnmp.OpaqueDouble, value: float64(2.25)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseWalk(sysDescr + " = " + tt.line)
			require.NoError(t, err)
			v := valueAt(t, s, sysDescr)
			tlv := ber.AppendTLV(nil, v.Tag, v.Content)

			pkt := &gosnmp.SnmpPacket{
				Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse,
				Variables: []gosnmp.SnmpPDU{{Name: sysDescr, Type: tt.typ, Value: tt.value}},
				Logger:    gosnmp.NewLogger(nil),
			}
			msg, err := pkt.MarshalMsg()
			require.NoError(t, err)
			require.True(t, bytes.HasSuffix(msg, tlv), "gosnmp message % x should end with our varbind value % x", msg, tlv)
		})
	}
}
