//go:build linux

package fault

import (
	"net/netip"

	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// blackholeKind drops every packet to and from the site's agents with
// nftables (kernel: {blackhole: {}}).
func blackholeKind() Kind {
	return Kind{Name: "blackhole", New: func(_ Env, s *netns.Site, _ scenarios.KernelFault) (Fault, error) {
		return filter{s.Blackhole(netip.Prefix{})}, nil
	}}
}
