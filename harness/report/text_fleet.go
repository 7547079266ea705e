package report

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// writeTextFleet shows, for a fleet outside the harness, the two views
// apart: the harness process's own probes (the poller and the harness's
// fixed few) and each fleet process's resources, fault changes and
// outages.
func writeTextFleet(w io.Writer, r *Report) {
	if len(r.FleetProcesses) == 0 {
		return
	}
	peak := Sample{}
	pollerSockets := 0
	for _, s := range r.Samples {
		peak.Goroutines = max(peak.Goroutines, s.Goroutines)
		peak.FDs = max(peak.FDs, s.FDs)
		peak.UDPSockets = max(peak.UDPSockets, s.UDPSockets)
		if s.Poller != nil {
			pollerSockets = max(pollerSockets, s.Poller.OpenSockets)
		}
	}
	fmt.Fprintf(w, "\nHarness process (poller and harness, fleet %s)\n", r.Mode)
	fmt.Fprintf(w, "  goroutines %d baseline, %d peak, %d after; fds %d, %d, %d; UDP sockets %d, %d, %d",
		r.Baseline.Goroutines, peak.Goroutines, r.After.Goroutines, r.Baseline.FDs, peak.FDs, r.After.FDs,
		r.Baseline.UDPSockets, peak.UDPSockets, r.After.UDPSockets)
	if pollerSockets > 0 {
		fmt.Fprintf(w, " (the poller says %d)", pollerSockets)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Fleet processes")
	for k, p := range r.FleetProcesses {
		fmt.Fprintf(w, "  %d. pid %d %s: agents %d-%d", k, p.PID, p.URL, p.First, p.First+p.Agents-1)
		if res := p.Resources; res != nil {
			if res.Error != "" {
				fmt.Fprintf(w, "; /proc: %s", cut(res.Error, 60))
			} else {
				fmt.Fprintf(w, "; peak fds %d, sockets %d, threads %d, RSS %.1f MiB", res.Peak.FDs, res.Peak.Sockets, res.Peak.Threads, float64(res.Peak.RSS)/(1<<20))
			}
		}
		if p.Down > 0 {
			fmt.Fprintf(w, "; down %s", fmtDur(p.Down))
		}
		fmt.Fprintln(w)
		if len(p.Applies) > 0 {
			var parts []string
			for _, a := range p.Applies {
				s := fmt.Sprintf("%s %s", a.Phase, a.Took.Round(10*time.Microsecond))
				if a.Error != "" {
					s += " FAILED"
				}
				parts = append(parts, s)
			}
			fmt.Fprintf(w, "     faults applied: %s\n", cut(strings.Join(parts, ", "), maxLineLen))
		}
		for _, e := range p.Events {
			fmt.Fprintf(w, "     %s %s %s\n", e.At.UTC().Format("15:04:05.000"), e.Kind, cut(e.Detail, maxLineLen))
		}
	}
}
