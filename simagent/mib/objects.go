package mib

import "github.com/snmpchaos/snmpchaos/internal/oid"

// Objects and instances. An agent that knows its MIB (snmpd) answers a Get
// for a name it does not hold with noSuchInstance when the name lies at or
// under an object it implements (a scalar such as sysName, a column such
// as ifDescr) and with noSuchObject otherwise (groups, tables, entries and
// unknown objects). A recording holds instances only, so the store infers
// each instance's object from the data:
//
//   - NAME.0 alone under NAME is a scalar instance: its object is NAME.
//   - E.C.I is a column instance (column E.C, index I) when E ends in arc 1
//     (SMI: xxxEntry ::= { xxxTable 1 }) and a neighbouring column of E
//     holds the same index (E.C'.I). The shortest such column wins; E has
//     at least 7 arcs, so the top of the tree is never taken for a table.
//   - Otherwise the object is the instance less its last arc.
//
// A name the store does not hold lies at or under an object exactly when
// the object of the instance just before it or just after it (in OID
// order) is a prefix of the name: every instance of an object sorts
// together. That costs two binary searches and a few more per neighbour,
// only for names that miss.

// minEntryArcs is the fewest arcs a table entry may have (1.3.6.1.2.1.X.Y).
const minEntryArcs = 7

// UnderObject reports whether name, which the store does not hold, lies at
// or under one of the objects whose instances it holds: snmpd's
// noSuchInstance rather than noSuchObject.
func (s *Store) UnderObject(name []uint32) bool {
	j := s.search(name)
	for _, k := range [2]int{j - 1, j} {
		if k < 0 || k >= len(s.oids) {
			continue
		}
		n := s.oids[k]
		if l := s.objectLen(k); l <= len(name) && oid.HasPrefix(name, n[:l]) {
			return true
		}
	}
	return false
}

// ObjectOf is the object (scalar or column) instance i belongs to.
func (s *Store) ObjectOf(i int) OID { return s.oids[i][:s.objectLen(i)] }

// objectLen is the number of arcs of instance k's object.
func (s *Store) objectLen(k int) int {
	n := s.oids[k]
	m := len(n)
	if m < 2 {
		return m
	}
	if n[m-1] == 0 && !s.neighbourUnder(k, n[:m-1]) {
		return m - 1
	}
	var buf [64]uint32
	for l := minEntryArcs + 1; l < m; l++ {
		if n[l-2] != 1 {
			continue
		}
		if s.siblingColumnHas(n[:l-1], n[l-1], n[l:], buf[:0]) {
			return l
		}
	}
	return m - 1
}

// neighbourUnder reports whether the entry before or after k lies under p.
func (s *Store) neighbourUnder(k int, p []uint32) bool {
	return (k > 0 && oid.HasPrefix(s.oids[k-1], p)) || (k+1 < len(s.oids) && oid.HasPrefix(s.oids[k+1], p))
}

// siblingColumnHas reports whether the column of entry just after col, or
// the one just before it, holds index idx.
func (s *Store) siblingColumnHas(entry []uint32, col uint32, idx, buf []uint32) bool {
	probe := func(c uint32) bool {
		buf = append(append(append(buf[:0], entry...), c), idx...)
		return s.Get(buf) >= 0
	}
	if col < ^uint32(0) {
		buf = append(append(buf[:0], entry...), col+1)
		if j := s.search(buf); j < len(s.oids) && len(s.oids[j]) > len(entry) && oid.HasPrefix(s.oids[j], entry) {
			if probe(s.oids[j][len(entry)]) {
				return true
			}
		}
	}
	buf = append(append(buf[:0], entry...), col)
	if j := s.search(buf) - 1; j >= 0 && len(s.oids[j]) > len(entry) && oid.HasPrefix(s.oids[j], entry) {
		return probe(s.oids[j][len(entry)])
	}
	return false
}
