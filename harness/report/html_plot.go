package report

// The plots are hand-written SVG: a line plot with phase bands, axes and a
// legend is about 250 lines, while a plotting library (gonum/plot,
// go-analyze/charts) would add a dependency tree and fonts to embed for the
// same picture, and could not shade phases as labelled bands without custom
// code anyway. The page stays a single file with no scripts or assets.

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Plot geometry, in SVG user units (CSS pixels at 100%).
const (
	plotW      = 1100
	plotH      = 250
	plotLeft   = 72
	plotRight  = 16
	plotTop    = 40
	plotBottom = 42
	charW      = 6.6 // average width of a 12px sans-serif character
)

// series is one line of a plot, or a scatter of points. A NaN y is a gap.
type series struct {
	name    string
	color   string
	dash    bool
	scatter bool      // points, for values that only exist where there is data
	xs      []float64 // seconds since the run started
	ys      []float64
}

// dot is a single marked value, e.g. a probe read after the poller closed.
type dot struct {
	name  string
	color string
	x, y  float64
}

// plot is one chart: lines and dots over time, phases shaded behind them.
type plot struct {
	id     string
	title  string
	unit   string // the y axis
	series []series
	dots   []dot
	marks  []kernelMark // netns: kernel faults and link-down stretches
}

// band is a phase drawn behind a plot.
type band struct {
	name       string
	start, end float64 // seconds
	faulty     bool
}

// svgPlot renders p over [0, xMax] seconds with the phase bands.
func svgPlot(p plot, bands []band, xMax float64) template.HTML {
	yMax := 0.0
	for _, s := range p.series {
		for _, y := range s.ys {
			if !math.IsNaN(y) {
				yMax = max(yMax, y)
			}
		}
	}
	for _, d := range p.dots {
		yMax = max(yMax, d.y)
	}
	yTicks := niceTicks(0, yMax*1.05, 5)
	yTop := yTicks[len(yTicks)-1]
	xTicks := niceTicks(0, xMax, 10)
	if last := xTicks[len(xTicks)-1]; last > xMax {
		xTicks = xTicks[:len(xTicks)-1] // keep the axis the run's length
	}
	c := canvas{xMax: xMax, yMax: yTop}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="%s" class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		esc(p.id), plotW, plotH, plotW, plotH, esc(p.title))
	fmt.Fprintf(&b, `<title>%s (%s) over time</title>`, esc(p.title), esc(p.unit))
	c.bands(&b, bands)
	c.marks(&b, p.marks)
	c.grid(&b, xTicks, yTicks)
	for _, s := range p.series {
		c.line(&b, s)
	}
	for _, d := range p.dots {
		fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="4.5" fill="white" stroke="%s" stroke-width="2"><title>%s: %s</title></circle>`,
			c.x(d.x), c.y(d.y), d.color, esc(d.name), fmtNum(d.y))
	}
	c.frame(&b, p)
	legend(&b, p)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text in it went through esc
}

// canvas maps data to the plot area.
type canvas struct{ xMax, yMax float64 }

func (c canvas) x(v float64) float64 {
	if c.xMax <= 0 {
		return plotLeft
	}
	return plotLeft + v/c.xMax*(plotW-plotLeft-plotRight)
}

func (c canvas) y(v float64) float64 {
	if c.yMax <= 0 {
		return plotH - plotBottom
	}
	return plotH - plotBottom - v/c.yMax*(plotH-plotTop-plotBottom)
}

// bands shades the phases: faulty ones warm, the others grey, each named
// at its top when the name fits.
func (c canvas) bands(b *strings.Builder, bands []band) {
	for i, bd := range bands {
		x0, x1 := c.x(max(bd.start, 0)), c.x(min(bd.end, c.xMax))
		if x1 <= x0 {
			continue
		}
		fill := "#eef1f5"
		if i%2 == 1 {
			fill = "#e3e8ef"
		}
		if bd.faulty {
			fill = "#fde4dc"
			if i%2 == 1 {
				fill = "#fbd5c8"
			}
		}
		fmt.Fprintf(b, `<rect class="phase" data-phase="%s" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>phase %s: %s–%s</title></rect>`,
			esc(bd.name), x0, plotTop, x1-x0, plotH-plotTop-plotBottom, fill, esc(bd.name), fmtSec(bd.start), fmtSec(bd.end))
		if i > 0 {
			fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#9aa5b4" stroke-dasharray="3 3"/>`, x0, x0, plotTop, plotH-plotBottom)
		}
		if label := fitLabel(bd.name, x1-x0-8); label != "" {
			fmt.Fprintf(b, `<text class="phase-label" x="%.1f" y="%d" font-size="11" fill="#5b6573">%s</text>`, x0+4, plotTop+13, esc(label))
		}
	}
}

// grid draws the tick lines and their labels.
func (c canvas) grid(b *strings.Builder, xTicks, yTicks []float64) {
	yStep := 1.0
	if len(yTicks) > 1 {
		yStep = yTicks[1] - yTicks[0]
	}
	for _, v := range yTicks {
		y := c.y(v)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#000" stroke-opacity="0.08"/>`, plotLeft, plotW-plotRight, y, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#333">%s</text>`, plotLeft-6, y+4, fmtTick(v, yStep))
	}
	xStep := 1.0
	if len(xTicks) > 1 {
		xStep = xTicks[1] - xTicks[0]
	}
	for _, v := range xTicks {
		x := c.x(v)
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#333"/>`, x, x, plotH-plotBottom, plotH-plotBottom+4)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#333">%s</text>`, x, plotH-plotBottom+16, fmtTick(v, xStep))
	}
}

// frame draws the axes, their labels and the title.
func (c canvas) frame(b *strings.Builder, p plot) {
	bottom := plotH - plotBottom
	fmt.Fprintf(b, `<path d="M%d %d V%d H%d" fill="none" stroke="#333"/>`, plotLeft, plotTop, bottom, plotW-plotRight)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="11" text-anchor="middle" fill="#333">time since the run started (s)</text>`,
		(plotLeft+plotW-plotRight)/2, plotH-6)
	midY := (plotTop + bottom) / 2
	fmt.Fprintf(b, `<text x="16" y="%d" font-size="11" text-anchor="middle" fill="#333" transform="rotate(-90 16 %d)">%s</text>`,
		midY, midY, esc(p.unit))
	fmt.Fprintf(b, `<text class="title" x="%d" y="20" font-size="15" font-weight="600" fill="#111">%s</text>`, plotLeft, esc(p.title))
}

// line draws one series as a path, leaving gaps at NaN values. Long series
// keep each pixel column's minimum and maximum so spikes stay visible.
func (c canvas) line(b *strings.Builder, s series) {
	var d strings.Builder
	pen := false
	lastCol, colMin, colMax := math.MinInt, math.NaN(), math.NaN()
	flush := func() {
		if math.IsNaN(colMin) {
			return
		}
		x := plotLeft + float64(lastCol)/2
		for _, v := range []float64{colMin, colMax} {
			switch {
			case s.scatter:
				fmt.Fprintf(&d, "M%.1f %.1fh0.1", x, c.y(v)) // a dot: round caps on a tiny segment
			case !pen:
				fmt.Fprintf(&d, "M%.1f %.1f", x, c.y(v))
				pen = true
			default:
				fmt.Fprintf(&d, "L%.1f %.1f", x, c.y(v))
			}
			if colMin == colMax {
				break
			}
		}
		colMin, colMax = math.NaN(), math.NaN()
	}
	for i, xv := range s.xs {
		yv := s.ys[i]
		if math.IsNaN(yv) {
			flush()
			pen = false
			continue
		}
		col := int(math.Round((c.x(xv) - plotLeft) * 2)) // half-pixel columns
		if col != lastCol {
			flush()
			lastCol = col
		}
		if math.IsNaN(colMin) {
			colMin, colMax = yv, yv
		} else {
			colMin, colMax = min(colMin, yv), max(colMax, yv)
		}
	}
	flush()
	if d.Len() == 0 {
		return
	}
	style := `stroke-width="1.6" stroke-linejoin="round"`
	switch {
	case s.scatter:
		style = `stroke-width="3.5" stroke-linecap="round"`
	case s.dash:
		style += ` stroke-dasharray="6 4"`
	}
	fmt.Fprintf(b, `<path class="series" d="%s" fill="none" stroke="%s" %s><title>%s</title></path>`,
		d.String(), s.color, style, esc(s.name))
}

// legend lists the series and dots at the top right, in one row.
func legend(b *strings.Builder, p plot) {
	type item struct {
		name, color        string
		dash, dot, scatter bool
	}
	var items []item
	for _, s := range p.series {
		items = append(items, item{name: s.name, color: s.color, dash: s.dash, scatter: s.scatter})
	}
	seen := map[string]bool{}
	for _, d := range p.dots {
		if !seen[d.name] {
			seen[d.name] = true
			items = append(items, item{name: d.name, color: d.color, dot: true})
		}
	}
	width := 0.0
	for _, it := range items {
		width += 28 + float64(len([]rune(it.name)))*charW + 14
	}
	x := plotW - plotRight - width
	for _, it := range items {
		switch {
		case it.dot:
			fmt.Fprintf(b, `<circle cx="%.1f" cy="16" r="4.5" fill="white" stroke="%s" stroke-width="2"/>`, x+11, it.color)
		case it.scatter:
			for _, dx := range []float64{4, 11, 18} {
				fmt.Fprintf(b, `<circle cx="%.1f" cy="16" r="2" fill="%s"/>`, x+dx, it.color)
			}
		case it.dash:
			fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="16" y2="16" stroke="%s" stroke-width="2" stroke-dasharray="6 4"/>`, x, x+22, it.color)
		default:
			fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="16" y2="16" stroke="%s" stroke-width="2.5"/>`, x, x+22, it.color)
		}
		fmt.Fprintf(b, `<text class="legend" x="%.1f" y="20" font-size="12" fill="#222">%s</text>`, x+28, esc(it.name))
		x += 28 + float64(len([]rune(it.name)))*charW + 14
	}
}

// niceTicks returns about n round tick values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for v := math.Floor(lo/step) * step; ; v += step {
		ticks = append(ticks, v)
		if v >= hi-step*1e-9 {
			break
		}
	}
	return ticks
}

// fmtTick renders a tick value with the decimals its step needs.
func fmtTick(v, step float64) string {
	dec := 0
	for ; dec < 6; dec++ {
		m := step * math.Pow(10, float64(dec))
		if math.Abs(m-math.Round(m)) < 1e-6*max(m, 1) {
			break
		}
	}
	if v >= 10000 && dec == 0 && math.Mod(v, 1000) == 0 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// fmtNum renders a plotted value for a tooltip.
func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// fmtSec renders seconds for a tooltip.
func fmtSec(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "s" }

// fitLabel returns name, or a shortened form, when it fits in width
// pixels; "" when not even its first letters do.
func fitLabel(name string, width float64) string {
	r := []rune(name)
	fits := int(width / charW)
	switch {
	case len(r) <= fits:
		return name
	case fits >= 4:
		return string(r[:fits-1]) + "…"
	default:
		return ""
	}
}

func esc(s string) string { return template.HTMLEscapeString(s) }
