package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// evidenceLines is how many lines of a failed invariant's evidence the text
// verdict shows; the JSON and HTML reports have all of them.
const evidenceLines = 8

// maxLineLen cuts evidence lines (goroutine stacks can be long) in text.
const maxLineLen = 160

// WriteText writes the short verdict for people: a PASS or FAIL line, what
// ran, one line per invariant with its evidence when it failed, and a table
// of the phases.
func WriteText(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	writeTextHeader(bw, r)
	writeTextInvariants(bw, r)
	writeTextPhases(bw, r)
	writeTextFleet(bw, r)
	p := r.Polls
	fmt.Fprintf(bw, "\nPolls: %d scheduled, %d succeeded, %d failed, %d unreported, %d duplicate; %d skipped (no free slot), %d overdue\n",
		p.Scheduled, p.Succeeded, p.Failed, p.Unreported, p.Duplicate, p.Skipped, p.Overdue)
	if lag := r.HarnessLag(); p.Late > 0 || lag.Stalled > 0 || lag.CPU.Waiting > 0 {
		fmt.Fprintf(bw, "Harness lag: %s; %d polls handed to the poller late, then at once, the latest %s after it came due\n",
			lag, p.Late, p.WorstLag.Round(time.Millisecond))
	}
	fmt.Fprintf(bw, "Walks: %d compared with the agent's data, %d partial, %d not compared (faults changed meanwhile)\n",
		p.WalksChecked, p.Partial, p.Unverified)
	writeProcess(bw, r)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write text report: %w", err)
	}
	return nil
}

func writeTextHeader(w io.Writer, r *Report) {
	fmt.Fprintf(w, "%s: %s with poller %s — %s\n", verdict(r), r.Scenario, r.Poller, verdictDetail(r))
	profile := ""
	if r.Short {
		profile = ", short profile"
	}
	fmt.Fprintf(w, "  scenario  %s (%d agents%s)\n", r.Scenario, r.Agents, profile)
	fmt.Fprintf(w, "  poller    %s\n", r.Poller)
	fmt.Fprintf(w, "  seed      %d\n", r.Seed)
	fmt.Fprintf(w, "  duration  %s", fmtDur(r.Duration))
	if !r.Started.IsZero() {
		fmt.Fprintf(w, ", started %s", r.Started.UTC().Format(time.DateTime+" MST"))
	}
	fmt.Fprintln(w)
	if r.CloseError != "" {
		fmt.Fprintf(w, "  close     %s\n", cut(r.CloseError, maxLineLen))
	}
}

func writeTextInvariants(w io.Writer, r *Report) {
	fmt.Fprintln(w, "\nInvariants")
	if len(r.Invariants) == 0 {
		fmt.Fprintln(w, "  (none evaluated)")
		return
	}
	width := 0
	for _, inv := range r.Invariants {
		width = max(width, len(inv.Name))
	}
	for _, inv := range r.Invariants {
		mark := "✓"
		if !inv.Pass {
			mark = "✗"
		}
		fmt.Fprintf(w, "  %s %-*s  %s\n", mark, width, inv.Name, inv.Summary)
		if inv.Pass {
			continue
		}
		for i, line := range inv.Evidence {
			if i == evidenceLines {
				fmt.Fprintf(w, "      … %d more lines in report.html and report.json\n", len(inv.Evidence)-i)
				break
			}
			fmt.Fprintf(w, "      %s\n", cut(line, maxLineLen))
		}
	}
}

func writeTextPhases(w io.Writer, r *Report) {
	if len(r.Phases) == 0 {
		return
	}
	fmt.Fprintln(w, "\nPhases")
	rows := [][]string{{"phase", "time", "polls", "success", "p50", "p99", "max", "cancelled", "cancel p50", "p99", "max"}}
	for _, ph := range r.Phases {
		c := ph.Cancel
		rows = append(rows, []string{ph.Name, fmtDur(ph.Start) + "–" + fmtDur(ph.End), strconv.Itoa(ph.Polls),
			phaseSuccess(ph), fmtDur(ph.P50), fmtDur(ph.P99), fmtDur(ph.Max),
			strconv.Itoa(c.Count), fmtDur(c.P50), fmtDur(c.P99), fmtDur(c.Max)})
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		b.WriteString("  ")
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(c + pad) // names left, figures right
			} else {
				b.WriteString("   " + pad + c)
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// InvariantCompleted names the check MarkInterrupted adds: the run went
// through all its phases.
const InvariantCompleted = "run-completed"

// InvPhaseExpectations is the name of the invariant whose evidence lines
// ("phase NAME: ...") WriteJUnit turns into one test case per phase.
// harness/invariant registers the invariant under this name.
const InvPhaseExpectations = "phase-expectations"

// MarkInterrupted records in r that the run stopped before its end (cause
// says why, e.g. a signal): it adds a failed InvariantCompleted, so the run
// fails and its verdict reads INTERRUPTED. The other invariants cover only
// the part that ran.
func MarkInterrupted(r *Report, cause error) {
	where := ""
	if n := len(r.Phases); n > 0 {
		where = ", during phase " + r.Phases[n-1].Name
	}
	why := "interrupted"
	if cause != nil {
		why = "interrupted: " + cause.Error()
	}
	r.Invariants = append(r.Invariants, InvariantResult{
		Name:    InvariantCompleted,
		Summary: fmt.Sprintf("%s after %s%s; the other invariants cover only the part that ran", why, fmtDur(r.Duration), where),
	})
	r.Pass = false
}

// interrupted reports whether MarkInterrupted marked r.
func interrupted(r *Report) bool {
	for _, inv := range r.Invariants {
		if inv.Name == InvariantCompleted && !inv.Pass {
			return true
		}
	}
	return false
}

// verdict is "PASS", "FAIL" or "INTERRUPTED".
func verdict(r *Report) string {
	switch {
	case interrupted(r):
		return "INTERRUPTED"
	case r.Pass:
		return "PASS"
	default:
		return "FAIL"
	}
}

// verdictDetail says in a few words why the verdict is what it is.
func verdictDetail(r *Report) string {
	failed := 0
	for _, inv := range r.Invariants {
		if !inv.Pass {
			failed++
		}
	}
	switch {
	case interrupted(r):
		return fmt.Sprintf("stopped before its end; %d of %d other invariants violated so far", failed-1, len(r.Invariants)-1)
	case failed > 0:
		return fmt.Sprintf("%d of %d invariants violated", failed, len(r.Invariants))
	case r.Pass:
		return fmt.Sprintf("all %d invariants hold", len(r.Invariants))
	default:
		return "the run did not complete"
	}
}

// successPct renders ok/n as a percentage with the precision that matters
// near 100% ("99.95%"), or "–" when there were no polls.
func successPct(ok, n int) string {
	if n == 0 {
		return "–"
	}
	p := 100 * float64(ok) / float64(n)
	switch {
	case ok == n:
		return "100%"
	case p >= 99:
		return fmt.Sprintf("%.2f%%", p)
	default:
		return fmt.Sprintf("%.1f%%", p)
	}
}

// phaseSuccess renders the share minSuccess is held to: polls that ran
// under the phase's faults (not straddling a change) that succeeded.
func phaseSuccess(ph PhaseReport) string {
	n := ph.Polls - ph.Straddled
	if n <= 0 {
		return "–"
	}
	switch p := 100 * ph.Success; {
	case p == 100:
		return "100%"
	case p >= 99:
		return fmt.Sprintf("%.2f%%", p)
	default:
		return fmt.Sprintf("%.1f%%", p)
	}
}

// fmtDur renders a duration with about three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < 0:
		return "-" + fmtDur(-d)
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}

// cut shortens s to at most n runes, marking the cut.
func cut(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
