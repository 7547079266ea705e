//go:build linux

package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Site is one test host: a network namespace behind a veth pair, with an
// agent prefix routed to it.
type Site struct {
	t     *Topology
	index int
	name  string
	plan  plan
	ns    vnetns.NsHandle
	h     *netlink.Handle // netlink in the site
	outer int             // ifindex of the veth end in the poller's namespace
	inner int             // ifindex of the veth end in the site

	outerMAC, innerMAC net.HardwareAddr
}

// addSite creates site k. On error the returned site, if not nil, holds
// what was made so far (for Close).
func (t *Topology) addSite(k int, p plan) (*Site, error) {
	s := &Site{t: t, index: k, name: siteName(t.run, k), plan: p}
	ns, err := createNamed(s.name)
	if err != nil {
		return nil, err
	}
	s.ns = ns
	if s.h, err = netlink.NewHandleAt(ns); err != nil {
		return s, fmt.Errorf("netns: netlink in %s: %w", s.name, err)
	}
	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("netns: site %s: %s: %w", s.name, what, err)
		}
		return nil
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: s.name, MTU: t.cfg.MTU},
		PeerName:      s.name,
		PeerNamespace: netlink.NsFd(int(ns)),
	}
	if err := step("add veth", t.rootH.LinkAdd(veth)); err != nil {
		return s, err
	}
	outer, err := t.rootH.LinkByName(s.name)
	if err := step("find outer veth", err); err != nil {
		return s, err
	}
	inner, err := s.h.LinkByName(s.name)
	if err := step("find inner veth", err); err != nil {
		return s, err
	}
	s.outer, s.inner = outer.Attrs().Index, inner.Attrs().Index
	lo, err := s.h.LinkByName("lo")
	if err := step("find lo", err); err != nil {
		return s, err
	}
	linkAddr := func(a netip.Addr) *netlink.Addr {
		return &netlink.Addr{IPNet: prefixIPNet(netip.PrefixFrom(a, p.link.Bits()))}
	}
	if err := errors.Join(
		step("outer address", t.rootH.AddrAdd(outer, linkAddr(p.pollerAddr()))),
		step("inner address", s.h.AddrAdd(inner, linkAddr(p.siteAddr()))),
		step("lo up", s.h.LinkSetUp(lo)),
		step("inner up", s.h.LinkSetUp(inner)),
		step("outer up", t.rootH.LinkSetUp(outer)),
	); err != nil {
		return s, err
	}
	// Every agent address is local in the site (AnyIP on lo): a wildcard
	// socket there receives for all of them and may send from each.
	local := &netlink.Route{
		LinkIndex: lo.Attrs().Index,
		Dst:       prefixIPNet(p.agents),
		Table:     unix.RT_TABLE_LOCAL,
		Type:      unix.RTN_LOCAL,
		Scope:     netlink.SCOPE_HOST,
		Protocol:  RouteProtocol,
	}
	if err := step("agent prefix on lo", s.h.RouteAdd(local)); err != nil {
		return s, err
	}
	// The blackhole under the veth route keeps the agent prefix from ever
	// following the default route out of the machine.
	if err := step("fallback route", t.rootH.RouteAdd(s.fallbackRoute())); err != nil {
		return s, err
	}
	if err := step("route to agents", t.rootH.RouteReplace(s.agentRoute())); err != nil {
		return s, err
	}
	s.outerMAC, s.innerMAC = outer.Attrs().HardwareAddr, inner.Attrs().HardwareAddr
	if err := s.ensureNeighbours(); err != nil {
		return s, err
	}
	return s, s.waitOperUp()
}

// ensureNeighbours sets permanent neighbour entries for both veth ends,
// so that no ARP is needed: after a link comes back up traffic flows at
// once, instead of when ARP retries (up to a second later). Taking the
// site's end down flushes its entry; link up calls this again.
func (s *Site) ensureNeighbours() error {
	set := func(h *netlink.Handle, link int, ip netip.Addr, mac net.HardwareAddr) error {
		return h.NeighSet(&netlink.Neigh{LinkIndex: link, Family: unix.AF_INET, State: netlink.NUD_PERMANENT, IP: net.IP(ip.AsSlice()), HardwareAddr: mac})
	}
	if err := set(s.t.rootH, s.outer, s.plan.siteAddr(), s.innerMAC); err != nil {
		return fmt.Errorf("netns: site %s: neighbour on the poller's side: %w", s.name, err)
	}
	if err := set(s.h, s.inner, s.plan.pollerAddr(), s.outerMAC); err != nil {
		return fmt.Errorf("netns: site %s: neighbour in the site: %w", s.name, err)
	}
	return nil
}

// agentRoute is the route to the agents in the poller's namespace: via the
// site's end of the veth, so one neighbour entry serves every agent.
func (s *Site) agentRoute() *netlink.Route {
	return &netlink.Route{
		LinkIndex: s.outer,
		Dst:       prefixIPNet(s.plan.agents),
		Gw:        net.IP(s.plan.siteAddr().AsSlice()),
		Src:       net.IP(s.plan.pollerAddr().AsSlice()),
		Protocol:  RouteProtocol,
		Table:     unix.RT_TABLE_MAIN,
	}
}

func (s *Site) fallbackRoute() *netlink.Route {
	return &netlink.Route{
		Dst:      prefixIPNet(s.plan.agents),
		Type:     unix.RTN_BLACKHOLE,
		Priority: fallbackMetric,
		Protocol: RouteProtocol,
		Table:    unix.RT_TABLE_MAIN,
	}
}

// ensureRoute puts the route to the agents and the neighbour entries
// back if a link change removed them.
func (s *Site) ensureRoute() error {
	if err := s.t.rootH.RouteReplace(s.agentRoute()); err != nil {
		return fmt.Errorf("netns: site %s: route to agents: %w", s.name, err)
	}
	return s.ensureNeighbours()
}

// waitOperUp waits until both veth ends are operationally up: the kernel
// takes a carrier change into effect (and until then drops packets) a
// little after the link is set up.
func (s *Site) waitOperUp() error {
	var err error
	for range 400 { // 2 s
		up := true
		for _, end := range []struct {
			h    *netlink.Handle
			link int
		}{{s.t.rootH, s.outer}, {s.h, s.inner}} {
			var l netlink.Link
			if l, err = end.h.LinkByIndex(end.link); err != nil || l.Attrs().OperState != netlink.OperUp {
				up = false
			}
		}
		if up {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err == nil {
		err = errors.New("still not up after 2s")
	}
	return fmt.Errorf("netns: site %s: link up: %w", s.name, err)
}

func (s *Site) close() {
	if s.h != nil {
		s.h.Close()
	}
	_ = s.ns.Close()
}

// Index is the site's position in the topology.
func (s *Site) Index() int { return s.index }

// Name is the site's namespace name, also the name of both veth ends.
func (s *Site) Name() string { return s.name }

// Agents is the site's agent prefix.
func (s *Site) Agents() netip.Prefix { return s.plan.agents }

// Capacity is how many agent addresses the site has: its prefix less the
// first and last address.
func (s *Site) Capacity() int { return 1<<(32-s.plan.agents.Bits()) - 2 }

// Agent is agent i's address: the i+1st of the prefix. It panics unless
// 0 <= i < Capacity.
func (s *Site) Agent(i int) netip.Addr {
	if i < 0 || i >= s.Capacity() {
		panic(fmt.Sprintf("netns: agent %d outside site %s of %d", i, s.name, s.Capacity()))
	}
	return addrAdd(s.plan.agents.Addr(), i+1)
}

// Listen is the first agent's address on port: the Listen of a simagent
// fleet in the site, whose agents take the following addresses.
func (s *Site) Listen(port uint16) netip.AddrPort { return netip.AddrPortFrom(s.Agent(0), port) }

// PollerAddr is the veth address on the poller's side, the source of the
// poller's packets to this site.
func (s *Site) PollerAddr() netip.Addr { return s.plan.pollerAddr() }

// SiteAddr is the veth address on the site's side, the agents' gateway.
func (s *Site) SiteAddr() netip.Addr { return s.plan.siteAddr() }

// Do runs fn in the site's namespace and returns its error: on a goroutine
// locked to an OS thread switched into the site, which is switched back
// and unlocked afterwards (or, if that fails, left locked so the thread
// ends). Sockets fn creates live in the site: start a simagent fleet
// inside Do. Goroutines fn starts run in the poller's namespace, and fn
// must not call t.FailNow. A panic in fn is raised again in the caller.
func (s *Site) Do(fn func() error) error {
	if s.t.isTorn() {
		return ErrClosed
	}
	return inNamespace(s.ns, fn)
}
