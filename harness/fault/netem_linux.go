//go:build linux

package fault

import (
	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// netemKind delays, jitters and loses packets with the netem qdisc
// (kernel: {netem: {delay, jitter, loss, dir}}).
func netemKind() Kind {
	return Kind{Name: "netem", New: func(_ Env, s *netns.Site, kf scenarios.KernelFault) (Fault, error) {
		n := kf.Netem
		spec := netns.NetemSpec{Delay: n.Delay.D(), Jitter: n.Jitter.D(), Loss: n.Loss, Dir: direction(n.Dir)}
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		return s.Netem(spec), nil
	}}
}
