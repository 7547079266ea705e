package mib

import (
	"strings"

	"github.com/snmpchaos/snmpchaos/internal/oid"
)

// OID is an object identifier as its arcs.
type OID []uint32

// ParseOID parses a dotted numeric OID; a leading dot is allowed. It must
// have two arcs at least and first arcs BER can encode.
func ParseOID(s string) (OID, error) {
	o, err := parseOIDText(nil, []byte(strings.TrimSpace(s)))
	if err != nil {
		return nil, err
	}
	return OID(o), nil
}

// MustParseOID is ParseOID for constants; it panics on error.
func MustParseOID(s string) OID {
	o, err := ParseOID(s)
	if err != nil {
		panic(err)
	}
	return o
}

// String formats the OID dotted with a leading dot, as net-snmp -On does.
func (o OID) String() string { return string(oid.Append(make([]byte, 0, 4*len(o)), o)) }

// Compare orders OIDs lexicographically by arc: -1, 0 or +1.
func Compare(a, b []uint32) int { return oid.Compare(a, b) }

// HasPrefix reports whether o lies in the subtree rooted at prefix.
func (o OID) HasPrefix(prefix OID) bool { return oid.HasPrefix(o, prefix) }
