//go:build linux

package fault

import (
	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// dropKind drops packets at random with nftables (kernel: {drop: {prob,
// dir}}).
func dropKind() Kind {
	return Kind{Name: "drop", New: func(_ Env, s *netns.Site, kf scenarios.KernelFault) (Fault, error) {
		spec := netns.DropSpec{Prob: kf.Drop.Prob, Dir: direction(kf.Drop.Dir)}
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		return filter{s.Drop(spec)}, nil
	}}
}
