//go:build linux

package fault

import (
	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// bandwidthKind limits the site's link with a token bucket qdisc
// (kernel: {bandwidth: {rate, burst, latency, dir}}).
func bandwidthKind() Kind {
	return Kind{Name: "bandwidth", New: func(_ Env, s *netns.Site, kf scenarios.KernelFault) (Fault, error) {
		b := kf.Bandwidth
		spec := netns.BandwidthSpec{Rate: uint64(b.Rate), Burst: b.Burst, Latency: b.Latency.D(), Dir: direction(b.Dir)}
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		return s.Bandwidth(spec), nil
	}}
}
