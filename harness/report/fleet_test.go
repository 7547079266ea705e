package report

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withFleet is fakeReport with its fleet in two processes, one of which
// went down and came back.
func withFleet() *Report {
	r := fakeReport(false)
	r.Mode = "processes"
	at := time.Date(2025, 11, 24, 16, 13, 15, 0, time.UTC)
	r.FleetProcesses = []FleetProcess{
		{URL: "http://127.0.0.1:40001", PID: 4101, First: 0, Agents: 50, Spawned: true,
			Resources: &ProcResources{Peak: ProcSample{FDs: 13, Sockets: 4, Threads: 9, RSS: 23 << 20}, Samples: 300},
			Applies:   []FleetApply{{Phase: "warmup", Took: 800 * time.Microsecond}, {Phase: "chaos", Agents: 20, Took: 1200 * time.Microsecond}}},
		{URL: "http://127.0.0.1:40002", PID: 4102, First: 50, Agents: 50, Spawned: true, Down: 700 * time.Millisecond,
			Resources: &ProcResources{Peak: ProcSample{FDs: 12, Sockets: 4, Threads: 8, RSS: 21 << 20}, Samples: 300},
			Events:    []FleetEvent{{At: at, Kind: "down", Detail: "connection refused"}, {At: at.Add(700 * time.Millisecond), Kind: "up", Detail: "after 700ms"}}},
	}
	return r
}

func TestFleetProcessesShownApartFromTheHarness(t *testing.T) {
	r := withFleet()
	var text bytes.Buffer
	require.NoError(t, WriteText(&text, r))
	for _, want := range []string{
		"Harness process (poller and harness, fleet processes)",
		"goroutines 12 baseline, 51 peak, 12 after; fds 9, 18, 9; UDP sockets 0, 9, 0 (the poller says 9)",
		"0. pid 4101 http://127.0.0.1:40001: agents 0-49; peak fds 13, sockets 4, threads 9, RSS 23.0 MiB",
		"faults applied: warmup 800µs, chaos 1.2ms",
		"1. pid 4102 http://127.0.0.1:40002: agents 50-99; peak fds 12, sockets 4, threads 8, RSS 21.0 MiB; down 700ms",
		"16:13:15.000 down connection refused",
	} {
		assert.Contains(t, text.String(), want)
	}
	var html bytes.Buffer
	require.NoError(t, WriteHTML(&html, r))
	for _, want := range []string{`<h2>Fleet processes</h2>`, `<code>http://127.0.0.1:40002</code>`, `50–99`, `<code>down</code> connection refused`, `chaos: 20 agents`} {
		assert.Contains(t, html.String(), want)
	}

	var plain bytes.Buffer
	require.NoError(t, WriteText(&plain, fakeReport(false)))
	assert.NotContains(t, plain.String(), "Fleet processes", "in-process runs have no such section")
}
