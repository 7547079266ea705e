package mib

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// snmprec tags (the decimal BER tag of each type, as snmpsim writes them).
const (
	recInteger   = 2
	recString    = 4
	recNull      = 5
	recOID       = 6
	recIPAddress = 64
	recCounter32 = 65
	recGauge32   = 66
	recTimeTicks = 67
	recOpaque    = 68
	recCounter64 = 70
	// noSuchObject, noSuchInstance and endOfMibView: snmpsim can store
	// them; a missing OID answers the same, so those records are skipped.
	recNoSuchObject = 128
	recEndOfMibView = 130
)

var recTypeNames = map[int]string{
	recInteger: "Integer32", recString: "OCTET STRING", recNull: "NULL", recOID: "OBJECT IDENTIFIER",
	recIPAddress: "IpAddress", recCounter32: "Counter32", recGauge32: "Gauge32", recTimeTicks: "TimeTicks",
	recOpaque: "Opaque", recCounter64: "Counter64",
}

// ParseSnmprec reads snmpsim .snmprec data: one OID|TAG|VALUE record per
// line, where TAG is the decimal BER tag (2 Integer32, 4 OCTET STRING,
// 5 NULL, 6 OBJECT IDENTIFIER, 64 IpAddress, 65 Counter32, 66 Gauge32,
// 67 TimeTicks, 68 Opaque, 70 Counter64) with an optional encoding suffix
// (x: VALUE is hex; e: VALUE has Python string escapes) and an optional
// ":module" naming an snmpsim variation module. Two modules are served:
// numeric (tags 2, 65, 66, 67, 70), a value moving with the agent's age
// as initial + offset + rate*scale*seconds within [min, max], clamped at
// max or wrapping back to min with wrap=1 (snmpsim's defaults: min 0, max
// 2^32-1 or 2^64-1, initial = min, rate 1; function, atime, cumulative,
// a non-zero deviation and falling values are rejected, and wrap=0 means
// no wrap), and writecache, whose value= or hexvalue= is served as a
// static value (agents are read-only). Any other module is an error
// wrapping ErrUnsupported. Records of tags 128-130 (noSuchObject,
// noSuchInstance, endOfMibView) are skipped. Lines are trimmed of blanks
// as snmpsim does; blank lines and lines starting with # are skipped;
// records need not be sorted. name is used in errors, which are
// *ParseError values naming name:line (a duplicate OID names both lines).
func ParseSnmprec(r io.Reader, name string) (*Store, error) {
	return parseSnmprec(r, name, false)
}

// ParseSnmprecAsSnmpsim is ParseSnmprec as snmpsim serves a recording: a
// record whose value snmpsim cannot evaluate (a bad value for its tag, a
// module parameter that is no number) is not an error but a broken
// record, answered as snmpsim answers it: noSuchInstance to a Get, and
// endOfMibView (the walk ends there) to a GetNext or GetBulk reaching it.
// Store.Broken lists them. Errors in the record's form (OID, TAG, module
// name) are still errors. LoadFile reads .snmprec files so.
func ParseSnmprecAsSnmpsim(r io.Reader, name string) (*Store, error) {
	return parseSnmprec(r, name, true)
}

func parseSnmprec(r io.Reader, name string, lenient bool) (*Store, error) {
	b := NewBuilder(name)
	p := snmprecParser{b: b, lenient: lenient}
	return parseRecordLines(r, name, b, p.record)
}

type snmprecParser struct {
	lenient bool // broken values become broken records (snmpsim's way)
	b       *Builder
	a       arena
	arcs    []uint32 // the record's OID
	valArcs []uint32 // an OID value
	scratch []byte
}

// record parses one OID|TAG|VALUE line.
func (p *snmprecParser) record(text []byte, line int) error {
	f1 := bytes.IndexByte(text, '|')
	if f1 < 0 {
		return fmt.Errorf("missing fields in %q: want OID|TAG|VALUE", clip(text))
	}
	f2 := bytes.IndexByte(text[f1+1:], '|')
	if f2 < 0 {
		return fmt.Errorf("missing VALUE field in %q: want OID|TAG|VALUE", clip(text))
	}
	oidText := bytes.TrimSpace(text[:f1])
	tagText := bytes.TrimSpace(text[f1+1 : f1+1+f2])
	val := text[f1+2+f2:]

	arcs, err := parseOIDText(p.arcs, oidText)
	p.arcs = arcs
	if err != nil {
		return err
	}
	tag, enc, module, err := parseRecTag(tagText)
	if err != nil {
		return err
	}
	if module == "multiplex" {
		return p.multiplex(arcs, val, line)
	}
	var v Value
	var sp *Special
	skip := false
	switch module {
	case "":
		v, skip, err = p.static(tag, enc, val)
	case "writecache", "volatilecache":
		v, sp, err = p.writecache(tag, val)
	case "numeric":
		v, err = numericValue(tag, enc, val)
	case "error":
		v, sp, err = p.errorModule(tag, val)
	case "delay":
		v, sp, err = p.delayModule(tag, val)
	}
	if err != nil && p.lenient {
		p.b.addLine(p.a.oid(arcs), Value{Tag: byte(tag)}, line)
		p.b.special(&Special{Broken: true})
		p.b.broken = append(p.b.broken, (&ParseError{Name: p.b.name, Line: line, Err: err}).Error())
		return nil
	}
	if err != nil || skip {
		return err
	}
	p.b.addLine(p.a.oid(arcs), v, line)
	if sp != nil {
		p.b.special(sp)
	}
	return nil
}

// servedModules are the variation modules simagent serves; refusedModules
// need systems outside the simulator (or send traps) and are refused.
const (
	servedModules  = "numeric, writecache, volatilecache, delay, error, multiplex"
	refusedModules = "sql, redis, subprocess and notification need outside systems or send notifications"
)

// parseRecTag splits TAG[x|e][:module] and checks the module is one we serve.
func parseRecTag(s []byte) (tag int, enc byte, module string, err error) {
	if i := bytes.IndexByte(s, ':'); i >= 0 {
		module = string(bytes.TrimSpace(s[i+1:]))
		s = s[:i]
		switch module {
		case "numeric", "writecache", "volatilecache", "delay", "error":
		case "multiplex":
			if len(bytes.TrimSpace(s)) != 0 {
				return 0, 0, "", fmt.Errorf("variation module \"multiplex\" is a subtree record: OID|:multiplex|dir=...,period=..., with no TAG")
			}
			return 0, 0, module, nil
		case "":
			return 0, 0, "", fmt.Errorf("empty variation module name in TAG %q", s)
		case "sql", "redis", "subprocess", "notification":
			return 0, 0, "", fmt.Errorf("variation module %q is %w: %s (served: %s)", module, ErrUnsupported, refusedModules, servedModules)
		default:
			return 0, 0, "", fmt.Errorf("variation module %q is %w (served: %s)", module, ErrUnsupported, servedModules)
		}
	}
	if n := len(s); n > 0 && (s[n-1] == 'x' || s[n-1] == 'e') {
		enc = s[n-1]
		s = s[:n-1]
	}
	if len(s) == 0 {
		if module != "" {
			return 0, 0, "", fmt.Errorf("variation module %q needs a TAG (TAG:%s), a subtree record is not supported", module, module)
		}
		return 0, 0, "", errors.New("missing TAG: want OID|TAG|VALUE")
	}
	if len(s) > 3 {
		return 0, 0, "", fmt.Errorf("bad TAG %q: want a number such as 4 or 4x", s)
	}
	_, n, ok, _ := parseDecimal(s)
	if !ok || s[0] == '-' || s[0] == '+' {
		return 0, 0, "", fmt.Errorf("bad TAG %q: want a number such as 4 or 4x", s)
	}
	tag = int(n)
	if _, known := recTypeNames[tag]; !known && (tag < recNoSuchObject || tag > recEndOfMibView) {
		return 0, 0, "", fmt.Errorf("unknown TAG %d (known: 2, 4, 5, 6, 64, 65, 66, 67, 68, 70)", tag)
	}
	return tag, enc, module, nil
}

// static decodes VALUE for tag. skip is set for the exception tags.
func (p *snmprecParser) static(tag int, enc byte, val []byte) (Value, bool, error) {
	if tag >= recNoSuchObject {
		return Value{}, true, nil
	}
	if enc != 0 && tag != recString && tag != recOpaque && !(tag == recIPAddress && enc == 'x') {
		return Value{}, false, fmt.Errorf("TAG %d%c: the %c form is only for tags 4 and 68 (and 64x)", tag, enc, enc)
	}
	raw := val
	if enc != 0 {
		var err error
		if enc == 'x' {
			p.scratch, err = appendHex(p.scratch[:0], val)
		} else {
			p.scratch, err = appendPyUnescaped(p.scratch[:0], val)
		}
		if err != nil {
			return Value{}, false, err
		}
		raw = p.scratch
	}
	typ := recTypeNames[tag]
	var buf [16]byte
	switch tag {
	case recInteger:
		n, err := parseInteger32(val, typ)
		if err != nil {
			return Value{}, false, err
		}
		return Value{Tag: ber.TagInteger, Content: p.a.bytes(ber.AppendInt(buf[:0], n))}, false, nil
	case recString, recOpaque:
		return Value{Tag: byte(tag), Content: p.a.bytes(raw)}, false, nil
	case recNull:
		if len(val) != 0 {
			return Value{}, false, fmt.Errorf("NULL takes no value, got %q", clip(val))
		}
		return Null(), false, nil
	case recOID:
		arcs, err := parseOIDText(p.valArcs, val)
		p.valArcs = arcs
		if err != nil {
			return Value{}, false, fmt.Errorf("OBJECT IDENTIFIER value: %w", err)
		}
		p.scratch = ber.AppendOID(p.scratch[:0], arcs)
		return Value{Tag: ber.TagOID, Content: p.a.bytes(p.scratch)}, false, nil
	case recIPAddress:
		if enc == 'x' {
			if len(raw) != 4 {
				return Value{}, false, fmt.Errorf("IpAddress needs 4 bytes, got %d in %q", len(raw), clip(val))
			}
			return Value{Tag: ber.TagIPAddress, Content: p.a.bytes(raw)}, false, nil
		}
		ip, ok := parseIPv4(val)
		if !ok && len(val) == 4 {
			// snmpsim writes an address it cannot print as its 4 raw
			// octets ("32VF" is 51.50.86.70) and serves them so.
			copy(ip[:], val)
			ok = true
		}
		if !ok {
			return Value{}, false, fmt.Errorf("bad IpAddress %q: want a.b.c.d (or 4 raw octets)", clip(val))
		}
		return Value{Tag: ber.TagIPAddress, Content: p.a.bytes(ip[:])}, false, nil
	}
	hi := uint64(math.MaxUint32)
	if tag == recCounter64 {
		hi = math.MaxUint64
	}
	n, err := parseUnsigned(val, typ, hi)
	if err != nil {
		return Value{}, false, err
	}
	return Value{Tag: byte(tag), Content: p.a.bytes(ber.AppendUint(buf[:0], n))}, false, nil
}

// moduleParams splits a variation module's key=value,key=value VALUE.
func moduleParams(module string, val []byte) (map[string]string, error) {
	params := map[string]string{}
	for _, f := range strings.Split(string(val), ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("bad %s parameter %q: want key=value", module, f)
		}
		params[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return params, nil
}

// appendPyUnescaped decodes the escapes snmpsim writes in 'e' values
// (those of Python string literals: \\ \' \" \a \b \f \n \r \t \v \xHH).
func appendPyUnescaped(dst, s []byte) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		if i+1 == len(s) {
			return dst, fmt.Errorf("bad escape at the end of %q", clip(s))
		}
		i++
		switch s[i] {
		case '\\', '\'', '"':
			dst = append(dst, s[i])
		case 'a':
			dst = append(dst, 7)
		case 'b':
			dst = append(dst, 8)
		case 'f':
			dst = append(dst, 12)
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'v':
			dst = append(dst, 11)
		case 'x':
			if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
				return dst, fmt.Errorf("bad escape \\x in %q: want \\xHH", clip(s))
			}
			dst = append(dst, byte(unhex(s[i+1])<<4|unhex(s[i+2])))
			i += 2
		default:
			return dst, fmt.Errorf("bad escape \\%c in %q", s[i], clip(s))
		}
	}
	return dst, nil
}
