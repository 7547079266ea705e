//go:build linux

package fault

import (
	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// linkDownKind takes the site's link down for the phase (kernel:
// {linkDown: {}}).
func linkDownKind() Kind {
	return Kind{Name: "linkDown", New: func(_ Env, s *netns.Site, _ scenarios.KernelFault) (Fault, error) {
		return s.LinkDown(), nil
	}}
}
