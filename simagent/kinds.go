package simagent

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// Mixed fleets: a real network is not thousands of copies of one device.
// Config.Kinds makes a fleet of several device kinds, each its own data
// (a recording or a profile) for a count or a share of the agents. Kinds
// take consecutive agents in order (kind 0 first); every agent carries the
// label kind=NAME, so selectors pick agents by kind, and Fleet.Kind,
// Fleet.StoreOf tell an agent's kind and data.

// Kind is one kind of device in a fleet.
type Kind struct {
	// Name is the kind's name, its agents' label kind=NAME (default: the
	// store's name without directory and extension).
	Name string
	// Store is the kind's data.
	Store *mib.Store
	// Count is how many agents are of this kind; or Share, in (0, 1], the
	// part of Config.Agents; with neither, the kind shares the agents no
	// other kind takes evenly with the other kinds that give neither.
	Count int
	Share float64
}

// KindLabel is the label every agent of a mixed fleet carries.
const KindLabel = "kind"

// kind is a resolved Kind: its agents from..to-1.
type kind struct {
	name     string
	store    *mib.Store
	from, to int
}

// KindName is the default name of a kind serving store s.
func KindName(s *mib.Store) string {
	n := filepath.Base(s.Name())
	n = strings.TrimSuffix(n, ".gz")
	return strings.TrimSuffix(n, filepath.Ext(n))
}

// resolveKinds applies Kinds to the config: Agents (when 0) becomes the sum
// of the counts, and every agent gets a kind. Without Kinds the fleet is
// one kind serving Store.
func (c *Config) resolveKinds() ([]kind, error) {
	if len(c.Kinds) == 0 {
		if c.Store == nil {
			return nil, fmt.Errorf("%w: Store (or Kinds) is required", ErrConfig)
		}
		return []kind{{name: KindName(c.Store), store: c.Store, from: 0, to: c.Agents}}, nil
	}
	if c.Store != nil {
		return nil, fmt.Errorf("%w: give Store or Kinds, not both", ErrConfig)
	}
	counts := make([]int, len(c.Kinds))
	fixed, rest := 0, 0
	total := c.Agents
	seen := map[string]int{}
	for i, k := range c.Kinds {
		if k.Store == nil {
			return nil, fmt.Errorf("%w: Kinds[%d]: Store is required", ErrConfig, i)
		}
		name := k.Name
		if name == "" {
			name = KindName(k.Store)
		}
		if j, dup := seen[name]; dup {
			return nil, fmt.Errorf("%w: Kinds[%d]: name %q taken by Kinds[%d] (give Name)", ErrConfig, i, name, j)
		}
		seen[name] = i
		switch {
		case k.Count < 0 || k.Share < 0 || k.Share > 1 || math.IsNaN(k.Share):
			return nil, fmt.Errorf("%w: Kinds[%d] (%s): count %d, share %v: want count >= 0, share in [0, 1]", ErrConfig, i, name, k.Count, k.Share)
		case k.Count > 0 && k.Share > 0:
			return nil, fmt.Errorf("%w: Kinds[%d] (%s): give count or share, not both", ErrConfig, i, name)
		case k.Count > 0:
			counts[i] = k.Count
			fixed += k.Count
		case k.Share > 0:
			if total == 0 {
				return nil, fmt.Errorf("%w: Kinds[%d] (%s): a share needs Agents", ErrConfig, i, name)
			}
			counts[i] = int(math.Round(k.Share * float64(total)))
			fixed += counts[i]
		default:
			rest++
		}
	}
	if total == 0 {
		if rest > 0 {
			return nil, fmt.Errorf("%w: a kind without count or share needs Agents", ErrConfig)
		}
		total = fixed
	}
	if fixed > total || (rest == 0 && fixed != total) {
		return nil, fmt.Errorf("%w: the kinds take %d agents, the fleet has %d", ErrConfig, fixed, total)
	}
	if rest > 0 {
		left := total - fixed
		for i, k := range c.Kinds {
			if k.Count == 0 && k.Share == 0 {
				counts[i] = left / rest
				if left%rest > 0 {
					counts[i]++
					left--
				}
			}
		}
	}
	c.Agents = total
	var out []kind
	at := 0
	for i, k := range c.Kinds {
		name := k.Name
		if name == "" {
			name = KindName(k.Store)
		}
		out = append(out, kind{name: name, store: k.Store, from: at, to: at + counts[i]})
		at += counts[i]
	}
	return out, nil
}

// Kinds lists the fleet's kinds: each name with its agents (from, to
// exclusive).
func (f *Fleet) Kinds() []KindRange {
	out := make([]KindRange, len(f.kinds))
	for i, k := range f.kinds {
		out[i] = KindRange{Name: k.name, From: k.from, To: k.to, OIDs: k.store.Len()}
	}
	return out
}

// KindRange is one kind of a running fleet.
type KindRange struct {
	Name     string
	From, To int // agents From..To-1
	OIDs     int
}

// Kind is agent i's kind.
func (f *Fleet) Kind(i int) string { return f.agents[i].kind.name }

// StoreOf is the data agent i serves.
func (f *Fleet) StoreOf(i int) *mib.Store { return f.agents[i].kind.store }
