package ber

import (
	"encoding/asn1"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLength(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		want []byte
	}{
		{"zero", 0, []byte{0x00}},
		{"short max", 127, []byte{0x7f}},
		{"one octet min", 128, []byte{0x81, 0x80}},
		{"one octet max", 255, []byte{0x81, 0xff}},
		{"two octets min", 256, []byte{0x82, 0x01, 0x00}},
		{"max UDP payload", 65507, []byte{0x82, 0xff, 0xe3}},
		{"two octets max", 65535, []byte{0x82, 0xff, 0xff}},
		{"three octets min", 65536, []byte{0x83, 0x01, 0x00, 0x00}},
		{"three octets max", 0xffffff, []byte{0x83, 0xff, 0xff, 0xff}},
		{"four octets", 0x1000000, []byte{0x84, 0x01, 0x00, 0x00, 0x00}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendLength([]byte{0xee}, tc.n)
			assert.Equal(t, append([]byte{0xee}, tc.want...), got, "appends after what is there")
			assert.Equal(t, len(tc.want), LenSize(tc.n))
			assert.Equal(t, 1+len(tc.want)+tc.n, TLVSize(tc.n))

			// The reader reads it back as the length of a TLV.
			tlv := append([]byte{TagOctetString}, tc.want...)
			if tc.n <= 1<<16 {
				tlv = append(tlv, make([]byte, tc.n)...)
				tag, content, err := NewReader(tlv).Next()
				require.NoError(t, err)
				assert.Equal(t, byte(TagOctetString), tag)
				assert.Len(t, content, tc.n)
			}
		})
	}
}

func TestAppendTLV(t *testing.T) {
	assert.Equal(t, []byte{0x04, 0x02, 'h', 'i'}, AppendTLV(nil, TagOctetString, []byte("hi")))
	assert.Equal(t, []byte{0x05, 0x00}, AppendTLV(nil, TagNull, nil))
	long := make([]byte, 200)
	got := AppendTLV(nil, TagOctetString, long)
	assert.Equal(t, []byte{0x04, 0x81, 200}, got[:3])
	assert.Len(t, got, TLVSize(200))
}

func TestInt(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    int64
		want []byte
	}{
		{"zero", 0, []byte{0x00}},
		{"one", 1, []byte{0x01}},
		{"max one octet", 127, []byte{0x7f}},
		{"128 needs a sign octet", 128, []byte{0x00, 0x80}},
		{"255", 255, []byte{0x00, 0xff}},
		{"256", 256, []byte{0x01, 0x00}},
		{"max two octets", 32767, []byte{0x7f, 0xff}},
		{"32768", 32768, []byte{0x00, 0x80, 0x00}},
		{"minus one", -1, []byte{0xff}},
		{"min one octet", -128, []byte{0x80}},
		{"-129", -129, []byte{0xff, 0x7f}},
		{"min two octets", -32768, []byte{0x80, 0x00}},
		{"-32769", -32769, []byte{0xff, 0x7f, 0xff}},
		{"max int32", math.MaxInt32, []byte{0x7f, 0xff, 0xff, 0xff}},
		{"min int32", math.MinInt32, []byte{0x80, 0x00, 0x00, 0x00}},
		{"max uint32", math.MaxUint32, []byte{0x00, 0xff, 0xff, 0xff, 0xff}},
		{"max int64", math.MaxInt64, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"min int64", math.MinInt64, []byte{0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendInt(nil, tc.v)
			assert.Equal(t, tc.want, got)
			// encoding/asn1 is an independent DER encoder: same octets.
			der, err := asn1.Marshal(tc.v)
			require.NoError(t, err)
			assert.Equal(t, der[2:], got, "as encoding/asn1 encodes it")

			v, err := ParseInt(got)
			require.NoError(t, err)
			assert.Equal(t, tc.v, v)

			r := NewReader(AppendTLV(nil, TagInteger, got))
			v, err = r.Int()
			require.NoError(t, err)
			assert.Equal(t, tc.v, v)
			assert.Zero(t, r.Len())
		})
	}
}

func TestParseIntRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    []byte
	}{
		{"empty", nil},
		{"nine octets", []byte{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"ten octets", make([]byte, 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseInt(tc.c)
			assert.ErrorIs(t, err, ErrMalformed)
		})
	}
}

func TestParseIntAcceptsNonMinimal(t *testing.T) {
	// BER (unlike DER) allows redundant leading octets; agents see them.
	v, err := ParseInt([]byte{0x00, 0x00, 0x01})
	require.NoError(t, err)
	assert.EqualValues(t, 1, v)
	v, err = ParseInt([]byte{0xff, 0xff})
	require.NoError(t, err)
	assert.EqualValues(t, -1, v)
}

func TestUint(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    uint64
		want []byte
	}{
		{"zero", 0, []byte{0x00}},
		{"max one octet", 127, []byte{0x7f}},
		{"top bit set gets a leading zero", 128, []byte{0x00, 0x80}},
		{"255", 255, []byte{0x00, 0xff}},
		{"max two octets", 0x7fff, []byte{0x7f, 0xff}},
		{"max int32", math.MaxInt32, []byte{0x7f, 0xff, 0xff, 0xff}},
		{"2^31", 1 << 31, []byte{0x00, 0x80, 0x00, 0x00, 0x00}},
		{"max Counter32", math.MaxUint32, []byte{0x00, 0xff, 0xff, 0xff, 0xff}},
		{"2^32", 1 << 32, []byte{0x01, 0x00, 0x00, 0x00, 0x00}},
		{"max int64", math.MaxInt64, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"2^63", 1 << 63, []byte{0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
		{"max Counter64", math.MaxUint64, []byte{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendUint([]byte{0xee}, tc.v)
			assert.Equal(t, append([]byte{0xee}, tc.want...), got)
			v, err := ParseUint(got[1:])
			require.NoError(t, err)
			assert.Equal(t, tc.v, v)
		})
	}
}

func TestParseUint(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       []byte
		want    uint64
		wantErr bool
	}{
		{"leading zero of Counter64", []byte{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, math.MaxUint64, false},
		{"redundant leading zeros", []byte{0x00, 0x00, 0x05}, 5, false},
		{"top bit set without leading zero", []byte{0xff}, 255, false},
		{"empty", nil, 0, true},
		{"nine octets, first not zero", []byte{0x01, 0, 0, 0, 0, 0, 0, 0, 0}, 0, true},
		{"ten octets", make([]byte, 10), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseUint(tc.c)
			if tc.wantErr {
				assert.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, v)
		})
	}
}
