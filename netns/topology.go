//go:build linux

package netns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sync"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Errors callers branch on.
var (
	// ErrNotPermitted: netns mode needs root.
	ErrNotPermitted = errors.New("netns: not permitted (netns mode needs root on Linux)")
	// ErrClosed: the topology is closed.
	ErrClosed = errors.New("netns: topology closed")
	// ErrNoAddresses: the pool has no room for the sites asked for.
	ErrNoAddresses = errors.New("netns: no free addresses")
	// ErrUnavailable: the kernel cannot do this fault.
	ErrUnavailable = errors.New("netns: fault unavailable on this kernel")
	// ErrActive: the fault is already injected.
	ErrActive = errors.New("netns: fault already injected")
)

// Topology is a built set of sites. Close tears it down.
type Topology struct {
	cfg   Config
	run   string
	root  vnetns.NsHandle // the poller's namespace
	rootH *netlink.Handle // netlink there
	sites []*Site

	mu      sync.Mutex
	closing bool                // no new faults
	torn    bool                // resources gone
	active  map[*fault]struct{} // injected faults
	seq     int                 // fault ids
	closeMu sync.Mutex          // serialises Close

	netemOnce sync.Once
	netemErr  error
	nftOnce   sync.Once
	nftErr    error
}

// Build creates cfg.Sites sites, each a namespace joined to the calling
// goroutine's namespace (the poller's) by a veth pair, after removing
// what dead runs of the same family left. On error nothing of the new run
// is left. ctx bounds the build.
func Build(ctx context.Context, cfg Config) (*Topology, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, ErrNotPermitted
	}
	root, err := currentNamespace()
	if err != nil {
		return nil, err
	}
	rootH, err := netlink.NewHandleAt(root)
	if err != nil {
		_ = root.Close()
		return nil, fmt.Errorf("netns: netlink: %w", err)
	}
	t := &Topology{cfg: cfg, root: root, rootH: rootH, active: map[*fault]struct{}{}}
	plans, err := t.claim()
	if err != nil {
		t.closeHandles()
		return nil, err
	}
	for k, p := range plans {
		if err := ctx.Err(); err != nil {
			return nil, errors.Join(err, t.Close())
		}
		s, err := t.addSite(k, p)
		if s != nil {
			t.sites = append(t.sites, s)
		}
		if err != nil {
			return nil, errors.Join(err, t.Close())
		}
	}
	cfg.Logger.Info("netns topology ready", "run", t.run, "sites", len(t.sites), "first", t.sites[0].plan.agents, "agents_per_site", t.sites[0].Capacity())
	return t, nil
}

// claim removes dead runs, allocates addresses, picks the run name and
// records the run, all under the state lock.
func (t *Topology) claim() ([]plan, error) {
	unlock, err := lockState()
	if err != nil {
		return nil, err
	}
	defer unlock()
	c := &t.cfg
	if err := sweepStale(t.rootH, c.Family, func(run string) {
		c.Logger.Info("netns: removing leftovers of a dead run", "run", run)
	}); err != nil {
		c.Logger.Warn("netns: removing leftovers of dead runs", "err", err)
	}
	states := readStates()
	var taken []netip.Prefix
	used := map[string]bool{}
	for _, st := range states {
		used[st.Run] = true
		for _, s := range st.Sites {
			taken = append(taken, s.Agents, s.Link)
		}
	}
	occ, err := t.occupied()
	if err != nil {
		return nil, err
	}
	taken = append(taken, occ...)
	plans, err := allocate(c.Pool, c.SiteBits, c.Sites, taken)
	if err != nil {
		return nil, err
	}
	names, _ := listNamed()
	links, _ := dumpRetry(t.rootH.LinkList)
	for _, n := range names {
		if p, ok := parseName(n); ok {
			used[p.run] = true
		}
	}
	for _, l := range links {
		if p, ok := parseName(l.Attrs().Name); ok {
			used[p.run] = true
		}
	}
	pid := os.Getpid()
	for seq := range 36 * 36 {
		if r := runName(c.Family, pid, seq); !used[r] {
			t.run = r
			break
		}
	}
	if t.run == "" {
		return nil, fmt.Errorf("netns: no free run name for PID %d", pid)
	}
	_, start, _ := procStat(pid)
	st := runState{Run: t.run, PID: pid, Start: start}
	for k, p := range plans {
		st.Sites = append(st.Sites, siteState{Name: siteName(t.run, k), Agents: p.agents, Link: p.link})
	}
	if err := writeState(st); err != nil {
		return nil, err
	}
	return plans, nil
}

// occupied lists the prefixes of the poller's namespace that a site must
// not overlap: its routes at least as long as the pool's and its
// addresses.
func (t *Topology) occupied() ([]netip.Prefix, error) {
	var out []netip.Prefix
	rs, err := dumpRetry(func() ([]netlink.Route, error) {
		return t.rootH.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, fmt.Errorf("netns: list routes: %w", err)
	}
	for _, r := range rs {
		if r.Dst == nil {
			continue
		}
		if p := ipnetPrefix(r.Dst); p.IsValid() && p.Bits() >= t.cfg.Pool.Bits() {
			out = append(out, p)
		}
	}
	as, err := dumpRetry(func() ([]netlink.Addr, error) { return t.rootH.AddrList(nil, unix.AF_INET) })
	if err != nil {
		return nil, fmt.Errorf("netns: list addresses: %w", err)
	}
	for _, a := range as {
		if p := ipnetPrefix(a.IPNet); p.IsValid() {
			out = append(out, p)
		}
	}
	return out, nil
}

// Run is the run's name, which starts every name the run creates.
func (t *Topology) Run() string { return t.run }

// Sites lists the sites in order.
func (t *Topology) Sites() []*Site { return slices.Clone(t.sites) }

// Site is site i.
func (t *Topology) Site(i int) *Site { return t.sites[i] }

// SiteOf finds the site whose agent prefix holds a, or nil.
func (t *Topology) SiteOf(a netip.Addr) *Site {
	for _, s := range t.sites {
		if s.plan.agents.Contains(a) {
			return s
		}
	}
	return nil
}

// Close recovers every injected fault, stopping their goroutines, and
// removes the run's namespaces, veths, routes and state file. Close
// fleets started in the sites first: a socket keeps its namespace alive
// (though emptied of its veth) until it is closed. Close is safe to call
// more than once; later calls return nil.
func (t *Topology) Close() error {
	t.closeMu.Lock()
	defer t.closeMu.Unlock()
	t.mu.Lock()
	if t.torn {
		t.mu.Unlock()
		return nil
	}
	t.closing = true
	active := make([]*fault, 0, len(t.active))
	for f := range t.active {
		active = append(active, f)
	}
	t.mu.Unlock()
	var errs []error
	for _, f := range active {
		if err := f.Recover(context.Background()); err != nil {
			errs = append(errs, fmt.Errorf("netns: recover %s: %w", f.Name(), err))
		}
	}
	t.mu.Lock()
	t.torn = true
	t.mu.Unlock()
	for _, s := range t.sites {
		s.close()
	}
	if t.run != "" {
		unlock, err := lockState()
		if err != nil {
			errs = append(errs, err)
		} else {
			errs = append(errs, cleanupLocked(t.rootH, nil, t.run+"-"))
			unlock()
		}
	}
	t.closeHandles()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	t.cfg.Logger.Info("netns topology closed", "run", t.run)
	return nil
}

func (t *Topology) closeHandles() {
	t.rootH.Close()
	_ = t.root.Close()
}

// track registers an injected fault, or fails once Close has begun.
func (t *Topology) track(f *fault) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return ErrClosed
	}
	t.active[f] = struct{}{}
	return nil
}

func (t *Topology) untrack(f *fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.active, f)
}

// isTorn reports whether Close removed the resources.
func (t *Topology) isTorn() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.torn
}

// nextID returns a fresh fault id.
func (t *Topology) nextID() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	return t.seq
}
