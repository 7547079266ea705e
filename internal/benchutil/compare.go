package benchutil

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Window is one measuring window: what the load counted, and the CPU time
// the server's process spent meanwhile (see Load.RunInChild).
type Window struct {
	Result
	ServerCPU time.Duration
}

// CPUPerReply is the server's CPU time per reply, in microseconds.
func (w Window) CPUPerReply() float64 {
	if w.Replies == 0 {
		return 0
	}
	return float64(w.ServerCPU) / float64(time.Microsecond) / float64(w.Replies)
}

// FormatWindows lists the windows' rates, each with the server's CPU time
// per reply.
func FormatWindows(ws []Window) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%.0f (%.2fµs)", w.Rate(), w.CPUPerReply())
	}
	return strings.Join(parts, ", ")
}

// Comparison sums up the windows of a baseline and a subject measured in
// pairs, each pair next to each other in time.
type Comparison struct {
	Pairs              int
	BaseBest, SubjBest float64 // best rate of each
	BaseCPU, SubjCPU   float64 // median server CPU per reply, µs
	Ratio              float64 // median over pairs of subject/baseline rate
	CPURatio           float64 // median over pairs of baseline/subject CPU per reply
}

// Compare compares subject windows to the baseline windows measured next
// to them (base[i] with subj[i]). Other processes on the machine slow the
// two windows of a pair alike far more than windows seconds apart, so the
// median of the pair ratios is steadier than a ratio of bests. A pair in
// which either window got no reply or no CPU time counts 0.
func Compare(base, subj []Window) Comparison {
	n := min(len(base), len(subj))
	c := Comparison{Pairs: n}
	if n == 0 {
		return c
	}
	var br, sr, bc, sc, rr, cr []float64
	for i := range n {
		br, sr = append(br, base[i].Rate()), append(sr, subj[i].Rate())
		bc, sc = append(bc, base[i].CPUPerReply()), append(sc, subj[i].CPUPerReply())
		// A pair in which either side measured nothing (no reply, no CPU
		// time read) counts 0, not the +Inf or NaN of a division by
		// zero: no verdict passes on a window that measured nothing.
		r, cpu := 0.0, 0.0
		if b, s := base[i].Rate(), subj[i].Rate(); b > 0 && s > 0 {
			r = s / b
		}
		if b, s := base[i].CPUPerReply(), subj[i].CPUPerReply(); b > 0 && s > 0 {
			cpu = b / s
		}
		rr, cr = append(rr, r), append(cr, cpu)
	}
	c.BaseBest, c.SubjBest = slices.Max(br), slices.Max(sr)
	c.BaseCPU, c.SubjCPU = Median(bc), Median(sc)
	c.Ratio, c.CPURatio = Median(rr), Median(cr)
	return c
}

// Median is the median of xs (0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
