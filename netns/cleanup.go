//go:build linux

package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RouteProtocol marks the routes netns mode adds (rtm_protocol), so that
// routes a killed run left can be found: "proto 151" in `ip route`.
const RouteProtocol netlink.RouteProtocol = 151

// fallbackMetric is the metric of the blackhole route kept under each
// site's agent prefix, so that the prefix never follows the default route
// out of the machine when the veth route is gone.
const fallbackMetric = 4000

// Cleanup removes what netns mode made under names starting with prefix:
// named namespaces (and with them the nftables tables, qdiscs and veth
// ends inside), veths of the current namespace, nftables tables of the
// current namespace, state files, and the routes those runs added. Only
// names of netns mode's form are touched, whatever the prefix. It does not
// ask whether the runs still live: Cleanup("sc-") removes every run of
// family sc, live or dead. Build already removes dead runs of its family.
func Cleanup(prefix string) error {
	return withLockedHandle(func(h *netlink.Handle) error {
		return cleanupLocked(h, nil, prefix)
	})
}

// withLockedHandle runs fn with the state lock held and a netlink handle of
// the current namespace, as every cleanup entry point does.
func withLockedHandle(fn func(h *netlink.Handle) error) error {
	unlock, err := lockState()
	if err != nil {
		return err
	}
	defer unlock()
	h, err := netlink.NewHandle()
	if err != nil {
		return fmt.Errorf("netns: netlink: %w", err)
	}
	defer h.Close()
	return fn(h)
}

// ours reports whether name is of our form and starts with prefix.
func ours(name, prefix string) bool {
	if _, ok := parseName(name); !ok {
		return false
	}
	return strings.HasPrefix(name, prefix) || strings.HasPrefix(name+"-", prefix)
}

// cleanupLocked is Cleanup with the state lock held; h is a netlink handle
// in the poller's namespace and nft, if not nil, an nftables connection
// there.
func cleanupLocked(h *netlink.Handle, nft *nftables.Conn, prefix string) error {
	var errs []error
	// Veths first: deleting one end deletes its peer inside the site, and
	// the root routes through it.
	links, err := dumpRetry(h.LinkList)
	if err != nil {
		errs = append(errs, fmt.Errorf("netns: list links: %w", err))
	}
	for _, l := range links {
		if l.Type() == "veth" && ours(l.Attrs().Name, prefix) {
			if err := h.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
				errs = append(errs, fmt.Errorf("netns: delete link %s: %w", l.Attrs().Name, err))
			}
		}
	}
	names, err := listNamed()
	if err != nil {
		errs = append(errs, fmt.Errorf("netns: list namespaces: %w", err))
	}
	for _, n := range names {
		if ours(n, prefix) {
			if err := deleteNamed(n); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := cleanupTables(nft, prefix); err != nil {
		errs = append(errs, err)
	}
	for _, st := range readStates() {
		if !ours(st.Run, prefix) {
			continue
		}
		for _, s := range st.Sites {
			if err := delRoutes(h, s.Agents); err != nil {
				errs = append(errs, err)
			}
		}
		if err := removeState(st.Run); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// cleanupTables deletes nftables tables of the poller's namespace named
// with prefix. netns mode keeps its tables inside the sites; this catches
// any other.
func cleanupTables(nft *nftables.Conn, prefix string) error {
	if nft == nil {
		c, err := nftables.New()
		if err != nil {
			return nil // no nftables: no tables of ours either
		}
		nft = c
	}
	tables, err := nft.ListTables()
	if err != nil {
		return nil // nf_tables missing: nothing to remove
	}
	n := 0
	for _, t := range tables {
		if ours(t.Name, prefix) {
			nft.DelTable(t)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if err := nft.Flush(); err != nil {
		return fmt.Errorf("netns: delete nftables tables: %w", err)
	}
	return nil
}

// ourRoutes lists the routes of the main table that netns mode added.
func ourRoutes(h *netlink.Handle) ([]netlink.Route, error) {
	return dumpRetry(func() ([]netlink.Route, error) {
		return h.RouteListFiltered(unix.AF_INET, &netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	})
}

// delRoutes deletes our routes whose destination is p.
func delRoutes(h *netlink.Handle, p netip.Prefix) error {
	rs, err := ourRoutes(h)
	if err != nil {
		return fmt.Errorf("netns: list routes: %w", err)
	}
	var errs []error
	for _, r := range rs {
		if r.Dst == nil || ipnetPrefix(r.Dst) != p {
			continue
		}
		if err := h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("netns: delete route %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// sweepStale removes the leftovers of dead runs of family: runs whose
// state file names a dead owner, names whose PID is dead and that no live
// state file claims, and our routes that no live run claims. The state
// lock must be held.
func sweepStale(h *netlink.Handle, family string, log func(run string)) error {
	var errs []error
	live := map[string]bool{}
	var claimed []netip.Prefix
	dead := map[string]bool{}
	for _, st := range readStates() {
		if st.alive() {
			live[st.Run] = true
			for _, s := range st.Sites {
				claimed = append(claimed, s.Agents)
			}
		} else if p, ok := parseName(st.Run); ok && p.family == family {
			dead[st.Run] = true
		}
	}
	var names []string
	if ns, err := listNamed(); err == nil {
		names = append(names, ns...)
	}
	if links, err := dumpRetry(h.LinkList); err == nil {
		for _, l := range links {
			names = append(names, l.Attrs().Name)
		}
	}
	for _, n := range names {
		p, ok := parseName(n)
		if ok && p.family == family && !live[p.run] && !alive(p.pid, 0) {
			dead[p.run] = true
		}
	}
	for run := range dead {
		log(run)
		if err := cleanupLocked(h, nil, run+"-"); err != nil {
			errs = append(errs, err)
		}
	}
	// Routes of ours that no live run claims: left by a run whose state
	// file went missing.
	if err := sweepRoutes(h, claimed); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// dumpRetry calls a netlink dump again when the kernel reports that it
// was interrupted by a change (a few times, then returns what it has).
func dumpRetry[T any](f func() ([]T, error)) ([]T, error) {
	var (
		v   []T
		err error
	)
	for range 5 {
		v, err = f()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, err
}

func ipnetPrefix(n *net.IPNet) netip.Prefix {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones).Masked()
}

func prefixIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
