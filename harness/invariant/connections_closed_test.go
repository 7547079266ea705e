package invariant

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

func TestConnectionsClosedViews(t *testing.T) {
	sc := &scenarios.Scenario{}
	fleet := probe.UDPSocket{Inode: 1}
	pollerSock := probe.UDPSocket{Inode: 2}
	leaked := probe.UDPSocket{Inode: 3}
	base := report.Sample{UDPSockets: 2, Poller: &pollapi.PollerStats{OpenSockets: 1}}
	tests := []struct {
		name      string
		after     map[uint64]probe.UDPSocket
		afterStat *pollapi.PollerStats
		pass      bool
		evidence  string
	}{
		{"clean", map[uint64]probe.UDPSocket{1: fleet}, &pollapi.PollerStats{}, true, ""},
		{"poller kept its own socket", map[uint64]probe.UDPSocket{1: fleet, 2: pollerSock}, &pollapi.PollerStats{OpenSockets: 1}, false, "the poller reports 1 sockets still open after Close"},
		{"leak the poller does not see", map[uint64]probe.UDPSocket{1: fleet, 3: leaked}, &pollapi.PollerStats{}, false, "the poller's stats and the OS disagree"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := report.Sample{UDPSockets: len(tt.after), Poller: tt.afterStat}
			ev := &Evidence{Scenario: sc, Base: base, After: after, Reporter: true,
				BaseUDP: map[uint64]probe.UDPSocket{1: fleet, 2: pollerSock}, AfterUDP: tt.after}
			res := connectionsClosed(ev)
			assert.Equal(t, tt.pass, res.Pass, res.Evidence)
			if tt.evidence != "" {
				assert.Contains(t, strings.Join(res.Evidence, "\n"), tt.evidence)
			}
		})
	}
	res := connectionsClosed(&Evidence{Scenario: sc})
	assert.False(t, res.Pass, "no OS view: cannot pass")
}
