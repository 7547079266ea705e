package pollerlib

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"

	"github.com/gosnmp/gosnmp"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// The v1/v2c codec of the poll path, on the project's fuzzed BER reader
// and writer (snmp/ber). gosnmp's codec, which this replaced for v1/v2c,
// renders every OID as a dotted string and back and allocates per field;
// BenchmarkDecodeResponse measures the two side by side. Values decode as
// gosnmp decodes them (the differential tests and FuzzDecodeResponse hold
// the two to the same result), so Varbinds are what they were. SNMPv3
// keeps gosnmp for the scoped PDU inside the USM envelope.

// appendRequest appends a v1/v2c request message with request-id id.
func appendRequest(b []byte, version Version, community string, req *request, id uint32) []byte {
	vbl := 0
	for _, o := range req.oids {
		vbl += ber.TLVSize(ber.TLVSize(ber.OIDSize(o)) + 2)
	}
	var f1, f2 int64
	if req.pdu == gosnmp.GetBulkRequest {
		f1, f2 = int64(req.nonRep), int64(req.maxRep)
	}
	pdu := ber.TLVSize(ber.IntSize(int64(id))) + ber.TLVSize(ber.IntSize(f1)) + ber.TLVSize(ber.IntSize(f2)) + ber.TLVSize(vbl)
	ver := int64(0)
	if version == V2c {
		ver = 1
	}
	msg := ber.TLVSize(1) + ber.TLVSize(len(community)) + ber.TLVSize(pdu)
	b = slices.Grow(b, ber.TLVSize(msg)) // one allocation at most
	b = append(b, ber.TagSequence)
	b = ber.AppendLength(b, msg)
	b = append(b, ber.TagInteger, 1, byte(ver))
	b = append(b, ber.TagOctetString)
	b = ber.AppendLength(b, len(community))
	b = append(b, community...)
	b = append(b, byte(req.pdu))
	b = ber.AppendLength(b, pdu)
	b = appendInt(b, int64(id))
	b = appendInt(b, f1)
	b = appendInt(b, f2)
	b = append(b, ber.TagSequence)
	b = ber.AppendLength(b, vbl)
	for _, o := range req.oids {
		n := ber.OIDSize(o)
		b = append(b, ber.TagSequence)
		b = ber.AppendLength(b, ber.TLVSize(n)+2)
		b = append(b, ber.TagOID)
		b = ber.AppendLength(b, n)
		b = ber.AppendOID(b, o)
		b = append(b, ber.TagNull, 0)
	}
	return b
}

func appendInt(b []byte, v int64) []byte {
	b = append(b, ber.TagInteger, byte(ber.IntSize(v)))
	return ber.AppendInt(b, v)
}

// message is the envelope of a decoded v1/v2c message.
type message struct {
	version   int64
	community []byte
	pdu       byte
	reqID     int64
	status    int64
	index     int64
	vbl       []byte // the varbind list's content
}

// parseMessage decodes the envelope of a v1/v2c message.
func parseMessage(b []byte) (m message, err error) {
	top := ber.NewReader(b)
	body, err := top.Expect(ber.TagSequence)
	if err != nil {
		return m, err
	}
	r := ber.NewReader(body)
	if m.version, err = r.Int(); err != nil {
		return m, err
	}
	if m.community, err = r.Expect(ber.TagOctetString); err != nil {
		return m, err
	}
	tag, pdu, err := r.Next()
	if err != nil {
		return m, err
	}
	m.pdu = tag
	p := ber.NewReader(pdu)
	if m.reqID, err = p.Int(); err != nil {
		return m, err
	}
	if m.status, err = p.Int(); err != nil {
		return m, err
	}
	if m.index, err = p.Int(); err != nil {
		return m, err
	}
	m.vbl, err = p.Expect(ber.TagSequence)
	return m, err
}

// parseVarbinds decodes a varbind list. Names and OID values share one
// arena; octet strings point into vbl (a datagram of the caller's own,
// never reused), capped so that appending to one cannot overwrite the
// next.
func parseVarbinds(vbl []byte) ([]Varbind, error) { return parseVarbindsInto(vbl, nil) }

// parseVarbindsInto is parseVarbinds decoding into into's array when it
// is large enough. The names, values and octet strings never live in it:
// what a caller was handed from an earlier response stays valid.
func parseVarbindsInto(vbl []byte, into []Varbind) ([]Varbind, error) {
	// The first pass counts the varbinds and bounds the arcs of their OIDs
	// (names and OID values) from the TLV headers alone: an arc takes at
	// least one octet, except the first octet's two, so an OID has at most
	// one arc more than octets. For the usual arcs under 128 the bound is
	// exact, a fraction of the len(vbl) arcs a looser bound reserved.
	n, arcsMax := 0, 0
	for r := ber.NewReader(vbl); r.Len() > 0; n++ {
		vb, err := r.Expect(ber.TagSequence)
		if err != nil {
			return nil, err
		}
		vr := ber.NewReader(vb)
		if name, err := vr.Expect(ber.TagOID); err == nil {
			arcsMax += max(len(name)+1, 2)
		}
		if tag, c, err := vr.Next(); err == nil && tag == ber.TagOID {
			arcsMax += max(len(c)+1, 2)
		}
	}
	out := into[:0]
	if cap(out) < n {
		out = make([]Varbind, n)
	} else {
		out = out[:n]
		clear(out)
	}
	// The arena never moves: what the second pass appends stays within
	// arcsMax (an OID that would not is malformed there: it fails first).
	arena := make([]uint32, 0, arcsMax)
	r := ber.NewReader(vbl)
	for i := range out {
		vb, _ := r.Expect(ber.TagSequence)
		vr := ber.NewReader(vb)
		name, err := vr.Expect(ber.TagOID)
		if err != nil {
			return nil, err
		}
		if arena, err = appendOID(arena, name); err != nil {
			return nil, err
		}
		v := &out[i]
		v.OID = OID(arena[len(arena)-arcs(name) : len(arena) : len(arena)])
		tag, c, err := vr.Next()
		if err != nil {
			return nil, err
		}
		if arena, err = v.setValue(tag, c, arena); err != nil {
			return nil, fmt.Errorf("varbind %s: %w", v.OID, err)
		}
	}
	return out, nil
}

// appendOID decodes an OID as gosnmp does: no content is .0.0.
func appendOID(dst []uint32, c []byte) ([]uint32, error) {
	if len(c) == 0 {
		return append(dst, 0, 0), nil
	}
	return ber.ParseOID(dst, c)
}

// arcs is the number of arcs in OID content c (which parsed).
func arcs(c []byte) int {
	if len(c) == 0 {
		return 2
	}
	n := 1 // the first subidentifier holds two arcs
	for _, x := range c {
		if x&0x80 == 0 {
			n++
		}
	}
	return n
}

var (
	errUnsupported = errors.New("unsupported type")
	errIPLength    = errors.New("IpAddress not 4 or 16 octets")
)

// setValue decodes a value of type tag with content c into v, as gosnmp
// (v1.47) and fromPDU together did.
func (v *Varbind) setValue(tag byte, c []byte, arena []uint32) ([]uint32, error) {
	v.Type = Type(tag)
	var err error
	switch tag {
	case ber.TagInteger:
		v.Int, err = ber.ParseInt(c)
	case ber.TagOctetString:
		v.Bytes = c[:len(c):len(c)]
	case ber.TagOpaque:
		return arena, v.setOpaque(c)
	case ber.TagIPAddress:
		switch len(c) {
		case 0: // buggy devices send these; gosnmp gives no value
		case 4:
			v.Bytes = c[:4:4]
		case 16:
			// gosnmp renders the address as text and pollerlib parsed it
			// back, so an IPv4-mapped address came out as 4 octets.
			a := netip.AddrFrom16([16]byte(c)).Unmap()
			v.Bytes = a.AsSlice()
		default:
			return arena, errIPLength
		}
	case ber.TagOID:
		n := len(arena)
		if arena, err = appendOID(arena, c); err == nil {
			v.ObjectID = OID(arena[n:len(arena):len(arena)])
		}
	case ber.TagCounter32, ber.TagGauge32, ber.TagCounter64:
		v.Uint, err = parseUnsigned(c)
	case ber.TagTimeTicks:
		v.Uint, err = parseUnsigned(c)
		v.Uint = uint64(uint32(v.Uint)) // as gosnmp truncates
	case byte(TypeUinteger32):
		var i int64
		i, err = ber.ParseInt(c) // gosnmp reads it signed
		v.Uint = uint64(uint32(i))
	case ber.TagNull, ber.TagNoSuchObject, ber.TagNoSuchInstance, ber.TagEndOfMibView:
	default:
		return arena, fmt.Errorf("%w 0x%02x", errUnsupported, tag)
	}
	return arena, err
}

// parseUnsigned reads the content of an unsigned type; gosnmp reads no
// content as 0.
func parseUnsigned(c []byte) (uint64, error) {
	if len(c) == 0 {
		return 0, nil
	}
	return ber.ParseUint(c)
}

// setOpaque decodes Opaque content: a float or double wrapped in it
// (net-snmp's opaque extension) is rendered as gosnmp renders it.
func (v *Varbind) setOpaque(c []byte) error {
	if len(c) == 0 {
		return errors.New("empty Opaque")
	}
	if len(c) > 2 && c[0] == 0x9f && (c[1] == 0x78 || c[1] == 0x79) {
		l, off := int(c[2]), 3
		if l > 127 { // gosnmp reads long lengths too; floats never need them
			return errors.New("opaque float with a long length")
		}
		if l > len(c)-off {
			return errors.New("opaque float truncated")
		}
		f := c[off : off+l]
		if c[1] == 0x78 {
			if len(f) != 4 {
				return errors.New("opaque float not 4 octets")
			}
			v.Bytes = []byte(fmt.Sprint(math.Float32frombits(binary.BigEndian.Uint32(f))))
		} else {
			if len(f) != 8 {
				return errors.New("opaque double not 8 octets")
			}
			v.Bytes = []byte(fmt.Sprint(math.Float64frombits(binary.BigEndian.Uint64(f))))
		}
		return nil
	}
	v.Bytes = c[:len(c):len(c)]
	return nil
}
