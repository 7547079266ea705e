package report

import (
	"fmt"
	"math"
	"strings"
)

// Kernel faults of a netns run in the plots: every fault injected is a
// labelled strip along the bottom of each plot from inject to recover,
// and every stretch a site's link was down is shaded red across the whole
// plot, so failures and latency can be read against them.

// Kernel mark colours.
const (
	colLinkDown = "#d62728"
	colKernel   = "#8c564b"
)

// kernelMark is a stretch of time a kernel fault was in force; linkDown
// marks are when a site's link was down.
type kernelMark struct {
	label      string
	start, end float64 // seconds
	linkDown   bool
	row        int // strips: the row from the bottom
}

// kernelMarks turns the report's kernel events into marks; a fault still
// in force at the end runs to end.
func kernelMarks(r *Report, end float64) []kernelMark {
	var out []kernelMark
	open := map[string]int{}       // fault → index in out
	downSince := map[int]float64{} // site → when its link went down
	rows := map[string]int{}
	for _, e := range r.KernelEvents {
		t := e.T.Seconds()
		switch e.Kind {
		case KernelInject:
			row, ok := rows[e.Fault]
			if !ok {
				row = len(rows)
				rows[e.Fault] = row
			}
			open[e.Fault] = len(out)
			out = append(out, kernelMark{label: e.Fault, start: t, end: math.NaN(), row: row})
			if strings.HasSuffix(e.Fault, ": link down") {
				downSince[e.Site] = t
			}
		case KernelRecover:
			if i, ok := open[e.Fault]; ok {
				out[i].end = t
				delete(open, e.Fault)
			}
			if since, ok := downSince[e.Site]; ok && strings.HasSuffix(e.Fault, ": link down") {
				out = append(out, kernelMark{label: fmt.Sprintf("site %d link down", e.Site), start: since, end: t, linkDown: true})
				delete(downSince, e.Site)
			}
		case KernelLinkDown:
			if _, ok := downSince[e.Site]; !ok {
				downSince[e.Site] = t
			}
		case KernelLinkUp:
			if since, ok := downSince[e.Site]; ok {
				out = append(out, kernelMark{label: fmt.Sprintf("site %d link down", e.Site), start: since, end: t, linkDown: true})
				delete(downSince, e.Site)
			}
		}
	}
	for i := range out {
		if math.IsNaN(out[i].end) {
			out[i].end = end
		}
	}
	for site, since := range downSince {
		out = append(out, kernelMark{label: fmt.Sprintf("site %d link down", site), start: since, end: end, linkDown: true})
	}
	return out
}

// marks draws the kernel marks: link-down stretches shaded over the plot
// area, fault strips along its bottom.
func (c canvas) marks(b *strings.Builder, marks []kernelMark) {
	top, bottom := float64(plotTop), float64(plotH-plotBottom)
	for _, m := range marks {
		x0, x1 := c.x(max(m.start, 0)), c.x(min(m.end, c.xMax))
		if x1 <= x0 {
			x1 = x0 + 1
		}
		if m.linkDown {
			fmt.Fprintf(b, `<rect class="kernel-linkdown" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.16"><title>%s: %s–%s</title></rect>`,
				x0, top, x1-x0, bottom-top, colLinkDown, esc(m.label), fmtSec(m.start), fmtSec(m.end))
			fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-opacity="0.6"/>`, x0, x0, top, bottom, colLinkDown)
			continue
		}
		y := bottom - 13*float64(m.row+1)
		fmt.Fprintf(b, `<rect class="kernel-fault" x="%.1f" y="%.1f" width="%.1f" height="11" fill="%s" fill-opacity="0.22" stroke="%s" stroke-opacity="0.7"><title>kernel: %s, %s–%s</title></rect>`,
			x0, y, x1-x0, colKernel, colKernel, esc(m.label), fmtSec(m.start), fmtSec(m.end))
		if label := fitLabel("kernel: "+m.label, x1-x0-6); label != "" {
			fmt.Fprintf(b, `<text class="kernel-label" x="%.1f" y="%.1f" font-size="10" fill="#4a2e27">%s</text>`, x0+3, y+9, esc(label))
		}
	}
}

// kernelPlot is the packets netns mode's nftables faults dropped, per
// second, or false when the run dropped none.
func kernelPlot(r *Report, xs []float64) (plot, bool) {
	seen := false
	ys := make([]float64, len(r.Samples))
	for i, s := range r.Samples {
		ys[i] = math.NaN()
		if s.KernelDrops > 0 {
			seen = true
		}
		if i == 0 {
			continue
		}
		prev := r.Samples[i-1]
		if dt := (s.T - prev.T).Seconds(); dt > 0 && s.KernelDrops >= prev.KernelDrops {
			ys[i] = float64(s.KernelDrops-prev.KernelDrops) / dt
		}
	}
	if !seen {
		return plot{}, false
	}
	return plot{id: "plot-kernel-drops", title: "Kernel drops (nftables)", unit: "packets per second", series: []series{
		{name: "kernel drops", color: colKernel, xs: xs, ys: ys},
	}}, true
}
