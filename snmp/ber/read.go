package ber

// Reader walks a BER byte slice without copying. Its methods return
// ErrMalformed-wrapped errors and never panic on bad input.
type Reader struct {
	b   []byte
	off int
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Len is the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) - r.off }

// Offset is the number of bytes read so far.
func (r *Reader) Offset() int { return r.off }

// Peek returns the next tag without consuming it.
func (r *Reader) Peek() (byte, bool) {
	if r.off >= len(r.b) {
		return 0, false
	}
	return r.b[r.off], true
}

// Next reads one TLV and returns its tag and content.
func (r *Reader) Next() (tag byte, content []byte, err error) {
	if r.off >= len(r.b) {
		return 0, nil, malformed("unexpected end of data at offset %d", r.off)
	}
	tag = r.b[r.off]
	if tag&0x1f == 0x1f {
		return 0, nil, malformed("multi-byte tag at offset %d", r.off)
	}
	p := r.off + 1
	if p >= len(r.b) {
		return 0, nil, malformed("missing length at offset %d", p)
	}
	l := int(r.b[p])
	p++
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 {
			return 0, nil, malformed("indefinite length at offset %d", p-1)
		}
		if n > 4 || p+n > len(r.b) {
			return 0, nil, malformed("bad length of length %d at offset %d", n, p-1)
		}
		l = 0
		for i := 0; i < n; i++ {
			l = l<<8 | int(r.b[p+i])
		}
		p += n
	}
	if l < 0 || l > len(r.b)-p {
		return 0, nil, malformed("length %d overruns data at offset %d", l, p)
	}
	r.off = p + l
	return tag, r.b[p : p+l], nil
}

// Expect reads one TLV and checks its tag.
func (r *Reader) Expect(want byte) ([]byte, error) {
	at := r.off
	tag, c, err := r.Next()
	if err != nil {
		return nil, err
	}
	if tag != want {
		return nil, malformed("tag 0x%02x at offset %d, want 0x%02x", tag, at, want)
	}
	return c, nil
}

// Int reads an INTEGER that fits in an int64.
func (r *Reader) Int() (int64, error) {
	c, err := r.Expect(TagInteger)
	if err != nil {
		return 0, err
	}
	return ParseInt(c)
}

// ParseInt decodes INTEGER content octets.
func ParseInt(c []byte) (int64, error) {
	if len(c) == 0 || len(c) > 8 {
		return 0, malformed("integer of %d bytes", len(c))
	}
	v := int64(int8(c[0]))
	for _, x := range c[1:] {
		v = v<<8 | int64(x)
	}
	return v, nil
}

// ParseUint decodes the content octets of an unsigned type (Counter32,
// Gauge32, TimeTicks, Counter64), allowing the leading zero byte.
func ParseUint(c []byte) (uint64, error) {
	if len(c) == 0 || len(c) > 9 || (len(c) == 9 && c[0] != 0) {
		return 0, malformed("unsigned of %d bytes", len(c))
	}
	var v uint64
	for _, x := range c {
		v = v<<8 | uint64(x)
	}
	return v, nil
}

// ParseOID decodes OID content octets, appending the arcs to dst.
func ParseOID(dst []uint32, c []byte) ([]uint32, error) {
	if len(c) == 0 {
		return dst, malformed("empty OID")
	}
	first := true
	var v uint64
	for i, x := range c {
		if v == 0 && x == 0x80 {
			return dst, malformed("non-minimal OID arc at byte %d", i)
		}
		v = v<<7 | uint64(x&0x7f)
		if v > 0xffffffff+80 {
			return dst, malformed("OID arc overflows 32 bits at byte %d", i)
		}
		if x&0x80 != 0 {
			continue
		}
		if first {
			first = false
			switch {
			case v < 40:
				dst = append(dst, 0, uint32(v))
			case v < 80:
				dst = append(dst, 1, uint32(v-40))
			default:
				dst = append(dst, 2, uint32(v-80))
			}
		} else {
			if v > 0xffffffff {
				return dst, malformed("OID arc overflows 32 bits at byte %d", i)
			}
			dst = append(dst, uint32(v))
		}
		v = 0
	}
	if c[len(c)-1]&0x80 != 0 {
		return dst, malformed("truncated OID arc")
	}
	return dst, nil
}
