package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
)

// Series colours, chosen to stay apart for colour-blind readers.
const (
	colBlue   = "#1f63b4"
	colOrange = "#e07b00"
	colGreen  = "#2a9d4b"
	colPurple = "#7b4bb7"
	colGrey   = "#6b7280"
)

// WriteHTML writes the report as one self-contained HTML page: the verdict,
// the invariants with their evidence, the phases, and SVG plots over time of
// goroutines, fds and UDP sockets, polls in flight, latency, throughput and
// heap, with the phases shaded. It needs no scripts and no network.
func WriteHTML(w io.Writer, r *Report) error {
	bands, xMax := phaseBands(r)
	var plots []template.HTML
	for _, p := range reportPlots(r, xMax) {
		plots = append(plots, svgPlot(p, bands, xMax))
	}
	data := struct {
		R       *Report
		Verdict string
		Detail  string
		Plots   []template.HTML
		Faulty  bool
	}{r, verdict(r), verdictDetail(r), plots, slices.ContainsFunc(bands, func(b band) bool { return b.faulty })}
	if err := pageTmpl.Execute(w, data); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	return nil
}

// phaseBands returns the phases as bands and the time axis' length in
// seconds: the last sample, phase end or after-close reading.
func phaseBands(r *Report) ([]band, float64) {
	xMax := max(r.After.T.Seconds(), 0)
	if n := len(r.Samples); n > 0 {
		xMax = max(xMax, r.Samples[n-1].T.Seconds())
	}
	var bands []band
	for _, ph := range r.Phases {
		bands = append(bands, band{name: ph.Name, start: ph.Start.Seconds(), end: ph.End.Seconds(), faulty: len(ph.Faults) > 0 || len(ph.Kernel) > 0})
		xMax = max(xMax, ph.End.Seconds())
	}
	if xMax == 0 {
		xMax = 1
	}
	return bands, xMax
}

// reportPlots turns the samples into the page's plots.
func reportPlots(r *Report, xMax float64) []plot {
	n := len(r.Samples)
	xs := make([]float64, n)
	for i, s := range r.Samples {
		xs[i] = s.T.Seconds()
	}
	col := func(f func(Sample) float64) []float64 {
		ys := make([]float64, n)
		for i, s := range r.Samples {
			ys[i] = f(s)
		}
		return ys
	}
	flat := func(v float64) []float64 { return []float64{v, v} }
	span := []float64{0, xMax}
	afterX := r.After.T.Seconds()
	if afterX <= 0 {
		afterX = xMax
	}
	hasPoller := slices.ContainsFunc(r.Samples, func(s Sample) bool { return s.Poller != nil })
	pollerCol := func(f func(pollapi.PollerStats) int) []float64 {
		return col(func(s Sample) float64 {
			if s.Poller == nil {
				return math.NaN()
			}
			return float64(f(*s.Poller))
		})
	}

	gor := plot{id: "plot-goroutines", title: "Goroutines", unit: "goroutines", series: []series{
		{name: "goroutines", color: colBlue, xs: xs, ys: col(func(s Sample) float64 { return float64(s.Goroutines) })},
		{name: "baseline", color: colGrey, dash: true, xs: span, ys: flat(float64(r.Baseline.Goroutines))},
	}, dots: []dot{{name: "after close", color: colBlue, x: afterX, y: float64(r.After.Goroutines)}}}
	if hasPoller {
		gor.series = slices.Insert(gor.series, 1, series{name: "poller's own", color: colPurple, xs: xs,
			ys: pollerCol(func(p pollapi.PollerStats) int { return p.Goroutines })})
	}

	fds := plot{id: "plot-fds", title: "File descriptors and UDP sockets", unit: "open (count)", series: []series{
		{name: "fds", color: colBlue, xs: xs, ys: col(func(s Sample) float64 { return float64(s.FDs) })},
		{name: "UDP sockets (OS)", color: colOrange, xs: xs, ys: col(func(s Sample) float64 { return float64(s.UDPSockets) })},
		{name: "fd baseline", color: colGrey, dash: true, xs: span, ys: flat(float64(r.Baseline.FDs))},
	}, dots: []dot{
		{name: "after close", color: colBlue, x: afterX, y: float64(r.After.FDs)},
		{name: "after close", color: colOrange, x: afterX, y: float64(r.After.UDPSockets)},
	}}
	if hasPoller {
		fds.series = slices.Insert(fds.series, 2, series{name: "poller's sockets", color: colPurple, xs: xs,
			ys: pollerCol(func(p pollapi.PollerStats) int { return p.OpenSockets })})
	}

	inflight := plot{id: "plot-inflight", title: "Polls in flight", unit: "polls", series: []series{
		{name: "in flight (harness)", color: colBlue, xs: xs, ys: col(func(s Sample) float64 { return float64(s.InFlight) })},
	}}
	if hasPoller {
		inflight.series = append(inflight.series, series{name: "in flight (poller)", color: colPurple, dash: true, xs: xs,
			ys: pollerCol(func(p pollapi.PollerStats) int { return p.InFlight })})
	}
	if r.Polls.Late > 0 {
		// The harness's own catch-ups: the polls it handed over late since
		// the sample before (it was descheduled).
		inflight.series = append(inflight.series, series{name: "handed over late (harness lag)", color: colOrange, scatter: true, xs: xs,
			ys: col(func(s Sample) float64 { return float64(s.Late) })})
	}

	latency := plot{id: "plot-latency", title: "Poll latency, 99th percentile", unit: "milliseconds", series: []series{
		{name: "p99 per sample", color: colBlue, scatter: true, xs: xs, ys: col(func(s Sample) float64 {
			if s.Completed == 0 {
				return math.NaN()
			}
			return ms(s.LatencyP99)
		})},
		phaseSteps(r, "p99 of the phase", colOrange, func(ph PhaseReport) float64 { return ms(ph.P99) }),
	}}

	throughput := plot{id: "plot-throughput", title: "Polls completed", unit: "polls per second", series: []series{
		{name: "completed", color: colGreen, xs: xs, ys: rate(r.Samples)},
	}}

	heap := plot{id: "plot-heap", title: "Heap in use", unit: "MiB", series: []series{
		{name: "heap in use", color: colBlue, xs: xs, ys: col(func(s Sample) float64 { return float64(s.HeapBytes) / (1 << 20) })},
		{name: "baseline", color: colGrey, dash: true, xs: span, ys: flat(float64(r.Baseline.HeapBytes) / (1 << 20))},
	}, dots: []dot{{name: "after close", color: colBlue, x: afterX, y: float64(r.After.HeapBytes) / (1 << 20)}}}
	if slices.ContainsFunc(r.Samples, func(s Sample) bool { return s.HeapLive > 0 }) {
		heap.series = slices.Insert(heap.series, 1, series{name: "live after GC", color: colGreen, xs: xs,
			ys: col(func(s Sample) float64 { return float64(s.HeapLive) / (1 << 20) })})
	}

	drops := plot{id: "plot-drops", title: "UDP datagrams dropped since baseline", unit: "datagrams", series: []series{
		{name: "on the poller's sockets", color: colOrange, xs: xs, ys: col(func(s Sample) float64 { return float64(s.SocketDrops) })},
		{name: "namespace RcvbufErrors (all processes)", color: colGrey, dash: true, xs: xs, ys: col(func(s Sample) float64 { return float64(s.UDPRcvbufErrors) })},
	}}

	plots := append([]plot{gor, fds, inflight, latency, throughput, drops, heap}, processPlots(r, xs)...)
	if kp, ok := kernelPlot(r, xs); ok {
		plots = slices.Insert(plots, 5, kp)
	}
	if marks := kernelMarks(r, xMax); len(marks) > 0 {
		for i := range plots {
			plots[i].marks = marks
		}
	}
	return plots
}

// phaseSteps is a per-phase value drawn flat across each phase.
func phaseSteps(r *Report, name, color string, f func(PhaseReport) float64) series {
	s := series{name: name, color: color, dash: true}
	for _, ph := range r.Phases {
		if ph.Polls == 0 {
			continue
		}
		v := f(ph)
		s.xs = append(s.xs, ph.Start.Seconds(), ph.End.Seconds(), ph.End.Seconds())
		s.ys = append(s.ys, v, v, math.NaN())
	}
	return s
}

// rate is completed polls per second between samples.
func rate(samples []Sample) []float64 {
	ys := make([]float64, len(samples))
	for i, s := range samples {
		ys[i] = math.NaN()
		if i == 0 {
			continue
		}
		if dt := (s.T - samples[i-1].T).Seconds(); dt > 0 {
			ys[i] = float64(s.Completed) / dt
		}
	}
	return ys
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

var pageTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur":          fmtDur,
	"add":          func(a, b int) int { return a + b },
	"spaced":       func(s string) string { return strings.ReplaceAll(s, ",", ", ") }, // lets a fault spec wrap
	"pct":          successPct,
	"phaseSuccess": phaseSuccess,
	"lower":        strings.ToLower,
	"utc":          func(t time.Time) string { return t.UTC().Format(time.DateTime + " MST") },
	"sortedKV":     sortedKV,
	"mib":          func(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) },
}).Parse(pageHTML + processHTML))

// kv is a map entry for templates, which range over maps in key order but
// cannot sort by count.
type kv struct {
	Key   string
	Count uint64
}

// sortedKV lists a map's non-zero entries, most frequent first.
func sortedKV(m any) []kv {
	var out []kv
	switch m := m.(type) {
	case map[string]int:
		for k, v := range m {
			out = append(out, kv{k, uint64(max(v, 0))})
		}
	case map[string]uint64:
		for k, v := range m {
			out = append(out, kv{k, v})
		}
	}
	out = slices.DeleteFunc(out, func(e kv) bool { return e.Count == 0 })
	slices.SortFunc(out, func(a, b kv) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// pageHTML is the report page. Styles are inline so the file stands alone.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Verdict}}: snmpchaos {{.R.Scenario}} with {{.R.Poller}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1b1f24; margin: 24px auto; max-width: 1140px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 6px; display: flex; align-items: center; gap: 12px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d8dde3; padding-bottom: 4px; }
.badge { font-size: 15px; font-weight: 700; color: white; padding: 3px 12px; border-radius: 4px; letter-spacing: .05em; }
.badge.pass { background: #1f8a3d; } .badge.fail { background: #c62828; } .badge.interrupted { background: #b26a00; }
.detail { color: #444; margin: 0 0 10px; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
.meta dt { color: #5b6573; } .meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e5e8ec; vertical-align: top; }
th { background: #f4f6f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
tr.fail td { background: #fff4f4; }
.ok { color: #1f8a3d; font-weight: 700; } .bad { color: #c62828; font-weight: 700; }
details summary { cursor: pointer; color: #1f63b4; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 12px; margin: 4px 0; max-height: 420px; }
code { font-size: 12px; }
figure { margin: 12px 0 18px; }
svg.plot { max-width: 100%; height: auto; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
.key { display: inline-block; width: 14px; height: 10px; border: 1px solid #c9ced6; vertical-align: middle; margin: 0 4px 0 10px; }
.muted { color: #5b6573; }
</style>
</head>
<body>
<h1><span class="badge {{lower .Verdict}}">{{.Verdict}}</span> snmpchaos: {{.R.Scenario}}</h1>
<p class="detail">{{.Detail}}.{{with .R.Description}} <span class="muted">{{.}}</span>{{end}}</p>
<dl class="meta">
<dt>poller</dt><dd>{{.R.Poller}}</dd>
<dt>agents</dt><dd>{{.R.Agents}}{{if .R.Short}} (short profile){{end}}</dd>
<dt>seed</dt><dd>{{.R.Seed}}</dd>
<dt>started</dt><dd>{{if not .R.Started.IsZero}}{{utc .R.Started}}{{else}}–{{end}}</dd>
<dt>duration</dt><dd>{{dur .R.Duration}}</dd>
{{with .R.CloseError}}<dt>poller Close</dt><dd class="bad">{{.}}</dd>{{end}}
</dl>

<h2>Invariants</h2>
<table id="invariants">
<tr><th></th><th>invariant</th><th>result</th></tr>
{{range .R.Invariants}}<tr class="{{if .Pass}}pass{{else}}fail{{end}}" data-invariant="{{.Name}}">
<td>{{if .Pass}}<span class="ok">✓</span>{{else}}<span class="bad">✗</span>{{end}}</td>
<td><code>{{.Name}}</code></td>
<td>{{.Summary}}{{if .Evidence}}<details{{if not .Pass}} open{{end}}><summary>evidence ({{len .Evidence}} lines)</summary><pre>{{range .Evidence}}{{.}}
{{end}}</pre></details>{{end}}</td>
</tr>
{{else}}<tr><td></td><td colspan="2" class="muted">no invariant was evaluated</td></tr>
{{end}}</table>

<h2>Phases</h2>
<table id="phases">
<tr><th>phase</th><th>time</th><th>faults</th><th class="num">polls</th><th class="num">success</th><th class="num">failed</th><th class="num">skipped</th><th class="num">p50</th><th class="num">p99</th><th class="num">max</th><th class="num">cancelled late</th><th class="num">cancel p50</th><th class="num">cancel p99</th><th class="num">cancel max</th><th>errors</th></tr>
{{range .R.Phases}}<tr>
<td class="nowrap">{{.Name}}</td><td class="nowrap">{{dur .Start}} – {{dur .End}}</td>
<td>{{range .Faults}}<div><code>{{spaced .}}</code></div>{{end}}{{range .Kernel}}<div><code>kernel {{.}}</code></div>{{end}}{{if not (or .Faults .Kernel)}}<span class="muted">none</span>{{end}}</td>
<td class="num">{{.Polls}}</td><td class="num">{{phaseSuccess .}}</td><td class="num">{{.Failed}}</td><td class="num">{{.Skipped}}</td>
<td class="num">{{dur .P50}}</td><td class="num">{{dur .P99}}</td><td class="num">{{dur .Max}}</td><td class="num">{{.Cancel.Count}}</td><td class="num">{{dur .Cancel.P50}}</td><td class="num">{{dur .Cancel.P99}}</td><td class="num">{{dur .Cancel.Max}}</td>
<td class="nowrap">{{range sortedKV .Errors}}<div>{{.Key}}: {{.Count}}</div>{{end}}</td>
</tr>
{{end}}</table>

<h2>Over time</h2>
<p class="muted">Shaded bands are the phases:<span class="key" style="background:#eef1f5"></span>no faults{{if .Faulty}}<span class="key" style="background:#fde4dc"></span>faults injected{{end}}.
{{if .R.KernelEvents}}Kernel faults (netns mode) are the brown strips along the bottom, from inject to recover; red shading is where a site's link was down.
{{end}}Dashed lines are baselines read before the poller started; hollow dots are readings after it closed. Hover a line for its name.</p>
{{range .Plots}}<figure>{{.}}</figure>
{{end}}
<h2>Accounting</h2>
<table id="polls">
<tr><th class="num">scheduled</th><th class="num">succeeded</th><th class="num">failed</th><th class="num">unreported</th><th class="num">duplicate</th><th class="num">skipped</th><th class="num">overdue</th><th class="num">walks compared</th><th class="num">partial walks</th><th class="num">walks not compared</th></tr>
{{with .R.Polls}}<tr><td class="num">{{.Scheduled}}</td><td class="num">{{.Succeeded}}</td><td class="num">{{.Failed}}</td><td class="num">{{.Unreported}}</td><td class="num">{{.Duplicate}}</td><td class="num">{{.Skipped}}</td><td class="num">{{.Overdue}}</td><td class="num">{{.WalksChecked}}</td><td class="num">{{.Partial}}</td><td class="num">{{.Unverified}}</td></tr>{{end}}
</table>
{{with sortedKV .R.Polls.ByError}}<p>Failed polls by error: {{range $i, $e := .}}{{if $i}}, {{end}}<code>{{$e.Key}}</code> {{$e.Count}}{{end}}</p>{{end}}
<p>Fleet: {{.R.Fleet.Requests}} requests, {{.R.Fleet.Responses}} responses, {{.R.Fleet.Delayed}} delayed, {{.R.Fleet.Truncated}} truncated, {{.R.Fleet.Faulted}} altered by faults{{with sortedKV .R.Fleet.Drops}}; dropped: {{range $i, $e := .}}{{if $i}}, {{end}}{{$e.Key}} {{$e.Count}}{{end}}{{end}}.</p>
{{template "process" .}}
{{with .R.FleetProcesses}}<h2>Fleet processes</h2>
<p class="muted">The agents ran outside the harness ({{$.R.Mode}}): the plots above are the poller's and the harness's alone; these are the fleet's processes, read from /proc for those the harness started.</p>
<table id="fleet-processes">
<tr><th>pid</th><th>control API</th><th>agents</th><th class="num">peak fds</th><th class="num">sockets</th><th class="num">threads</th><th class="num">RSS MiB</th><th>faults applied (took)</th><th>down</th><th>events</th></tr>
{{range .}}<tr><td>{{.PID}}</td><td><code>{{.URL}}</code></td><td class="nowrap">{{.First}}–{{add .First (add .Agents -1)}}</td>
{{with .Resources}}<td class="num">{{.Peak.FDs}}</td><td class="num">{{.Peak.Sockets}}</td><td class="num">{{.Peak.Threads}}</td><td class="num">{{mib .Peak.RSS}}</td>{{else}}<td colspan="4" class="muted">not read (not started by the harness)</td>{{end}}
<td>{{range .Applies}}<div class="nowrap">{{.Phase}}: {{.Agents}} agents, {{dur .Took}}{{with .Error}} <span class="bad">{{.}}</span>{{end}}</div>{{end}}</td>
<td class="nowrap">{{dur .Down}}</td>
<td>{{range .Events}}<div><code>{{.Kind}}</code> {{.Detail}}</div>{{end}}</td></tr>
{{end}}</table>{{end}}
<p class="muted">Written by snmpchaos. The same run is in report.json (all samples), report.txt and junit.xml beside this page.</p>
</body>
</html>
`
