package pollerlib

import (
	"fmt"
	"strings"

	"github.com/snmpchaos/snmpchaos/internal/oid"
)

// OID is an object identifier as its arcs.
type OID []uint32

// ParseOID parses a dotted numeric OID such as ".1.3.6.1.2.1.1.1.0"; the
// leading dot is optional.
func ParseOID(s string) (OID, error) {
	o, err := oid.Parse(nil, []byte(strings.TrimSpace(s)))
	if err != nil {
		return nil, fmt.Errorf("pollerlib: %w", err)
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

// String formats the OID with a leading dot, as net-snmp's -On does.
func (o OID) String() string { return string(oid.Append(make([]byte, 0, len(o)*4), o)) }

// Compare orders OIDs arc by arc: -1, 0 or +1.
func (o OID) Compare(b OID) int { return oid.Compare(o, b) }

// Equal reports whether o and b are the same OID.
func (o OID) Equal(b OID) bool { return o.Compare(b) == 0 }

// HasPrefix reports whether o lies in the subtree rooted at prefix (or is
// prefix itself).
func (o OID) HasPrefix(prefix OID) bool { return oid.HasPrefix(o, prefix) }
