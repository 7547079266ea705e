package mib

import (
	"fmt"
	"strconv"
	"strings"
)

// OID is an object identifier as its arcs.
type OID []uint32

// ParseOID parses a dotted numeric OID; a leading dot is allowed.
func ParseOID(s string) (OID, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), ".")
	if t == "" {
		return nil, fmt.Errorf("empty OID %q", s)
	}
	parts := strings.Split(t, ".")
	oid := make(OID, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("OID %q: arc %d %q is not a number below 2^32", s, i+1, p)
		}
		oid[i] = uint32(v)
	}
	if len(oid) < 2 {
		return nil, fmt.Errorf("OID %q: needs at least two arcs", s)
	}
	if oid[0] > 2 || (oid[0] < 2 && oid[1] >= 40) {
		return nil, fmt.Errorf("OID %q: first arcs %d.%d not encodable", s, oid[0], oid[1])
	}
	return oid, nil
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
func (o OID) String() string {
	var b strings.Builder
	for _, a := range o {
		b.WriteByte('.')
		b.WriteString(strconv.FormatUint(uint64(a), 10))
	}
	return b.String()
}

// Compare orders OIDs lexicographically by arc: -1, 0 or +1.
func Compare(a, b []uint32) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// HasPrefix reports whether o lies in the subtree rooted at prefix.
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
