package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/fleet"
	"github.com/snmpchaos/snmpchaos/harness/k8sapi"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// K8sProvider runs a k8s-mode scenario's sites in a cluster (see
// k8sapi.Provider). The harness has none of its own: k8s/k8smode's
// Cluster is one, which snmpchaos run passes.
type K8sProvider = k8sapi.Provider

// WithK8s gives a k8s-mode run (a scenario with mode: k8s, or one put in
// that mode with InMode) what runs its sites, e.g.
// harness.WithK8s(k8smode.Cluster{Client: c, Namespace: ns}) with package
// github.com/snmpchaos/snmpchaos/k8s/k8smode. Without it Run refuses a
// k8s-mode scenario; other modes ignore it.
func WithK8s(p K8sProvider) Option {
	return optionFunc(func(c *runConfig) { c.k8s = p })
}

// errNoK8s is Run's answer to a k8s-mode scenario without WithK8s.
func errNoK8s(sc *scenarios.Scenario) error {
	return fmt.Errorf("%w: scenario %s: mode: k8s needs a cluster, and this run has none: "+
		"pass harness.WithK8s(k8smode.Cluster{...}) (package github.com/snmpchaos/snmpchaos/k8s/k8smode), "+
		"or run it with the snmpchaos binary (snmpchaos run --mode k8s finds the cluster through $KUBECONFIG or in-cluster)", ErrBadInput, sc.Name)
}

// startK8s has the provider create the site pods and bind every phase's
// kernel faults, then drives the pods as a remote fleet over their
// control APIs; on error it removes what the provider made.
func (r *run) startK8s(ctx context.Context) (err error) {
	if r.cfg.k8s == nil {
		return errNoK8s(r.sc)
	}
	ks := &kernelState{t0: r.t0, log: r.log, mode: scenarios.ModeK8s}
	env := k8sapi.Env{Seed: r.seed, Logger: r.log, OnLink: func(site int, up bool, desc string, at time.Time) {
		kind := KernelLinkDown
		if up {
			kind = KernelLinkUp
		}
		ks.event(site, kind, desc, at)
	}}
	sites, err := r.cfg.k8s.Start(ctx, r.sc, env)
	switch {
	case errors.Is(err, scenarios.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrBadInput, err)
	case err != nil:
		return fmt.Errorf("harness: scenario %s: %w", r.sc.Name, err)
	case sites == nil || sites.Close == nil:
		return fmt.Errorf("harness: scenario %s: the k8s provider %T gave no sites or no Close", r.sc.Name, r.cfg.k8s)
	}
	ks.close = sites.Close
	defer func() {
		if err != nil {
			err = errors.Join(err, sites.Close())
		}
	}()
	counts := r.sc.Fleet.SiteAgents()
	if len(sites.Sites) != len(counts) || len(sites.Phases) != len(r.sc.Phases) {
		return fmt.Errorf("harness: scenario %s: the k8s provider started %d sites with %d phases' faults, want %d and %d", r.sc.Name, len(sites.Sites), len(sites.Phases), len(counts), len(r.sc.Phases))
	}
	var urls []string
	first := 0
	for i, s := range sites.Sites {
		n := counts[i]
		urls = append(urls, s.Control)
		ks.sites = append(ks.sites, SiteReport{Name: s.Name, Agents: n, Prefix: s.First.Addr().String() + ":" + strconv.Itoa(int(s.First.Port())) + "+", First: first})
		first += n
	}
	ks.agentsOf = func(site int) []int {
		s := ks.sites[site]
		out := make([]int, s.Agents)
		for j := range out {
			out[j] = s.First + j
		}
		return out
	}
	ks.phases = make([][]*kernelFault, len(sites.Phases))
	for i, fs := range sites.Phases {
		for _, f := range fs {
			if f.Site < 0 || f.Site >= len(ks.sites) {
				return fmt.Errorf("harness: scenario %s: phases[%d]: the k8s provider's fault %q is on site %d, of %d", r.sc.Name, i, f.Desc, f.Site, len(ks.sites))
			}
			ks.phases[i] = append(ks.phases[i], &kernelFault{desc: f.Desc, site: f.Site, f: f.Fault})
		}
	}
	c, err := r.fleetConfig()
	if err != nil {
		return err
	}
	store, err := fleet.OpenStore(r.sc)
	if err != nil {
		return err
	}
	rf, err := fleet.Dial(ctx, fleet.RemoteConfig{
		URLs: urls, Token: sites.Token, Store: store, Community: r.sc.Fleet.Community,
		Seed: r.seed, Agents: r.sc.Fleet.Agents, Logger: r.log,
	})
	if err != nil {
		return fmt.Errorf("harness: scenario %s: %w", r.sc.Name, err)
	}
	if err := r.readyOrClose(ctx, rf, c); err != nil {
		return err
	}
	r.kernel = ks
	r.log.Info("harness: k8s fleet ready", "run", sites.Run, "namespace", sites.Namespace, "sites", len(sites.Sites), "agents", first)
	return nil
}
