//go:build linux

package harness

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/fault"
	"github.com/snmpchaos/snmpchaos/harness/fleet"
	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// startNetns starts the netns fleet (topology and one fleet per site) and
// builds every phase's kernel faults on its topology; on error it leaves
// nothing behind.
func (r *run) startNetns(ctx context.Context) error {
	c, err := r.fleetConfig()
	if err != nil {
		return err
	}
	n, err := fleet.StartNetns(ctx, c)
	if err != nil {
		return err
	}
	k := &kernelState{t0: r.t0, log: r.log, close: n.Topology.Close, agentsOf: n.AgentsOf}
	for _, s := range n.Sites {
		k.sites = append(k.sites, SiteReport(s))
	}
	if k.phases, err = kernelFaults(n.Topology, r.sc, k); err != nil {
		_ = n.Close()
		return errors.Join(err, n.Topology.Close())
	}
	r.fleet = n
	r.kernel = k
	return nil
}

// kernelFaults builds every phase's kernel faults on the topology and
// checks them with netns's own validation.
func kernelFaults(top *netns.Topology, sc *scenarios.Scenario, k *kernelState) ([][]*kernelFault, error) {
	out := make([][]*kernelFault, len(sc.Phases))
	for i, ph := range sc.Phases {
		for j, kf := range ph.Kernel {
			desc := kf.String()
			env := fault.Env{Topology: top, OnLink: func(site int, up bool, at time.Time) {
				kind := KernelLinkDown
				if up {
					kind = KernelLinkUp
				}
				k.event(site, kind, desc, at)
			}}
			f, err := fault.New(env, kf)
			if err != nil {
				return nil, fmt.Errorf("%w: scenario %s: phases[%d].kernel[%d]: %w", ErrBadInput, sc.Name, i, j, err)
			}
			d, _ := f.(fault.Dropper)
			out[i] = append(out[i], &kernelFault{desc: desc, site: kf.Site, f: f, dropped: d})
		}
	}
	return out, nil
}

// CleanupNetns removes what netns runs of family (default "sc") left,
// live or dead: namespaces, veths, nftables tables, qdiscs, routes and
// state files. Build already removes what dead runs left.
func CleanupNetns(family string) error {
	if family == "" {
		family = netns.DefaultFamily
	}
	return netns.Cleanup(family + "-")
}
