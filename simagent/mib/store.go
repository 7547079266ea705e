// Package mib holds the data simulated agents serve: an immutable, sorted
// store of OIDs and values shared by every agent that serves the same data,
// the parsers that build one from recordings (snmpsim .snmprec, net-snmp
// snmpwalk output) and the synthetic profiles (if-mib:N).
package mib

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Store is an immutable sorted table of OIDs and values. It is safe for
// concurrent use and meant to be shared by all agents serving the same data.
type Store struct {
	name     string
	oids     []OID
	values   []Value
	dynamic  int
	specials map[int]*Special // by index: records of snmpsim's delay, error, writecache
	mux      *Multiplex
	broken   []string
}

// Broken lists the records loaded broken, as snmpsim serves them (see
// ParseSnmprecAsSnmpsim), each as "file:line: what is wrong".
func (s *Store) Broken() []string { return s.broken }

// Special returns what entry i's variation module does besides its
// value, or nil.
func (s *Store) Special(i int) *Special {
	if s.specials == nil {
		return nil
	}
	return s.specials[i]
}

// Specials is the number of entries with a Special.
func (s *Store) Specials() int { return len(s.specials) }

// Entry is one OID with its value.
type Entry struct {
	OID   OID
	Value Value
}

// Name describes where the data came from (a file name or profile).
func (s *Store) Name() string { return s.name }

// Len is the number of OIDs.
func (s *Store) Len() int { return len(s.oids) }

// Dynamic is the number of values that move with time.
func (s *Store) Dynamic() int { return s.dynamic }

// At returns the i-th OID and its value in order.
func (s *Store) At(i int) (OID, *Value) { return s.oids[i], &s.values[i] }

// Get finds oid exactly; it returns its index or -1.
func (s *Store) Get(oid []uint32) int {
	i := s.search(oid)
	if i < len(s.oids) && Compare(s.oids[i], oid) == 0 {
		return i
	}
	return -1
}

// Next returns the index of the first OID strictly after oid, or Len()
// when there is none.
func (s *Store) Next(oid []uint32) int {
	i := s.search(oid)
	if i < len(s.oids) && Compare(s.oids[i], oid) == 0 {
		i++
	}
	return i
}

// search is the index of the first OID >= oid.
func (s *Store) search(oid []uint32) int {
	lo, hi := 0, len(s.oids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if Compare(s.oids[m], oid) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// AppendValue appends the content octets of entry i as an agent with
// agentSeed sees it at age.
func (s *Store) AppendValue(b []byte, i int, age time.Duration, agentSeed uint64) []byte {
	return s.AppendValueAt(b, i, age, time.Time{}, agentSeed)
}

// AppendValueAt is AppendValue with the wall clock now (see
// Value.AppendContentAt).
func (s *Store) AppendValueAt(b []byte, i int, age time.Duration, now time.Time, agentSeed uint64) []byte {
	v := &s.values[i]
	if v.Dyn == nil {
		return append(b, v.Content...)
	}
	key := uint64(i) + 1
	if v.Dyn.Key != 0 {
		key = v.Dyn.Key
	}
	return v.AppendContentAt(b, age, now, agentSeed^key*0x9e3779b97f4a7c15)
}

// Snapshot returns every entry with dynamic values resolved as an agent
// with agentSeed sees them at age.
func (s *Store) Snapshot(age time.Duration, agentSeed uint64) []Entry {
	out := make([]Entry, len(s.oids))
	for i := range s.oids {
		v := s.values[i]
		if v.Dyn != nil {
			v = Value{Tag: v.Tag, Content: s.AppendValue(nil, i, age, agentSeed)}
		}
		out[i] = Entry{OID: s.oids[i], Value: v}
	}
	return out
}

// Builder collects entries for a Store. The zero value is ready to use.
type Builder struct {
	name     string
	entries  []Entry
	where    []string
	lines    []int
	specials map[int]*Special // by entry
	mux      *muxSpec
	broken   []string
}

// special gives the entry added last a Special.
func (b *Builder) special(sp *Special) {
	if b.specials == nil {
		b.specials = map[int]*Special{}
	}
	b.specials[len(b.entries)-1] = sp
}

// NewBuilder starts a store with the given name.
func NewBuilder(name string) *Builder { return &Builder{name: name} }

// Add adds oid=value; where names its source (e.g. "file.snmprec:12") for
// error messages and may be empty.
func (b *Builder) Add(oid OID, v Value, where string) { b.add(oid, v, where, 0) }

// addLine adds oid=value from line of the builder's source; the place
// "name:line" is only formatted when an error needs it.
func (b *Builder) addLine(oid OID, v Value, line int) { b.add(oid, v, "", line) }

// grow makes room for n more entries.
func (b *Builder) grow(n int) {
	b.entries = slices.Grow(b.entries, n)
	b.where = slices.Grow(b.where, n)
	b.lines = slices.Grow(b.lines, n)
}

func (b *Builder) add(oid OID, v Value, where string, line int) {
	b.entries = append(b.entries, Entry{OID: oid, Value: v})
	b.where = append(b.where, where)
	b.lines = append(b.lines, line)
}

// place names where entry i came from.
func (b *Builder) place(i int) string {
	switch {
	case b.where[i] != "":
		return b.where[i]
	case b.lines[i] > 0:
		return fmt.Sprintf("%s:%d", b.name, b.lines[i])
	}
	return b.name
}

// Len is the number of entries added so far.
func (b *Builder) Len() int { return len(b.entries) }

// Build sorts the entries and returns the store. Duplicate OIDs are an
// error naming both places.
func (b *Builder) Build() (*Store, error) {
	idx := make([]int, len(b.entries))
	for i := range idx {
		idx[i] = i
	}
	sorted := slices.IsSortedFunc(b.entries, func(x, y Entry) int { return Compare(x.OID, y.OID) })
	if !sorted {
		sort.SliceStable(idx, func(i, j int) bool {
			return Compare(b.entries[idx[i]].OID, b.entries[idx[j]].OID) < 0
		})
	}
	s := &Store{name: b.name, oids: make([]OID, len(idx)), values: make([]Value, len(idx)), broken: b.broken}
	for k, i := range idx {
		if k > 0 && Compare(s.oids[k-1], b.entries[i].OID) == 0 {
			prev := idx[k-1]
			return nil, fmt.Errorf("%s: duplicate OID %s (first at %s)", b.place(i), b.entries[i].OID, b.place(prev))
		}
		s.oids[k] = b.entries[i].OID
		s.values[k] = b.entries[i].Value
		if sp := b.specials[i]; sp != nil {
			if s.specials == nil {
				s.specials = map[int]*Special{}
			}
			s.specials[k] = sp
		}
		if s.values[k].Dyn != nil {
			s.dynamic++
		}
	}
	if b.mux != nil {
		return b.mux.build(s)
	}
	return s, nil
}
