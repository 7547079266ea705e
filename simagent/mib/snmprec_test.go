package mib

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

const sysName = "1.3.6.1.2.1.1.5.0"

func parseRec(input string) (*Store, error) {
	return ParseSnmprec(strings.NewReader(input), "test.snmprec")
}

func raw(tag byte, content string) Value { return Value{Tag: tag, Content: []byte(content)} }

func TestParseSnmprecValues(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  map[string]Value
	}{
		{name: "Integer32", input: sysName + "|2|72", want: map[string]Value{sysName: Integer(72)}},
		{name: "Integer32 negative", input: sysName + "|2|-5", want: map[string]Value{sysName: Integer(-5)}},
		{name: "Integer32 max", input: sysName + "|2|2147483647", want: map[string]Value{sysName: Integer(math.MaxInt32)}},
		{name: "Integer32 min", input: sysName + "|2|-2147483648", want: map[string]Value{sysName: Integer(math.MinInt32)}},
		{name: "string", input: sysName + "|4|edge rtr 01", want: map[string]Value{sysName: String("edge rtr 01")}},
		{name: "string keeps pipes", input: sysName + "|4|a|b||c", want: map[string]Value{sysName: String("a|b||c")}},
		{name: "string empty", input: sysName + "|4|", want: map[string]Value{sysName: String("")}},
		{name: "string hex", input: sysName + "|4x|00ff41", want: map[string]Value{sysName: raw(ber.TagOctetString, "\x00\xffA")}},
		{name: "string hex upper case", input: sysName + "|4x|00FF", want: map[string]Value{sysName: raw(ber.TagOctetString, "\x00\xff")}},
		{name: "string escaped", input: sysName + `|4e|a\nb\t\x00\"\\\'`, want: map[string]Value{sysName: String("a\nb\t\x00\"\\'")}},
		{name: "null", input: sysName + "|5|", want: map[string]Value{sysName: Null()}},
		{name: "OID", input: sysName + "|6|1.3.6.1.4.1.8072.3.2.10", want: map[string]Value{sysName: ObjectID(OID{1, 3, 6, 1, 4, 1, 8072, 3, 2, 10})}},
		{name: "OID zeroDotZero", input: sysName + "|6|0.0", want: map[string]Value{sysName: ObjectID(OID{0, 0})}},
		{name: "IpAddress", input: sysName + "|64|198.51.100.1", want: map[string]Value{sysName: IPAddress([4]byte{198, 51, 100, 1})}},
		{name: "IpAddress as 4 raw octets, as snmpsim records it", input: sysName + "|64|32VF", want: map[string]Value{sysName: IPAddress([4]byte{51, 50, 86, 70})}},
		{name: "IpAddress hex", input: sysName + "|64x|7f000001", want: map[string]Value{sysName: IPAddress([4]byte{127, 0, 0, 1})}},
		{name: "Counter32 max", input: sysName + "|65|4294967295", want: map[string]Value{sysName: Counter32(math.MaxUint32)}},
		{name: "Gauge32", input: sysName + "|66|1000000000", want: map[string]Value{sysName: Gauge32(1000000000)}},
		{name: "TimeTicks", input: sysName + "|67|8641234", want: map[string]Value{sysName: TimeTicks(8641234)}},
		{name: "Opaque", input: sysName + "|68|abc", want: map[string]Value{sysName: Opaque([]byte("abc"))}},
		{name: "Opaque hex float", input: sysName + "|68x|9f78043fc00000", want: map[string]Value{sysName: Opaque([]byte{0x9f, 0x78, 4, 0x3f, 0xc0, 0, 0})}},
		{name: "Counter64 max", input: sysName + "|70|18446744073709551615", want: map[string]Value{sysName: Counter64(math.MaxUint64)}},
		{name: "exception tags skipped", input: "1.3.6.1.1|128|\n1.3.6.1.2|129|\n1.3.6.1.3|130|\n" + sysName + "|2|1", want: map[string]Value{sysName: Integer(1)}},
		{name: "comments, blanks, CRLF, BOM, spaces", input: "\xef\xbb\xbf# recorded\r\n\r\n  " + sysName + "|4|x  \r\n# end\n", want: map[string]Value{sysName: String("x")}},
		{name: "leading dot", input: "." + sysName + "|2|1", want: map[string]Value{sysName: Integer(1)}},
		{name: "unsorted input", input: "1.3.6.1.2.1.2.1.0|2|2\n" + sysName + "|2|1", want: map[string]Value{sysName: Integer(1), "1.3.6.1.2.1.2.1.0": Integer(2)}},
		{name: "writecache value", input: sysName + "|4:writecache|value=hello", want: map[string]Value{sysName: String("hello")}},
		{name: "writecache integer with SET options", input: sysName + "|2:writecache|value=5,op=set,status=wrongvalue", want: map[string]Value{sysName: Integer(5)}},
		{name: "writecache hexvalue", input: sysName + "|4:writecache|hexvalue=0001", want: map[string]Value{sysName: raw(ber.TagOctetString, "\x00\x01")}},
		{name: "volatilecache is writecache", input: sysName + "|2:volatilecache|value=42", want: map[string]Value{sysName: Integer(42)}},
		{name: "numeric counter", input: sysName + "|65:numeric|initial=1000,rate=10", want: map[string]Value{sysName: {Tag: ber.TagCounter32, Dyn: &Dynamic{Kind: DynCounter, Initial: 1000, Rate: 10, Bits: 32, Max: math.MaxUint32}}}},
		{name: "numeric defaults", input: sysName + "|65:numeric|", want: map[string]Value{sysName: {Tag: ber.TagCounter32, Dyn: &Dynamic{Kind: DynCounter, Rate: 1, Bits: 32, Max: math.MaxUint32}}}},
		{name: "numeric counter64 wrap", input: sysName + "|70:numeric|rate=5,wrap=1", want: map[string]Value{sysName: {Tag: ber.TagCounter64, Dyn: &Dynamic{Kind: DynCounter, Rate: 5, Bits: 64, Max: math.MaxUint64, Wrap: true}}}},
		{name: "numeric wrap=0 is no wrap", input: sysName + "|65:numeric|wrap=0", want: map[string]Value{sysName: {Tag: ber.TagCounter32, Dyn: &Dynamic{Kind: DynCounter, Rate: 1, Bits: 32, Max: math.MaxUint32}}}},
		{name: "numeric gauge in range", input: sysName + "|66:numeric|min=10,max=20,initial=15,rate=0.5", want: map[string]Value{sysName: {Tag: ber.TagGauge32, Dyn: &Dynamic{Kind: DynCounter, Initial: 15, Rate: 0.5, Bits: 32, Min: 10, Max: 20}}}},
		{name: "numeric initial defaults to min", input: sysName + "|66:numeric|min=10", want: map[string]Value{sysName: {Tag: ber.TagGauge32, Dyn: &Dynamic{Kind: DynCounter, Initial: 10, Rate: 1, Bits: 32, Min: 10, Max: math.MaxUint32}}}},
		{name: "numeric timeticks as snmprec records them", input: sysName + "|67:numeric|initial=8641234,rate=100", want: map[string]Value{sysName: {Tag: ber.TagTimeTicks, Dyn: &Dynamic{Kind: DynCounter, Initial: 8641234, Rate: 100, Bits: 32, Max: math.MaxUint32}}}},
		{name: "numeric scale and offset fold in", input: sysName + "|65:numeric|initial=10,rate=2,scale=3,offset=5", want: map[string]Value{sysName: {Tag: ber.TagCounter32, Dyn: &Dynamic{Kind: DynCounter, Initial: 15, Rate: 6, Bits: 32, Max: math.MaxUint32}}}},
		{name: "numeric zero deviation", input: sysName + "|65:numeric|rate=1,deviation=0", want: map[string]Value{sysName: {Tag: ber.TagCounter32, Dyn: &Dynamic{Kind: DynCounter, Rate: 1, Bits: 32, Max: math.MaxUint32}}}},
		{name: "numeric integer constant is static", input: sysName + "|2:numeric|initial=5,rate=0", want: map[string]Value{sysName: Integer(5)}},
		{name: "numeric min=max is static", input: sysName + "|66:numeric|min=7,max=7", want: map[string]Value{sysName: Gauge32(7)}},
		{name: "numeric still value clamped", input: sysName + "|66:numeric|initial=30,max=20,rate=0", want: map[string]Value{sysName: Gauge32(20)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseRec(tt.input)
			require.NoError(t, err)
			require.Equal(t, "test.snmprec", s.Name())
			requireValues(t, s, tt.want)
		})
	}
}

func TestParseSnmprecErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string
		unsupp  bool // wraps ErrUnsupported
	}{
		{name: "missing fields", input: "1.3.6.1", wantErr: `test.snmprec:1: missing fields in "1.3.6.1": want OID|TAG|VALUE`},
		{name: "missing value field", input: "1.3.6.1|4", wantErr: `test.snmprec:1: missing VALUE field in "1.3.6.1|4"`},
		{name: "line number counts comments", input: "# a\n\n" + sysName + "|2|1\nbad", wantErr: "test.snmprec:4: missing fields"},
		{name: "bad OID", input: "1.3.6.x|4|a", wantErr: `test.snmprec:1: bad OID "1.3.6.x": arc 4 is not a number`},
		{name: "empty OID arc", input: "1..3|4|a", wantErr: `test.snmprec:1: bad OID "1..3": empty arc 2`},
		{name: "OID arc too big", input: "1.3.4294967296|4|a", wantErr: `bad OID "1.3.4294967296": arc 3 is not below 2^32`},
		{name: "one-arc OID", input: "1|4|a", wantErr: "needs at least two arcs"},
		{name: "unencodable OID", input: "1.40|4|a", wantErr: "first arcs 1.40 are not encodable"},
		{name: "empty OID", input: "|4|a", wantErr: `test.snmprec:1: bad OID "": empty`},
		{name: "missing tag", input: "1.3.6.1||a", wantErr: "test.snmprec:1: missing TAG"},
		{name: "bad tag", input: "1.3.6.1|abc|a", wantErr: `test.snmprec:1: bad TAG "abc"`},
		{name: "negative tag", input: "1.3.6.1|-2|a", wantErr: `bad TAG "-2"`},
		{name: "unknown tag", input: "1.3.6.1|71|a", wantErr: "test.snmprec:1: unknown TAG 71 (known: 2, 4, 5, 6, 64, 65, 66, 67, 68, 70)"},
		{name: "hex form on integer", input: "1.3.6.1|2x|05", wantErr: "test.snmprec:1: TAG 2x: the x form is only for tags 4 and 68 (and 64x)"},
		{name: "escaped form on IpAddress", input: "1.3.6.1|64e|a", wantErr: "TAG 64e: the e form"},
		{name: "bad integer", input: "1.3.6.1|2|abc", wantErr: `test.snmprec:1: bad Integer32 value "abc": want a decimal number`},
		{name: "integer too big", input: "1.3.6.1|2|2147483648", wantErr: "test.snmprec:1: Integer32 value 2147483648 out of range [-2147483648, 2147483647]"},
		{name: "integer too small", input: "1.3.6.1|2|-2147483649", wantErr: "Integer32 value -2147483649 out of range"},
		{name: "integer huge", input: "1.3.6.1|2|99999999999999999999999", wantErr: "out of range"},
		{name: "odd hex", input: "1.3.6.1|4x|0", wantErr: `test.snmprec:1: bad hex "0": odd number of digits`},
		{name: "bad hex digit", input: "1.3.6.1|4x|zz", wantErr: `bad hex "zz": "zz" is not a hex digit pair`},
		{name: "bad escape", input: `1.3.6.1|4e|a\q`, wantErr: `test.snmprec:1: bad escape \q`},
		{name: "bad hex escape", input: `1.3.6.1|4e|\x4`, wantErr: `bad escape \x`},
		{name: "null with value", input: "1.3.6.1|5|x", wantErr: `test.snmprec:1: NULL takes no value, got "x"`},
		{name: "bad OID value", input: "1.3.6.1|6|1.3.x", wantErr: `test.snmprec:1: OBJECT IDENTIFIER value: bad OID "1.3.x"`},
		{name: "bad IpAddress", input: "1.3.6.1|64|300.1.1.1", wantErr: `test.snmprec:1: bad IpAddress "300.1.1.1": want a.b.c.d (or 4 raw octets)`},
		{name: "short IpAddress", input: "1.3.6.1|64|1.2.3", wantErr: "bad IpAddress"},
		{name: "short hex IpAddress", input: "1.3.6.1|64x|0a00", wantErr: "test.snmprec:1: IpAddress needs 4 bytes, got 2"},
		{name: "Counter32 too big", input: "1.3.6.1|65|4294967296", wantErr: "test.snmprec:1: Counter32 value 4294967296 out of range [0, 4294967295]"},
		{name: "Counter32 negative", input: "1.3.6.1|65|-1", wantErr: "Counter32 value -1 out of range"},
		{name: "Gauge32 too big", input: "1.3.6.1|66|4294967296", wantErr: "Gauge32 value 4294967296 out of range"},
		{name: "TimeTicks too big", input: "1.3.6.1|67|4294967296", wantErr: "TimeTicks value 4294967296 out of range"},
		{name: "Counter64 too big", input: "1.3.6.1|70|18446744073709551616", wantErr: "test.snmprec:1: Counter64 value 18446744073709551616 out of range [0, 18446744073709551615]"},
		{name: "bad Counter64", input: "1.3.6.1|70|1e3", wantErr: `bad Counter64 value "1e3"`},
		{name: "duplicate OID", input: sysName + "|2|1\n1.3.6.1.2.1.2.1.0|2|2\n." + sysName + "|2|3", wantErr: "test.snmprec:3: duplicate OID .1.3.6.1.2.1.1.5.0 (first at test.snmprec:1)"},
		{name: "module sql", input: "1.3.6.1|4|x\n" + sysName + "|2:sql|snmprec", wantErr: `test.snmprec:2: variation module "sql" is not supported: sql, redis, subprocess and notification need outside systems or send notifications (served: numeric, writecache, volatilecache, delay, error, multiplex)`, unsupp: true},
		{name: "module redis", input: sysName + "|4:redis|key-spaces-id=1", wantErr: `variation module "redis" is not supported`, unsupp: true},
		{name: "module subprocess", input: sysName + "|4:subprocess|echo", wantErr: `variation module "subprocess" is not supported`, unsupp: true},
		{name: "module notification", input: sysName + "|4:notification|op=get", wantErr: `variation module "notification" is not supported`, unsupp: true},
		{name: "subtree module", input: "1.3.6.1.2.1.2.2|:sql|x", wantErr: `test.snmprec:1: variation module "sql" is not supported`, unsupp: true},
		{name: "subtree numeric", input: "1.3.6.1.2.1.2.2|:numeric|x", wantErr: `test.snmprec:1: variation module "numeric" needs a TAG (TAG:numeric)`},
		{name: "empty module", input: sysName + "|4:|x", wantErr: "empty variation module name"},
		{name: "writecache without value", input: sysName + "|4:writecache|op=set", wantErr: "test.snmprec:1: writecache needs value= or hexvalue="},
		{name: "writecache both values", input: sysName + "|4:writecache|value=a,hexvalue=00", wantErr: "not both"},
		{name: "writecache unknown parameter", input: sysName + "|4:writecache|value=a,colour=red", wantErr: `unknown writecache parameter "colour"`},
		{name: "writecache bad value for tag", input: sysName + "|2:writecache|value=x", wantErr: `test.snmprec:1: bad Integer32 value "x"`},
		{name: "numeric on a string", input: sysName + "|4:numeric|rate=1", wantErr: `test.snmprec:1: variation module "numeric" needs TAG 2, 65, 66, 67 or 70, not 4`},
		{name: "numeric with hex tag", input: sysName + "|65x:numeric|rate=1", wantErr: "takes no x suffix"},
		{name: "numeric cumulative pow", input: sysName + "|65:numeric|cumulative=1,function=pow%<time>%2", wantErr: "cumulative with function=pow is not supported", unsupp: true},
		{name: "numeric unknown function", input: sysName + "|65:numeric|function=frob", wantErr: "unknown numeric function=frob"},
		{name: "numeric bad function argument", input: sysName + "|65:numeric|function=pow%x%2", wantErr: `bad numeric function argument "x"`},
		{name: "module multiplex with a tag", input: sysName + "|4:multiplex|dir=x", wantErr: "multiplex\" is a subtree record"},
		{name: "multiplex control", input: "1.3.6.1.2.1.2|:multiplex|dir=x,control=1.3.6.1.4.1.1.0", wantErr: "control= switches recordings by SET", unsupp: true},
		{name: "multiplex without its dir", input: "1.3.6.1.2.1.2|:multiplex|dir=no-such-dir", wantErr: "multiplex dir=no-such-dir not found"},
		{name: "delay without value", input: sysName + "|4:delay|wait=100", wantErr: "delay needs value= or hexvalue="},
		{name: "delay bad wait", input: sysName + "|4:delay|value=x,wait=soon", wantErr: `delay: bad wait "soon"`},
		{name: "delay bad tlist", input: sysName + "|4:delay|value=x,tlist=gt:1", wantErr: "delay: bad tlist"},
		{name: "error unknown status", input: sysName + "|4:error|status=oops", wantErr: `error: unknown status "oops"`},
		{name: "error bad op", input: sysName + "|4:error|status=genError,op=walk", wantErr: "error: bad op=walk"},
		{name: "numeric unknown parameter", input: sysName + "|65:numeric|speed=1", wantErr: `unknown numeric parameter "speed"`},
		{name: "numeric bad number", input: sysName + "|65:numeric|rate=fast", wantErr: `bad numeric parameter rate="fast": want a number`},
		{name: "numeric missing =", input: sysName + "|65:numeric|rate", wantErr: `bad numeric parameter "rate": want key=value`},
		{name: "numeric max below min", input: sysName + "|65:numeric|min=10,max=5", wantErr: "numeric: max 5 is below min 10"},
		{name: "numeric max out of range", input: sysName + "|2:numeric|max=3000000000", wantErr: "numeric parameter max=3000000000 out of range [0, 2147483647]"},
		{name: "numeric negative min", input: sysName + "|65:numeric|min=-1", wantErr: "numeric parameter min=-1 out of range"},
		{name: "numeric negative offset result", input: sysName + "|65:numeric|offset=-5", wantErr: "initial+offset -5 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseRec(tt.input)
			requireErr(t, err, tt.wantErr)
			require.Equal(t, tt.unsupp, errors.Is(err, ErrUnsupported), "errors.Is(err, ErrUnsupported)")
			if !strings.Contains(tt.name, "duplicate") {
				var pe *ParseError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, "test.snmprec", pe.Name)
			}
		})
	}
}

func TestParseSnmprecNumericMoves(t *testing.T) {
	s, err := parseRec(sysName + "|65:numeric|initial=4294967290,rate=1,wrap=1\n" +
		"1.3.6.1.2.1.1.6.0|65:numeric|initial=4294967290,rate=1\n" +
		"1.3.6.1.2.1.1.7.0|67:numeric|initial=100,rate=100")
	require.NoError(t, err)
	require.Equal(t, 3, s.Dynamic())
	at := func(oid string, age time.Duration) uint64 {
		return valueAt(t, s, oid).Dyn.At(age, 7)
	}
	require.Equal(t, uint64(4294967290), at(sysName, 0))
	require.Equal(t, uint64(4), at(sysName, 10*time.Second), "wraps past 2^32-1 like a counter")
	require.Equal(t, uint64(math.MaxUint32), at("1.3.6.1.2.1.1.6.0", 10*time.Second), "without wrap it stays at max, as snmpsim")
	require.Equal(t, uint64(1100), at("1.3.6.1.2.1.1.7.0", 10*time.Second))
}

func TestParseSnmprecLongLine(t *testing.T) {
	long := strings.Repeat("ab", 1<<20) // a 2 MB string value
	s, err := parseRec(sysName + "|4x|" + long)
	require.NoError(t, err)
	require.Len(t, valueAt(t, s, sysName).Content, 1<<20)

	_, err = parseRec(sysName + "|4|" + strings.Repeat("a", maxLine+1))
	requireErr(t, err, "test.snmprec:1: line longer than")
}
