//go:build linux

package fault

import (
	"errors"
	"fmt"
	"time"

	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Kind builds the faults of one kind.
type Kind struct {
	// Name is the kind as scenarios.KernelFault.Kind names it: the key
	// of its YAML field ("drop", "linkDown", ...).
	Name string
	// New builds the fault kf asks for on site; it checks kf's spec and
	// returns an error naming what is wrong.
	New func(env Env, site *netns.Site, kf scenarios.KernelFault) (Fault, error)
}

// Env is what building a fault may use: the run's topology, and where to
// report changes a fault makes on its own while it is in force.
type Env struct {
	Topology *netns.Topology
	// OnLink is called when a flapping link goes down or up (nil: not
	// reported).
	OnLink func(site int, up bool, at time.Time)
}

// New builds the fault kf describes with the kind that kf sets.
func New(env Env, kf scenarios.KernelFault) (Fault, error) {
	sites := env.Topology.Sites()
	if kf.Site < 0 || kf.Site >= len(sites) {
		return nil, fmt.Errorf("site %d outside the %d sites", kf.Site, len(sites))
	}
	name := kf.Kind()
	if name == "" {
		return nil, errors.New("no fault set")
	}
	for _, k := range Kinds() {
		if k.Name == name {
			return k.New(env, sites[kf.Site], kf)
		}
	}
	return nil, fmt.Errorf("kernel fault %q has no builder (have: %v)", name, kindNames())
}

func kindNames() []string {
	var out []string
	for _, k := range Kinds() {
		out = append(out, k.Name)
	}
	return out
}

// direction maps a scenario's direction to netns's (0: the fault's
// default).
func direction(d string) netns.Direction {
	switch d {
	case scenarios.DirToAgents:
		return netns.ToAgents
	case scenarios.DirFromAgents:
		return netns.FromAgents
	case scenarios.DirBoth:
		return netns.BothWays
	}
	return 0
}

// filter is an nftables fault: a netns.Filter, which counts its drops.
type filter struct {
	*netns.Filter
}

// DroppedPackets is how many packets the filter dropped so far.
func (f filter) DroppedPackets() (uint64, error) {
	c, err := f.Dropped()
	return c.Packets, err
}
