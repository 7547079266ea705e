// Package ber is the small BER codec on simagent's hot path: it reads SNMP
// requests and writes responses straight into caller-owned buffers.
//
// gosnmp is a good general codec, and the rest of snmpchaos uses it, but its
// encoder allocates several buffers per varbind and cannot tell the size of a
// response before it has built it. An agent answering hundreds of thousands of
// requests a second, and fitting GetBulk responses to a maximum message size
// varbind by varbind, needs zero-allocation appends and exact sizes, which is
// all this package does. Its output is checked against gosnmp and net-snmp in
// the simagent tests, and its reader is fuzzed.
package ber

import (
	"errors"
	"fmt"
)

// Tags used by SNMP (RFC 3416, RFC 2578).
const (
	TagInteger        = 0x02
	TagOctetString    = 0x04
	TagNull           = 0x05
	TagOID            = 0x06
	TagSequence       = 0x30
	TagIPAddress      = 0x40
	TagCounter32      = 0x41
	TagGauge32        = 0x42
	TagTimeTicks      = 0x43
	TagOpaque         = 0x44
	TagCounter64      = 0x46
	TagNoSuchObject   = 0x80
	TagNoSuchInstance = 0x81
	TagEndOfMibView   = 0x82
)

// PDU tags (context-specific, constructed).
const (
	PDUGet      = 0xa0
	PDUGetNext  = 0xa1
	PDUResponse = 0xa2
	PDUSet      = 0xa3
	PDUTrapV1   = 0xa4
	PDUGetBulk  = 0xa5
	PDUInform   = 0xa6
	PDUTrapV2   = 0xa7
	PDUReport   = 0xa8
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed BER")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// LenSize is the number of bytes the definite-length encoding of n takes.
func LenSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffff:
		return 4
	default:
		return 5
	}
}

// AppendLength appends the definite-length encoding of n.
func AppendLength(b []byte, n int) []byte {
	switch LenSize(n) {
	case 1:
		return append(b, byte(n))
	case 2:
		return append(b, 0x81, byte(n))
	case 3:
		return append(b, 0x82, byte(n>>8), byte(n))
	case 4:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// TLVSize is the size of a TLV whose content is n bytes long.
func TLVSize(n int) int { return 1 + LenSize(n) + n }

// AppendTLV appends tag, length and content.
func AppendTLV(b []byte, tag byte, content []byte) []byte {
	b = append(b, tag)
	b = AppendLength(b, len(content))
	return append(b, content...)
}

// IntSize is the number of content octets AppendInt writes for v.
func IntSize(v int64) int {
	n := 1
	for ; v > 127 || v < -128; v >>= 8 {
		n++
	}
	return n
}

// AppendInt appends the two's complement content octets of v (no tag, no length).
func AppendInt(b []byte, v int64) []byte {
	n := IntSize(v)
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*uint(i))))
	}
	return b
}

// AppendUint appends the content octets of an unsigned value as a
// non-negative INTEGER (a leading zero when the top bit is set).
func AppendUint(b []byte, v uint64) []byte {
	n := 1
	for x := v; x > 0x7f; x >>= 8 {
		n++
	}
	if n == 9 {
		b = append(b, 0)
		n = 8
	}
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*uint(i))))
	}
	return b
}

// AppendOID appends the content octets of an object identifier. OIDs with
// fewer than two arcs are encoded as if padded with zeros (0.0).
func AppendOID(b []byte, oid []uint32) []byte {
	b = appendBase128(b, firstSubID(oid))
	for i := 2; i < len(oid); i++ {
		b = appendBase128(b, uint64(oid[i]))
	}
	return b
}

// firstSubID is the first encoded subidentifier of oid, its first two arcs
// in one (X*40+Y), missing arcs counted as 0.
func firstSubID(oid []uint32) uint64 {
	switch len(oid) {
	case 0:
		return 0
	case 1:
		return uint64(oid[0]) * 40
	default:
		return uint64(oid[0])*40 + uint64(oid[1])
	}
}

func appendBase128(b []byte, v uint64) []byte {
	n := 1
	for x := v; x > 0x7f; x >>= 7 {
		n++
	}
	for i := n - 1; i > 0; i-- {
		b = append(b, byte(v>>(7*uint(i)))|0x80)
	}
	return append(b, byte(v&0x7f))
}

// OIDSize is the number of content octets AppendOID writes for oid.
func OIDSize(oid []uint32) int {
	n := base128Size(firstSubID(oid))
	for i := 2; i < len(oid); i++ {
		n += base128Size(uint64(oid[i]))
	}
	return n
}

func base128Size(v uint64) int {
	n := 1
	for v > 0x7f {
		v >>= 7
		n++
	}
	return n
}
