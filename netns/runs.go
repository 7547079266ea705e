//go:build linux

package netns

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RunInfo is a run that has something on this host: namespaces, links,
// nftables tables or a state file named after it.
type RunInfo struct {
	// Run is the run's name, <family>-<pid>-<seq>.
	Run string
	// PID is the process that made it.
	PID int
	// Alive tells whether that process still runs (the same process: a
	// state file records its start time).
	Alive bool
}

// Runs lists the runs of family ("" for every family) that have anything
// on this host, in name order.
func Runs(family string) ([]RunInfo, error) {
	h, err := netlink.NewHandle()
	if err != nil {
		return nil, fmt.Errorf("netns: netlink: %w", err)
	}
	defer h.Close()
	return runsOf(h, family)
}

func runsOf(h *netlink.Handle, family string) ([]RunInfo, error) {
	var errs []error
	var names []string
	if ns, err := listNamed(); err == nil {
		names = append(names, ns...)
	} else {
		errs = append(errs, fmt.Errorf("netns: list namespaces: %w", err))
	}
	if links, err := dumpRetry(h.LinkList); err == nil {
		for _, l := range links {
			names = append(names, l.Attrs().Name)
		}
	} else {
		errs = append(errs, fmt.Errorf("netns: list links: %w", err))
	}
	if c, err := nftables.New(); err == nil {
		if tables, err := c.ListTables(); err == nil {
			for _, t := range tables {
				names = append(names, t.Name)
			}
		}
	}
	states := map[string]runState{}
	for _, st := range readStates() {
		states[st.Run] = st
		names = append(names, st.Run)
	}
	seen := map[string]bool{}
	var out []RunInfo
	for _, n := range names {
		p, ok := parseName(n)
		if !ok || (family != "" && p.family != family) || seen[p.run] {
			continue
		}
		seen[p.run] = true
		ri := RunInfo{Run: p.run, PID: p.pid}
		if st, ok := states[p.run]; ok {
			ri.Alive = st.alive()
		} else {
			ri.Alive = alive(p.pid, 0)
		}
		out = append(out, ri)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Run < out[j].Run })
	return out, errors.Join(errs...)
}

// CleanupRuns removes what runs of family ("" for every family) left on
// this host: their namespaces (with the nftables tables and qdiscs
// inside), veths, nftables tables, routes and state files. Runs whose
// process still lives are kept unless all. With family "" our routes
// (rtm_protocol RouteProtocol) that no live run claims go too. It returns
// the runs it removed.
func CleanupRuns(family string, all bool) ([]RunInfo, error) {
	var removed []RunInfo
	err := withLockedHandle(func(h *netlink.Handle) error {
		runs, err := runsOf(h, family)
		errs := []error{err}
		for _, r := range runs {
			if r.Alive && !all {
				continue
			}
			if err := cleanupLocked(h, nil, r.Run+"-"); err != nil {
				errs = append(errs, err)
			}
			removed = append(removed, r)
		}
		if family == "" {
			var claimed []netip.Prefix
			if !all {
				for _, st := range readStates() {
					if st.alive() {
						for _, s := range st.Sites {
							claimed = append(claimed, s.Agents)
						}
					}
				}
			}
			if err := sweepRoutes(h, claimed); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
	return removed, err
}

// CleanupPID removes every run process pid made, live or not: for a
// process that must exit now (a second signal) and cannot wait for its
// runs to close.
func CleanupPID(pid int) error {
	return withLockedHandle(func(h *netlink.Handle) error {
		runs, err := runsOf(h, "")
		errs := []error{err}
		for _, r := range runs {
			if r.PID == pid {
				errs = append(errs, cleanupLocked(h, nil, r.Run+"-"))
			}
		}
		return errors.Join(errs...)
	})
}

// sweepRoutes deletes our routes whose destination no prefix of claimed
// is: routes of runs whose state file went missing.
func sweepRoutes(h *netlink.Handle, claimed []netip.Prefix) error {
	rs, err := ourRoutes(h)
	if err != nil {
		return fmt.Errorf("netns: list routes: %w", err)
	}
	var errs []error
	for _, r := range rs {
		if r.Dst == nil {
			continue
		}
		d := ipnetPrefix(r.Dst)
		claim := false
		for _, c := range claimed {
			if c == d {
				claim = true
				break
			}
		}
		if !claim {
			if err := h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
				errs = append(errs, fmt.Errorf("netns: delete stale route %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// OurRoutes lists the destinations of the routes netns mode added to the
// main table (rtm_protocol RouteProtocol), live runs' included.
func OurRoutes() ([]netip.Prefix, error) {
	h, err := netlink.NewHandle()
	if err != nil {
		return nil, fmt.Errorf("netns: netlink: %w", err)
	}
	defer h.Close()
	rs, err := ourRoutes(h)
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, r := range rs {
		if r.Dst != nil {
			out = append(out, ipnetPrefix(r.Dst))
		}
	}
	return out, nil
}
