package report

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snmpchaos/snmpchaos/harness/probe"
)

func TestHTMLShowsThePollerProcessAndCoverage(t *testing.T) {
	r := &Report{Scenario: "s", Poller: "exec:pysnmp",
		Samples: []Sample{{T: time.Second, Process: &probe.ProcessSample{PID: 42, FDs: 9, UDPSockets: 3, Threads: 1, RSSBytes: 30 << 20, Goroutines: -1}}},
		Process: &ProcessReport{PID: 42, Command: "/usr/bin/python3 poller.py --leak",
			Baseline: probe.ProcessView{PID: 42, PIDs: []int{42}, FDs: 7}, Idle: probe.ProcessView{PID: 42, PIDs: []int{42}, FDs: 1553, RSSBytes: 32 << 20},
			BaselineGoroutines: -1, IdleGoroutines: -1, PeakFDs: 1553},
		Coverage: []PhaseCoverage{{Phase: "blackhole", Agents: 200, Reached: 199, Requests: 812, NotReached: []int{17}}},
	}
	var b strings.Builder
	require.NoError(t, WriteHTML(&b, r))
	html := b.String()
	assert.Contains(t, html, `<table id="poller-process">`)
	assert.Contains(t, html, "/usr/bin/python3 poller.py --leak")
	assert.Contains(t, html, `<td class="num">1553</td>`)
	assert.Contains(t, html, "32.0")
	assert.Contains(t, html, `id="plot-process"`)
	assert.Contains(t, html, `<table id="coverage">`)
	assert.Contains(t, html, "<td>17 </td>")
	var txt strings.Builder
	require.NoError(t, WriteText(&txt, r))
	assert.Contains(t, txt.String(), "Poller process 42: /usr/bin/python3 poller.py --leak")
	assert.Contains(t, txt.String(), "blackhole    199 of 200 agents reached, 812 requests; not reached: [17]")

	// Without a process or coverage, neither section.
	b.Reset()
	require.NoError(t, WriteHTML(&b, &Report{Scenario: "s"}))
	assert.NotContains(t, b.String(), "poller-process")
	assert.NotContains(t, b.String(), `id="coverage"`)
}
