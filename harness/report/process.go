package report

import (
	"fmt"
	"io"

	"github.com/snmpchaos/snmpchaos/harness/probe"
)

// ProcessReport is what the harness saw of a poller that runs in a process
// of its own: at baseline (before the load), idle after the drain (nothing
// in flight, before Close), and at its peaks over the run.
type ProcessReport struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	// Baseline and Idle are full readings: descriptors, every UDP socket.
	Baseline probe.ProcessView `json:"baseline"`
	Idle     probe.ProcessView `json:"idle"`
	// IdleGoroutines and BaselineGoroutines are what the process said of
	// itself (-1: nothing).
	BaselineGoroutines int `json:"baselineGoroutines"`
	IdleGoroutines     int `json:"idleGoroutines"`
	// Peak figures over the samples.
	PeakFDs        int    `json:"peakFDs"`
	PeakUDPSockets int    `json:"peakUDPSockets"`
	PeakThreads    int    `json:"peakThreads"`
	PeakRSSBytes   uint64 `json:"peakRSSBytes"`
	PeakGoroutines int    `json:"peakGoroutines"`
	// Error says why a reading failed, if one did.
	Error string `json:"error,omitempty"`
}

// Peaks fills the peak figures from the samples.
func (p *ProcessReport) Peaks(samples []Sample) {
	for _, s := range samples {
		if s.Process == nil {
			continue
		}
		p.PeakFDs = max(p.PeakFDs, s.Process.FDs)
		p.PeakUDPSockets = max(p.PeakUDPSockets, s.Process.UDPSockets)
		p.PeakThreads = max(p.PeakThreads, s.Process.Threads)
		p.PeakRSSBytes = max(p.PeakRSSBytes, s.Process.RSSBytes)
		p.PeakGoroutines = max(p.PeakGoroutines, s.Process.Goroutines)
	}
}

// PhaseCoverage is how many of a phase's agents saw at least one request,
// by the agents' own counters.
type PhaseCoverage struct {
	Phase    string `json:"phase"`
	Agents   int    `json:"agents"`
	Reached  int    `json:"reached"`
	Requests uint64 `json:"requests"`
	// NotReached lists the first agents (up to 10) that saw none.
	NotReached []int `json:"notReached,omitempty"`
}

// writeProcess is the text report's process and coverage section.
func writeProcess(w io.Writer, r *Report) {
	if len(r.Coverage) > 0 {
		fmt.Fprintf(w, "\nCoverage (the agents' own request counters):\n")
		for _, c := range r.Coverage {
			fmt.Fprintf(w, "  %-12s %d of %d agents reached, %d requests", c.Phase, c.Reached, c.Agents, c.Requests)
			if len(c.NotReached) > 0 {
				fmt.Fprintf(w, "; not reached: %v", c.NotReached)
			}
			fmt.Fprintln(w)
		}
	}
	p := r.Process
	if p == nil {
		return
	}
	fmt.Fprintf(w, "\nPoller process %d: %s\n", p.PID, p.Command)
	row := func(name string, v probe.ProcessView, g int) {
		fmt.Fprintf(w, "  %-9s %d processes, %d fds, %d UDP sockets, %d threads, RSS %.1f MB", name, len(v.PIDs), v.FDs, len(v.UDPSockets), v.Threads, float64(v.RSSBytes)/1e6)
		if g >= 0 {
			fmt.Fprintf(w, ", %d goroutines", g)
		}
		fmt.Fprintln(w)
	}
	row("baseline", p.Baseline, p.BaselineGoroutines)
	row("idle", p.Idle, p.IdleGoroutines)
	fmt.Fprintf(w, "  peak      %d fds, %d UDP sockets, %d threads, RSS %.1f MB", p.PeakFDs, p.PeakUDPSockets, p.PeakThreads, float64(p.PeakRSSBytes)/1e6)
	if p.PeakGoroutines > 0 {
		fmt.Fprintf(w, ", %d goroutines", p.PeakGoroutines)
	}
	fmt.Fprintln(w)
	if p.Error != "" {
		fmt.Fprintf(w, "  reading failed: %s\n", p.Error)
	}
}
