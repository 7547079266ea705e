//go:build linux

package fault

import (
	"time"

	"github.com/snmpchaos/snmpchaos/netns"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// flapKind takes the site's link down and up in turn (kernel: {flap:
// {down, up, cycles}}); every change is reported to Env.OnLink.
func flapKind() Kind {
	return Kind{Name: "flap", New: func(env Env, s *netns.Site, kf scenarios.KernelFault) (Fault, error) {
		site := kf.Site
		spec := netns.FlapSpec{Down: kf.Flap.Down.D(), Up: kf.Flap.Up.D(), Cycles: kf.Flap.Cycles,
			OnChange: func(up bool, at time.Time) {
				if env.OnLink != nil {
					env.OnLink(site, up, at)
				}
			}}
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		return s.Flap(spec), nil
	}}
}
