package ber

import (
	"encoding/asn1"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOID(t *testing.T) {
	for _, tc := range []struct {
		name string
		oid  []uint32
		want []byte
	}{
		{"internet", []uint32{1, 3, 6, 1}, []byte{0x2b, 0x06, 0x01}},
		{"sysUpTime.0", []uint32{1, 3, 6, 1, 2, 1, 1, 3, 0}, []byte{0x2b, 6, 1, 2, 1, 1, 3, 0}},
		{"zeroDotZero", []uint32{0, 0}, []byte{0x00}},
		{"first arc 0, max second", []uint32{0, 39}, []byte{0x27}},
		{"first arc 1", []uint32{1, 0}, []byte{0x28}},
		{"first arc 1, max second", []uint32{1, 39}, []byte{0x4f}},
		{"first arc 2", []uint32{2, 0}, []byte{0x50}},
		{"first arc 2, second 47: one octet", []uint32{2, 47}, []byte{0x7f}},
		{"first arc 2, second 48: two octets", []uint32{2, 48}, []byte{0x81, 0x00}},
		{"X.690 example 2.999.3", []uint32{2, 999, 3}, []byte{0x88, 0x37, 0x03}},
		{"arc 127", []uint32{1, 3, 127}, []byte{0x2b, 0x7f}},
		{"arc 128", []uint32{1, 3, 128}, []byte{0x2b, 0x81, 0x00}},
		{"arc 16383", []uint32{1, 3, 16383}, []byte{0x2b, 0xff, 0x7f}},
		{"arc 16384", []uint32{1, 3, 16384}, []byte{0x2b, 0x81, 0x80, 0x00}},
		{"enterprise net-snmp", []uint32{1, 3, 6, 1, 4, 1, 8072}, []byte{0x2b, 6, 1, 4, 1, 0xbf, 0x08}},
		{"max arc", []uint32{1, 3, math.MaxUint32}, []byte{0x2b, 0x8f, 0xff, 0xff, 0xff, 0x7f}},
		{"first arc 2, max second arc", []uint32{2, math.MaxUint32}, []byte{0x90, 0x80, 0x80, 0x80, 0x4f}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendOID([]byte{0xee}, tc.oid)
			assert.Equal(t, append([]byte{0xee}, tc.want...), got, "appends after what is there")
			assert.Equal(t, len(tc.want), OIDSize(tc.oid))

			arcs, err := ParseOID([]uint32{7}, tc.want)
			require.NoError(t, err)
			assert.Equal(t, append([]uint32{7}, tc.oid...), arcs, "appends after what is there")

			if fitsASN1(tc.oid) {
				der, err := asn1.Marshal(toASN1(tc.oid))
				require.NoError(t, err)
				assert.Equal(t, der[2:], tc.want, "as encoding/asn1 encodes it")
			}
		})
	}
}

func TestAppendOIDShort(t *testing.T) {
	// Fewer than two arcs encode as if padded with zeros.
	assert.Equal(t, []byte{0x00}, AppendOID(nil, nil))
	assert.Equal(t, 1, OIDSize(nil))
	assert.Equal(t, []byte{0x28}, AppendOID(nil, []uint32{1}))
	assert.Equal(t, 1, OIDSize([]uint32{1}))
}

func TestParseOIDRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    []byte
	}{
		{"empty", nil},
		{"last arc unfinished", []byte{0x2b, 0x06, 0x81}},
		{"only a continuation octet", []byte{0x80}},
		{"non-minimal arc", []byte{0x2b, 0x80, 0x01}},
		{"non-minimal first arc", []byte{0x80, 0x2b}},
		{"arc of 2^32", []byte{0x2b, 0x90, 0x80, 0x80, 0x80, 0x00}},
		{"arc far past 2^32", []byte{0x2b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
		{"first subidentifier past 2.(2^32-1)", []byte{0x90, 0x80, 0x80, 0x80, 0x50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseOID(nil, tc.c)
			assert.ErrorIs(t, err, ErrMalformed)
		})
	}
}

// fitsASN1 reports whether encoding/asn1 can encode oid: arcs that fit an
// int, and first arcs it accepts.
func fitsASN1(oid []uint32) bool {
	if len(oid) < 2 || oid[0] > 2 || (oid[0] < 2 && oid[1] >= 40) {
		return false
	}
	for _, a := range oid {
		if a > math.MaxInt32 {
			return false
		}
	}
	return true
}

func toASN1(oid []uint32) asn1.ObjectIdentifier {
	out := make(asn1.ObjectIdentifier, len(oid))
	for i, a := range oid {
		out[i] = int(a)
	}
	return out
}
