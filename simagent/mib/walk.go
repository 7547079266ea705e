package mib

import (
	"bytes"
	"fmt"
	"io"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// ParseWalk reads net-snmp snmpwalk (or snmpbulkwalk) output recorded with
// numeric OIDs: -On, alone or with -Oe, -Ot, -Ob, -OU, -Ox (so also
// -ObentU, the form snmpsim reads), with or without MIBs loaded. A line is
//
//	.1.3.6.1.2.1.1.1.0 = STRING: "Linux box 5.10"
//
// with or without the leading dot ("iso." is read as "1."). Values:
// STRING quoted (with \" and \\ escapes, spanning lines when the string
// holds newlines) or unquoted as a DISPLAY-HINT prints it (also spanning
// lines; "0:12:79:62:f9:40" style hex is read as bytes, as snmpsim does);
// "" alone; Hex-STRING and BITS (continued over lines); INTEGER (5, up(1),
// 2.5 from a d-1 hint, units ignored); Gauge32, Unsigned32 and UInteger32
// (as Gauge32); Counter32; Counter64; Timeticks ("(12345) 0:02:03.45",
// "12345", or a bare number as -Ot prints it); OID; IpAddress; Network
// Address; Opaque (hex, or Float, Double, Counter64, UInt64, Int64
// encoded as net-snmp does); NULL. "Wrong Type (should be ...):" prefixes
// are dropped; No Such Object/Instance and end-of-view lines are skipped,
// as are "End of MIB" (snmpwalk -v1), blank lines and lines starting
// with #. Symbolic OIDs are an
// error: record with -On. Quick print (-Oq, -OQ) is not supported.
// Errors are *ParseError values naming name:line.
func ParseWalk(r io.Reader, name string) (*Store, error) {
	p := &walkParser{name: name, b: NewBuilder(name)}
	presize(p.b, r)
	err := readLines(r, name, func(raw []byte, line int) error {
		p.line = line
		return p.feed(raw)
	})
	if err != nil {
		return nil, err
	}
	if p.pend == pendQuoted {
		return nil, p.errorAt(p.pendLine, "quoted string not closed before the end of the file")
	}
	if err := p.flush(); err != nil {
		return nil, err
	}
	return p.b.Build()
}

// pending says which multi-line value is being collected.
type pending uint8

const (
	pendNone     pending = iota
	pendQuoted           // inside "...": lines are content until the closing quote
	pendUnquoted         // a DISPLAY-HINT string: non-varbind lines are content
	pendHex              // Hex-STRING or Opaque bytes: hex lines continue it
	pendBits             // BITS: hex bytes then the set bits, maybe over lines
)

type walkParser struct {
	name string
	b    *Builder
	a    arena
	line int
	arcs []uint32

	pend     pending
	pendLine int
	pendOID  OID
	pendTag  byte
	buf      []byte
	tmp      []byte
}

func (p *walkParser) errorAt(line int, format string, args ...any) error {
	return &ParseError{Name: p.name, Line: line, Err: fmt.Errorf(format, args...)}
}

func (p *walkParser) errorf(format string, args ...any) error {
	return p.errorAt(p.line, format, args...)
}

// add stores oid=v as read on line.
func (p *walkParser) add(oid OID, v Value, line int) { p.b.addLine(oid, v, line) }

// feed takes one raw line (its '\r' still on).
func (p *walkParser) feed(raw []byte) error {
	if p.pend == pendQuoted {
		p.buf = append(p.buf, '\n')
		if p.quoted(raw) {
			p.add(p.pendOID, Value{Tag: p.pendTag, Content: p.a.bytes(p.buf)}, p.pendLine)
			p.pend = pendNone
		}
		return nil
	}
	t := bytes.TrimLeft(raw, " \t")
	bare := bytes.TrimRight(t, " \t\r")
	if len(bare) == 0 {
		if p.pend == pendUnquoted {
			p.buf = append(p.buf, '\n') // trailing ones are dropped by flush
			return nil
		}
		return p.flush()
	}
	left, right, ok := splitVarbind(t, bare)
	if ok && p.pend == pendUnquoted && !isOIDLike(left) {
		ok = false // "key = value" text inside a DISPLAY-HINT string
	}
	if !ok {
		switch {
		case p.pend == pendUnquoted:
			return p.continuation(trimCR(raw), bare)
		case bare[0] == '#' || string(bare) == "End of MIB" ||
			bytes.HasPrefix(bare, []byte("Variables found:")) ||
			bytes.HasPrefix(bare, []byte("Total traversal time")):
			return p.flush() // a comment, or what snmpwalk -v1, -Cp, -Ct add
		case p.pend != pendNone:
			return p.continuation(trimCR(raw), bare)
		}
		return p.errorf("cannot parse %q: want OID = TYPE: VALUE", clip(bare))
	}
	if err := p.flush(); err != nil {
		return err
	}
	return p.varbind(left, right)
}

// splitVarbind splits "OID = value" at the first " = "; the OID part must
// hold no blanks. right keeps its line end (for quoted strings).
func splitVarbind(t, bare []byte) (left, right []byte, ok bool) {
	i := bytes.Index(t, []byte(" = "))
	switch {
	case i >= 0:
		right = t[i+3:]
	case bytes.HasSuffix(bare, []byte(" =")):
		i = len(bare) - 2
	default:
		return nil, nil, false
	}
	left = bytes.TrimRight(t[:i], " \t")
	if len(left) == 0 || bytes.ContainsAny(left, " \t") {
		return nil, nil, false
	}
	return left, right, true
}

// isOIDLike reports whether s starts a new varbind even inside a
// DISPLAY-HINT string: a numeric OID or a MIB-qualified name.
func isOIDLike(s []byte) bool {
	return isNumericOID(s) || bytes.HasPrefix(s, []byte("iso.")) || bytes.Contains(s, []byte("::"))
}

// oidPrefixes are the names net-snmp prints for the top arcs when no MIB
// is loaded (iso.3.6.1.2.1.1.1.0).
var oidPrefixes = []struct {
	name string
	arc  byte
}{{"iso", '1'}, {"ccitt", '0'}, {"joint-iso-ccitt", '2'}}

// parseOID parses the OID of a varbind or of an OID value into p.arcs.
func (p *walkParser) parseOID(s []byte, what string) ([]uint32, error) {
	text := bytes.TrimPrefix(s, []byte("."))
	for _, pre := range oidPrefixes {
		if rest, ok := bytes.CutPrefix(text, []byte(pre.name)); ok && (len(rest) == 0 || rest[0] == '.') {
			p.tmp = append(append(p.tmp[:0], pre.arc), rest...)
			text = p.tmp
			break
		}
	}
	if !isNumericOID(text) {
		return nil, p.errorf("symbolic %s %q: record the walk with numeric OIDs (snmpwalk -On)", what, clip(s))
	}
	var err error
	if p.arcs, err = parseOIDText(p.arcs, text); err != nil {
		return nil, p.errorf("%s: %v", what, err)
	}
	return p.arcs, nil
}

// flush stores a pending unquoted string, hex or BITS value.
func (p *walkParser) flush() error {
	switch p.pend {
	case pendNone:
		return nil
	case pendUnquoted:
		p.buf = bytes.TrimRight(p.buf, "\n")
	case pendBits:
		b, err := decodeBits(p.buf)
		if err != nil {
			return p.errorAt(p.pendLine, "%v", err)
		}
		p.buf = b
	}
	p.pend = pendNone
	p.add(p.pendOID, Value{Tag: p.pendTag, Content: p.a.bytes(p.buf)}, p.pendLine)
	return nil
}

// continuation adds a line that does not start a varbind to the pending value.
func (p *walkParser) continuation(line, bare []byte) error {
	switch p.pend {
	case pendUnquoted:
		p.buf = append(append(p.buf, '\n'), line...)
	case pendBits:
		p.buf = append(append(p.buf, ' '), bare...)
	case pendHex:
		var err error
		if p.buf, err = appendHexFields(p.buf, bare); err != nil {
			return p.errorf("cannot parse %q: want hex bytes continuing the value from line %d, or OID = TYPE: VALUE", clip(bare), p.pendLine)
		}
	}
	return nil
}

// start begins collecting a multi-line value.
func (p *walkParser) start(kind pending, oid OID, tag byte) {
	p.pend, p.pendLine, p.pendOID, p.pendTag = kind, p.line, oid, tag
	p.buf = p.buf[:0]
}

// quoted appends the content of a quoted string (after its opening quote)
// to p.buf and reports whether the closing quote was found. net-snmp
// escapes only '"' and '\'; what follows the closing quote (units) is
// ignored.
func (p *walkParser) quoted(s []byte) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			i++
			p.buf = append(p.buf, s[i])
		case c == '"':
			return true
		default:
			p.buf = append(p.buf, c)
		}
	}
	return false
}

// varbind parses "OID = value".
func (p *walkParser) varbind(left, right []byte) error {
	arcs, err := p.parseOID(left, "OID")
	if err != nil {
		return err
	}
	oid := p.a.oid(arcs)
	r := bytes.TrimLeft(right, " \t")
	if bytes.HasPrefix(r, []byte("Wrong Type (should be ")) {
		if j := bytes.Index(r, []byte("): ")); j >= 0 {
			r = r[j+3:]
		}
	}
	bare := bytes.TrimRight(r, " \t\r")
	switch {
	case len(bare) == 0:
		return p.errorf("missing value after \"=\"")
	case r[0] == '"': // "" or a string printed without its type
		p.start(pendQuoted, oid, ber.TagOctetString)
		if p.quoted(r[1:]) {
			p.pend = pendNone
			p.add(oid, Value{Tag: ber.TagOctetString, Content: p.a.bytes(p.buf)}, p.line)
		}
		return nil
	case bytes.HasPrefix(bare, []byte("No Such Object")), bytes.HasPrefix(bare, []byte("No Such Instance")),
		bytes.HasPrefix(bare, []byte("No more variables left")):
		return nil
	case string(bare) == "NULL":
		p.add(oid, Null(), p.line)
		return nil
	case isDigits(bare): // -Ot prints TimeTicks as a bare number
		return p.number(oid, ber.TagTimeTicks, "Timeticks", bare)
	}
	colon := bytes.IndexByte(bare, ':')
	if colon < 0 {
		return p.errorf("cannot parse value %q: want TYPE: VALUE", clip(bare))
	}
	typ := bare[:colon]
	rest := bytes.TrimLeft(r[colon+1:], " \t")
	return p.typed(oid, typ, rest, bytes.TrimRight(rest, " \t\r"))
}

func isDigits(s []byte) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) > 0
}
