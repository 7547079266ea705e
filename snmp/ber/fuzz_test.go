package ber

import (
	"encoding/asn1"
	"encoding/binary"
	"slices"
	"testing"
)

// FuzzOIDRoundTrip checks ParseOID and AppendOID against each other and
// against encoding/asn1, from both ends: data as OID content octets, and
// data as arcs.
func FuzzOIDRoundTrip(f *testing.F) {
	for _, s := range [][]byte{
		{0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00},
		{0x00}, {0x27}, {0x28}, {0x4f}, {0x50}, {0x7f}, {0x81, 0x00},
		{0x88, 0x37, 0x03},
		{0x2b, 0x8f, 0xff, 0xff, 0xff, 0x7f},
		{0x90, 0x80, 0x80, 0x80, 0x4f},
		{0x2b, 0x80, 0x01}, {0x2b, 0x06, 0x81}, {0x2b, 0x90, 0x80, 0x80, 0x80, 0x00},
		{},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// data as content octets: what parses re-encodes to the same octets.
		arcs, err := ParseOID(nil, data)
		if err == nil {
			if len(arcs) < 2 {
				t.Fatalf("ParseOID(% x) = %v: fewer than two arcs", data, arcs)
			}
			if got := AppendOID(nil, arcs); !slices.Equal(got, data) {
				t.Fatalf("AppendOID(ParseOID(% x)) = % x", data, got)
			}
			if n := OIDSize(arcs); n != len(data) {
				t.Fatalf("OIDSize(%v) = %d, want %d", arcs, n, len(data))
			}
		}
		// encoding/asn1 accepting it means ParseOID must too, alike.
		var ref asn1.ObjectIdentifier
		if len(data) < 128 {
			der := append([]byte{0x06, byte(len(data))}, data...)
			if rest, aerr := asn1.Unmarshal(der, &ref); aerr == nil && len(rest) == 0 {
				if err != nil {
					t.Fatalf("ParseOID(% x): %v; encoding/asn1 reads %v", data, err, ref)
				}
				if !slices.Equal(toASN1(arcs), ref) {
					t.Fatalf("ParseOID(% x) = %v; encoding/asn1 reads %v", data, arcs, ref)
				}
			}
		}

		// data as arcs, made encodable: they survive a round trip.
		oid := make([]uint32, 0, len(data)/4+2)
		for b := data; len(b) >= 4; b = b[4:] {
			oid = append(oid, binary.BigEndian.Uint32(b))
		}
		if len(oid) < 2 {
			oid = append(oid, 0, 0)
		}
		oid[0] %= 3
		if oid[0] < 2 {
			oid[1] %= 40
		}
		enc := AppendOID(nil, oid)
		if len(enc) != OIDSize(oid) {
			t.Fatalf("OIDSize(%v) = %d, AppendOID wrote %d octets", oid, OIDSize(oid), len(enc))
		}
		back, err := ParseOID(nil, enc)
		if err != nil {
			t.Fatalf("ParseOID(AppendOID(%v) = % x): %v", oid, enc, err)
		}
		if !slices.Equal(back, oid) {
			t.Fatalf("ParseOID(AppendOID(%v)) = %v", oid, back)
		}
	})
}
