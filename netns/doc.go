// Package netns builds test hosts for netns mode: each site is a Linux
// network namespace joined to the poller's namespace (the one Build is
// called from) by a veth pair, with thousands of agent addresses from
// 198.18.0.0/15 behind it, and injects kernel-level faults on the way
// there: random drops and blackholes with nftables, bandwidth limits with
// a tbf qdisc, link down and flapping links, and netem delay and loss where
// the kernel has netem.
//
// A site holds no address per agent: its agent prefix is a local route on
// the site's loopback (AnyIP), so one wildcard socket in the site receives
// for every agent address and can answer from each, and the poller's
// namespace routes the prefix through the veth to one gateway address.
// Start a simagent fleet inside (*Site).Do and its sockets live in the
// site.
//
// Every name carries a run name, <family>-<pid in base 36>-<seq> (for
// example sc-1f3k-0), and every run records itself in a state file under
// /run/snmpchaos, so Build finds what a killed run left behind and removes
// it. It needs Linux, root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and a kernel
// with network namespaces, veth, nf_tables and tbf.
package netns
