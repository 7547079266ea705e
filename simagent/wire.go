package simagent

import (
	"errors"

	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// maxUDPPayload is the largest IPv4 UDP payload.
const maxUDPPayload = 65507

// maxVarbinds bounds the varbinds one request may carry: as many as a
// datagram can hold (a varbind takes 7 bytes at least), so every
// well-formed request is answered, as snmpd does (or gets tooBig).
const maxVarbinds = maxUDPPayload/7 + 1

var errTooManyVarbinds = errors.New("too many varbinds")

// request is a decoded v1/v2c request. It points into the packet buffer and
// into its own arena; both are reused for the next request.
type request struct {
	version   int64
	community []byte
	pdu       byte
	reqID     []byte // content octets, echoed as received
	reqIDVal  int64
	f1, f2    int64      // error-status/non-repeaters, error-index/max-repetitions
	oids      [][]uint32 // varbind names
	rawVBs    [][]byte   // varbinds as received (TLV), for echoing
	arena     []uint32
}

// decode parses pkt. Errors wrap ber.ErrMalformed.
func (r *request) decode(pkt []byte) error {
	r.oids, r.rawVBs, r.arena = r.oids[:0], r.rawVBs[:0], r.arena[:0]
	top := ber.NewReader(pkt)
	msg, err := top.Expect(ber.TagSequence)
	if err != nil {
		return err
	}
	m := ber.NewReader(msg)
	if r.version, err = m.Int(); err != nil {
		return err
	}
	if r.version != 0 && r.version != 1 {
		return nil // the caller refuses other versions
	}
	if r.community, err = m.Expect(ber.TagOctetString); err != nil {
		return err
	}
	tag, pdu, err := m.Next()
	if err != nil {
		return err
	}
	r.pdu = tag
	p := ber.NewReader(pdu)
	if r.reqID, err = p.Expect(ber.TagInteger); err != nil {
		return err
	}
	if r.reqIDVal, err = ber.ParseInt(r.reqID); err != nil {
		return err
	}
	if r.f1, err = p.Int(); err != nil {
		return err
	}
	if r.f2, err = p.Int(); err != nil {
		return err
	}
	vbl, err := p.Expect(ber.TagSequence)
	if err != nil {
		return err
	}
	v := ber.NewReader(vbl)
	for v.Len() > 0 {
		start := v.Offset()
		vb, err := v.Expect(ber.TagSequence)
		if err != nil {
			return err
		}
		raw := vbl[start:v.Offset()]
		vr := ber.NewReader(vb)
		oid, err := vr.Expect(ber.TagOID)
		if err != nil {
			return err
		}
		if _, _, err := vr.Next(); err != nil {
			return err
		}
		if len(r.oids) == maxVarbinds {
			return errTooManyVarbinds
		}
		n := len(r.arena)
		if r.arena, err = ber.ParseOID(r.arena, oid); err != nil {
			return err
		}
		r.oids = append(r.oids, r.arena[n:len(r.arena):len(r.arena)])
		r.rawVBs = append(r.rawVBs, raw)
	}
	// The arena may have moved while growing: re-slice the names.
	off := 0
	for i, o := range r.oids {
		r.oids[i] = r.arena[off : off+len(o) : off+len(o)]
		off += len(o)
	}
	return nil
}

// varbindSize is the encoded size of a varbind with an OID of oidLen content
// octets and a value of valLen content octets.
func varbindSize(oidLen, valLen int) int {
	return ber.TLVSize(ber.TLVSize(oidLen) + ber.TLVSize(valLen))
}

// appendVarbind appends SEQUENCE { OID, value }.
func appendVarbind(b []byte, oid []uint32, oidLen int, tag byte, content []byte) []byte {
	b = append(b, ber.TagSequence)
	b = ber.AppendLength(b, ber.TLVSize(oidLen)+ber.TLVSize(len(content)))
	b = append(b, ber.TagOID)
	b = ber.AppendLength(b, oidLen)
	b = ber.AppendOID(b, oid)
	b = append(b, tag)
	b = ber.AppendLength(b, len(content))
	return append(b, content...)
}

// header describes the envelope of a response.
type header struct {
	version   int64
	community []byte
	reqID     []byte
	errStatus int
	errIndex  int
}

func (h *header) pduInnerSize(vblLen int) int {
	return ber.TLVSize(len(h.reqID)) + ber.TLVSize(ber.IntSize(int64(h.errStatus))) +
		ber.TLVSize(ber.IntSize(int64(h.errIndex))) + ber.TLVSize(vblLen)
}

// size is the whole message size for a varbind list of vblLen bytes.
func (h *header) size(vblLen int) int {
	inner := ber.TLVSize(1) + ber.TLVSize(len(h.community)) + ber.TLVSize(h.pduInnerSize(vblLen))
	return ber.TLVSize(inner)
}

// appendMessage appends the whole Response message around vbl.
func (h *header) appendMessage(b []byte, vbl []byte) []byte {
	pduInner := h.pduInnerSize(len(vbl))
	inner := ber.TLVSize(1) + ber.TLVSize(len(h.community)) + ber.TLVSize(pduInner)
	b = append(b, ber.TagSequence)
	b = ber.AppendLength(b, inner)
	b = append(b, ber.TagInteger, 1, byte(h.version))
	b = ber.AppendTLV(b, ber.TagOctetString, h.community)
	b = append(b, ber.PDUResponse)
	b = ber.AppendLength(b, pduInner)
	b = ber.AppendTLV(b, ber.TagInteger, h.reqID)
	b = appendIntTLV(b, int64(h.errStatus))
	b = appendIntTLV(b, int64(h.errIndex))
	b = append(b, ber.TagSequence)
	b = ber.AppendLength(b, len(vbl))
	return append(b, vbl...)
}

func appendIntTLV(b []byte, v int64) []byte {
	b = append(b, ber.TagInteger, byte(ber.IntSize(v)))
	return ber.AppendInt(b, v)
}
