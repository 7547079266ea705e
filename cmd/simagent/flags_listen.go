package main

import (
	"fmt"
	"net/netip"
)

// netnsRange is the address range of netns mode's sites (RFC 2544's
// benchmarking range, never routed beyond a test network): agents there
// live in a namespace a test created.
var netnsRange = netip.MustParsePrefix("198.18.0.0/15")

// checkListen refuses a --listen address beyond loopback and netnsRange
// unless any: a fleet on a routable address answers anyone, and with
// GetBulk a small request buys a large reply (a reflector).
func checkListen(ap netip.AddrPort, any bool) error {
	a := ap.Addr().Unmap()
	if any || a.IsLoopback() || netnsRange.Contains(a) {
		return nil
	}
	return fmt.Errorf("--listen %s: not a loopback address (127.0.0.0/8, ::1) or in the netns test range %s; agents answer, and amplify for, anyone who reaches them: add --listen-any to serve beyond this host", ap, netnsRange)
}
