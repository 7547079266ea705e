//go:build linux

package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
	"github.com/snmpchaos/snmpchaos/simagent"
)

// defaultAgentPort is the agents' port in netns mode when the scenario's
// fleet.listen leaves it to the system: each site has its own stack, so
// the SNMP port is free.
const defaultAgentPort = 161

// Site is one netns site of a running fleet.
type Site struct {
	Name   string
	Agents int
	Prefix string // the site's agent addresses
	First  int    // global index of its first agent
}

// Netns is a fleet in netns mode: one simagent fleet per site of a netns
// topology, seen as one Set. Close stops the agents; the topology (where
// kernel faults are built) is closed apart, after them, with
// Topology.Close.
type Netns struct {
	*Set
	Topology *netns.Topology
	Sites    []Site
}

// StartNetns builds the topology, starts one fleet per site inside it and
// waits until they answer; on error it leaves nothing behind.
func StartNetns(ctx context.Context, c Config) (_ *Netns, err error) {
	sc := c.Scenario
	fl := sc.Fleet
	counts := fl.SiteAgents()
	store, err := openStore(sc)
	if err != nil {
		return nil, err
	}
	port := c.Listen.Port()
	if port == 0 {
		port = defaultAgentPort
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: scenario %s: running as uid %d", ErrNeedsRoot, sc.Name, os.Geteuid())
	}
	top, err := netns.Build(ctx, netns.Config{Sites: len(counts), Family: c.NetnsFamily, Logger: c.Logger})
	if err != nil {
		if errors.Is(err, netns.ErrNotPermitted) || errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("%w: scenario %s: %w", ErrNeedsRoot, sc.Name, err)
		}
		return nil, fmt.Errorf("harness: scenario %s: build netns topology: %w", sc.Name, err)
	}
	var fleets []*simagent.Fleet
	defer func() {
		if err != nil {
			for _, f := range fleets {
				_ = f.Close()
			}
			err = errors.Join(err, top.Close())
		}
	}()
	n := &Netns{Topology: top}
	first := 0
	for i, site := range top.Sites() {
		var f *simagent.Fleet
		derr := site.Do(func() error {
			var err error
			f, err = simagent.Start(ctx, simagent.Config{
				Agents: counts[i], Listen: site.Listen(port), Store: store, Community: fl.Community,
				Seed: c.Seed + uint64(i), MaxMsgSize: fl.MaxMsgSize, Labels: siteLabels(fl, i, first, counts[i]),
				Logger: c.Logger.With("site", site.Name()), Users: fl.Users(),
			})
			return err
		})
		if derr != nil {
			return nil, fmt.Errorf("harness: scenario %s: start fleet in site %s: %w", sc.Name, site.Name(), derr)
		}
		fleets = append(fleets, f)
		n.Sites = append(n.Sites, Site{Name: site.Name(), Agents: counts[i], Prefix: site.Agents().String(), First: first})
		first += counts[i]
	}
	if !c.SkipReadyCheck {
		for _, f := range fleets {
			if err := WaitReady(ctx, f, c.ReadyTimeout); err != nil {
				return nil, err
			}
		}
	}
	n.Set = NewSet(c.Seed, fleets...)
	c.Logger.Info("harness: netns fleet ready", "run", top.Run(), "sites", len(fleets), "agents", first)
	return n, nil
}

// AgentsOf lists the global indexes of site's agents.
func (n *Netns) AgentsOf(site int) []int {
	s := n.Sites[site]
	out := make([]int, s.Agents)
	for j := range out {
		out[j] = s.First + j
	}
	return out
}

// siteLabels are the labels of site i's agents: site=<i> and the site's
// own on all of them, and fleet.labels ranges moved to local indexes.
func siteLabels(fl scenarios.Fleet, i, first, n int) []simagent.LabelRange {
	own := map[string]string{"site": strconv.Itoa(i)}
	if i < len(fl.Sites) {
		for k, v := range fl.Sites[i].Labels {
			own[k] = v
		}
	}
	out := []simagent.LabelRange{{From: 0, To: n - 1, Labels: own}}
	for _, l := range fl.Labels {
		from, to := max(l.From, first), min(l.To, first+n-1)
		if from <= to {
			out = append(out, simagent.LabelRange{From: from - first, To: to - first, Labels: l.Labels})
		}
	}
	return out
}
