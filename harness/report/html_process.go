package report

import (
	"fmt"
	"math"
	"slices"
)

// processPlots are the poller process's figures over time (exec pollers,
// observed daemons): descriptors, UDP sockets and threads, and its memory
// and, when it reports them, its goroutines.
func processPlots(r *Report, xs []float64) []plot {
	if !slices.ContainsFunc(r.Samples, func(s Sample) bool { return s.Process != nil }) {
		return nil
	}
	col := func(f func(s Sample) float64) []float64 {
		ys := make([]float64, len(r.Samples))
		for i, s := range r.Samples {
			if s.Process == nil {
				ys[i] = math.NaN()
				continue
			}
			ys[i] = f(s)
		}
		return ys
	}
	title := "Poller process"
	if r.Process != nil {
		title = fmt.Sprintf("Poller process %d", r.Process.PID)
	}
	res := plot{id: "plot-process", title: title + ": descriptors, UDP sockets, threads", unit: "count", series: []series{
		{name: "fds", color: colBlue, xs: xs, ys: col(func(s Sample) float64 { return float64(s.Process.FDs) })},
		{name: "UDP sockets", color: colOrange, xs: xs, ys: col(func(s Sample) float64 { return float64(s.Process.UDPSockets) })},
		{name: "threads", color: colGreen, xs: xs, ys: col(func(s Sample) float64 { return float64(s.Process.Threads) })},
	}}
	mem := plot{id: "plot-process-memory", title: title + ": memory and goroutines", unit: "RSS MiB / goroutines", series: []series{
		{name: "RSS MiB", color: colBlue, xs: xs, ys: col(func(s Sample) float64 { return float64(s.Process.RSSBytes) / (1 << 20) })},
	}}
	if slices.ContainsFunc(r.Samples, func(s Sample) bool { return s.Process != nil && s.Process.Goroutines >= 0 }) {
		mem.series = append(mem.series, series{name: "goroutines (its /metrics)", color: colPurple, xs: xs, ys: col(func(s Sample) float64 {
			if s.Process.Goroutines < 0 {
				return math.NaN()
			}
			return float64(s.Process.Goroutines)
		})})
	}
	return []plot{res, mem}
}

// processHTML is the page's section on the poller process and coverage,
// a template defined beside the page's.
const processHTML = `{{define "process"}}{{with .R.Process}}<h2>Poller process</h2>
<p>pid {{.PID}}: <code>{{.Command}}</code></p>
<table id="poller-process">
<tr><th></th><th class="num">processes</th><th class="num">fds</th><th class="num">UDP sockets</th><th class="num">threads</th><th class="num">RSS MiB</th><th class="num">goroutines</th></tr>
<tr><td>baseline</td><td class="num">{{len .Baseline.PIDs}}</td><td class="num">{{.Baseline.FDs}}</td><td class="num">{{len .Baseline.UDPSockets}}</td><td class="num">{{.Baseline.Threads}}</td><td class="num">{{.Baseline.RSSMiB}}</td><td class="num">{{.BaselineGoroutines}}</td></tr>
<tr><td>idle after the drain</td><td class="num">{{len .Idle.PIDs}}</td><td class="num">{{.Idle.FDs}}</td><td class="num">{{len .Idle.UDPSockets}}</td><td class="num">{{.Idle.Threads}}</td><td class="num">{{.Idle.RSSMiB}}</td><td class="num">{{.IdleGoroutines}}</td></tr>
<tr><td>peak</td><td></td><td class="num">{{.PeakFDs}}</td><td class="num">{{.PeakUDPSockets}}</td><td class="num">{{.PeakThreads}}</td><td></td><td class="num">{{.PeakGoroutines}}</td></tr>
</table>{{with .Error}}<p class="bad">reading failed: {{.}}</p>{{end}}{{end}}
{{with .R.Coverage}}<h2>Coverage</h2>
<p class="muted">Agents that saw at least one request in each phase, by their own counters.</p>
<table id="coverage">
<tr><th>phase</th><th class="num">agents reached</th><th class="num">of</th><th class="num">requests</th><th>not reached (first 10)</th></tr>
{{range .}}<tr><td>{{.Phase}}</td><td class="num">{{.Reached}}</td><td class="num">{{.Agents}}</td><td class="num">{{.Requests}}</td><td>{{range .NotReached}}{{.}} {{end}}</td></tr>
{{end}}</table>{{end}}{{end}}
`
