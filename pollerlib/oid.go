package pollerlib

import (
	"fmt"
	"strconv"
	"strings"
)

// OID is an object identifier as its arcs.
type OID []uint32

// ParseOID parses a dotted numeric OID such as ".1.3.6.1.2.1.1.1.0"; the
// leading dot is optional.
func ParseOID(s string) (OID, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), ".")
	if t == "" {
		return nil, fmt.Errorf("pollerlib: empty OID %q", s)
	}
	o := make(OID, 0, strings.Count(t, ".")+1)
	for p := range strings.SplitSeq(t, ".") {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("pollerlib: OID %q: arc %q is not a number below 2^32", s, p)
		}
		o = append(o, uint32(v))
	}
	return o, nil
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
func (o OID) String() string {
	b := make([]byte, 0, len(o)*4)
	for _, a := range o {
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(a), 10)
	}
	return string(b)
}

// Compare orders OIDs arc by arc: -1, 0 or +1.
func (o OID) Compare(b OID) int {
	n := min(len(o), len(b))
	for i := range n {
		if o[i] != b[i] {
			if o[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(o) < len(b):
		return -1
	case len(o) > len(b):
		return 1
	}
	return 0
}

// Equal reports whether o and b are the same OID.
func (o OID) Equal(b OID) bool { return o.Compare(b) == 0 }

// HasPrefix reports whether o lies in the subtree rooted at prefix (or is
// prefix itself).
func (o OID) HasPrefix(prefix OID) bool {
	if len(o) < len(prefix) {
		return false
	}
	for i, a := range prefix {
		if o[i] != a {
			return false
		}
	}
	return true
}
