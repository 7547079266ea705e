package mib

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// net-snmp's special Opaque types: an Opaque whose content starts with the
// extension tag 0x9f and one of these (ASN_OPAQUE_TAG2 0x30 + the type).
const (
	opaqueExt       = 0x9f
	opaqueCounter64 = 0x76
	opaqueFloat     = 0x78
	opaqueDouble    = 0x79
	opaqueInt64     = 0x7a
	opaqueUInt64    = 0x7b
)

func is(typ []byte, name string) bool { return bytes.EqualFold(typ, []byte(name)) }

// typed parses the value of a "TYPE: ..." varbind. rest is what follows
// the colon (line end kept, for quoted strings), bare the same trimmed.
func (p *walkParser) typed(oid OID, typ, rest, bare []byte) error {
	switch {
	case is(typ, "STRING"):
		return p.stringValue(oid, rest, bare)
	case is(typ, "Hex-STRING"):
		return p.hexValue(oid, ber.TagOctetString, bare)
	case is(typ, "INTEGER"):
		tok := firstField(bare)
		if j := bytes.IndexByte(tok, '('); j >= 0 && tok[len(tok)-1] == ')' {
			tok = tok[j+1 : len(tok)-1] // up(1)
		}
		n, err := parseInteger32(p.unhint(tok), "INTEGER")
		if err != nil {
			return p.errorf("%v", err)
		}
		var b [8]byte
		p.add(oid, Value{Tag: ber.TagInteger, Content: p.a.bytes(ber.AppendInt(b[:0], n))}, p.line)
		return nil
	case is(typ, "Gauge32"), is(typ, "Unsigned32"), is(typ, "UInteger32"):
		return p.number(oid, ber.TagGauge32, "Gauge32", p.unhint(firstField(bare)))
	case is(typ, "Counter32"):
		return p.number(oid, ber.TagCounter32, "Counter32", firstField(bare))
	case is(typ, "Counter64"):
		return p.number(oid, ber.TagCounter64, "Counter64", firstField(bare))
	case is(typ, "Timeticks"):
		tok := firstField(bare)
		if len(bare) > 0 && bare[0] == '(' {
			if j := bytes.IndexByte(bare, ')'); j > 0 {
				tok = bare[1:j]
			}
		}
		return p.number(oid, ber.TagTimeTicks, "Timeticks", tok)
	case is(typ, "OID"):
		arcs, err := p.parseOID(firstField(bare), "OID value")
		if err != nil {
			return err
		}
		p.tmp = ber.AppendOID(p.tmp[:0], arcs)
		p.add(oid, Value{Tag: ber.TagOID, Content: p.a.bytes(p.tmp)}, p.line)
		return nil
	case is(typ, "IpAddress"):
		ip, ok := parseIPv4(firstField(bare))
		if !ok {
			return p.errorf("bad IpAddress %q: want a.b.c.d", clip(bare))
		}
		p.add(oid, Value{Tag: ber.TagIPAddress, Content: p.a.bytes(ip[:])}, p.line)
		return nil
	case is(typ, "Network Address"):
		b, ok := colonHex(p.tmp[:0], firstField(bare))
		if !ok || len(b) != 4 {
			return p.errorf("bad Network Address %q: want four hex bytes as 0A:01:02:03", clip(bare))
		}
		p.add(oid, Value{Tag: ber.TagIPAddress, Content: p.a.bytes(b)}, p.line)
		return nil
	case is(typ, "BITS"):
		p.start(pendBits, oid, ber.TagOctetString)
		p.buf = append(p.buf, bare...)
		return nil
	case is(typ, "OPAQUE"):
		return p.opaque(oid, bare)
	}
	return p.errorf("type %q is %w", typ, ErrUnsupported)
}

// number stores an unsigned value of tag parsed from tok.
func (p *walkParser) number(oid OID, tag byte, typ string, tok []byte) error {
	hi := uint64(math.MaxUint32)
	if tag == ber.TagCounter64 {
		hi = math.MaxUint64
	}
	n, err := parseUnsigned(tok, typ, hi)
	if err != nil {
		return p.errorf("%v", err)
	}
	var b [9]byte
	p.add(oid, Value{Tag: tag, Content: p.a.bytes(ber.AppendUint(b[:0], n))}, p.line)
	return nil
}

// unhint undoes a DISPLAY-HINT "d-N" decimal point (2.5 is 25).
func (p *walkParser) unhint(tok []byte) []byte {
	i := bytes.IndexByte(tok, '.')
	if i < 0 {
		return tok
	}
	p.tmp = append(append(p.tmp[:0], tok[:i]...), tok[i+1:]...)
	return p.tmp
}

// firstField is s up to the first blank (units and labels follow it).
func firstField(s []byte) []byte {
	if i := bytes.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// stringValue parses what follows "STRING:".
func (p *walkParser) stringValue(oid OID, rest, bare []byte) error {
	switch {
	case len(bare) == 0: // an empty string under a DISPLAY-HINT
		p.add(oid, Value{Tag: ber.TagOctetString, Content: p.a.bytes(nil)}, p.line)
	case bare[0] == '"':
		p.start(pendQuoted, oid, ber.TagOctetString)
		if p.quoted(rest[1:]) {
			p.pend = pendNone
			p.add(oid, Value{Tag: ber.TagOctetString, Content: p.a.bytes(p.buf)}, p.line)
		}
	default:
		if b, ok := colonHex(p.tmp[:0], bare); ok { // 0:12:79:62:f9:40 (hint 1x:)
			p.tmp = b
			p.add(oid, Value{Tag: ber.TagOctetString, Content: p.a.bytes(b)}, p.line)
			return nil
		}
		p.start(pendUnquoted, oid, ber.TagOctetString)
		p.buf = append(p.buf, bare...)
	}
	return nil
}

// colonHex decodes "0:12:79:62:f9:40": two or more groups of one or two
// hex digits.
func colonHex(dst, s []byte) ([]byte, bool) {
	if bytes.IndexByte(s, ':') < 0 {
		return dst, false
	}
	for len(s) > 0 {
		group := s
		if i := bytes.IndexByte(s, ':'); i >= 0 {
			group, s = s[:i], s[i+1:]
			if len(s) == 0 {
				return dst, false // trailing colon
			}
		} else {
			s = nil
		}
		v, ok := hexByte(group)
		if !ok {
			return dst, false
		}
		dst = append(dst, v)
	}
	return dst, true
}

// hexByte decodes one or two hex digits.
func hexByte(s []byte) (byte, bool) {
	switch len(s) {
	case 1:
		if h := unhex(s[0]); h >= 0 {
			return byte(h), true
		}
	case 2:
		if h, l := unhex(s[0]), unhex(s[1]); h >= 0 && l >= 0 {
			return byte(h<<4 | l), true
		}
	}
	return 0, false
}

// hexValue starts a Hex-STRING or hex Opaque; following hex lines continue it.
func (p *walkParser) hexValue(oid OID, tag byte, bare []byte) error {
	p.start(pendHex, oid, tag)
	var err error
	if p.buf, err = appendHexFields(p.buf, bare); err != nil {
		p.pend = pendNone
		return p.errorf("%v", err)
	}
	return nil
}

// appendHexFields decodes blank-separated hex bytes ("00 1A 2B"), stopping
// at the "[text]" that -OT adds.
func appendHexFields(dst, s []byte) ([]byte, error) {
	for f := range bytes.FieldsSeq(s) {
		if f[0] == '[' {
			break
		}
		v, ok := hexByte(f)
		if !ok {
			return dst, fmt.Errorf("bad hex byte %q in %q", f, clip(s))
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// decodeBits reads "BITS: 80 40 0 9" or "BITS: C0 up(0) down(1)": hex
// bytes, then the numbers of the bits set, which tell where the bytes end.
func decodeBits(text []byte) ([]byte, error) {
	fields := bytes.Fields(text)
	hexN := 0
	for hexN < len(fields) && len(fields[hexN]) == 2 {
		if _, ok := hexByte(fields[hexN]); !ok {
			break
		}
		hexN++
	}
	for k := hexN; k >= 0; k-- {
		b := make([]byte, k)
		for i := range k {
			b[i], _ = hexByte(fields[i])
		}
		if bitsMatch(b, fields[k:]) {
			return b, nil
		}
	}
	return nil, fmt.Errorf("cannot parse BITS value %q: want hex bytes followed by the bits set", clip(text))
}

// bitsMatch reports whether names lists exactly the bits set in b.
func bitsMatch(b []byte, names [][]byte) bool {
	n := 0
	for i, x := range b {
		for bit := range 8 {
			if x&(0x80>>bit) == 0 {
				continue
			}
			if n == len(names) {
				return false
			}
			f := names[n]
			if j := bytes.IndexByte(f, '('); j >= 0 && f[len(f)-1] == ')' {
				f = f[j+1 : len(f)-1]
			}
			if _, v, ok, _ := parseDecimal(f); !ok || v != uint64(i*8+bit) {
				return false
			}
			n++
		}
	}
	return n == len(names)
}

// opaque parses what follows "OPAQUE:" or "Opaque:": hex bytes, or one of
// net-snmp's special types, encoded as net-snmp and gosnmp do (extension
// tag 0x9f, the type, a length and the value).
func (p *walkParser) opaque(oid OID, bare []byte) error {
	k := bytes.IndexByte(bare, ':')
	if k < 0 {
		return p.hexValue(oid, ber.TagOpaque, bare)
	}
	sub, val := bare[:k], string(bytes.TrimSpace(firstField(bytes.TrimSpace(bare[k+1:]))))
	b := append(p.tmp[:0], opaqueExt)
	var err error
	switch {
	case is(sub, "Float"):
		var f float64
		if f, err = strconv.ParseFloat(val, 32); err == nil {
			b = binary.BigEndian.AppendUint32(append(b, opaqueFloat, 4), math.Float32bits(float32(f)))
		}
	case is(sub, "Double"):
		var f float64
		if f, err = strconv.ParseFloat(val, 64); err == nil {
			b = binary.BigEndian.AppendUint64(append(b, opaqueDouble, 8), math.Float64bits(f))
		}
	case is(sub, "Counter64"), is(sub, "UInt64"):
		var n uint64
		if n, err = strconv.ParseUint(val, 10, 64); err == nil {
			t := byte(opaqueCounter64)
			if is(sub, "UInt64") {
				t = opaqueUInt64
			}
			c := ber.AppendUint(nil, n)
			b = append(append(b, t, byte(len(c))), c...)
		}
	case is(sub, "Int64"):
		var n int64
		if n, err = strconv.ParseInt(val, 10, 64); err == nil {
			c := ber.AppendInt(nil, n)
			b = append(append(b, opaqueInt64, byte(len(c))), c...)
		}
	default:
		return p.errorf("Opaque type %q is %w (supported: hex, Float, Double, Counter64, UInt64, Int64)", sub, ErrUnsupported)
	}
	if err != nil {
		return p.errorf("bad Opaque %s value %q", sub, val)
	}
	p.tmp = b
	p.add(oid, Value{Tag: ber.TagOpaque, Content: p.a.bytes(b)}, p.line)
	return nil
}
