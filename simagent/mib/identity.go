package mib

import (
	"slices"

	"github.com/snmpchaos/snmpchaos/internal/oid"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// Identity objects: the values by which pollers tell devices apart.
var (
	sysNameOID   = OID{1, 3, 6, 1, 2, 1, 1, 5, 0}
	serialColumn = OID{1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 11} // entPhysicalSerialNum
	macColumn    = OID{1, 3, 6, 1, 2, 1, 2, 2, 1, 6}         // ifPhysAddress
)

// WithIdentity returns s with its identity objects marked DynIdentity,
// for each agent to answer its own: sysName.0, every non-empty
// entPhysicalSerialNum and every 6-byte ifPhysAddress (numbered in OID
// order, Ordinal of Span). The recorded value stays as Content. s itself
// is returned when it holds none; s is not changed.
func WithIdentity(s *Store) *Store {
	if m := s.mux; m != nil {
		c := *s
		mc := *m
		mc.Phases = make([]*Store, len(m.Phases))
		for i, p := range m.Phases {
			mc.Phases[i] = WithIdentity(p)
		}
		c.mux = &mc
		s = &c
	}
	type mark struct {
		i     int
		ident Ident
	}
	var marks []mark
	if i := s.Get(sysNameOID); i >= 0 && s.values[i].Tag == ber.TagOctetString && s.values[i].Dyn == nil {
		marks = append(marks, mark{i, IdentSysName})
	}
	macs := 0
	for _, col := range []struct {
		prefix OID
		ident  Ident
	}{{serialColumn, IdentSerial}, {macColumn, IdentMAC}} {
		for i := s.search(col.prefix); i < len(s.oids) && oid.HasPrefix(s.oids[i], col.prefix); i++ {
			v := s.values[i]
			if v.Tag != ber.TagOctetString || v.Dyn != nil || len(v.Content) == 0 || (col.ident == IdentMAC && len(v.Content) != 6) {
				continue
			}
			marks = append(marks, mark{i, col.ident})
			if col.ident == IdentMAC {
				macs++
			}
		}
	}
	if len(marks) == 0 {
		return s
	}
	c := *s
	c.values = slices.Clone(s.values)
	dyns := make([]Dynamic, len(marks))
	ord := uint32(0)
	for k, m := range marks {
		dyns[k] = Dynamic{Kind: DynIdentity, Ident: m.ident}
		if m.ident == IdentMAC {
			dyns[k].Ordinal, dyns[k].Span = ord, uint32(macs)
			ord++
		}
		c.values[m.i] = Value{Tag: ber.TagOctetString, Content: s.values[m.i].Content, Dyn: &dyns[k]}
		c.dynamic++
	}
	return &c
}
