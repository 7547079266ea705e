package invariant

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/snmpchaos/snmpchaos/harness/probe"
	"github.com/snmpchaos/snmpchaos/harness/report"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

func TestProcessChecks(t *testing.T) {
	sc := &scenarios.Scenario{Invariants: scenarios.Invariants{MaxGoroutines: 50}}
	sock := func(ino uint64) probe.ProcessSocket {
		return probe.ProcessSocket{PID: 42, Inode: ino, Local: netip.MustParseAddrPort("127.0.0.1:40000"), Remote: netip.MustParseAddrPort("127.16.0.9:1161")}
	}
	base := probe.ProcessView{PID: 42, PIDs: []int{42}, FDs: 7, UDPSockets: []probe.ProcessSocket{sock(1)}}
	tests := []struct {
		name            string
		idle            probe.ProcessView
		peakG, baseG    int
		cc, fds, gor    bool
		ccEvidence      string
		gorSummaryMatch string
	}{
		{"clean", probe.ProcessView{FDs: 9, UDPSockets: []probe.ProcessSocket{sock(1), sock(2), sock(3)}}, 0, -1, true, true, true, "", ""},
		{"leak", probe.ProcessView{FDs: 40, UDPSockets: []probe.ProcessSocket{sock(1), sock(2), sock(3), sock(4), sock(5)}}, 0, -1, false, false, true, "pid 42: udp socket inode 5 local 127.0.0.1:40000 connected to 127.16.0.9:1161", ""},
		{"goroutines over the bound", probe.ProcessView{FDs: 7, UDPSockets: []probe.ProcessSocket{sock(1)}}, 70, 10, true, true, false, "", "reports 10 goroutines at baseline, peak 70 (bound 60)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &report.ProcessReport{PID: 42, Command: "/usr/bin/mypoller --x", Baseline: base, Idle: tt.idle,
				BaselineGoroutines: tt.baseG, PeakGoroutines: tt.peakG, IdleGoroutines: tt.baseG}
			in := []report.InvariantResult{{Name: ConnectionsClosed, Pass: true}, {Name: FDsStable, Pass: true}, {Name: GoroutinesBounded, Pass: true}}
			out := processChecks(&Evidence{Scenario: sc, Process: p}, in)
			assert.Equal(t, tt.cc, out[0].Pass, out[0].Summary)
			assert.Equal(t, tt.fds, out[1].Pass, out[1].Summary)
			assert.Equal(t, tt.gor, out[2].Pass, out[2].Summary)
			assert.Contains(t, out[0].Summary, "poller process 42 (/usr/bin/mypoller --x)")
			if tt.ccEvidence != "" {
				assert.Contains(t, strings.Join(out[0].Evidence, "\n"), tt.ccEvidence)
				assert.Len(t, out[0].Evidence, 4, "the four new sockets")
			}
			if tt.gorSummaryMatch != "" {
				assert.Contains(t, out[2].Summary, tt.gorSummaryMatch)
			}
		})
	}
	// Not a process poller: nothing changes.
	in := []report.InvariantResult{{Name: ConnectionsClosed, Pass: true, Summary: "x"}}
	assert.Equal(t, in, processChecks(&Evidence{Scenario: sc}, in))
}
