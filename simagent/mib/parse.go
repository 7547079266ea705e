package mib

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/snmpchaos/snmpchaos/internal/oid"
)

// ErrUnsupported is wrapped by errors about data that is well formed but
// asks for something the simulator does not do (an snmpsim variation
// module other than numeric and writecache, a numeric parameter it cannot
// honour, an SNMP type it cannot serve).
var ErrUnsupported = errors.New("not supported")

// ParseError is an error in a data file: it names the file (or the name
// the caller gave the reader) and the line.
type ParseError struct {
	// Name is the file name given to the parser.
	Name string
	// Line is the 1-based line the problem is on.
	Line int
	// Err says what is wrong.
	Err error
}

// Error formats the error as "name:line: what".
func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err) }

// Unwrap returns what is wrong, so errors.Is(err, ErrUnsupported) works.
func (e *ParseError) Unwrap() error { return e.Err }

// maxLine is the longest line the parsers accept (a long Hex-STRING or a
// sysDescr with a licence text in it fits easily).
const maxLine = 16 << 20

// newLineScanner returns a scanner over r that splits on '\n' only, so a
// '\r' inside a quoted multi-line string survives; callers strip the '\r'
// of CRLF line ends where it is not content.
func newLineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxLine) // grows from 4 KiB as long lines need
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	return sc
}

// presize makes room in b for the records r likely holds when r knows
// its length (bytes.Reader, strings.Reader, bytes.Buffer), so a big file
// does not pay for growing the builder again and again.
func presize(b *Builder, r io.Reader) {
	const (
		bytesPerRecord = 48      // a typical recorded line is 40-70 bytes
		most           = 1 << 20 // beyond this, grow as records come
	)
	if l, ok := r.(interface{ Len() int }); ok {
		b.grow(min(l.Len()/bytesPerRecord, most))
	}
}

// readLines calls fn with each line of r (split at '\n' only, see
// newLineScanner; a UTF-8 byte order mark dropped from the first) and its
// 1-based number, and returns fn's first error. A read error (a line
// longer than maxLine) names name and the line it is on.
func readLines(r io.Reader, name string, fn func(raw []byte, line int) error) error {
	sc := newLineScanner(r)
	line := 0
	for sc.Scan() {
		line++
		raw := sc.Bytes()
		if line == 1 {
			raw = trimBOM(raw)
		}
		if err := fn(raw, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return scanError(name, line+1, err)
	}
	return nil
}

// parseRecordLines reads a format of one record per line (snmprec,
// sapwalk) into b: each line is trimmed of blanks, blank lines and lines
// starting with # are skipped, and record is called with the rest; its
// error comes back as a *ParseError naming name:line.
func parseRecordLines(r io.Reader, name string, b *Builder, record func(text []byte, line int) error) (*Store, error) {
	presize(b, r)
	err := readLines(r, name, func(raw []byte, line int) error {
		text := bytes.TrimSpace(raw)
		if len(text) == 0 || text[0] == '#' {
			return nil
		}
		if err := record(text, line); err != nil {
			return &ParseError{Name: name, Line: line, Err: err}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b.Build()
}

// scanError names the file and line of a read error.
func scanError(name string, line int, err error) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return &ParseError{Name: name, Line: line, Err: fmt.Errorf("line longer than %d bytes: %w", maxLine, err)}
	}
	return fmt.Errorf("%s: read: %w", name, err)
}

// trimBOM drops a UTF-8 byte order mark from the first line.
func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) }

// trimCR drops the '\r' of a CRLF line end.
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// arena hands out OIDs and content bytes carved from large chunks, so a
// 50,000-line file costs a few dozen allocations instead of 100,000.
type arena struct {
	arcs []uint32
	data []byte
}

const arenaChunk = 16 << 10

// oid copies arcs into the arena.
func (a *arena) oid(arcs []uint32) OID {
	if cap(a.arcs)-len(a.arcs) < len(arcs) {
		a.arcs = make([]uint32, 0, max(arenaChunk, len(arcs)))
	}
	n := len(a.arcs)
	a.arcs = append(a.arcs, arcs...)
	return OID(a.arcs[n:len(a.arcs):len(a.arcs)])
}

// bytes copies b into the arena.
func (a *arena) bytes(b []byte) []byte {
	if cap(a.data)-len(a.data) < len(b) {
		a.data = make([]byte, 0, max(4*arenaChunk, len(b)))
	}
	n := len(a.data)
	a.data = append(a.data, b...)
	return a.data[n:len(a.data):len(a.data)]
}

// parseOIDText parses a dotted numeric OID (leading dot optional) into
// dst[:0], and checks that BER can encode it. The error says what is wrong
// with the text.
func parseOIDText(dst []uint32, s []byte) ([]uint32, error) {
	dst, err := oid.Parse(dst, s)
	if err != nil {
		return dst, err
	}
	if len(dst) < 2 {
		return dst, fmt.Errorf("bad OID %q: needs at least two arcs", s)
	}
	if dst[0] > 2 || (dst[0] < 2 && dst[1] >= 40) {
		return dst, fmt.Errorf("bad OID %q: first arcs %d.%d are not encodable", s, dst[0], dst[1])
	}
	return dst, nil
}

// isNumericOID reports whether s is made of digits and dots only.
func isNumericOID(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// parseDecimal parses an optionally signed decimal integer. ok is false
// when s is not one; big is true when its magnitude overflows uint64.
func parseDecimal(s []byte) (neg bool, mag uint64, ok, big bool) {
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return false, 0, false, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false, 0, false, false
		}
		d := uint64(c - '0')
		if mag > (math.MaxUint64-d)/10 {
			big = true
			continue
		}
		mag = mag*10 + d
	}
	return neg, mag, true, big
}

// parseUnsigned parses a decimal in [0, hi] for a value of type typ.
func parseUnsigned(s []byte, typ string, hi uint64) (uint64, error) {
	neg, mag, ok, big := parseDecimal(s)
	switch {
	case !ok:
		return 0, fmt.Errorf("bad %s value %q: want a decimal number", typ, s)
	case big || mag > hi || (neg && mag != 0):
		return 0, fmt.Errorf("%s value %s out of range [0, %d]", typ, s, hi)
	}
	return mag, nil
}

// parseInteger32 parses a decimal Integer32.
func parseInteger32(s []byte, typ string) (int64, error) {
	neg, mag, ok, big := parseDecimal(s)
	switch {
	case !ok:
		return 0, fmt.Errorf("bad %s value %q: want a decimal number", typ, s)
	case big || (!neg && mag > math.MaxInt32) || (neg && mag > -math.MinInt32):
		return 0, fmt.Errorf("%s value %s out of range [%d, %d]", typ, s, math.MinInt32, math.MaxInt32)
	}
	if neg {
		return -int64(mag), nil
	}
	return int64(mag), nil
}

// parseIPv4 parses a dotted quad.
func parseIPv4(s []byte) ([4]byte, bool) {
	var ip [4]byte
	part, digits := 0, 0
	v := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || part > 3 {
				return ip, false
			}
			ip[part] = byte(v)
			part++
			v, digits = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits == 3 {
			return ip, false
		}
		v = v*10 + int(c-'0')
		digits++
		if v > 255 {
			return ip, false
		}
	}
	return ip, part == 4
}

// unhex is the value of a hex digit, or -1.
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// appendHex decodes a run of hex digit pairs (no separators) onto dst.
func appendHex(dst, s []byte) ([]byte, error) {
	if len(s)%2 != 0 {
		return dst, fmt.Errorf("bad hex %q: odd number of digits", clip(s))
	}
	for i := 0; i < len(s); i += 2 {
		h, l := unhex(s[i]), unhex(s[i+1])
		if h < 0 || l < 0 {
			return dst, fmt.Errorf("bad hex %q: %q is not a hex digit pair", clip(s), s[i:i+2])
		}
		dst = append(dst, byte(h<<4|l))
	}
	return dst, nil
}

// clip shortens long text quoted in error messages.
func clip(s []byte) []byte {
	if len(s) > 80 {
		return append(append([]byte{}, s[:77]...), "..."...)
	}
	return s
}
