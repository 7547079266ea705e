package ber

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReaderWalksAMessage(t *testing.T) {
	// SEQUENCE { INTEGER 1, OCTET STRING "public", GetRequest { ... } }
	pdu := AppendTLV(nil, TagInteger, []byte{0x05})
	msg := AppendTLV(nil, TagInteger, []byte{0x01})
	msg = AppendTLV(msg, TagOctetString, []byte("public"))
	msg = AppendTLV(msg, PDUGet, pdu)
	pkt := AppendTLV(nil, TagSequence, msg)

	top := NewReader(pkt)
	tag, ok := top.Peek()
	require.True(t, ok)
	assert.Equal(t, byte(TagSequence), tag)
	body, err := top.Expect(TagSequence)
	require.NoError(t, err)
	assert.Zero(t, top.Len())
	assert.Equal(t, len(pkt), top.Offset())
	_, ok = top.Peek()
	assert.False(t, ok)

	r := NewReader(body)
	v, err := r.Int()
	require.NoError(t, err)
	assert.EqualValues(t, 1, v)
	c, err := r.Expect(TagOctetString)
	require.NoError(t, err)
	assert.Equal(t, "public", string(c))
	at := r.Offset()
	tag, content, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, byte(PDUGet), tag)
	assert.Equal(t, pdu, content)
	assert.Equal(t, len(body), r.Offset())
	assert.Equal(t, len(body)-at, TLVSize(len(pdu)))
}

func TestReaderRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"tag only", []byte{0x30}},
		{"multi-byte tag", []byte{0x1f, 0x01, 0x00}},
		{"indefinite length", []byte{0x30, 0x80, 0x00, 0x00}},
		{"length of length 5", []byte{0x04, 0x85, 0, 0, 0, 0, 1, 'x'}},
		{"length of length past the end", []byte{0x04, 0x82, 0x01}},
		{"short length overruns", []byte{0x04, 0x03, 'a', 'b'}},
		{"long length overruns", []byte{0x04, 0x81, 0x80, 'a'}},
		{"four-octet length overruns", []byte{0x04, 0x84, 0x7f, 0xff, 0xff, 0xff, 'a'}},
		{"four-octet length with the top bit", []byte{0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 'a'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.b)
			_, _, err := r.Next()
			assert.ErrorIs(t, err, ErrMalformed)
			assert.Zero(t, r.Offset(), "nothing consumed")
		})
	}
}

func TestReaderExpectAndInt(t *testing.T) {
	_, err := NewReader([]byte{0x04, 0x01, 'x'}).Expect(TagInteger)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.ErrorContains(t, err, "tag 0x04 at offset 0, want 0x02")

	_, err = NewReader([]byte{0x04, 0x01, 'x'}).Int()
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = NewReader([]byte{0x02, 0x00}).Int()
	assert.ErrorIs(t, err, ErrMalformed, "empty INTEGER")
	_, err = NewReader([]byte{0x02, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9}).Int()
	assert.ErrorIs(t, err, ErrMalformed, "INTEGER past 64 bits")
}

func TestReaderEmptyContent(t *testing.T) {
	r := NewReader([]byte{0x05, 0x00, 0x30, 0x00})
	tag, c, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, byte(TagNull), tag)
	assert.Empty(t, c)
	c, err = r.Expect(TagSequence)
	require.NoError(t, err)
	assert.Empty(t, c)
	assert.Zero(t, r.Len())
}
