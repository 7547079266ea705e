package fleet

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// Set is several fleets seen as one (netns mode: one fleet per site): agent i of the set is agent i -
// first[k] of fleet k, for the last k with first[k] <= i. Selectors are
// resolved over the whole set with the set's seed, so percent and count
// selectors pick across the sites as they would in one fleet.
type Set struct {
	fleets []*simagent.Fleet
	first  []int
	n      int
	seed   uint64
}

// NewSet joins fleets, which must all serve the same store.
func NewSet(seed uint64, fleets ...*simagent.Fleet) *Set {
	s := &Set{fleets: fleets, seed: seed}
	for _, f := range fleets {
		s.first = append(s.first, s.n)
		s.n += f.Len()
	}
	return s
}

// locate maps a global index to its fleet and local index.
func (s *Set) locate(i int) (fleet, local int) {
	k := sort.Search(len(s.first), func(k int) bool { return s.first[k] > i }) - 1
	return k, i - s.first[k]
}

// Len is the number of agents of every fleet.
func (s *Set) Len() int { return s.n }

// Addr is agent i's address.
func (s *Set) Addr(i int) netip.AddrPort {
	k, j := s.locate(i)
	return s.fleets[k].Addr(j)
}

// Community is the fleets' community.
func (s *Set) Community() string { return s.fleets[0].Community() }

// Store is the data every agent serves.
func (s *Set) Store() *mib.Store { return s.fleets[0].Store() }

// Faults returns the faults in force on agent i.
func (s *Set) Faults(i int) simagent.Faults {
	k, j := s.locate(i)
	return s.fleets[k].Faults(j)
}

// labels are agent i's labels.
func (s *Set) labels(i int) map[string]string {
	k, j := s.locate(i)
	return s.fleets[k].Labels(j)
}

// Select returns the global indexes sel picks.
func (s *Set) Select(sel simagent.Selector) ([]int, error) {
	return sel.Resolve(s.n, s.seed, s.labels)
}

// SetFaults replaces the faults of the agents sel picks: in each fleet,
// one range at a time.
func (s *Set) SetFaults(sel simagent.Selector, faults simagent.Faults) (int, error) {
	if err := faults.Validate(); err != nil {
		return 0, err
	}
	idx, err := s.Select(sel)
	if err != nil {
		return 0, err
	}
	if len(idx) == s.n {
		for _, f := range s.fleets {
			if _, err := f.SetFaults(simagent.Selector{All: true}, faults); err != nil {
				return 0, err
			}
		}
		return s.n, nil
	}
	idx = append([]int(nil), idx...)
	sort.Ints(idx)
	for a := 0; a < len(idx); {
		k, from := s.locate(idx[a])
		b := a + 1
		// Extend the run while the indexes are consecutive in one fleet.
		for b < len(idx) && idx[b] == idx[b-1]+1 && (k+1 >= len(s.first) || idx[b] < s.first[k+1]) {
			b++
		}
		to := from + (b - a) - 1
		if _, err := s.fleets[k].SetFaults(simagent.Selector{Range: &simagent.IndexRange{From: from, To: to}}, faults); err != nil {
			return 0, fmt.Errorf("fleet %d agents %d-%d: %w", k, from, to, err)
		}
		a = b
	}
	return len(idx), nil
}

// Stats sums the fleets' counters.
func (s *Set) Stats() simagent.Stats {
	var t simagent.Stats
	for _, f := range s.fleets {
		t = addStats(t, f.Stats())
	}
	return t
}

// Close closes every fleet.
func (s *Set) Close() error {
	var errs []error
	for _, f := range s.fleets {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

func addStats(a, b simagent.Stats) simagent.Stats {
	a.Requests += b.Requests
	a.Responses += b.Responses
	a.Delayed += b.Delayed
	a.Truncated += b.Truncated
	a.Malformed += b.Malformed
	a.Faulted += b.Faulted
	a.BytesIn += b.BytesIn
	a.BytesOut += b.BytesOut
	if len(b.Drops) > 0 && a.Drops == nil {
		a.Drops = make(map[string]uint64, len(b.Drops))
	}
	for k, v := range b.Drops {
		a.Drops[k] += v
	}
	return a
}
