//go:build linux

package harness

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// defaultAgentPort is the agents' port in netns mode when the scenario's
// fleet.listen leaves it to the system: each site has its own stack, so
// the SNMP port is free.
const defaultAgentPort = 161

// startNetns builds the topology, starts one fleet per site inside it and
// waits until they answer; on error it leaves nothing behind.
func (r *run) startNetns(ctx context.Context) (err error) {
	sc := r.sc
	fl := sc.Fleet
	counts := fl.SiteAgents()
	spec := fl.Profile
	if spec == "" {
		spec = dataPath(sc.Source, fl.Data)
	}
	store, err := mib.Open(spec)
	if err != nil {
		return fmt.Errorf("harness: scenario %s: fleet data: %w", sc.Name, err)
	}
	listen, err := netip.ParseAddrPort(fl.Listen)
	if err != nil {
		return fmt.Errorf("%w: scenario %s: fleet.listen %q: %w", ErrBadInput, sc.Name, fl.Listen, err)
	}
	port := listen.Port()
	if port == 0 {
		port = defaultAgentPort
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: scenario %s: running as uid %d", ErrNeedsRoot, sc.Name, os.Geteuid())
	}
	top, err := netns.Build(ctx, netns.Config{Sites: len(counts), Family: r.cfg.netnsFamily, Logger: r.log})
	if err != nil {
		if errors.Is(err, netns.ErrNotPermitted) || errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("%w: scenario %s: %w", ErrNeedsRoot, sc.Name, err)
		}
		return fmt.Errorf("harness: scenario %s: build netns topology: %w", sc.Name, err)
	}
	k := &kernelState{t0: r.t0, log: r.log, close: top.Close}
	var fleets []*simagent.Fleet
	defer func() {
		if err != nil {
			for _, f := range fleets {
				_ = f.Close()
			}
			err = errors.Join(err, top.Close())
		}
	}()
	first := 0
	for i, site := range top.Sites() {
		var f *simagent.Fleet
		derr := site.Do(func() error {
			var err error
			f, err = simagent.Start(ctx, simagent.Config{
				Agents: counts[i], Listen: site.Listen(port), Store: store, Community: fl.Community,
				Seed: r.seed + uint64(i), MaxMsgSize: fl.MaxMsgSize, Labels: siteLabels(fl, i, first, counts[i]),
				Logger: r.log.With("site", site.Name()), Users: fl.Users(),
			})
			return err
		})
		if derr != nil {
			return fmt.Errorf("harness: scenario %s: start fleet in site %s: %w", sc.Name, site.Name(), derr)
		}
		fleets = append(fleets, f)
		k.sites = append(k.sites, SiteReport{Name: site.Name(), Agents: counts[i], Prefix: site.Agents().String(), First: first})
		first += counts[i]
	}
	if !r.cfg.skipReadyCheck {
		for _, f := range fleets {
			if err := waitReady(ctx, f, r.cfg.readyTimeout); err != nil {
				return err
			}
		}
	}
	if k.phases, err = kernelFaults(top, sc, k); err != nil {
		return err
	}
	k.agentsOf = func(site int) []int {
		s := k.sites[site]
		out := make([]int, s.Agents)
		for j := range out {
			out[j] = s.First + j
		}
		return out
	}
	r.fleet = newFleetSet(r.seed, fleets...)
	r.kernel = k
	r.log.Info("harness: netns fleet ready", "run", top.Run(), "sites", len(fleets), "agents", first)
	return nil
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

// kernelFaults builds every phase's kernel faults on the topology and
// checks them with netns's own validation.
func kernelFaults(top *netns.Topology, sc *scenarios.Scenario, k *kernelState) ([][]*kernelFault, error) {
	out := make([][]*kernelFault, len(sc.Phases))
	for i, ph := range sc.Phases {
		for j, kf := range ph.Kernel {
			f, err := kernelFaultOf(top, kf, k)
			if err != nil {
				return nil, fmt.Errorf("%w: scenario %s: phases[%d].kernel[%d]: %w", ErrBadInput, sc.Name, i, j, err)
			}
			out[i] = append(out[i], f)
		}
	}
	return out, nil
}

func kernelFaultOf(top *netns.Topology, kf scenarios.KernelFault, k *kernelState) (*kernelFault, error) {
	sites := top.Sites()
	if kf.Site < 0 || kf.Site >= len(sites) {
		return nil, fmt.Errorf("site %d outside the %d sites", kf.Site, len(sites))
	}
	s := sites[kf.Site]
	f := &kernelFault{desc: kf.String(), site: kf.Site}
	filter := func(fl *netns.Filter) {
		f.f = fl
		f.dropped = func() (uint64, error) {
			c, err := fl.Dropped()
			return c.Packets, err
		}
	}
	switch {
	case kf.Drop != nil:
		spec := netns.DropSpec{Prob: kf.Drop.Prob, Dir: direction(kf.Drop.Dir)}
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		filter(s.Drop(spec))
	case kf.Blackhole != nil:
		filter(s.Blackhole(netip.Prefix{}))
	case kf.Bandwidth != nil:
		b := kf.Bandwidth
		spec := netns.BandwidthSpec{Rate: uint64(b.Rate), Burst: b.Burst, Latency: b.Latency.D(), Dir: direction(b.Dir)}
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		f.f = s.Bandwidth(spec)
	case kf.LinkDown != nil:
		f.f = s.LinkDown()
	case kf.Flap != nil:
		site, desc := kf.Site, f.desc
		spec := netns.FlapSpec{Down: kf.Flap.Down.D(), Up: kf.Flap.Up.D(), Cycles: kf.Flap.Cycles,
			OnChange: func(up bool, at time.Time) {
				kind := KernelLinkDown
				if up {
					kind = KernelLinkUp
				}
				k.event(site, kind, desc, at)
			}}
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		f.f = s.Flap(spec)
	case kf.Netem != nil:
		n := kf.Netem
		spec := netns.NetemSpec{Delay: n.Delay.D(), Jitter: n.Jitter.D(), Loss: n.Loss, Dir: direction(n.Dir)}
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		f.f = s.Netem(spec)
	default:
		return nil, errors.New("no fault set")
	}
	return f, nil
}

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

// CleanupNetns removes what netns runs of family (default "sc") left,
// live or dead: namespaces, veths, nftables tables, qdiscs, routes and
// state files. Build already removes what dead runs left.
func CleanupNetns(family string) error {
	if family == "" {
		family = netns.DefaultFamily
	}
	return netns.Cleanup(family + "-")
}
