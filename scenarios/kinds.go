package scenarios

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// Kind is one device kind of a mixed fleet (fleet.kinds): a data file or
// a profile, for a count or a share of fleet.agents. Kinds without either
// share the agents the others leave evenly. Every agent carries the label
// kind=NAME (default: the data file's name without extension, or the
// profile).
//
//	fleet:
//	  agents: 1000
//	  kinds:
//	    - {profile: if-mib:24, share: 0.5}
//	    - {data: recordings/core.snmprec, count: 50, name: core}
//	    - {profile: system}
type Kind struct {
	Name    string  `json:"name,omitempty"`
	Data    string  `json:"data,omitempty"`
	Profile string  `json:"profile,omitempty"`
	Count   int     `json:"count,omitempty"`
	Share   float64 `json:"share,omitempty"`
	part    float64 // the share of the fleet, counts made shares by validation
}

// Part is the kind's share of the fleet (a count divided by fleet.agents
// as written, so the short profile keeps the mix), or 0 for a kind that
// shares the rest.
func (k *Kind) Part() float64 { return k.part }

// Spec is what mib.Open reads for the kind.
func (k *Kind) Spec(source string) string {
	if k.Data == "" {
		return k.Profile
	}
	return dataPathOf(source, k.Data)
}

// KindName is the kind's name, its agents' label kind=NAME.
func (k *Kind) KindName() string {
	switch {
	case k.Name != "":
		return k.Name
	case k.Profile != "":
		return k.Profile
	}
	b := filepath.Base(k.Data)
	return b[:len(b)-len(filepath.Ext(b))]
}

// checkKinds validates fleet.kinds: each one data or profile, a count or a
// share, distinct names, and together no more than fleet.agents.
func (f *Fleet) checkKinds(source string, openData bool) (string, string) {
	if f.Profile != "" || f.Data != "" {
		return "fleet.kinds", "set kinds, or profile or data, not both"
	}
	if len(f.Kinds) > 64 {
		return "fleet.kinds", "at most 64 kinds"
	}
	names := map[string]int{}
	used, open := 0.0, 0
	for i := range f.Kinds {
		k := &f.Kinds[i]
		p := "fleet.kinds[" + strconv.Itoa(i) + "]"
		switch {
		case k.Data != "" && k.Profile != "":
			return p + ".data", "set profile or data, not both"
		case k.Data == "" && k.Profile == "":
			return p, "set profile or data"
		case k.Count < 0 || k.Share < 0 || k.Share > 1 || math.IsNaN(k.Share):
			return p, "count must be >= 0 and share in [0, 1]"
		case k.Count > 0 && k.Share > 0:
			return p + ".share", "set count or share, not both"
		}
		if j, dup := names[k.KindName()]; dup {
			return p + ".name", fmt.Sprintf("%q is fleet.kinds[%d]'s name too", k.KindName(), j)
		}
		names[k.KindName()] = i
		switch {
		case k.Count > 0:
			used += float64(k.Count)
			k.part = float64(k.Count) / float64(f.Agents)
		case k.Share > 0:
			used += k.Share * float64(f.Agents)
			k.part = k.Share
		default:
			open++
		}
		if openData {
			st, err := mib.Open(k.Spec(source))
			if err != nil {
				return p + ".data", err.Error()
			}
			if st.Len() == 0 {
				return p + ".data", k.Spec(source) + ": no OIDs"
			}
		}
	}
	if math.Round(used) > float64(f.Agents) || (open == 0 && math.Round(used) != float64(f.Agents)) {
		return "fleet.kinds", fmt.Sprintf("the kinds take %.0f agents, fleet.agents is %d", used, f.Agents)
	}
	return "", ""
}

// dataPathOf resolves a data file named in a scenario relative to the
// scenario file when it is there.
func dataPathOf(source, data string) string {
	f := Fleet{Data: data}
	return f.dataPath(source)
}
