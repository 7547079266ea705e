package ber

import (
	"testing"
)

var benchOID = []uint32{1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 24} // ifHCInOctets.24

func BenchmarkAppendOID(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendOID(buf[:0], benchOID)
	}
}

func BenchmarkOIDSize(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = OIDSize(benchOID)
	}
}

func BenchmarkParseOID(b *testing.B) {
	c := AppendOID(nil, benchOID)
	dst := make([]uint32, 0, 32)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = ParseOID(dst[:0], c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendInt(b *testing.B) {
	buf := make([]byte, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendInt(buf[:0], 0x12345678)
	}
}

func BenchmarkAppendUint(b *testing.B) {
	buf := make([]byte, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendUint(buf[:0], 1<<63+12345)
	}
}

// BenchmarkReadMessage walks a v2c Get of one OID the way an agent
// decodes a request.
func BenchmarkReadMessage(b *testing.B) {
	vb := AppendTLV(nil, TagOID, AppendOID(nil, benchOID))
	vb = AppendTLV(vb, TagNull, nil)
	pdu := AppendTLV(nil, TagInteger, AppendInt(nil, 0x40000000))
	pdu = AppendTLV(pdu, TagInteger, []byte{0})
	pdu = AppendTLV(pdu, TagInteger, []byte{0})
	pdu = AppendTLV(pdu, TagSequence, AppendTLV(nil, TagSequence, vb))
	msg := AppendTLV(nil, TagInteger, []byte{1})
	msg = AppendTLV(msg, TagOctetString, []byte("public"))
	msg = AppendTLV(msg, PDUGet, pdu)
	pkt := AppendTLV(nil, TagSequence, msg)
	arcs := make([]uint32, 0, 32)
	b.ReportAllocs()
	for b.Loop() {
		top := NewReader(pkt)
		m, err := top.Expect(TagSequence)
		if err != nil {
			b.Fatal(err)
		}
		r := NewReader(m)
		if _, err := r.Int(); err != nil {
			b.Fatal(err)
		}
		if _, err := r.Expect(TagOctetString); err != nil {
			b.Fatal(err)
		}
		_, p, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		pr := NewReader(p)
		for range 3 {
			if _, err := pr.Int(); err != nil {
				b.Fatal(err)
			}
		}
		vbl, err := pr.Expect(TagSequence)
		if err != nil {
			b.Fatal(err)
		}
		vr := NewReader(vbl)
		v, err := vr.Expect(TagSequence)
		if err != nil {
			b.Fatal(err)
		}
		o, err := NewReader(v).Expect(TagOID)
		if err != nil {
			b.Fatal(err)
		}
		if arcs, err = ParseOID(arcs[:0], o); err != nil {
			b.Fatal(err)
		}
	}
}
