package harness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/fault"
)

// kernelFault is one phase's kernel fault, built for the run's topology.
type kernelFault struct {
	desc    string // "site 1: drop 5%"
	site    int
	f       fault.Fault
	dropped fault.Dropper // nil unless the fault counts its drops
}

// kernelState is netns mode's part of a run: the topology, the phases'
// kernel faults, and what happened to them.
type kernelState struct {
	t0     time.Time
	log    *slog.Logger
	phases [][]*kernelFault // by phase
	sites  []SiteReport
	close  func() error // tears the topology down (or the pods)
	mode   string       // scenarios.ModeNetns (default) or ModeK8s
	// agentsOf lists the global indexes of a site's agents.
	agentsOf func(site int) []int

	mu      sync.Mutex
	active  []*kernelFault
	phase   string
	retired uint64 // packets dropped by filters recovered already
	events  []KernelEvent
}

// event records a kernel event now.
func (k *kernelState) event(site int, kind, fault string, at time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.events = append(k.events, KernelEvent{T: at.Sub(k.t0), Site: site, Kind: kind, Fault: fault, Phase: k.phase})
}

// enter recovers the faults in force and injects phase i's; it returns
// the phase's descriptions. A fault that fails to inject is an error (the
// others stay injected until recoverAll).
func (k *kernelState) enter(ctx context.Context, i int, name string) ([]string, error) {
	if err := k.recoverAll(); err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.phase = name
	k.mu.Unlock()
	var descr []string
	for _, f := range k.phases[i] {
		if err := f.f.Inject(ctx); err != nil {
			return descr, fmt.Errorf("harness: phase %s: kernel fault %s: %w", name, f.desc, err)
		}
		k.mu.Lock()
		k.active = append(k.active, f)
		k.mu.Unlock()
		k.event(f.site, KernelInject, f.desc, time.Now())
		k.log.Info("harness: kernel fault injected", "fault", f.desc, "kernel", f.f.Name())
		descr = append(descr, f.desc)
	}
	return descr, nil
}

// recoverAll recovers every fault in force, keeping the drop counts of
// filters. Safe to call more than once.
func (k *kernelState) recoverAll() error {
	k.mu.Lock()
	active := append([]*kernelFault(nil), k.active...)
	k.mu.Unlock()
	var errs []error
	for _, f := range active {
		var n uint64
		if f.dropped != nil {
			n, _ = f.dropped.DroppedPackets()
		}
		// The count moves to retired as the filter leaves active, so the
		// sum never dips.
		k.mu.Lock()
		k.retired += n
		for j, a := range k.active {
			if a == f {
				k.active = append(k.active[:j], k.active[j+1:]...)
				break
			}
		}
		k.mu.Unlock()
		err := f.f.Recover(context.Background())
		k.event(f.site, KernelRecover, f.desc, time.Now())
		if err != nil {
			errs = append(errs, fmt.Errorf("harness: recover kernel fault %s: %w", f.desc, err))
		}
	}
	return errors.Join(errs...)
}

// dropped is how many packets the run's filters dropped so far.
func (k *kernelState) dropped() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := k.retired
	for _, f := range k.active {
		if f.dropped != nil {
			if c, err := f.dropped.DroppedPackets(); err == nil {
				n += c
			}
		}
	}
	return n
}

// takeEvents returns the events so far.
func (k *kernelState) takeEvents() []KernelEvent {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]KernelEvent(nil), k.events...)
}

// faultyAgents lists the agents phase i's kernel faults reach.
func (k *kernelState) faultyAgents(i int) []int {
	var out []int
	seen := map[int]bool{}
	for _, f := range k.phases[i] {
		if !seen[f.site] {
			seen[f.site] = true
			out = append(out, k.agentsOf(f.site)...)
		}
	}
	return out
}

// enterKernel puts phase i's kernel faults in force (netns mode).
func (r *run) enterKernel(i int) ([]string, error) {
	if r.kernel == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.kernel.enter(ctx, i, r.sc.Phases[i].Name)
}

// recoverKernel recovers the kernel faults in force.
func (r *run) recoverKernel() {
	if err := r.kernel.recoverAll(); err != nil {
		r.log.Warn("harness: kernel faults", "err", err)
	}
}

// closeKernel recovers the kernel faults, tears the topology down (after
// the fleets closed) and puts the kernel's events in the report.
func (r *run) closeKernel() {
	if r.kernel == nil {
		return
	}
	r.recoverKernel()
	mode := r.kernel.mode
	if mode == "" {
		mode = "netns"
	}
	if err := r.kernel.close(); err != nil {
		r.log.Warn("harness: "+mode+" sites close", "err", err)
	}
	r.rep.Mode, r.rep.Sites, r.rep.KernelEvents = mode, r.kernel.sites, r.kernel.takeEvents()
}
